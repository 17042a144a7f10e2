import TVStorage

/// The dense update ΔW of one LoRA module as a row-major rows × columns matrix (columns =
/// in·kh·kw for a conv weight), in float64, with the module's own scale applied (not the user's):
/// - LoRA: (alpha / r) · up @ down (rsLoRA: alpha / √r), r = rows of down;
/// - LoHa: (alpha / r) · (w1a @ w1b) ⊙ (w2a @ w2b), r = rows of w1b; with Tucker cores,
///   w·a is r×out, w·b r×in and each product is Σ t[i,j,:,:] · w·a[i,p] · w·b[j,q];
/// - LoKr: s · w1 ⊗ w2, each half full or w·a @ w·b (w2 also Tucker), s = alpha / r with r the
///   rank of the factorised half (w2's when both are), and s = 1 when neither is.
/// Without an alpha the scale is 1. These are LyCORIS' formulas as A1111 and ComfyUI apply them.
enum LoRADelta {
    struct Plan { var rows: Int; var columns: Int; var factor: Double }

    /// A factor read from the file, as a matrix (trailing dimensions flattened).
    private struct Matrix { var values: [Double]; var rows: Int; var columns: Int }

    static func plan(_ m: LoRAModule, lora: any CheckpointReader) throws -> Plan {
        func info(_ n: String) throws -> TensorInfo {
            guard let i = lora.info(named: n) else { throw LoRAError.incompleteModule(path: lora.path, module: m.key, missing: n) }
            guard i.dtype.supportsArithmetic, i.shape.count >= 2, !i.shape.contains(0) else {
                throw LoRAError.badShape(path: lora.path, module: m.key, reason: "'\(n)' (\(Shape.describe(i.shape)), \(i.dtype.rawValue)) is not a floating-point matrix")
            }
            return i
        }
        func bad(_ reason: String) -> LoRAError { .badShape(path: lora.path, module: m.key, reason: reason) }
        func cols(_ i: TensorInfo) -> Int { i.shape.dropFirst().reduce(1, *) }
        func scale(_ rank: Int?) -> Double { guard let a = m.alpha, let r = rank else { return 1 }; return a / Double(r) }
        /// (rows, columns, rank) of w·a @ w·b, or of the Tucker product when t is given.
        func product(_ a: String, _ b: String, t: String?) throws -> (Int, Int, Int) {
            let ia = try info(a), ib = try info(b)
            if let t {
                let it = try info(t)
                guard ia.shape.count == 2, ib.shape.count == 2, it.shape.count == 4, it.shape[0] == ia.shape[0], it.shape[1] == ib.shape[0] else {
                    throw bad("Tucker factors \(Shape.describe(it.shape)), \(Shape.describe(ia.shape)), \(Shape.describe(ib.shape)) do not fit (expected r×r×kh×kw, r×out, r×in)")
                }
                return (ia.shape[1], ib.shape[1] * it.shape[2] * it.shape[3], ib.shape[0])
            }
            guard cols(ia) == ib.shape[0] else { throw bad("'\(a)' \(Shape.describe(ia.shape)) and '\(b)' \(Shape.describe(ib.shape)) do not multiply") }
            return (ia.shape[0], cols(ib), ib.shape[0])
        }
        switch m.factors {
        case let .lowRank(down, up):
            let d = try info(down), u = try info(up)
            let rank = d.shape[0]
            guard [2, 4].contains(d.shape.count), [2, 4].contains(u.shape.count), cols(u) == rank, u.shape[1] == rank else {
                throw bad("up \(Shape.describe(u.shape)) does not match rank \(rank) of down \(Shape.describe(d.shape))")
            }
            let factor = m.alpha.map { m.rsLoRA ? $0 / Double(rank).squareRoot() : $0 / Double(rank) } ?? 1
            return Plan(rows: u.shape[0], columns: cols(d), factor: factor)
        case let .loha(w1a, w1b, w2a, w2b, t1, t2):
            let p1 = try product(w1a, w1b, t: t1), p2 = try product(w2a, w2b, t: t2)
            guard p1.0 == p2.0, p1.1 == p2.1 else { throw bad("the two LoHa products are \(p1.0)×\(p1.1) and \(p2.0)×\(p2.1)") }
            return Plan(rows: p1.0, columns: p1.1, factor: scale(p1.2))
        case let .lokr(w1, w1a, w1b, w2, w2a, w2b, t2):
            let h1: (Int, Int, Int?) = try w1.map { let i = try info($0); guard i.shape.count == 2 else { throw bad("lokr_w1 \(Shape.describe(i.shape)) is not 2-D") }; return (i.shape[0], i.shape[1], nil) }
                ?? { let p = try product(w1a!, w1b!, t: nil); return (p.0, p.1, p.2) }()
            let h2: (Int, Int, Int?) = try w2.map { let i = try info($0); guard i.shape.count >= 2 else { throw bad("lokr_w2 \(Shape.describe(i.shape)) has fewer than 2 dimensions") }; return (i.shape[0], cols(i), nil) }
                ?? { let p = try product(w2a!, w2b!, t: t2); return (p.0, p.1, p.2) }()
            // The Kronecker product's size: refused rather than overflowing on crafted shapes.
            let rows = h1.0.multipliedReportingOverflow(by: h2.0), columns = h1.1.multipliedReportingOverflow(by: h2.1)
            guard !rows.overflow, !columns.overflow, !rows.partialValue.multipliedReportingOverflow(by: columns.partialValue).overflow else {
                throw bad("the LoKr factors \(h1.0)×\(h1.1) and \(h2.0)×\(h2.1) give a product too large to hold")
            }
            return Plan(rows: rows.partialValue, columns: columns.partialValue, factor: scale(h2.2 ?? h1.2))
        }
    }

    /// ΔW (rows × columns, row-major) with the module's scale applied.
    static func values(_ m: LoRAModule, plan: Plan, lora: any CheckpointReader) throws -> [Double] {
        func matrix(_ n: String) throws -> Matrix {
            let i = lora.info(named: n)!
            return Matrix(values: try lora.tensor(named: n).doubles(), rows: i.shape[0], columns: i.shape.dropFirst().reduce(1, *))
        }
        func product(_ a: String, _ b: String, t: String?) throws -> Matrix {
            let ma = try matrix(a), mb = try matrix(b)
            guard let t else {
                return Matrix(values: LowRankAlgebra.product(ma.values, mb.values, m: ma.rows, k: ma.columns, n: mb.columns), rows: ma.rows, columns: mb.columns)
            }
            let it = lora.info(named: t)!
            return tucker(try lora.tensor(named: t).doubles(), kernel: it.shape[2] * it.shape[3], ma, mb)
        }
        var delta: [Double]
        switch m.factors {
        case let .lowRank(down, up):
            let d = try matrix(down), u = try matrix(up)
            delta = LowRankAlgebra.product(u.values, d.values, m: u.rows, k: d.rows, n: d.columns)
        case let .loha(w1a, w1b, w2a, w2b, t1, t2):
            let a = try product(w1a, w1b, t: t1), b = try product(w2a, w2b, t: t2)
            delta = zip(a.values, b.values).map { $0 * $1 }
        case let .lokr(w1, w1a, w1b, w2, w2a, w2b, t2):
            let a = try w1.map(matrix) ?? product(w1a!, w1b!, t: nil)
            let b = try w2.map(matrix) ?? product(w2a!, w2b!, t: t2)
            delta = kron(a, b)
        }
        if plan.factor != 1 { for i in delta.indices { delta[i] *= plan.factor } }
        return delta
    }

    /// Σ_{i,j} t[i,j,k,l] · a[i,p] · b[j,q] laid out as p × (q·kh·kw + k·kw + l): an out×in×kh×kw
    /// conv weight (a: r×out, b: r×in, t: r×r×kh×kw).
    private static func tucker(_ t: [Double], kernel kk: Int, _ a: Matrix, _ b: Matrix) -> Matrix {
        let r1 = a.rows, r2 = b.rows, p = a.columns, q = b.columns
        // tmp[i, q·kk + k] = Σ_j t[i, j, k] · b[j, q]
        var tmp = [Double](repeating: 0, count: r1 * q * kk)
        for i in 0..<r1 {
            for j in 0..<r2 {
                for c in 0..<q {
                    let bjc = b.values[j * q + c]
                    if bjc == 0 { continue }
                    let src = (i * r2 + j) * kk, dst = (i * q + c) * kk
                    for k in 0..<kk { tmp[dst + k] += t[src + k] * bjc }
                }
            }
        }
        var at = [Double](repeating: 0, count: p * r1)  // aᵀ, p × r1
        for i in 0..<r1 { for c in 0..<p { at[c * r1 + i] = a.values[i * p + c] } }
        return Matrix(values: LowRankAlgebra.product(at, tmp, m: p, k: r1, n: q * kk), rows: p, columns: q * kk)
    }

    /// a ⊗ b: entry (i·b.rows + k, j·b.columns + l) = a[i,j] · b[k,l]. For a conv w2 (c×d×kh×kw,
    /// flattened to c×(d·kh·kw)) this is torch.kron of w1[...,None,None] and w2, reshaped.
    private static func kron(_ a: Matrix, _ b: Matrix) -> [Double] {
        let columns = a.columns * b.columns
        var out = [Double](repeating: 0, count: a.rows * b.rows * columns)
        for i in 0..<a.rows {
            for j in 0..<a.columns {
                let s = a.values[i * a.columns + j]
                for k in 0..<b.rows {
                    let row = (i * b.rows + k) * columns + j * b.columns
                    for l in 0..<b.columns { out[row + l] = s * b.values[k * b.columns + l] }
                }
            }
        }
        return out
    }
}
