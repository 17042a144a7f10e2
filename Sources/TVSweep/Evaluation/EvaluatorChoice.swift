import Foundation
import TVStorage

/// Settings of the external-command evaluator as the CLI collects them.
public struct ExternalCommandSettings: Sendable, Hashable {
    public var command: String
    public var timeout: Double
    public var scoreField: String?
    /// "safetensors" or "input" (the base checkpoint's own format where tvtool can write it).
    public var candidateFormat: String
    public var scratchDirectory: String?
    /// Folder for each point's stdout/stderr (created when needed; nil: not kept).
    public var logDirectory: String?

    public init(command: String, timeout: Double = 3600, scoreField: String? = nil, candidateFormat: String = "safetensors",
                scratchDirectory: String? = nil, logDirectory: String? = nil) {
        self.logDirectory = logDirectory
        self.command = command
        self.timeout = timeout
        self.scoreField = scoreField
        self.candidateFormat = candidateFormat
        self.scratchDirectory = scratchDirectory
    }

    /// File extension of candidate checkpoints for a base at `basePath`.
    public func candidateExtension(basePath: String) throws(SweepModelError) -> String {
        switch candidateFormat.lowercased() {
        case "safetensors": return "safetensors"
        case "input":
            // PyTorch files and folders are read-only formats: their candidates are safetensors.
            guard CheckpointFormat.detect(path: basePath) == .hdf5 else { return "safetensors" }
            let ext = URL(fileURLWithPath: basePath).pathExtension.lowercased()
            // Probe that this build can write the format before any point is evaluated.
            let probe = NSTemporaryDirectory() + "/tvtool-probe-\(getpid()).\(ext)"
            do {
                try Checkpoints.create(probe, tensors: [], metadata: [:]).abort()
            } catch {
                throw .degenerate("--candidate-format input: cannot write .\(ext) candidates (\(error)); use --candidate-format safetensors")
            }
            return ext
        default: throw .degenerate("--candidate-format must be safetensors or input (got '\(candidateFormat)')")
        }
    }

    public func evaluator(candidates: LinearFamily, axisNames: [String]) throws -> ExternalCommandEvaluator {
        guard timeout > 0 else { throw SweepModelError.degenerate("--timeout must be positive") }
        let scratch = scratchDirectory ?? NSTemporaryDirectory()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: scratch, isDirectory: &isDir), isDir.boolValue else {
            throw StorageError.cannotWrite(path: scratch, reason: "the scratch folder for candidates does not exist")
        }
        if let logDirectory {
            do { try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true) }
            catch { throw StorageError.cannotWrite(path: logDirectory, reason: "cannot create the folder for evaluator logs") }
        }
        return ExternalCommandEvaluator(command: command, candidates: candidates, axisNames: axisNames, timeout: timeout,
                                        parser: ScoreParser(field: scoreField),
                                        candidateExtension: try candidateExtension(basePath: candidates.base.path),
                                        scratchDirectory: scratch, logDirectory: logDirectory)
    }
}
