import Foundation
import TVStorage

/// Options that choose and scale the plane.
public struct LandscapePlaneOptions: Sendable, Hashable {
    public var basis: LandscapeBasis
    /// Orthonormal basis: measure coordinates in units of |tau_A| (FT_A at (1, 0)) instead of raw
    /// Euclidean length.
    public var unitIsTauANorm: Bool
    /// Random basis: seed of the directions, and the centre model ("base", "A" or "B").
    public var seed: UInt64
    public var center: String

    public init(basis: LandscapeBasis = .coefficients, unitIsTauANorm: Bool = true, seed: UInt64 = 0, center: String = "base") {
        self.basis = basis
        self.unitIsTauANorm = unitIsTauANorm
        self.seed = seed
        self.center = center
    }
}

public enum LandscapePlaneBuilder {
    /// Resolves the plane through base, A and B (measuring the task vectors when the basis needs it).
    public static func build(base: any CheckpointReader, a: any CheckpointReader, b: any CheckpointReader,
                             options o: LandscapePlaneOptions) throws -> (plane: LandscapePlane, random: RandomDirections?) {
        switch o.basis {
        case .coefficients:
            return (LandscapePlane(
                basis: .coefficients, axisNames: ["a", "b"],
                axisDescriptions: ["a: coefficient of tau_A = FT_A - base", "b: coefficient of tau_B = FT_B - base"],
                mapping: CoefficientMapping(),
                markers: [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "A", x: 1, y: 0), PlaneMarker(label: "B", x: 0, y: 1)],
                settings: ["basis": "coefficients"]), nil)
        case .orthonormal:
            let g = try TaskVectorGeometry.measure(base: base, a: a, b: b)
            let unit = o.unitIsTauANorm ? g.normA : 1
            let m = try OrthonormalMapping(geometry: g, unit: unit)
            let unitText = o.unitIsTauANorm ? String(format: "units of |tau_A| = %.6g", g.normA) : "Euclidean units"
            return (LandscapePlane(
                basis: .orthonormal, axisNames: ["x", "y"],
                axisDescriptions: ["x: along u = tau_A/|tau_A| (\(unitText))",
                                   "y: along v = normalised tau_B - (tau_B.u)u (\(unitText))"],
                mapping: m,
                markers: [PlaneMarker(label: "base", x: 0, y: 0), PlaneMarker(label: "A", x: g.normA / unit, y: 0),
                          PlaneMarker(label: "B", x: g.p / unit, y: g.q / unit)],
                settings: ["basis": "orthonormal", "unit": o.unitIsTauANorm ? "tau_a_norm" : "absolute",
                           "norm_tau_a": "\(g.normA)", "norm_tau_b": "\(g.normB)", "dot_tau_a_tau_b": "\(g.dot)"]), nil)
        case .randomFilterNormalized:
            let centerWeights: [Double]
            switch o.center.lowercased() {
            case "base": centerWeights = [0, 0]
            case "a": centerWeights = [1, 0]
            case "b": centerWeights = [0, 1]
            default: throw SweepModelError.degenerate("--center must be base, A or B (got '\(o.center)')")
            }
            let name = o.center.lowercased() == "base" ? "base" : o.center.uppercased()
            return (LandscapePlane(
                basis: .randomFilterNormalized, axisNames: ["x", "y"],
                axisDescriptions: ["x: coefficient of random direction d1 (seed \(o.seed), filter-normalised to \(name))",
                                   "y: coefficient of random direction d2 (seed \(o.seed), filter-normalised to \(name))"],
                mapping: RandomPlaneMapping(centerWeights: centerWeights),
                markers: [PlaneMarker(label: name, x: 0, y: 0)],
                settings: ["basis": "random-filter-normalized", "seed": "\(o.seed)", "center": name]),
                RandomDirections(seed: o.seed, count: 2))
        }
    }
}
