import XCTest
import TVImage
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
