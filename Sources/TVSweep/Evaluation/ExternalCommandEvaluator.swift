import Foundation
import TVStorage

/// Scores a point with the user's own program (FID, CLIP score, …): writes the candidate
/// checkpoint to a temporary file, runs the command through /bin/sh with a timeout, reads the
/// score from the last stdout line, and always removes the checkpoint again.
///
/// Placeholders in the command, replaced by shell-quoted values: `{checkpoint}` (the candidate's
/// path), `{id}` (the point id, e.g. "0.1,0.3") and `{<axis>}` for each axis name (`{a}`, `{w1}`).
/// The same values are in the environment: TVTOOL_CHECKPOINT, TVTOOL_POINT_ID,
/// TVTOOL_COORDINATES (comma-separated) and TVTOOL_AXIS_<NAME>.
/// Something that can write the model at a point as a checkpoint file (`LinearFamily`).
public protocol CandidateWriting: Sendable {
    func writeCandidate(at coordinates: [Double], to path: String, metadata: [String: String]) throws
}

public struct ExternalCommandEvaluator: PointEvaluator {
    public let command: String
    public let candidates: any CandidateWriting
    public let axisNames: [String]
    public let timeout: Double
    public let parser: ScoreParser
    /// Extension of the candidate files ("safetensors", "h5", …).
    public let candidateExtension: String
    public let scratchDirectory: String
    /// Where each point's full stdout and stderr are kept (`<id>.stdout`, `<id>.stderr`; nil: not kept).
    public let logDirectory: String?

    public init(command: String, candidates: any CandidateWriting, axisNames: [String], timeout: Double,
                parser: ScoreParser = ScoreParser(), candidateExtension: String = "safetensors",
                scratchDirectory: String = NSTemporaryDirectory(), logDirectory: String? = nil) {
        self.logDirectory = logDirectory
        self.command = command
        self.candidates = candidates
        self.axisNames = axisNames
        self.timeout = timeout
        self.parser = parser
        self.candidateExtension = candidateExtension
        self.scratchDirectory = scratchDirectory.hasSuffix("/") && scratchDirectory.count > 1 ? String(scratchDirectory.dropLast()) : scratchDirectory
    }

    public var summary: String {
        "command: \(command) (candidates as .\(candidateExtension), score \(parser.field.map { "field \($0)" } ?? "number"))"
    }

    public func evaluate(_ point: SweepPoint) throws -> Double {
        let checkpoint = scratchDirectory + "/tvtool-candidate-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).\(candidateExtension)"
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        // Not a failure of the point (a full disk, an unwritable folder): the error stops the run.
        try candidates.writeCandidate(at: point.coordinates, to: checkpoint,
                                      metadata: ["tvtool_point": point.id, "tvtool_axes": axisNames.joined(separator: ",")])
        var env = ["TVTOOL_CHECKPOINT": checkpoint, "TVTOOL_POINT_ID": point.id,
                   "TVTOOL_COORDINATES": point.coordinates.map { GridNumber.format($0) }.joined(separator: ",")]
        var text = command.replacingOccurrences(of: "{checkpoint}", with: ShellCommand.quote(checkpoint))
            .replacingOccurrences(of: "{id}", with: ShellCommand.quote(point.id))
        for (name, v) in zip(axisNames, point.coordinates) {
            text = text.replacingOccurrences(of: "{\(name)}", with: ShellCommand.quote(GridNumber.format(v)))
            env["TVTOOL_AXIS_" + name.uppercased()] = GridNumber.format(v)
        }
        let r = try ShellCommand.run(text, environment: env, timeout: timeout, scratchDirectory: scratchDirectory)
        try keepLogs(r, id: point.id)
        let tail = ScoreParser.tail(r.stderr)
        if r.timedOut {
            throw EvaluationFailure(status: .timeout, message: String(format: "timed out after %.0f s (process group killed)", timeout),
                                    stderrTail: tail)
        }
        if let sig = r.signal { throw EvaluationFailure(message: "the command was killed by signal \(sig)", stderrTail: tail) }
        if let code = r.exitCode, code != 0 {
            throw EvaluationFailure(message: "the command exited with status \(code)", stderrTail: tail)
        }
        do {
            return try parser.score(fromStdout: r.stdout)
        } catch var failure {
            failure.stderrTail = tail
            throw failure
        }
    }

    /// File name stem of a point's logs: its id with characters unsafe in file names replaced.
    public static func logStem(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "," || $0 == "_" ? $0 : "_" })
    }

    private func keepLogs(_ r: ShellCommand.Result, id: String) throws {
        guard let logDirectory else { return }
        let stem = URL(fileURLWithPath: logDirectory).appendingPathComponent(Self.logStem(id)).path
        try AtomicFile.write(r.stdout, to: stem + ".stdout")
        try AtomicFile.write(r.stderr, to: stem + ".stderr")
    }
}
