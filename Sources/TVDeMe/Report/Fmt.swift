import Foundation
import TVSearch

/// Number formatting for reports.
enum Fmt {
    static func fixed(_ v: Double, _ digits: Int) -> String {
        v.isFinite ? String(format: "%.\(digits)f", v) : String(v)
    }
    /// Signed scientific for small differences, e.g. -1.52e-03.
    static func sci(_ v: Double) -> String { v.isFinite ? String(format: "%+.2e", v) : String(v) }
    /// Unsigned scientific for standard errors, e.g. 2.86e-04.
    static func se(_ v: Double) -> String { v.isFinite ? String(format: "%.2e", v) : String(v) }
    static func weights(_ w: [Double]?) -> String {
        guard let w else { return "" }
        return "[" + w.map { GridNumber.format($0) }.joined(separator: ", ") + "]"
    }
}
