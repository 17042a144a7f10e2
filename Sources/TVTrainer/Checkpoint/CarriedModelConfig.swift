import Foundation
import TVStorage

/// The trainer model config a derived checkpoint (the output of `merge`, `interp`, `apply`)
/// carries, so `eval`/`sample`/`search` load it like the models it came from. The inputs that
/// have a config (tvtool's metadata, or a diffusers UNet2DModel folder's config.json) must all
/// agree on it; inputs without one (task vectors, foreign files) do not count. When they disagree
/// the output gets none, and the caller says why.
public enum CarriedModelConfig {
    public enum Outcome: Equatable {
        /// No input has a model config: nothing to carry.
        case none
        /// Every input with a config has this one.
        case agreed(ModelConfig)
        /// The inputs' configs differ (or one is unreadable); the sentence says which.
        case disagreed(String)
    }

    /// The config the output of a merge of `readers` (base first) carries. Whole pipelines and SD
    /// single files are skipped: their output is not one trainer model.
    /// With `outputTensors`, a config whose parameter names are exactly the output's wins over
    /// one that is not (a base without DeMe's projections merged with finetunes that have them,
    /// `--missing-in-base identity`, gives the finetunes' layout).
    /// A UNet folder's config.json that cannot be read or is malformed is an error naming it
    /// (`ModelFolder.folderConfig`); only an input without any config counts as having none.
    public static func outcome(_ readers: [any CheckpointReader], outputTensors: [String]? = nil) throws -> Outcome {
        var found: [(path: String, config: ModelConfig)] = []
        for r in readers where ModelNaming.kind(r) == .model {
            if r.metadata[ModelConfig.metadataKey] != nil {
                do { found.append((r.path, try ModelConfig.fromMetadata(r.metadata, source: r.path))) } catch {
                    return .disagreed("\(r.path) has an unreadable \(ModelConfig.metadataKey)")
                }
            } else if let c = try ModelFolder.folderConfig(r) {
                found.append((r.path, c))  // a diffusers UNet2DModel folder: its config.json
            }
        }
        if let names = outputTensors.map(Set.init) {
            let fitting = found.filter { f in (try? DenoiserArchitectures.layout(for: f.config)).map { Set($0.entries.map(\.name)) == names } ?? false }
            if !fitting.isEmpty { found = fitting }
        }
        guard let first = found.first else { return .none }
        if let other = found.first(where: { $0.config != first.config }) {
            return .disagreed("\(first.path) and \(other.path) describe different models (\(difference(first.config, other.config)))")
        }
        return .agreed(first.config)
    }

    /// Adds the agreed config to `metadata`; returns a note when the inputs disagree.
    public static func carry(from readers: [any CheckpointReader], outputTensors: [String]? = nil,
                             into metadata: inout [String: String]) throws -> String? {
        switch try outcome(readers, outputTensors: outputTensors) {
        case .none: return nil
        case .agreed(let c):
            metadata[ModelConfig.metadataKey] = c.metadataJSON()
            return nil
        case .disagreed(let why):
            return "the output carries no \(ModelConfig.metadataKey): \(why); eval/sample cannot load it without one"
        }
    }

    /// The first field that differs, for the note.
    static func difference(_ a: ModelConfig, _ b: ModelConfig) -> String {
        let fields: [(String, String, String)] = [
            ("architecture", a.architecture, b.architecture),
            ("data shape", "\(a.channels)×\(a.height)×\(a.width)", "\(b.channels)×\(b.height)×\(b.width)"),
            ("projections", "\(a.projections)", "\(b.projections)"),
            ("schedule", "\(a.schedule) over \(a.timesteps)", "\(b.schedule) over \(b.timesteps)"),
            ("hidden width", "\(a.hiddenWidth)", "\(b.hiddenWidth)"),
            ("blocks", "\(a.blocks)", "\(b.blocks)"),
        ]
        if let (name, x, y) = fields.first(where: { $0.1 != $0.2 }) { return "\(name) \(x) vs \(y)" }
        return "their model configs differ"
    }
}
