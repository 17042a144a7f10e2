import Foundation
import TVEngine
import TVStorage

/// The human-readable form of `tvtool diff`.
enum DiffTable {
    static func print(_ s: TaskVectorSummary, top: Int) {
        func f(_ x: Double?) -> String { x.map { String(format: "%.4g", $0) } ?? "-" }
        printLine("base \(s.base): ||theta|| = \(f(s.baseNorm)), \(s.tensors.count) float tensors compared")
        for (i, m) in s.models.enumerated() {
            let t = s.totals[i]
            printLine("model \(i + 1) \(m): ||tau|| = \(f(t.norm)), ||tau||/||theta|| = \(f(t.relativeNorm)), max|tau| = \(f(t.maxAbs)), changed \(t.changed), unchanged \(t.unchanged)")
        }
        if s.models.count > 1 {
            printLine("cosine similarity of task vectors:")
            for (i, row) in s.cosine.enumerated() {
                printLine("  \(i + 1): " + row.map { f($0) }.joined(separator: "  "))
            }
        }
        let ranked = s.tensors.sorted { ($0.models.first?.relativeNorm ?? 0) > ($1.models.first?.relativeNorm ?? 0) }
        let shown = top == 0 ? ranked : Array(ranked.prefix(top))
        if !shown.isEmpty {
            printLine("tensors (largest ||tau||/||theta|| of model 1 first\(top == 0 || ranked.count <= top ? "" : ", top \(top) of \(ranked.count)")):")
            for t in shown {
                let cols = t.models.map { "||tau|| \(f($0.norm)) rel \(f($0.relativeNorm)) max \(f($0.maxAbs)) changed \($0.changed)/\($0.changed + $0.unchanged)" }
                printLine("  \(t.name) \(t.dtype)\(Shape.describe(t.shape)): " + cols.joined(separator: " | "))
            }
        }
        for m in s.onlyInSome.prefix(50) { printLine("only in some inputs: \(m.tensor) (missing from \(m.missingFrom.joined(separator: ", ")))") }
        if s.onlyInSome.count > 50 { printLine("… \(s.onlyInSome.count - 50) more keys only in some inputs") }
        for m in s.mismatches { printLine("mismatch: \(m.tensor): \(m.reason)") }
        if !s.nonFloat.isEmpty { printLine("\(s.nonFloat.count) integer/bool tensors not compared") }
    }
}
