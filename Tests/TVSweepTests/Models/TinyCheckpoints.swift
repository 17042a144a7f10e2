import Foundation
import TVStorage

/// Small checkpoints written with tvtool's own safetensors writer for sweep tests.
enum TinyCheckpoints {
    /// Writes `tensors` (name → values, shape) as F32 safetensors plus any extra metadata.
    static func write(_ path: String, _ tensors: [(String, [Float], [Int])], dtype: DType = .f32,
                      metadata: [String: String] = [:]) throws {
        let infos = tensors.map { TensorInfo(name: $0.0, dtype: dtype, shape: $0.2) }
        let w = try Checkpoints.create(path, tensors: infos, metadata: metadata)
        for (name, values, shape) in tensors { try w.write(Tensor.fromFloats(values, shape: shape, dtype: dtype), named: name) }
        try w.finish()
    }

    /// Three related models: base, A = base + tau_A, B = base + tau_B, with a 2-d weight, a bias and
    /// an integer tensor that must be copied from the base.
    static func trio(in dir: URL) throws -> (base: String, a: String, b: String) {
        let base = dir.appendingPathComponent("base.safetensors").path
        let a = dir.appendingPathComponent("a.safetensors").path
        let b = dir.appendingPathComponent("b.safetensors").path
        let w0: [Float] = (0..<12).map { Float($0) * 0.1 - 0.5 }
        let b0: [Float] = [0.1, -0.2, 0.3]
        try write(base, [("layer.weight", w0, [3, 4]), ("layer.bias", b0, [3])])
        try write(a, [("layer.weight", w0.enumerated().map { $1 + ($0 % 3 == 0 ? 0.5 : -0.1) }, [3, 4]),
                      ("layer.bias", b0.map { $0 + 0.2 }, [3])])
        try write(b, [("layer.weight", w0.enumerated().map { $1 + Float($0) * 0.02 }, [3, 4]),
                      ("layer.bias", b0.map { $0 - 0.1 }, [3])])
        return (base, a, b)
    }
}
