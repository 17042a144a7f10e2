import TVDeMe
import TVStorage
import TVSweep
import TVTrainer

// Library errors that are the user's usage mistakes (a bad option value, an impossible grid or
// range), so the CLI exits with 1 for them as for a parse error; everything else they report
// (unreadable files, mismatched models, failed evaluations) stays bad input, exit 2. The engine's
// EngineError classifies itself. Kept here, beside the exit-code contract, so the library
// modules need no change.

extension GridError: UsageClassifiedError {
    public var isUsageMistake: Bool { true }
}

extension DeMeError: UsageClassifiedError {
    public var isUsageMistake: Bool {
        if case .invalidArgument = self { return true }
        return false
    }
}

extension TrainerError: UsageClassifiedError {
    public var isUsageMistake: Bool {
        if case .badArgument = self { return true }
        return false
    }
}

extension SearchError: UsageClassifiedError {
    public var isUsageMistake: Bool {
        if case .invalid = self { return true }
        return false
    }
}
