import ArgumentParser
import TVTrainer

/// The MLP's shape options as `train` and `deme` spell them: one parse of `--time-conditioning`
/// and `--block-norm`, and one list of the MLP-only options a UNet run must refuse.
enum MLPShapeOptions {
    static func timeConditioning(_ value: String?) throws -> TimeConditioning {
        guard let kind = TimeConditioning(rawValue: (value ?? "input").replacingOccurrences(of: "-", with: "_")) else {
            throw ValidationError("--time-conditioning must be input or per-block")
        }
        return kind
    }

    static func blockNorm(_ value: String?) throws -> BlockNorm {
        guard let kind = BlockNorm(rawValue: value ?? "none") else { throw ValidationError("--block-norm must be none or layer") }
        return kind
    }

    /// Refuses MLP-only options (named in `given` order) on a UNet run.
    static func refuseOnUNet(width: Int?, blocks: Int?, timeEmbedding: Int?, timeConditioning: String?, blockNorm: String?) throws {
        let given = [("--width", width != nil), ("--blocks", blocks != nil), ("--time-embedding", timeEmbedding != nil),
                     ("--time-conditioning", timeConditioning != nil), ("--block-norm", blockNorm != nil)].filter(\.1).map(\.0)
        if !given.isEmpty { throw ValidationError("\(given.joined(separator: ", ")) set the MLP; --model unet takes --config or the UNet options") }
    }
}
