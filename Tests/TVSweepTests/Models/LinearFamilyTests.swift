import XCTest
import TVStorage
@testable import TVSweep

final class LinearFamilyTests: XCTestCase {
    func testTaskArithmeticCandidatesAndMismatchErrors() throws {
        let dir = TestPaths.scratchDirectory("family")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let family = try WeightSearch.prepare(base: base, models: [a, b])
        let w = try family.tensor(named: "layer.bias", at: [0.5, 2])
        let b0: [Float] = [0.1, -0.2, 0.3]
        let expected = b0.map { $0 + 0.5 * 0.2 + 2 * -0.1 }
        for (x, y) in zip(try w.floats(), expected) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        // The candidate equals TVEngine's task-arithmetic merge at the same weights (written by
        // WeightSearch for the best point).
        let merged = dir.appendingPathComponent("merged.safetensors").path
        try WeightSearch.writeMerged(weights: [0.5, 2], family: family, to: merged)
        let reader = try Checkpoints.open(merged)
        XCTAssertNotNil(reader.metadata["tvtool.recipe"])
        for name in ["layer.weight", "layer.bias"] {
            let mine = try family.tensor(named: name, at: [0.5, 2]).floats()
            XCTAssertEqual(mine, try reader.tensor(named: name).floats(), name)
        }
        // A model with another shape is refused, naming the file and tensor.
        let bad = dir.appendingPathComponent("bad.safetensors").path
        try TinyCheckpoints.write(bad, [("layer.weight", [Float](repeating: 0, count: 12), [4, 3]), ("layer.bias", [0, 0, 0], [3])])
        XCTAssertThrowsError(try WeightSearch.prepare(base: base, models: [a, bad])) { e in
            XCTAssertEqual("\(e)", "\(bad): tensor 'layer.weight' has shape [4, 3], the base has [3, 4]")
        }
    }

    func testRandomDirectionsAreSeededAndFilterNormalised() throws {
        let reference: [Float] = (0..<12).map { Float($0) - 4 }
        let r = RandomDirections(seed: 7, count: 2)
        let d = r.direction(0, tensor: "w", shape: [3, 4], reference: reference)
        XCTAssertEqual(d, r.direction(0, tensor: "w", shape: [3, 4], reference: reference))
        XCTAssertNotEqual(d, r.direction(1, tensor: "w", shape: [3, 4], reference: reference))
        XCTAssertNotEqual(d, RandomDirections(seed: 8, count: 2).direction(0, tensor: "w", shape: [3, 4], reference: reference))
        for row in 0..<3 {
            let dn = (0..<4).map { Double(d[row * 4 + $0]) }.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let rn = (0..<4).map { Double(reference[row * 4 + $0]) }.reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(dn, rn, accuracy: 1e-5)
        }
        let bias = r.direction(0, tensor: "b", shape: [3], reference: [3, 0, 4])
        XCTAssertEqual(bias.map { Double($0) }.reduce(0) { $0 + $1 * $1 }.squareRoot(), 5, accuracy: 1e-5)
    }

    func testOrthonormalPlaneMapsUnitPointsOntoTheModels() throws {
        let dir = TestPaths.scratchDirectory("family")
        let (base, a, b) = try TinyCheckpoints.trio(in: dir)
        let p = try LandscapeSweep.prepare(base: base, a: a, b: b, plane: LandscapePlaneOptions(basis: .orthonormal))
        let markerB = try XCTUnwrap(p.plane.markers.first { $0.label == "B" })
        // FT_A sits at (1, 0) in units of |tau_A|, FT_B at its marker: both reproduce the files.
        for (coords, path) in [([1.0, 0.0], a), ([markerB.x, markerB.y], b)] {
            let reader = try Checkpoints.open(path)
            for name in ["layer.weight", "layer.bias"] {
                let got = try p.family.tensor(named: name, at: coords).floats()
                for (x, y) in zip(got, try reader.tensor(named: name).floats()) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            }
        }
        XCTAssertEqual(p.plane.axisNames, ["x", "y"])
    }
}
