import XCTest
@testable import TVStorage

/// Listing order, name collisions and the Keras naming rules.
final class HDF5NamingTests: XCTestCase {
    func testNumericSiblingsSortAsIntegers() {
        let paths = ["b/10", "b/2", "a", "b/x", "b/0", "b/01", "b/99999999999999999999999", "b/1/z"]
        XCTAssertEqual(paths.sorted(by: HDF5Naming.pathPrecedes),
                       ["a", "b/0", "b/01", "b/1/z", "b/2", "b/10", "b/99999999999999999999999", "b/x"])
    }

    func testDottedNames() {
        XCTAssertEqual(HDF5Naming.dottedName("model/blocks/0/weight"), "model.blocks.0.weight")
        XCTAssertEqual(HDF5Naming.dottedName("/x"), "x")
    }

    func testCollidingDottedNamesKeepTheirPath() throws {
        let reader = try HDF5Reader(path: TestPaths.fixture("hdf5/collision.h5"))
        try HDF5ExpectedFixture.load("collision").verify(reader)
        XCTAssertTrue(reader.notes.contains { $0.contains("'/a.b/c'") && $0.contains("already used") }, "\(reader.notes)")
    }

    func testKeras2WeightNames() {
        XCTAssertEqual(KerasLayout.keras2Name(layer: "dense", weight: "dense/kernel:0"), "dense.kernel")
        XCTAssertEqual(KerasLayout.keras2Name(layer: "bn", weight: "gamma:0"), "bn.gamma")
        XCTAssertEqual(KerasLayout.keras2Name(layer: "model", weight: "dense/bias:0"), "model.dense.bias")
        XCTAssertEqual(KerasLayout.keras2Name(layer: "lstm", weight: "lstm/cell:x"), "lstm.cell:x")
    }

    func testKeras2ChunkedAttributeLists() {
        let attrs = [HDF5Attribute(name: "layer_names1", text: "", strings: ["c"], isScalar: false),
                     HDF5Attribute(name: "layer_names0", text: "", strings: ["a", "b"], isScalar: false)]
        XCTAssertEqual(KerasLayout.stringList("layer_names", in: attrs), ["a", "b", "c"])
        XCTAssertNil(KerasLayout.stringList("weight_names", in: attrs))
    }

    func testKeras3NeedsEveryDatasetUnderVars() {
        var s = HDF5FileStructure()
        s.groups = ["", "layers", "layers/dense", "layers/dense/vars"]
        XCTAssertEqual(KerasLayout.keras3Names(s, tensorPaths: ["layers/dense/vars/0", "vars/1"]),
                       ["layers/dense/vars/0": "dense.0", "vars/1": "vars.1"])
        XCTAssertNil(KerasLayout.keras3Names(s, tensorPaths: ["layers/dense/vars/0", "layers/dense/extra"]))
    }

    func testJSONQuoting() {
        XCTAssertEqual(HDF5AttributeIO.jsonQuoted("a\"b\\c\n\u{1}"), #""a\"b\\c\n\u0001""#)
    }
}
