import Foundation

/// Whether lower (loss, FID) or higher (CLIP score, accuracy) scores are better.
public enum SweepGoal: String, Sendable, Codable, CaseIterable {
    case minimize, maximize
}

/// Everything that defines a sweep's points and their values: written as the first line of every
/// records file, so `sweep collect` can check that shard files belong together and re-derive the
/// full set of expected points without the original command line.
public struct SweepManifest: Sendable, Codable, Equatable {
    /// "landscape" or "search".
    public var kind: String
    /// One name per grid axis ("a", "b"; "x", "y"; "w1", …).
    public var axisNames: [String]
    public var grid: GridSpec
    public var refinement: Refinement?
    public var goal: SweepGoal
    /// Input checkpoints (paths as given), base first.
    public var inputs: [String]
    /// What the evaluator is ("builtin eps-mse t=[0,1000)", "command: …").
    public var evaluator: String
    /// Kind-specific settings that change values (basis, seed, t-range, output format, …).
    public var settings: [String: String]
    public var toolVersion: String

    public init(kind: String, axisNames: [String], grid: GridSpec, refinement: Refinement? = nil,
                goal: SweepGoal = .minimize, inputs: [String], evaluator: String,
                settings: [String: String] = [:], toolVersion: String = TVSweepInfo.version) {
        self.kind = kind
        self.axisNames = axisNames
        self.grid = grid
        self.refinement = refinement
        self.goal = goal
        self.inputs = inputs
        self.evaluator = evaluator
        self.settings = settings
        self.toolVersion = toolVersion
    }

    enum CodingKeys: String, CodingKey {
        case kind, grid, refinement, goal, inputs, evaluator, settings
        case axisNames = "axis_names", toolVersion = "tool_version"
    }

    /// A stable hash of everything that determines the values (FNV-1a 64 over sorted-key JSON), so
    /// a rerun with other options is refused instead of mixing incompatible values. The tool
    /// version and the cosmetic `value_name` setting are left out.
    public var fingerprint: String {
        var copy = self
        copy.toolVersion = ""
        copy.settings.removeValue(forKey: "value_name")
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = (try? enc.encode(copy)) ?? Data()
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return String(h, radix: 16).leftPadded(to: 16)
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
