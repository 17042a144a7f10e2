import Foundation

/// The words a plot uses for its score: the evaluator's field for an external command, or what
/// the built-in evaluator measures ("held-out eps-MSE, t in [0, 250)"). Derived at drawing time
/// from the stored value name and evaluator summary, so existing sweep folders (whose manifest
/// fingerprints include those strings) keep resuming.
public enum ScoreLabel {
    public static func describe(valueName: String, evaluator: String) -> String {
        if valueName == "eps_mse" { return "held-out eps-MSE, all t" }
        if valueName.hasPrefix("eps_mse t=") {
            let range = valueName.dropFirst("eps_mse t=".count).split(separator: ":")
            if range.count == 2 { return "held-out eps-MSE, t in [\(range[0]), \(range[1]))" }
        }
        // External commands: "... score field NAME)" names the JSON field the score came from.
        if valueName == "score", let r = evaluator.range(of: "score field ") {
            let field = evaluator[r.upperBound...].prefix { $0 != ")" }
            if !field.isEmpty { return String(field) }
        }
        return valueName
    }
}
