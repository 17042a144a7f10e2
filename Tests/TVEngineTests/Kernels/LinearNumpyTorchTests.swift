import Foundation
import XCTest
import TVStorage
@testable import TVEngine

/// `tvtool merge`'s file path (fused and chunked, F32 and F64 compute) against numpy and, when it
/// is installed, torch computing DeMe's merge `pretrained + sum(w_i * tau_i)` of an SD-like F16
/// model: zero elements may differ.
final class LinearNumpyTorchTests: XCTestCase {
    static let weights = [0.1, 0.1, 0.2, 0.5]

    static let script = """
        import sys
        import numpy as np
        from safetensors.numpy import load_file
        d = sys.argv[1]
        w = [0.1, 0.1, 0.2, 0.5]
        base = load_file(d + "/base.safetensors")["x"]
        fts = [load_file(f"{d}/ft{i}.safetensors")["x"] for i in range(1, 5)]
        b32 = base.astype(np.float32)
        acc = None
        for wi, f in zip(w, fts):
            t = np.float32(wi) * (f.astype(np.float32) - b32)
            acc = t if acc is None else acc + t
        f32 = (b32 + acc).astype(np.float16)
        f32.tofile(d + "/numpy_f32.bin")
        b64 = base.astype(np.float64)
        acc64 = sum(wi * (f.astype(np.float64) - b64) for wi, f in zip(w, fts))
        (b64 + acc64).astype(np.float16).tofile(d + "/numpy_f64.bin")
        old = b32.copy()
        for wi, f in zip(w, fts):
            old = old + np.float32(wi) * (f.astype(np.float32) - b32)
        print("old_order_differs", int(np.sum(old.astype(np.float16) != f32)))
        try:
            import torch
        except ImportError:
            sys.exit(0)
        pre = torch.from_numpy(base).float()
        tvs = [torch.from_numpy(f).float() - pre for f in fts]
        merged = pre + sum(wi * tv for wi, tv in zip(w, tvs))
        merged.half().numpy().tofile(d + "/torch.bin")
        """

    func testFileMergeMatchesNumpyAndTorch() throws {
        guard let python = TestPaths.python(with: ["numpy", "safetensors"]) else {
            throw XCTSkip("python3 with numpy and safetensors not available: skipping the cross-check")
        }
        let dir = TestPaths.scratchDirectory("linear-numpy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let n = 200_003
        let b = OracleData.base(n, seed: 11, regime: .sdLike)
        let files = [("base", b)] + (1...4).map { ("ft\($0)", OracleData.model(of: b, seed: UInt64(11 + $0), regime: .sdLike)) }
        for (name, values) in files {
            let t = try Tensor.fromFloats(values, shape: [n], dtype: .f16)
            let w = try SafetensorsWriter(path: dir.appendingPathComponent(name + ".safetensors").path, tensors: [t.info(name: "x")], metadata: [:])
            try w.write(t, named: "x")
            try w.finish()
        }
        let run = try TestPaths.runPython(python, script: Self.script, arguments: [dir.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        // The data must exercise the rounding ties the old accumulation order got wrong.
        let oldDiffers = Int(run.stdoutText.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        XCTAssertGreaterThan(oldDiffers, 0, run.stdoutText)

        let inputs = try MergeInputs.open(base: dir.appendingPathComponent("base.safetensors").path,
                                          models: (1...4).map { dir.appendingPathComponent("ft\($0).safetensors").path })
        let numpyF32 = try halves(dir.appendingPathComponent("numpy_f32.bin"))
        let numpyF64 = try halves(dir.appendingPathComponent("numpy_f64.bin"))
        let torchPath = dir.appendingPathComponent("torch.bin")
        let torch = FileManager.default.fileExists(atPath: torchPath.path) ? try halves(torchPath) : nil
        if torch == nil { print("torch not installed: checked against numpy only") }
        for (fused, precision) in [(true, ComputePrecision.f32), (false, .f32), (false, .f64)] {
            var o = MergeOptions()
            o.progress = false
            o.fusedKernels = fused
            o.precision = precision
            let box = WriterBox()
            _ = try Merger.merge(method: try MergeMethods.named("task_arithmetic"), inputs: inputs,
                                 parameters: MergeParameters(global: ["weight": .perModel(Self.weights)]), options: o, writer: box.factory)
            let got = try box.writer!.written["x"]!.floats()
            let label = "fused \(fused), \(precision)"
            if precision == .f32 {
                XCTAssertEqual(differing(got, numpyF32), 0, "\(label) vs numpy (F32, torch order)")
                if let torch { XCTAssertEqual(differing(got, torch), 0, "\(label) vs torch") }
            } else {
                XCTAssertEqual(differing(got, numpyF64), 0, "\(label) vs numpy (F64, rounded once)")
            }
        }
    }

    func halves(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in raw.bindMemory(to: UInt16.self).map { HalfFloat.f16ToF32(UInt16(littleEndian: $0)) } }
    }

    /// Elements whose values differ (NaN equals NaN; zeros equal whatever their sign, as Python's
    /// `sum` starts from +0).
    func differing(_ a: [Float], _ b: [Float]) -> Int {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).filter { x, y in x.isNaN ? !y.isNaN : x != y }.count
    }
}
