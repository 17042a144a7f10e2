import ArgumentParser
import Foundation
import TVStorage

/// `tvtool convert IN OUT`: streams a checkpoint into another format and/or float dtype.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint between formats (safetensors, sharded safetensors, HDF5) and float dtypes.",
        discussion: """
            The output format follows OUT's extension: .safetensors, .safetensors.index.json \
            (sharded), or .h5/.hdf5. IN may be anything `tvtool inspect` reads. With --dtype, \
            F16/BF16/F32/F64 tensors are converted (rounding to nearest even); integer, bool and \
            other tensors are copied unchanged. Tensors are streamed one at a time, so memory use \
            stays near the size of the largest tensor. The output appears only when complete; \
            OUT may not be one of the inputs.

            Examples:
              tvtool convert model.safetensors model-fp16.safetensors --dtype f16
              tvtool convert unet/ unet.safetensors --max-shard-size 2GB
              tvtool convert weights.h5 weights.safetensors
              tvtool convert v1-5.safetensors sd15/ --layout diffusers
              tvtool convert v2-1_512.safetensors sd21/ --layout diffusers --prediction-type epsilon
              tvtool convert merged.safetensors merged/ --layout diffusers --config-from sd15-reference/
              tvtool convert sd15/ v1-5.safetensors --layout sd-single-file --variant fp16

            Exit codes: 0 success, 1 usage error, 2 unreadable or malformed input.
            """)

    @Argument(help: "Input checkpoint (file, shard index or diffusers folder).")
    var input: String

    @Argument(help: "Output path; its extension picks the format.")
    var output: String

    @Option(help: "Convert floating-point tensors to f32, f16, bf16 or f64.")
    var dtype: String?

    @Option(name: .customLong("max-shard-size"), help: "Split safetensors output into shards of at most this size (e.g. 5GB, 500MB, 2GiB).")
    var maxShardSize: String?

    @Option(help: "diffusers weight variant to read from a folder input (and write in a folder output), e.g. fp16.")
    var variant: String?

    @Option(help: "Write Stable Diffusion weights as sd-single-file (model.diffusion_model.*, first_stage_model.*, cond_stage_model.*) or diffusers (a pipeline folder: unet/, vae/, text_encoder/). See docs/stable-diffusion.md.")
    var layout: String?

    @Option(name: .customLong("config-from"), help: "With --layout diffusers from an SD single file: copy model_index.json, the config.json files, tokenizer/ and scheduler/ of this reference pipeline folder (checked against the weights) instead of inferring the configs.")
    var configFrom: String?

    @Option(name: .customLong("prediction-type"), help: "With --layout diffusers from an SD single file: the scheduler's prediction type, epsilon or v_prediction (not in the weights; default epsilon for SD 1.x, v_prediction for SD 2.x as diffusers assumes for 2.1).")
    var predictionType: String?

    @Flag(help: "Print a JSON summary (tensors, converted tensors, input and output bytes).")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        if let dtype, DType(userName: dtype).map({ $0.supportsArithmetic }) != true {
            throw ValidationError("--dtype must be one of f32, f16, bf16, f64 (got '\(dtype)')")
        }
        if let layout, ModelLayout(rawValue: layout) == nil {
            throw ValidationError("--layout must be sd-single-file or diffusers (got '\(layout)')")
        }
        if let predictionType, !SDConfigs.predictionTypes.contains(predictionType) {
            throw ValidationError("--prediction-type must be epsilon or v_prediction (got '\(predictionType)')")
        }
        if (configFrom != nil || predictionType != nil) && layout != ModelLayout.diffusers.rawValue {
            throw ValidationError("--config-from and --prediction-type apply to --layout diffusers")
        }
        if configFrom != nil && predictionType != nil {
            throw ValidationError("--prediction-type cannot be combined with --config-from (the reference's scheduler config is copied)")
        }
        if let maxShardSize, ByteSize.parse(maxShardSize) == nil {
            throw ValidationError("--max-shard-size must be a size such as 5GB, 500MB or 2GiB (got '\(maxShardSize)')")
        }
    }

    func run() throws {
        var options = ConvertOptions(dtype: dtype.flatMap(DType.init(userName:)),
                                     maxShardBytes: maxShardSize.flatMap(ByteSize.parse),
                                     open: OpenOptions(variant: variant), progress: !quiet)
        options.layout = layout.flatMap(ModelLayout.init(rawValue:))
        options.configFrom = configFrom
        options.predictionType = predictionType
        let summary = try CheckpointConverter.convert(input: input, output: output, options: options)
        // What was not converted is said on stderr (and under "notes" in --json). Notes never
        // name the file (every reader's are path-free): it is named here, once.
        for note in summary.notes {
            Console.error("warning: \(input): " + Console.oneLine(note))
        }
        if json {
            print(try JSONText.encode(codable: summary))
        } else {
            print("wrote \(output): \(summary.tensors) tensors (\(summary.convertedTensors) converted), "
                  + "\(ByteFormat.human(summary.inputBytes)) -> \(ByteFormat.human(summary.outputBytes))")
        }
    }
}
