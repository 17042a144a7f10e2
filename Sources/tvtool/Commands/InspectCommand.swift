import ArgumentParser
import Foundation
import TVStorage

/// `tvtool inspect PATH`: lists a checkpoint's tensors from its index alone (no data is read).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's tensors (name, dtype, shape, parameters, bytes), totals by dtype and metadata.",
        discussion: """
            PATH may be a .safetensors file, a sharded *.safetensors.index.json, an HDF5 file \
            (.h5/.hdf5), a PyTorch .bin/.pt/.ckpt, or a diffusers folder (a model folder with \
            diffusion_pytorch_model.* or a pipeline folder, whose unet/ is used). Only the header \
            or index is read, so inspecting a multi-GB file is instant.

            Examples:
              tvtool inspect unet/diffusion_pytorch_model.safetensors
              tvtool inspect path/to/pipeline --variant fp16
              tvtool inspect model.safetensors.index.json --json | jq '.totals'

            Exit codes: 0 success, 1 usage error, 2 unreadable or malformed input.
            """)

    @Argument(help: "Checkpoint file, shard index or diffusers folder.")
    var path: String

    @Flag(help: "Print JSON (path, format, tensors, totals, totals_by_dtype, metadata, notes).")
    var json = false

    @Option(help: "diffusers weight variant to pick in a folder, e.g. fp16.")
    var variant: String?

    func run() throws {
        let reader = try Checkpoints.open(path, options: OpenOptions(variant: variant))
        let summary = CheckpointSummary(reader: reader)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(summary))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(Console.printable(summary.renderText()).utf8))
        }
    }
}
