import Foundation
import XCTest
@testable import TVStorage

/// Whole nn.Modules saved with `torch.save(model)` (fixtures/pytorch/make.py): read without
/// running anything, as exactly the tensors torch's own `model.state_dict()` gave at fixture time
/// (names, order, dtypes, bytes), and a module carrying a payload is still refused.
final class PickledModuleTests: XCTestCase {
    private let marker = "/tmp/tvtool-pytorch-fixture-marker"

    func testModuleTreeMatchesStateDict() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("module_tree.pt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "module_tree.pt")
        let names = reader.tensors.map(\.name)
        // Non-persistent buffers, None parameters/buffers and the None submodule are not in state_dict().
        XCTAssertFalse(names.contains { $0.hasSuffix(".cache") || $0.hasSuffix(".unused") || $0.hasSuffix(".absent") || $0.hasPrefix("skip") })
        // The tied weight is listed under both names, with the same bytes.
        XCTAssertEqual(try reader.tensor(named: "head.weight").storage.buffer.map { $0 }, try reader.tensor(named: "tail.weight").storage.buffer.map { $0 })
        XCTAssertTrue(reader.notes.contains { $0.contains("Tree module") }, "\(reader.notes)")
    }

    func testModuleInsideADictIsFoundUnderModel() throws {
        let reader = try PyTorchReader(path: PyTorchFixtures.path("module_in_dict.pt"))
        try PyTorchFixtures.assertMatchesTorch(reader, "module_in_dict.pt")
    }

    func testWholeDiffusersUNetMatchesStateDict() throws {
        let path = PyTorchFixtures.path("module_unet2d.pt")
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("made only when diffusers was installed") }
        try PyTorchFixtures.assertMatchesTorch(try PyTorchReader(path: path), "module_unet2d.pt")
    }

    func testModuleCarryingASystemCallIsRefusedAndRunsNothing() {
        try? FileManager.default.removeItem(atPath: marker)
        let path = PyTorchFixtures.path("evil_module.pt")
        XCTAssertThrowsError(try PyTorchReader(path: path)) { error in
            XCTAssertEqual(error as? PyTorchError, .forbiddenGlobal(path: path, global: "posix.system"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testForeignClassesBecomeInertRecords() throws {
        // GLOBAL mypkg.Thing, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, 'a', 1, SETITEM, BUILD, STOP
        let p: [UInt8] = [0x63] + Array("mypkg\nThing\n".utf8) + [0x29, 0x81, 0x7d, 0x8c, 1, 0x61, 0x4b, 1, 0x73, 0x62, 0x2e]
        let (root, arena) = try p.withUnsafeBytes { try Unpickler.load($0, path: "t.pkl") }
        guard case let .object(o) = root, case let .dict(d) = arena.objects[o].state else { return XCTFail("\(root)") }
        XCTAssertEqual(arena.objects[o].className, "mypkg.Thing")
        XCTAssertEqual(arena.dicts[d].count, 1)
    }

    func testDeniedGlobalsStayRefusedInsideModules() {
        for (module, name) in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("builtins", "getattr"),
                               ("mypkg", "__import__"), ("nt", "system"), ("importlib", "import_module")] {
            let p: [UInt8] = [0x63] + Array("\(module)\n\(name)\n".utf8) + [0x29, 0x52, 0x2e]
            XCTAssertThrowsError(try p.withUnsafeBytes { try Unpickler.load($0, path: "t.pkl") }) {
                XCTAssertEqual($0 as? PyTorchError, .forbiddenGlobal(path: "t.pkl", global: "\(module).\(name)"))
            }
        }
    }
}
