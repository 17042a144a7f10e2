import Foundation
import TVStorage

/// A one-dimensional landscape: the piecewise-linear path through checkpoints c_0 (the base),
/// c_1, …, c_n. Checkpoint k sits at t = k; between k and k+1 the model is (1-f) c_k + f c_{k+1}
/// with f = t - k; before 0 and after n the first and last segments are extended. With two
/// checkpoints this is the classic linear interpolation theta(t) = base + t (c_1 - base).
public struct PathMapping: PointMapping, Hashable {
    /// Number of checkpoints after the base.
    public let segments: Int

    public init(segments: Int) { self.segments = segments }

    public func combination(at c: [Double]) -> ModelCombination {
        let t = c[0]
        // Segment k runs from checkpoint k to k + 1 (k = 0 is the base).
        let k = min(max(Int(t.rounded(.down)), 0), segments - 1)
        let f = t - Double(k)
        var w = Array(repeating: 0.0, count: segments)
        if k > 0 { w[k - 1] = 1 - f }
        w[k] += f
        return ModelCombination(taskWeights: w)
    }
}

public enum InterpolationLine {
    /// The line's "plane": one axis t, a marker per checkpoint at t = k.
    public static func plane(labels: [String]) -> LandscapePlane {
        let n = labels.count - 1
        let description = n == 1
            ? "t: theta(t) = base + t (\(labels[1]) - base)"
            : "t: piecewise-linear path through \(labels.joined(separator: ", ")); checkpoint k at t = k"
        return LandscapePlane(
            basis: .coefficients, axisNames: ["t"], axisDescriptions: [description],
            mapping: PathMapping(segments: n),
            markers: labels.enumerated().map { PlaneMarker(label: $0.element, x: Double($0.offset), y: 0) },
            settings: ["basis": "line", "checkpoints": "\(labels.count)"])
    }

    /// Opens the checkpoints (the first is the base) and builds the family and the line.
    public static func prepare(checkpoints paths: [String], open: OpenOptions = OpenOptions()) throws -> (family: LinearFamily, plane: LandscapePlane) {
        guard paths.count >= 2 else { throw SweepModelError.degenerate("a line needs at least two checkpoints (the base and one more)") }
        let readers = try paths.map { try Checkpoints.open($0, options: open) }
        let family = try LinearFamily(base: readers[0], models: Array(readers.dropFirst()), mapping: PathMapping(segments: paths.count - 1))
        return (family, plane(labels: labels(for: paths)))
    }

    /// Short marker labels: "base", then the file names (without folder and extension), made unique.
    public static func labels(for paths: [String]) -> [String] {
        var out = ["base"]
        for p in paths.dropFirst() {
            var name = URL(fileURLWithPath: p).deletingPathExtension().lastPathComponent
            if name.isEmpty || out.contains(name) { name = "c\(out.count)" }
            out.append(name)
        }
        return out
    }
}
