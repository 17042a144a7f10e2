import Foundation
import XCTest
@testable import TVStorage

/// Malicious pickles (each would run `touch MARKER` if Python unpickled it; make.py proves that)
/// are refused with an error naming the global or opcode, and the marker never appears.
final class PyTorchSafetyTests: XCTestCase {
    private let marker = "/tmp/tvtool-pytorch-fixture-marker"

    private func assertRefused(_ file: String, _ expected: PyTorchError, line: UInt = #line) {
        try? FileManager.default.removeItem(atPath: marker)
        let path = PyTorchFixtures.path(file)
        XCTAssertThrowsError(try PyTorchReader(path: path), file: #filePath, line: line) { error in
            XCTAssertEqual(error as? PyTorchError, expected, "\(error)", file: #filePath, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(file) ran code", file: #filePath, line: line)
    }

    private func forbidden(_ file: String, _ global: String) -> PyTorchError {
        .forbiddenGlobal(path: PyTorchFixtures.path(file), global: global)
    }

    func testForbiddenGlobalsAreRefusedByName() {
        assertRefused("evil_global_os_system.pt", forbidden("evil_global_os_system.pt", "os.system"))
        assertRefused("evil_stack_global_posix.pt", forbidden("evil_stack_global_posix.pt", "posix.system"))
        assertRefused("evil_builtins_exec.pt", forbidden("evil_builtins_exec.pt", "builtins.exec"))
        assertRefused("evil_memo_eval.pt", forbidden("evil_memo_eval.pt", "builtins.eval"))
        assertRefused("evil_subprocess.pt", forbidden("evil_subprocess.pt", "subprocess.call"))
    }

    func testRealTorchSaveWithHiddenSystemCallIsRefused() {
        assertRefused("evil_in_state_dict.bin", forbidden("evil_in_state_dict.bin", "posix.system"))
    }

    func testForbiddenOpcodesAreRefusedByName() {
        assertRefused("evil_inst.pt", .forbiddenOpcode(path: PyTorchFixtures.path("evil_inst.pt"), opcode: "INST (0x69)", offset: 46))
        assertRefused("evil_obj.pt", .forbiddenOpcode(path: PyTorchFixtures.path("evil_obj.pt"), opcode: "OBJ (0x6f)", offset: 28))
        assertRefused("evil_ext1.pt", .forbiddenOpcode(path: PyTorchFixtures.path("evil_ext1.pt"), opcode: "EXT1 (0x82)", offset: 2))
    }

    func testErrorMessagesNameFileAndGlobal() {
        let message = forbidden("evil_global_os_system.pt", "os.system").description
        XCTAssertTrue(message.contains("evil_global_os_system.pt") && message.contains("'os.system'"), message)
        XCTAssertFalse(message.contains("\n"))
    }

    func testDeeplyNestedDictsHitTheDepthLimit() {
        let path = PyTorchFixtures.path("too_deep.pt")
        XCTAssertThrowsError(try PyTorchReader(path: path)) {
            guard case .limitExceeded = $0 as? PyTorchError else { return XCTFail("\($0)") }
        }
    }
}
