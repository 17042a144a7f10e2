import XCTest
@testable import TVTrainer

final class DatasetTests: XCTestCase {
    func testBundledDigitsLoadAndScale() throws {
        let d = try DatasetLoader.digits()
        XCTAssertEqual(d.count, 1797)
        XCTAssertEqual([d.channels, d.height, d.width], [1, 8, 8])
        XCTAssertEqual(d.values.min(), -1)
        XCTAssertEqual(d.values.max(), 1)
    }

    func testStandardSplitIsDisjointAndSeeded() throws {
        let d = try DatasetLoader.digits()
        let s = try DatasetSplit.standard(d)
        XCTAssertEqual(s.train.count, 1500)
        XCTAssertEqual(s.heldOut.map(\.count), [148, 149])
        let all = s.trainIndices + s.heldOutIndices.flatMap { $0 }
        XCTAssertEqual(Set(all).count, 1797)
        XCTAssertEqual(try DatasetSplit.standard(d).heldOutIndices, s.heldOutIndices)
        XCTAssertNotEqual(try DatasetSplit.standard(d, seed: 1).heldOutIndices, s.heldOutIndices)
        XCTAssertEqual(Array(s.heldOut[1].image(0)), Array(d.image(s.heldOutIndices[1][0])))
    }

    func testNumpyRoundTripAndNumpyWrittenFile() throws {
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("a.npy").path
        let v: [Float] = [0.5, -1, 0.25, 1, 0, -0.75]
        try NumpyArray.writeFloat32(v, shape: [2, 3], to: path)
        let a = try NumpyArray.read(path)
        XCTAssertEqual(a.shape, [2, 3]); XCTAssertEqual(a.kind, .f32)
        XCTAssertEqual(a.values.map(Float.init), v)
        guard let py = TestPaths.python(with: ["numpy"]) else { throw XCTSkip("python3 with numpy not available") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [py, "-c", "import numpy as np,sys; a=np.load(sys.argv[1]); assert a.shape==(2,3) and a.dtype==np.float32, a; assert a[1,0]==1.0; np.save(sys.argv[2], (np.arange(6, dtype=np.uint8)*40).reshape(6,1))", path, dir.appendingPathComponent("b.npy").path]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "numpy reads tvtool's .npy and writes one back")
        let data = try DatasetLoader.load(dir.appendingPathComponent("b.npy").path)
        XCTAssertEqual(data.count, 6)
        XCTAssertEqual(data.values[0], -1)
        XCTAssertEqual(data.values[5], Float(200) / 255 * 2 - 1, accuracy: 1e-6)
    }

    func testRejectsBadNpy() {
        XCTAssertThrowsError(try NumpyArray.parse(Array("not numpy at all".utf8), source: "x.npy")) { e in
            XCTAssertTrue("\(e)".contains("x.npy"))
        }
    }
}
