import Foundation

/// TIES-merging (Yadav et al.): trim each task vector to its top `density` fraction by magnitude,
/// elect a sign per entry, take the disjoint mean, add lambda times it to the base.
///
/// Trim scope: `per_tensor` (default, as mergekit) keeps the top-k of each tensor, so every layer
/// keeps the same fraction of its entries; `global` (the paper's code) keeps the top-k over the
/// whole flattened model, which lets large-magnitude layers crowd out small ones and needs a
/// pre-pass over every tensor (two extra reads of all inputs). Both selections are exact: k is
/// floor(density · n) and entries tied with the k-th largest magnitude are all kept.
struct Ties: MergeMethod {
    let name = "ties"
    let summary = "TIES: trim to top density (per tensor by default; trim=global as in the paper), sign election, disjoint mean, lambda"
    let parameters: [MethodParameter] = [.weight, Self.density, .lambda, Self.normalize, Self.trim]
    static let density = MethodParameter.density(default: 1, range: .leftOpen(0, 1), doc: "fraction of each task vector kept (top |tau|)")
    static let normalize = MethodParameter.normalize(default: true, doc: "disjoint mean (0: plain sum of the agreeing entries)")
    static let trim = MethodParameter(choice: "trim", ["per_tensor", "global"], default: "per_tensor",
                                      doc: "top-k per tensor (mergekit) or over the whole model (the paper; two extra passes)")
    let global = GlobalThresholds()

    final class GlobalThresholds: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [UInt32]?
        var thresholds: [UInt32]? {
            get { lock.lock(); defer { lock.unlock() }; return values }
            set { lock.lock(); values = newValue; lock.unlock() }
        }
    }

    func validate(modelCount: Int) throws { try requireModels(modelCount, atLeast: 1) }
    func validate(parameters: MergeParameters) throws { _ = try Self.trimIsGlobal(parameters) }

    static func trimIsGlobal(_ p: MergeParameters) throws -> Bool {
        switch p.options["trim"]?.lowercased().replacingOccurrences(of: "-", with: "_") {
        case nil, "per_tensor", "tensor": return false
        case "global", "model": return true
        case let other?:
            throw EngineError.badParameter(source: "trim", reason: "'\(other)' is not per_tensor or global")
        }
    }

    func prepare(_ pass: PrePass) throws {
        guard try Self.trimIsGlobal(pass.parameters) else { return }
        let densities = try pass.globalPerModel("density", default: Self.density.defaultValue ?? 1)
        let ranks = densities.map { [Int((Double(pass.totalElements) * $0).rounded(.down))] }
        let selector = MagnitudeSelector(ranks: ranks, segments: pass.workers)
        try pass.forEachTensor { $0.feed(selector, fine: false) }
        if selector.finishCoarse() { try pass.forEachTensor { $0.feed(selector, fine: true) } }
        global.thresholds = selector.thresholds().map { $0[0] }
    }

    func plan(_ c: TensorContext) throws -> TensorPlan {
        let thresholds: [UInt32]
        if let g = global.thresholds {
            thresholds = g
        } else {
            let density = try c.perModel(Self.density)
            let n = Double(c.elementCount)
            thresholds = c.magnitudeThresholds(ranks: density.map { [Int((n * $0).rounded(.down))] }).map { $0[0] }
        }
        return .elementwise(SparseDeltaCombiner(
            masks: thresholds.map { .magnitude(low: $0, high: nil) },
            weights: try c.perModel(.weight),
            lambda: try c.scalar(.lambda),
            consensus: .signElection,
            normalize: try c.flag(Self.normalize)))
    }
}
