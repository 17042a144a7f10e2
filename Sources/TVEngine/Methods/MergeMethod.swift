/// What to compute for one floating-point output tensor, in terms of the base theta and the
/// models' task vectors tau_i.
public enum TensorPlan {
    /// out = baseScale · theta + Σ_i coefficients[i] · tau_i  (the fused fast path: task
    /// arithmetic, soups, lerp, slerp, model stock, task-vector expressions).
    case linear(baseScale: Double, coefficients: [Double])
    /// A per-element rule over decoded chunks (TIES, DARE, breadcrumbs).
    case elementwise(any ChunkCombiner)
}

/// A per-element merge rule. Both entry points are needed so each method's generic body is
/// specialised for Float and Double (a generic protocol requirement would run unspecialised).
/// Each call must write `chunk.out[0..<chunk.count]`; it may overwrite the delta chunks.
public protocol ChunkCombiner: Sendable {
    func combine(_ chunk: DecodedChunk<Float>)
    func combine(_ chunk: DecodedChunk<Double>)
    /// When true, `deltas` hold the finetuned models' raw values (theta_i, not tau_i) for
    /// checkpoint inputs, so the combiner can fuse the subtraction into its own loop.
    var wantsRawModels: Bool { get }
}

extension ChunkCombiner {
    public var wantsRawModels: Bool { false }
}

/// One merge method: a name, the parameters it takes, and how it turns each tensor's operands into
/// a plan. Adding a method is one new file plus one line in `MergeMethods.all` (docs/engine.md).
public protocol MergeMethod: Sendable {
    /// A fresh instance (the registry makes one per merge, so pre-pass state is never shared).
    init()
    /// Registry name (mergekit's where one exists).
    var name: String { get }
    /// One line for `--help` and `tvtool merge --list-methods`.
    var summary: String { get }
    /// The parameters it reads, as typed definitions (name, kind, default, range, one-line doc):
    /// `--help`, `--list-methods` and up-front validation come from them; keys not listed are
    /// rejected. Read them in `plan` with `c.perModel(Self.density)`, `c.scalar(.lambda)`, ….
    var parameters: [MethodParameter] { get }
    /// Their names. Default: derived from `parameters`. (Transitional: a method that lists only
    /// names still works, with untyped definitions; declare `parameters` instead.)
    var parameterNames: [String] { get }
    /// Throws when the number of models does not suit the method.
    func validate(modelCount: Int) throws
    /// Checks non-numeric options before any tensor is read. Default: nothing to check.
    func validate(parameters: MergeParameters) throws
    /// Optional pre-pass over every computed tensor (global TIES trim). Default: nothing.
    func prepare(_ pass: PrePass) throws
    /// The computation for one floating-point tensor.
    func plan(_ tensor: TensorContext) throws -> TensorPlan
}

extension MergeMethod {
    public var parameters: [MethodParameter] { parameterNames.map(MethodParameter.untyped) }
    public var parameterNames: [String] { parameters.map(\.name) }
    public func prepare(_ pass: PrePass) throws {}
    public func validate(parameters: MergeParameters) throws {}

    func requireModels(_ count: Int, atLeast n: Int, exactly: Bool = false) throws {
        if exactly ? count != n : count < n {
            throw EngineError.modelCount(method: name, count: count,
                                         needs: exactly ? "exactly \(n) model(s) besides the base" : "at least \(n) model(s) besides the base")
        }
    }
}

/// Name → method. The one place a new method is registered.
public enum MergeMethods {
    public static let all: [any MergeMethod] = [
        TaskArithmetic(),
        LinearSoup(),
        Lerp(),
        Slerp(),
        Ties(),
        DareLinear(),
        DareTies(),
        Breadcrumbs(),
        ModelStock(),
        Della(),
        DellaLinear(),
        Sce(),
        NuSlerp(),
        MultiSlerp(),
        Karcher(),
        TsvMerge(),
        IsoC(),
        IsoCts(),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The method called `name` (also accepts `-` for `_`, and `deme` for task_arithmetic).
    public static func named(_ name: String) throws -> any MergeMethod {
        var key = name.lowercased().replacingOccurrences(of: "-", with: "_")
        if key == "deme" { key = "task_arithmetic" }
        if let m = all.first(where: { $0.name == key }) { return type(of: m).init() }
        throw EngineError.unknownMethod(name, known: names)
    }
}
