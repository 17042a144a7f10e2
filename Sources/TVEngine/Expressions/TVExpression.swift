/// An expression over checkpoints and task vectors, built first and evaluated tensor by tensor
/// (see `ExpressionEvaluator`). Every node is linear in its operands except slerp, whose weights
/// depend on each tensor's angle, so per tensor the whole expression reduces to one weighted sum
/// of the sources and runs on the fused kernel.
///
///     let e = TVExpression.source(0) + 0.5 * (.source(1) - .source(0))   // lerp by hand
///     let tau = TVExpression.taskVector(finetuned: .source(1), base: .source(0))
public indirect enum TVExpression: Sendable {
    /// Source `index` of the evaluator (a checkpoint or a task-vector file).
    case source(Int)
    case sum([(weight: Double, term: TVExpression)])
    case lerp(TVExpression, TVExpression, t: Double)
    case slerp(TVExpression, TVExpression, t: Double)

    public static func + (a: TVExpression, b: TVExpression) -> TVExpression { .sum([(1, a), (1, b)]) }
    public static func - (a: TVExpression, b: TVExpression) -> TVExpression { .sum([(1, a), (-1, b)]) }
    public static func * (w: Double, a: TVExpression) -> TVExpression { .sum([(w, a)]) }
    public static prefix func - (a: TVExpression) -> TVExpression { .sum([(-1, a)]) }

    /// tau = finetuned - base.
    public static func taskVector(finetuned: TVExpression, base: TVExpression) -> TVExpression { finetuned - base }
    /// base + lambda · tau.
    public static func apply(_ tau: TVExpression, to base: TVExpression, scale lambda: Double = 1) -> TVExpression {
        .sum([(1, base), (lambda, tau)])
    }
    /// Σ w_i e_i.
    public static func weightedSum(_ terms: [(Double, TVExpression)]) -> TVExpression { .sum(terms.map { (weight: $0.0, term: $0.1) }) }

    /// Every source index used.
    public var sources: Set<Int> {
        switch self {
        case .source(let i): return [i]
        case .sum(let terms): return terms.reduce(into: Set<Int>()) { $0.formUnion($1.term.sources) }
        case let .lerp(a, b, _), let .slerp(a, b, _): return a.sources.union(b.sources)
        }
    }

    var containsSlerp: Bool {
        switch self {
        case .source: return false
        case .sum(let terms): return terms.contains { $0.term.containsSlerp }
        case .lerp(let a, let b, _): return a.containsSlerp || b.containsSlerp
        case .slerp: return true
        }
    }

    /// Coefficients in the basis [theta, tau_1, …] given each source's own coefficients
    /// (`basis[i]`) and, for slerp, the Gram matrix of that basis for the current tensor.
    func coefficients(basis: [[Double]], gram: [[Double]]?) -> [Double] {
        switch self {
        case .source(let i):
            return basis[i]
        case .sum(let terms):
            var out = [Double](repeating: 0, count: basis[0].count)
            for (w, term) in terms {
                for (k, v) in term.coefficients(basis: basis, gram: gram).enumerated() { out[k] += w * v }
            }
            return out
        case let .lerp(a, b, t):
            return TVExpression.sum([(1 - t, a), (t, b)]).coefficients(basis: basis, gram: gram)
        case let .slerp(a, b, t):
            let alpha = a.coefficients(basis: basis, gram: gram)
            let beta = b.coefficients(basis: basis, gram: gram)
            guard let g = gram else { return zip(alpha, beta).map { (1 - t) * $0 + t * $1 } }
            func dot(_ x: [Double], _ y: [Double]) -> Double {
                var s = 0.0
                for i in x.indices where x[i] != 0 { for j in y.indices where y[j] != 0 { s += x[i] * g[i][j] * y[j] } }
                return s
            }
            let (ca, cb) = Slerp.coefficients(t: t, aa: dot(alpha, alpha), ab: dot(alpha, beta), bb: dot(beta, beta))
            return zip(alpha, beta).map { ca * $0 + cb * $1 }
        }
    }
}

extension TVExpression: CustomStringConvertible {
    /// Readable form for provenance records: `$1 - $0`, `0.5*$1 + 0.5*$2`, `slerp($0, $1, 0.3)`.
    public var description: String {
        switch self {
        case .source(let i): return "$\(i)"
        case .sum(let terms):
            let parts = terms.map { w, e -> String in
                let inner = { if case .sum = e { return "(\(e))" } else { return e.description } }()
                return w == 1 ? inner : (w == -1 ? "-" + inner : "\(w)*" + inner)
            }
            return parts.joined(separator: " + ").replacingOccurrences(of: "+ -", with: "- ")
        case let .lerp(a, b, t): return "lerp(\(a), \(b), \(t))"
        case let .slerp(a, b, t): return "slerp(\(a), \(b), \(t))"
        }
    }
}
