import XCTest
@testable import TVTrainer

final class FrechetDistanceTests: XCTestCase {
    /// For covariances sharing eigenvectors, FD = |mu1-mu2|² + Σ (√a_k - √b_k)².
    func testCommutingCovariancesClosedForm() throws {
        let d = 3
        // A rotation (orthonormal rows) so the matrices are not diagonal.
        let c = cos(0.3), s = sin(0.3)
        let r: [Double] = [c, -s, 0, s, c, 0, 0, 0, 1]
        func build(_ lam: [Double]) -> [Double] {
            var m = [Double](repeating: 0, count: 9)
            for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { m[i * 3 + j] += r[i * 3 + k] * lam[k] * r[j * 3 + k] } } }
            return m
        }
        let a = [4.0, 1.0, 0.25], b = [1.0, 9.0, 0.25]
        let fd = try FrechetDistance.distance(mean1: [0, 0, 0], covariance1: build(a), mean2: [1, 2, 0], covariance2: build(b), dimension: d)
        let expected = 5.0 + zip(a, b).reduce(0) { $0 + pow($1.0.squareRoot() - $1.1.squareRoot(), 2) }
        XCTAssertEqual(fd, expected, accuracy: 1e-9)
        XCTAssertEqual(try FrechetDistance.distance(mean1: [1, 1, 1], covariance1: build(a), mean2: [1, 1, 1], covariance2: build(a), dimension: d), 0, accuracy: 1e-9)
    }

    /// Non-commuting covariances from samples, against scipy.linalg.sqrtm (skipped without scipy).
    func testAgainstScipy() throws {
        guard let py = TestPaths.python(with: ["numpy", "scipy"]) else { throw XCTSkip("python3 with numpy and scipy not available") }
        var rng = TrainerRandom(seed: 3)
        let d = 4, n = 50
        let a = (0..<(n * d)).map { i in rng.normal() * Float(1 + i % d) }
        let b = (0..<(n * d)).map { i in rng.normal() + (i % d == 0 ? 2 * rng.normal() : 0.5) }
        let fd = try FrechetDistance.compute(a, b, dimension: d)
        let dir = TestPaths.scratchDirectory()
        let pa = dir.appendingPathComponent("a.npy").path, pb = dir.appendingPathComponent("b.npy").path
        try NumpyArray.writeFloat32(a, shape: [n, d], to: pa)
        try NumpyArray.writeFloat32(b, shape: [n, d], to: pb)
        let script = """
        import numpy as np, scipy.linalg as sl, sys
        a = np.load(sys.argv[1]).astype(np.float64); b = np.load(sys.argv[2]).astype(np.float64)
        m1, m2 = a.mean(0), b.mean(0); s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        r = sl.sqrtm(s1 @ s2).real
        print(repr(float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(r))))
        """
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [py, "-c", script, pa, pb]
        p.standardOutput = out
        try p.run(); p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let ref = try XCTUnwrap(Double(text), "scipy printed \(text)")
        XCTAssertEqual(fd, ref, accuracy: 1e-6 * abs(ref))
    }
}
