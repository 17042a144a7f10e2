/// Scores one sweep point. Implementations: `ExternalCommandEvaluator` (writes the candidate
/// checkpoint and runs the user's command), `EpsilonMSEEvaluator` (in-process loss of the bundled
/// trainer's model) and `ClosureEvaluator` (any Swift code, for scripting).
///
/// Evaluators are called from several threads at once under `--jobs N`; they must be thread-safe.
public protocol PointEvaluator: Sendable {
    /// One line saying what is evaluated (recorded in the manifest; part of the fingerprint).
    var summary: String { get }
    /// The score at `point`. Throw `EvaluationFailure` for a failed or timed-out evaluation (the
    /// runner records it and goes on); any other error stops the run (nothing is recorded for the
    /// point, so a rerun evaluates it once the cause is fixed).
    func evaluate(_ point: SweepPoint) throws -> Double
    /// The score and, when the evaluator knows it, its standard error (over images, samples, …),
    /// recorded so strategies can be compared within noise. Default: `evaluate` without one.
    func evaluateWithError(_ point: SweepPoint) throws -> (value: Double, standardError: Double?)
}

extension PointEvaluator {
    public func evaluateWithError(_ point: SweepPoint) throws -> (value: Double, standardError: Double?) {
        (try evaluate(point), nil)
    }
}

/// A recorded, non-fatal failure of one point.
public struct EvaluationFailure: Error, Sendable, CustomStringConvertible {
    public var status: PointStatus
    public var message: String
    public var stderrTail: String?

    public init(status: PointStatus = .failed, message: String, stderrTail: String? = nil) {
        self.status = status
        self.message = message
        self.stderrTail = stderrTail
    }

    public var description: String { message }
}

/// Wraps a closure (scripting: score points with any Swift code).
public struct ClosureEvaluator: PointEvaluator {
    public let summary: String
    private let body: @Sendable (SweepPoint) throws -> Double

    public init(summary: String, _ body: @escaping @Sendable (SweepPoint) throws -> Double) {
        self.summary = summary
        self.body = body
    }

    public func evaluate(_ point: SweepPoint) throws -> Double { try body(point) }
}
