import XCTest
import TVTrainer
@testable import TVSweep

/// Power iteration on finite-difference Hessian-vector products, against numpy's eigh on a known
/// Hessian (a quadratic) and on the full finite-difference Hessian of a tiny trainer model.
final class HessianDirectionTests: XCTestCase {
    func numpyEigh(_ python: String, _ h: [[Double]]) throws -> (values: [Double], top: [Double], second: [Double]) {
        let dir = TestPaths.scratchDirectory("hessian-eigh")
        let input = dir.appendingPathComponent("h.json")
        try JSONSerialization.data(withJSONObject: h).write(to: input)
        let script = """
            import sys, json, numpy as np
            H = np.array(json.load(open(sys.argv[1]))); H = (H + H.T) / 2
            w, V = np.linalg.eigh(H)
            order = np.argsort(-np.abs(w))
            print(json.dumps({"w": w[order].tolist(), "v0": V[:, order[0]].tolist(), "v1": V[:, order[1]].tolist()}))
            """
        let r = try TestPaths.runPython(python, script: script, arguments: [input.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        return (o["w"] as! [Double], o["v0"] as! [Double], o["v1"] as! [Double])
    }

    func cosine(_ a: [Double], _ b: [Double]) -> Double {
        abs(zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }) / (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    func testQuadraticTopTwoEigenpairsMatchNumpy() throws {
        guard let python = TestPaths.python(with: ["numpy"]) else { throw XCTSkip("python3 with numpy is needed for the eigh oracle") }
        var rng = SplitMix(seed: 5)
        let n = 12
        let b = (0..<(n * n)).map { _ in rng.normal() }
        // A = B^T B / n + diag(0..11) / 4: symmetric with a spread spectrum.
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = (0..<n).reduce(0) { $0 + b[$1 * n + i] * b[$1 * n + j] } / Double(n) + (i == j ? Double(i) / 4 : 0) } }
        let shift = (0..<n).map { _ in rng.normal() }
        let gradient: ([Double]) -> [Double] = { x in (0..<n).map { i in (0..<n).reduce(shift[i]) { $0 + a[i][$1] * x[$1] } } }
        let theta = (0..<n).map { _ in rng.normal() }
        let top = HessianPowerIteration.top(at: theta, gradient: gradient, step: 0.1, maxIterations: 2000, tolerance: 1e-13)
        let second = HessianPowerIteration.top(at: theta, gradient: gradient, step: 0.1, maxIterations: 2000, tolerance: 1e-13,
                                               orthogonalTo: [top.vector])
        let ref = try numpyEigh(python, a)
        XCTAssertTrue(top.converged)
        XCTAssertEqual(top.eigenvalue, ref.values[0], accuracy: 1e-8 * abs(ref.values[0]))
        XCTAssertEqual(cosine(top.vector, ref.top), 1, accuracy: 1e-6)
        XCTAssertEqual(second.eigenvalue, ref.values[1], accuracy: 1e-6 * abs(ref.values[1]))
        XCTAssertEqual(cosine(second.vector, ref.second), 1, accuracy: 1e-4)
    }

    /// The gradient is the derivative of the evaluator's own eps-MSE (TVTrainer's EpsilonMSE, a
    /// separate code path), checked by central differences of that loss.
    func tinyProblem() -> (EpsilonMSEGradient, ModelConfig, EvaluationSet, [Double]) {
        let c = ModelConfig(channels: 1, height: 2, width: 2, hiddenWidth: 6, blocks: 1, timeEmbedding: 4, timesteps: 50)
        let data = ImageDataset(channels: 1, height: 2, width: 2, values: (0..<(4 * 6)).map { Float(($0 * 5) % 7) / 7 - 0.4 }, source: "t")
        let set = EvaluationSet(data: data, timesteps: 50, repeats: 6, seed: 3)
        let model = MLPDenoiser(config: c, seed: 9)
        let range = TimestepRange(lower: 0, upper: 25)
        return (EpsilonMSEGradient(model: model, set: set, range: range), c, set, model.parameters.array.map(Double.init))
    }

    func testEpsilonMSEGradientMatchesFiniteDifferencesOfTheLoss() throws {
        let (g, c, set, theta) = tinyProblem()
        let grad = g.gradient(at: theta)
        XCTAssertGreaterThan(grad.map(abs).max()!, 1e-2, "a vacuous gradient would pass any tolerance")
        func loss(_ p: [Double]) -> Double {
            EpsilonMSE.evaluate(MLPDenoiser(config: c, parameters: p.map(Float.init)), on: set).mean(in: TimestepRange(lower: 0, upper: 25))
        }
        let h = 1e-2
        for i in stride(from: 0, to: theta.count, by: max(theta.count / 25, 1)) {
            var p = theta, m = theta
            p[i] += h; m[i] -= h
            let fd = (loss(p) - loss(m)) / (2 * h)
            XCTAssertEqual(grad[i], fd, accuracy: 2e-3 + 2e-2 * abs(fd), "parameter \(i)")
        }
    }

    func testTinyModelTopEigenvalueMatchesNumpyOnTheFullHessian() throws {
        guard let python = TestPaths.python(with: ["numpy"]) else { throw XCTSkip("python3 with numpy is needed for the eigh oracle") }
        let (g, _, _, theta) = tinyProblem()
        let n = theta.count, h = 1e-2
        // The full Hessian by central differences of the gradient, one column per parameter.
        var H = [[Double]](repeating: [], count: n)
        for j in 0..<n {
            var p = theta, m = theta
            p[j] += h; m[j] -= h
            let gp = g.gradient(at: p), gm = g.gradient(at: m)
            H[j] = (0..<n).map { (gp[$0] - gm[$0]) / (2 * h) }
        }
        let ref = try numpyEigh(python, H)
        let top = HessianPowerIteration.top(at: theta, gradient: { g.gradient(at: $0) }, step: h, maxIterations: 500, tolerance: 1e-9)
        XCTAssertEqual(top.eigenvalue, ref.values[0], accuracy: 2e-3 * abs(ref.values[0]), "spectrum head \(ref.values.prefix(3))")
        XCTAssertEqual(cosine(top.vector, ref.top), 1, accuracy: 1e-2)
    }
}
