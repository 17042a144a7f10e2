import Foundation

/// Whether lower (loss, FID) or higher (CLIP score, accuracy) scores are better.
public enum SweepGoal: String, Sendable, Codable, CaseIterable {
    case minimize, maximize
}

/// Everything that defines a sweep: written at the top of every records file (and again when a
/// later run in the same folder searches differently), so `sweep collect` can check that files
/// belong together and re-derive the expected points without the original command line.
///
/// Two parts: what determines a point's VALUE (kind, axes, inputs, evaluator, settings: the
/// `fingerprint`) and how points are CHOSEN (strategy, grid, refinement, budget, seed). Records
/// are keyed by point id within one fingerprint, so a finer or larger grid, another strategy or
/// a bigger budget in the same folder reuses every finished point; another evaluator, another
/// base model or another setting is refused, naming what differs.
public struct SweepManifest: Sendable, Codable, Equatable {
    /// "landscape", "search" or "deme".
    public var kind: String
    /// One name per grid axis ("a", "b"; "x", "y"; "w1", …).
    public var axisNames: [String]
    public var grid: GridSpec
    public var refinement: Refinement?
    public var strategy: SearchStrategy
    public var maxEvals: Int?
    public var seed: UInt64
    /// Where coord / cmaes start (nil: the grid's centre).
    public var start: [Double]?
    public var goal: SweepGoal
    /// Input checkpoints (paths as given), base first.
    public var inputs: [String]
    /// What the evaluator is ("builtin eps-mse t=[0,1000)", "command: …").
    public var evaluator: String
    /// Kind-specific settings that change values (basis, seed, t-range, output format, …).
    public var settings: [String: String]
    public var toolVersion: String

    public init(kind: String, axisNames: [String], grid: GridSpec, refinement: Refinement? = nil,
                strategy: SearchStrategy = .grid, maxEvals: Int? = nil, seed: UInt64 = 0,
                goal: SweepGoal = .minimize, inputs: [String], evaluator: String,
                settings: [String: String] = [:], toolVersion: String = TVSweepInfo.version, start: [Double]? = nil) {
        self.start = start
        self.kind = kind
        self.axisNames = axisNames
        self.grid = grid
        self.refinement = refinement
        self.strategy = strategy
        self.maxEvals = maxEvals
        self.seed = seed
        self.goal = goal
        self.inputs = inputs
        self.evaluator = evaluator
        self.settings = settings
        self.toolVersion = toolVersion
    }

    enum CodingKeys: String, CodingKey {
        case kind, grid, refinement, strategy, seed, goal, inputs, evaluator, settings, start
        case axisNames = "axis_names", toolVersion = "tool_version", maxEvals = "max_evals"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        axisNames = try c.decode([String].self, forKey: .axisNames)
        grid = try c.decode(GridSpec.self, forKey: .grid)
        refinement = try c.decodeIfPresent(Refinement.self, forKey: .refinement)
        strategy = try c.decodeIfPresent(SearchStrategy.self, forKey: .strategy) ?? .grid
        maxEvals = try c.decodeIfPresent(Int.self, forKey: .maxEvals)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        start = try c.decodeIfPresent([Double].self, forKey: .start)
        goal = try c.decode(SweepGoal.self, forKey: .goal)
        inputs = try c.decode([String].self, forKey: .inputs)
        evaluator = try c.decode(String.self, forKey: .evaluator)
        settings = try c.decode([String: String].self, forKey: .settings)
        toolVersion = try c.decode(String.self, forKey: .toolVersion)
    }

    /// The search this manifest runs.
    public var search: SearchSpec {
        get throws(SearchError) {
            try SearchSpec(strategy: strategy, grid: grid, refinement: refinement, maxEvals: maxEvals, seed: seed, start: start)
        }
    }

    /// The value-determining fields, by name (the cosmetic `value_name` setting is left out).
    public var valueSettings: [(String, String)] {
        var out: [(String, String)] = [("kind", kind), ("axes", axisNames.joined(separator: ",")),
                                       ("inputs", inputs.joined(separator: " ")), ("evaluator", evaluator)]
        for key in Set(settings.keys).subtracting(["value_name"]).sorted() { out.append((key, settings[key]!)) }
        return out
    }

    /// A stable hash of everything that determines the values (FNV-1a 64), so a rerun whose values
    /// would differ is refused instead of mixing incompatible values.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (k, v) in valueSettings {
            for b in (k + "\u{1}" + v + "\u{2}").utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    /// The first value-determining setting that differs from `other`, as "name: 'a' here, 'b' there".
    public func difference(from other: SweepManifest) -> String? {
        let mine = Dictionary(valueSettings, uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(other.valueSettings, uniquingKeysWith: { a, _ in a })
        let keys = valueSettings.map(\.0) + other.valueSettings.map(\.0).filter { mine[$0] == nil }
        for key in keys where mine[key] != theirs[key] {
            return "\(key) is '\(theirs[key] ?? "(not set)")' in the records but '\(mine[key] ?? "(not set)")' in this run"
        }
        return nil
    }

    /// Same search (strategy, grid, refinement, budget, seed) as `other`.
    public func sameSearch(as other: SweepManifest) -> Bool {
        (strategy, grid, refinement, maxEvals, seed, goal) == (other.strategy, other.grid, other.refinement, other.maxEvals, other.seed, other.goal)
            && start == other.start
    }
}

/// Versions recorded in outputs.
public enum TVSweepInfo {
    public static let version = "0.1.0"
}

extension String {
    func leftPadded(to n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
