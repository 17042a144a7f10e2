import XCTest
@testable import TVTrainer

final class ProjectionExpansionTests: XCTestCase {
    func testExpandedModelHasIdentityProjectionsAndSameOutputs() {
        let c = TestModels.tiny()
        let plain = MLPDenoiser(config: c, seed: 1)
        let expanded = plain.expandingWithIdentityProjections()
        XCTAssertTrue(expanded.config.projections)
        XCTAssertEqual(expanded.layout.count, plain.layout.count + c.blocks * c.hiddenWidth * c.hiddenWidth)
        let proj = expanded.layout.entry("blocks.1.proj.weight")!
        XCTAssertEqual(proj.shape, [c.hiddenWidth, c.hiddenWidth])
        for i in 0..<c.hiddenWidth { for j in 0..<c.hiddenWidth {
            XCTAssertEqual(expanded.parameters[proj.offset + i * c.hiddenWidth + j], i == j ? 1 : 0)
        } }
        let (x0, t, _) = TestModels.batch(c, size: 4, seed: 2)
        XCTAssertEqual(plain.predictEpsilon(x: x0, t: t), expanded.predictEpsilon(x: x0, t: t))
        for e in plain.layout.entries {
            let o = expanded.layout.entry(e.name)!
            for j in 0..<e.count { XCTAssertEqual(plain.parameters[e.offset + j], expanded.parameters[o.offset + j]) }
        }
    }

    func testFreshProjectionModelStartsAtIdentity() {
        let m = MLPDenoiser(config: TestModels.tiny(projections: true), seed: 3)
        let e = m.layout.entry("blocks.0.proj.weight")!
        XCTAssertEqual(m.parameters[e.offset], 1)
        XCTAssertEqual(m.parameters[e.offset + 1], 0)
    }
}
