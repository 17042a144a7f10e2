import Foundation
import TVStorage

/// The plane a landscape is drawn on.
public enum LandscapeBasis: String, Sendable, CaseIterable, Codable {
    /// theta + a tau_A + b tau_B: axes are the raw task-vector coefficients (a, b).
    case coefficients
    /// Gram–Schmidt basis of span{tau_A, tau_B}: u = tau_A/|tau_A|, v = normalised
    /// tau_B - (tau_B·u) u; axes (x, y) are Euclidean coordinates along u and v.
    case orthonormal
    /// Two seeded Gaussian directions, filter-normalised against the centre model (Li et al. 2018).
    case randomFilterNormalized = "random-filter-normalized"
}

/// A marked model position in plane coordinates.
public struct PlaneMarker: Sendable, Hashable, Codable {
    public var label: String
    public var x: Double
    public var y: Double
    public init(label: String, x: Double, y: Double) { self.label = label; self.x = x; self.y = y }
}

/// A resolved plane: how coordinates map to models, what the axes are, and where the inputs sit.
public struct LandscapePlane: Sendable {
    public var basis: LandscapeBasis
    public var axisNames: [String]
    /// One line per axis saying what it measures (stored as attributes, drawn as axis titles).
    public var axisDescriptions: [String]
    public var mapping: any PointMapping
    public var markers: [PlaneMarker]
    /// Settings that go into the manifest (and so the fingerprint).
    public var settings: [String: String]
}

/// Inner products of the two task vectors, from one streaming pass over the three models.
public struct TaskVectorGeometry: Sendable, Hashable {
    public var normA: Double
    public var normB: Double
    public var dot: Double

    public static func measure(base: any CheckpointReader, a: any CheckpointReader, b: any CheckpointReader) throws -> TaskVectorGeometry {
        var aa = 0.0, bb = 0.0, ab = 0.0
        for info in base.tensors where info.dtype.supportsArithmetic {
            let t0 = try base.tensor(named: info.name).floats()
            let ta = try a.tensor(named: info.name).floats()
            let tb = try b.tensor(named: info.name).floats()
            for j in 0..<t0.count {
                let da = Double(ta[j]) - Double(t0[j]), db = Double(tb[j]) - Double(t0[j])
                aa += da * da; bb += db * db; ab += da * db
            }
        }
        return TaskVectorGeometry(normA: aa.squareRoot(), normB: bb.squareRoot(), dot: ab)
    }
}

/// Plane coordinates → task-vector weights for the orthonormal basis. With p = tau_B·u and
/// q = |tau_B - p u|: X u + Y v = (X - Y p/q)/|tau_A| · tau_A + (Y/q) · tau_B, where (X, Y) are
/// the Euclidean coordinates (grid coordinates times `unit`).
public struct OrthonormalMapping: PointMapping, Hashable {
    public let geometry: TaskVectorGeometry
    public let unit: Double

    public init(geometry: TaskVectorGeometry, unit: Double) throws(SweepModelError) {
        guard geometry.normA > 0 else { throw .degenerate("tau_A is zero (FT_A equals the base): the orthonormal basis is undefined") }
        guard geometry.q > 1e-9 * max(geometry.normA, geometry.normB) else {
            throw .degenerate("tau_B is parallel to tau_A: they span no plane (use --basis coefficients)")
        }
        self.geometry = geometry
        self.unit = unit
    }

    public func combination(at c: [Double]) -> ModelCombination {
        let X = c[0] * unit, Y = c[1] * unit
        let g = geometry
        return ModelCombination(taskWeights: [(X - Y * g.p / g.q) / g.normA, Y / g.q])
    }
}

extension TaskVectorGeometry {
    /// tau_B's component along u.
    public var p: Double { normA > 0 ? dot / normA : 0 }
    /// tau_B's length orthogonal to u.
    public var q: Double { max(normB * normB - p * p, 0).squareRoot() }
}

/// Random-direction planes: the centre model plus x d1 + y d2.
public struct RandomPlaneMapping: PointMapping, Hashable {
    public let centerWeights: [Double]
    public func combination(at c: [Double]) -> ModelCombination {
        ModelCombination(taskWeights: centerWeights, randomCoefficients: c, centerWeights: centerWeights)
    }
}

/// Plane coordinates are the task-vector coefficients (a, b).
public struct CoefficientMapping: PointMapping, Hashable {
    public init() {}
    public func combination(at c: [Double]) -> ModelCombination { ModelCombination(taskWeights: c) }
}
