import XCTest
@testable import TVImage

final class DrawingTests: XCTestCase {
    func testLinesRectanglesAndClipping() {
        var c = Canvas(width: 10, height: 8)
        c.line(0, 0, 9, 7, .black)
        XCTAssertEqual(c.pixel(x: 0, y: 0), .black)
        XCTAssertEqual(c.pixel(x: 9, y: 7), .black)
        c.fill(x: -5, y: 6, width: 100, height: 100, .red)  // clipped, no trap
        XCTAssertEqual(c.pixel(x: 3, y: 7), .red)
        XCTAssertEqual(c.pixel(x: 3, y: 5), .white)
        XCTAssertNil(c.pixel(x: 10, y: 0))
        c.line(-20, -20, 30, 30, .black)
        XCTAssertEqual(c.rasterImage.pixels.count, 10 * 8 * 3)
    }

    func testTextDrawsTheGlyphBits() {
        var c = Canvas(width: 20, height: 10)
        c.text("1", x: 0, y: 0)
        // Glyph "1": row 0 is 0x04 (middle column only), row 6 is 0x0E.
        XCTAssertEqual((0..<5).map { c.pixel(x: $0, y: 0) == .black }, [false, false, true, false, false])
        XCTAssertEqual((0..<5).map { c.pixel(x: $0, y: 6) == .black }, [false, true, true, true, false])
        XCTAssertEqual(BitmapFont.width("abc", scale: 2), (3 * 6 - 1) * 2)
        XCTAssertEqual(BitmapFont.glyph("a"), BitmapFont.glyph("A"))
    }

    func testColorMapEndsAndNaN() {
        XCTAssertEqual(ColorMap.viridis.color(at: 0), RGB(68, 1, 84))
        XCTAssertEqual(ColorMap.viridis.color(at: 1), RGB(253, 231, 37))
        XCTAssertEqual(ColorMap.viridis.color(at: 7), RGB(253, 231, 37))
        XCTAssertEqual(ColorMap.viridis.color(at: .nan), .gray)
    }

    func testContoursOfAPlaneAndASaddle() {
        // f(i, j) = i: the level 1.5 is the line i = 1.5 across every column.
        let plane = (0..<4).map { i in (0..<3).map { _ in Double(i) } }
        let segs = Contours.segments(plane, level: 1.5)
        XCTAssertEqual(segs.count, 2)
        for s in segs { XCTAssertEqual(s.i0, 1.5); XCTAssertEqual(s.i1, 1.5) }
        // Saddle: corners 0 and 2 high. Centre high: the two low corners are cut off separately.
        let saddle: [[Double]] = [[1, 0], [0, 1]]
        XCTAssertEqual(Contours.segments(saddle, level: 0.4).count, 2)
        let cut = Contours.segments(saddle, level: 0.4)
        // Each segment separates one low corner: (0,1) or (1,0); its endpoints lie on that corner's edges.
        for s in cut { XCTAssertTrue((s.i0 == 0 || s.j0 == 1 || s.i0 == 1 || s.j0 == 0)) }
        XCTAssertTrue(Contours.segments([[Double.nan, 1], [0, 1]], level: 0.5).isEmpty)
    }

    func testMarkersAreOutlined() {
        var c = Canvas(width: 21, height: 21, background: .white)
        c.marker(.circle, cx: 10, cy: 10, size: 11, fill: .red)
        XCTAssertEqual(c.pixel(x: 10, y: 10), .red)
        XCTAssertEqual(c.pixel(x: 15, y: 10), .black)
        XCTAssertEqual(c.pixel(x: 17, y: 10), .white)
    }
}
