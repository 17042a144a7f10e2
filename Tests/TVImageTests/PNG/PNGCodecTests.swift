import XCTest
@testable import TVImage

final class PNGCodecTests: XCTestCase {
    struct Expected: Decodable { let width, height, channels: Int; let pixels: [Int] }

    /// PNGs from an independent encoder (fixtures/trainer/make.py), every row filter used.
    func testDecodesIndependentlyEncodedFiles() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("trainer/png/expected.json")))
        let expected = try JSONDecoder().decode([String: Expected].self, from: data)
        XCTAssertEqual(expected.count, 2)
        for (name, e) in expected {
            let img = try PNGDecoder.read(TestPaths.fixture("trainer/png/\(name).png"))
            XCTAssertEqual([img.width, img.height, img.channels], [e.width, e.height, e.channels], name)
            XCTAssertEqual(img.pixels.map(Int.init), e.pixels, name)
        }
    }

    func testRoundTrip() throws {
        var px = [UInt8]()
        for i in 0..<(7 * 5 * 3) { px.append(UInt8((i * 37) % 256)) }
        let img = RasterImage(width: 7, height: 5, channels: 3, pixels: px)
        XCTAssertEqual(try PNGDecoder.decode(PNGEncoder.encode(img), source: "mem"), img)
        let grey = RasterImage(width: 3, height: 2, channels: 1, pixels: [0, 128, 255, 1, 2, 3])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("g.png").path
        try PNGEncoder.write(grey, to: path)
        XCTAssertEqual(try PNGDecoder.read(path), grey)
    }

    struct TypeCase: Decodable { let channels: Int; let max: Int; let samples: [Int] }

    /// Every colour type and bit depth (fixtures/trainer/make.py `write_png_types`, an independent
    /// zlib + struct encoder; Pillow decodes the same values for every file it keeps at 8 bits).
    func testDecodesEveryColourTypeAndDepth() throws {
        let dir = TestPaths.fixture("trainer/png/types")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json"))
        let cases = try JSONDecoder().decode([String: TypeCase].self, from: data)
        XCTAssertEqual(cases.count, 16)
        for (name, e) in cases {
            let s = try PNGDecoder.readSamples(dir + "/\(name).png")
            XCTAssertEqual([s.width, s.height, s.channels, s.maxValue], [5, 6, e.channels, e.max], name)
            XCTAssertEqual(s.samples.map(Int.init), e.samples, name)
            // The 8-bit view drops alpha and rounds 16-bit samples.
            let r = s.raster()
            XCTAssertEqual(r.channels, e.channels >= 3 ? 3 : 1, name)
            XCTAssertEqual(Int(r.pixels[0]), (e.samples[0] * 255 + e.max / 2) / e.max, name)
        }
    }

    func testOldRefusalsThatAreNowDecoded() throws {
        let rgba = try PNGDecoder.readSamples(TestPaths.fixture("trainer/png/rgba.png"))
        XCTAssertEqual(rgba.samples, [1, 2, 3, 4])
        let grey16 = try PNGDecoder.readSamples(TestPaths.fixture("trainer/png/grey16.png"))
        XCTAssertEqual(grey16.samples, [0x0102, 0x0304])
        XCTAssertEqual(grey16.maxValue, 65535)
    }

    func testRefusesUnsupportedVariantsClearly() {
        let cases = ["interlaced": "interlac", "palette": "PLTE", "bad_crc": "CRC"]
        for (name, words) in cases {
            let path = TestPaths.fixture("trainer/png/\(name).png")
            XCTAssertThrowsError(try PNGDecoder.read(path), name) { e in
                XCTAssertTrue("\(e)".contains(words), "\(name): \(e)")
                XCTAssertTrue("\(e)".contains(path), "\(name): \(e)")
            }
        }
        XCTAssertThrowsError(try PNGDecoder.decode(Array("GIF89a.....".utf8), source: "x.gif")) { XCTAssertTrue("\($0)".contains("not a PNG")) }
    }

    func testGridLayout() {
        let a = RasterImage(width: 2, height: 2, channels: 1, pixels: [1, 1, 1, 1])
        let g = RasterImage.grid([a, a, a], columns: 2, padding: 1)
        XCTAssertEqual([g.width, g.height], [7, 7])
        XCTAssertEqual(g.pixels[1 * 7 + 1], 1)
        XCTAssertEqual(g.pixels[0], 0)
        XCTAssertEqual(a.scaled(by: 3).width, 6)
    }
}
