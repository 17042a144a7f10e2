import XCTest
import TVImage
import TVStorage
@testable import TVTrainer

final class DatasetLoaderTests: XCTestCase {
    func testPNGFolderLoadsPlanarInNameOrder() throws {
        let dir = TestPaths.scratchDirectory()
        let a = RasterImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 255, 0])
        let b = RasterImage(width: 2, height: 1, channels: 3, pixels: [0, 0, 255, 255, 255, 255])
        try PNGEncoder.write(b, to: dir.appendingPathComponent("b.png").path)
        try PNGEncoder.write(a, to: dir.appendingPathComponent("a.png").path)
        let d = try DatasetLoader.load(dir.path)
        XCTAssertEqual([d.count, d.channels, d.height, d.width], [2, 3, 1, 2])
        XCTAssertEqual(Array(d.image(0)), [1, -1, -1, 1, -1, -1])   // R plane, G plane, B plane of a.png
    }

    func testPNGFolderRejectsMixedSizes() throws {
        let dir = TestPaths.scratchDirectory()
        try PNGEncoder.write(RasterImage(width: 2, height: 2, channels: 1), to: dir.appendingPathComponent("a.png").path)
        try PNGEncoder.write(RasterImage(width: 3, height: 2, channels: 1), to: dir.appendingPathComponent("b.png").path)
        XCTAssertThrowsError(try DatasetLoader.load(dir.path)) { XCTAssertTrue("\($0)".contains("b.png") && "\($0)".contains("must match"), "\($0)") }
    }

    func testFloatDataOutsideRangeIsRejected() throws {
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("x.npy").path
        try NumpyArray.writeFloat32([Float](repeating: 3, count: 16), shape: [4, 4], to: path)
        XCTAssertThrowsError(try DatasetLoader.load(path)) { XCTAssertTrue("\($0)".contains("[-1, 1]")) }
    }
}

extension DatasetLoaderTests {
    /// Data as a U8 tensor in a safetensors file (N×C×H×W), picked by name.
    func testCheckpointTensorData() throws {
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("d.safetensors").path
        let bytes: [UInt8] = (0..<(5 * 1 * 2 * 2)).map { UInt8($0 * 12) }
        let images = try Tensor(dtype: .u8, shape: [5, 1, 2, 2], storage: ByteStorage(copying: bytes))
        let other = try Tensor.fromFloats([0], shape: [1])
        let w = try Checkpoints.create(path, tensors: [images.info(name: "images"), other.info(name: "labels")], metadata: [:])
        try w.write(images, named: "images"); try w.write(other, named: "labels"); try w.finish()
        XCTAssertThrowsError(try DatasetLoader.load(path)) { XCTAssertTrue("\($0)".contains("pick one"), "\($0)") }
        let d = try DatasetLoader.load(path + ":images")
        XCTAssertEqual([d.count, d.channels, d.height, d.width], [5, 1, 2, 2])
        XCTAssertEqual(d.values[1], Float(12) / 255 * 2 - 1, accuracy: 1e-6)
    }
}

extension DatasetLoaderTests {
    /// Data as an HDF5 dataset written by h5py (skipped without it).
    func testHDF5DatasetData() throws {
        guard let py = TestPaths.python(with: ["h5py", "numpy"]) else { throw XCTSkip("python3 with h5py not available") }
        let dir = TestPaths.scratchDirectory()
        let path = dir.appendingPathComponent("d.h5").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [py, "-c", "import h5py, numpy as np, sys; f = h5py.File(sys.argv[1], 'w'); f['images'] = (np.arange(6*9, dtype=np.float32).reshape(6, 3, 3) / 53 * 2 - 1); f.close()", path]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let d = try DatasetLoader.load(path)
        XCTAssertEqual([d.count, d.channels, d.height, d.width], [6, 1, 3, 3])
        XCTAssertEqual(d.values[53], 1, accuracy: 1e-6)
    }
}
