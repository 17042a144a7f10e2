import Foundation
import TVStorage
import TVTrainer

/// A landscape plane along the top two Hessian eigenvectors of the built-in objective at a
/// trainer checkpoint: v1 by power iteration, v2 by the same on the deflated operator (v2 ⟂ v1).
/// Each direction is written as a checkpoint base + v_k (`hessian_v1.safetensors`,
/// `hessian_v2.safetensors` in the output folder, reusable as directions elsewhere), and the plane
/// is base + x v1 + y v2: Euclidean coordinates, since the v_k have unit length.
public enum HessianPlane {
    public struct Options: Sendable {
        /// Finite-difference step h relative to |theta| / sqrt(P) (the RMS parameter size).
        public var relativeStep: Double = 1e-3
        public var maxIterations: Int = 50
        public var tolerance: Double = 1e-4
        public var seed: UInt64 = 0
        public init() {}
    }

    public struct Eigenpairs: Sendable {
        public var eigenvalues: [Double]
        public var iterations: [Int]
        public var converged: [Bool]
        public var directionFiles: [String]
    }

    /// Computes the directions with `evaluator`'s model config, evaluation set and timestep range,
    /// writes the two direction checkpoints into `directory`, and returns the family and plane.
    public static func prepare(base path: String, evaluator e: EpsilonMSEEvaluator, directory: String,
                               options o: Options = Options()) throws -> (family: LinearFamily, plane: LandscapePlane, eigen: Eigenpairs) {
        let base = try Checkpoints.open(path)
        var tensors: [String: Tensor] = [:]
        for info in base.tensors { tensors[info.name] = try base.tensor(named: info.name) }
        let model = try ModelCheckpoint.model(config: e.config, tensors: tensors, source: path)
        let theta = model.parameters.array.map(Double.init)
        let rms = (theta.reduce(0) { $0 + $1 * $1 } / Double(max(theta.count, 1))).squareRoot()
        let h = o.relativeStep * max(rms, 1e-3)
        let objective = EpsilonMSEGradient(model: model, set: e.set, range: e.range)
        let v1 = HessianPowerIteration.top(at: theta, gradient: { objective.gradient(at: $0) }, step: h,
                                           maxIterations: o.maxIterations, tolerance: o.tolerance, seed: o.seed)
        let v2 = HessianPowerIteration.top(at: theta, gradient: { objective.gradient(at: $0) }, step: h,
                                           maxIterations: o.maxIterations, tolerance: o.tolerance, seed: o.seed &+ 1,
                                           orthogonalTo: [v1.vector])
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [String] = []
        for (k, v) in [v1, v2].enumerated() {
            let file = URL(fileURLWithPath: directory).appendingPathComponent("hessian_v\(k + 1).safetensors").path
            var out: [(String, Tensor)] = []
            for info in base.tensors {
                if let entry = model.layout.entry(info.name) {
                    let values = (0..<entry.shape.reduce(1, *)).map { Float(theta[entry.offset + $0] + v.vector[entry.offset + $0]) }
                    out.append((info.name, try Tensor.fromFloats(values, shape: entry.shape, dtype: .f32)))
                } else {
                    out.append((info.name, tensors[info.name]!))
                }
            }
            var meta = base.metadata
            meta["tvtool_direction"] = "base + unit Hessian eigenvector \(k + 1) (eigenvalue \(v.eigenvalue)) of \(e.summary)"
            try Checkpoints.save(out, to: file, metadata: meta)
            files.append(file)
        }
        let readers = try files.map { try Checkpoints.open($0) }
        let family = try LinearFamily(base: base, models: readers, mapping: CoefficientMapping())
        let plane = LandscapePlane(
            basis: .coefficients, axisNames: ["x", "y"],
            axisDescriptions: [String(format: "x: top Hessian eigenvector v1 (lambda %.6g), Euclidean units", v1.eigenvalue),
                               String(format: "y: 2nd Hessian eigenvector v2 (lambda %.6g), Euclidean units", v2.eigenvalue)],
            mapping: CoefficientMapping(), markers: [PlaneMarker(label: "base", x: 0, y: 0)],
            settings: ["basis": "hessian", "eigenvalues": "\(v1.eigenvalue),\(v2.eigenvalue)", "fd_step": "\(h)",
                       "power_iterations": "\(o.maxIterations)", "power_seed": "\(o.seed)"])
        return (family, plane, Eigenpairs(eigenvalues: [v1.eigenvalue, v2.eigenvalue], iterations: [v1.iterations, v2.iterations],
                                          converged: [v1.converged, v2.converged], directionFiles: files))
    }
}
