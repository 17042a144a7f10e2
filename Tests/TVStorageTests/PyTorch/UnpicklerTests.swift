import XCTest
@testable import TVStorage

/// Opcode-level checks of the restricted unpickler on hand-written pickles (byte layouts as in
/// CPython's Lib/pickle.py and pickletools).
final class UnpicklerTests: XCTestCase {
    private func load(_ bytes: [UInt8]) throws -> (PickleValue, PickleArena) {
        try bytes.withUnsafeBytes { try Unpickler.load($0, path: "t.pkl") }
    }

    private func int(_ bytes: [UInt8]) throws -> Int? {
        guard case let .int(v) = try load(bytes).0 else { return nil }
        return v
    }

    func testIntegerOpcodes() throws {
        XCTAssertEqual(try int([0x4b, 0xff, 0x2e]), 255)                       // BININT1
        XCTAssertEqual(try int([0x4d, 0x34, 0x12, 0x2e]), 0x1234)              // BININT2
        XCTAssertEqual(try int([0x4a, 0xfe, 0xff, 0xff, 0xff, 0x2e]), -2)      // BININT
        XCTAssertEqual(try int([0x8a, 0x00, 0x2e]), 0)                         // LONG1, empty
        XCTAssertEqual(try int([0x8a, 0x01, 0xff, 0x2e]), -1)                  // LONG1 sign-extends
        XCTAssertEqual(try int([0x8a, 0x02, 0x00, 0x80, 0x2e]), -32768)
        XCTAssertEqual(try int([0x8a, 0x09] + [UInt8](repeating: 0xff, count: 9) + [0x2e]), -1)
        guard case .bigInt(9)? = try? load([0x8a, 0x09] + [UInt8](repeating: 0, count: 8) + [0x01, 0x2e]).0 else {
            return XCTFail("2^64 is not an Int")
        }
    }

    func testFloatStringsAndBytes() throws {
        guard case let .float(f) = try load([0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x2e]).0 else { return XCTFail() }
        XCTAssertEqual(f, 1.5)
        guard case let .string(s) = try load([0x8c, 0x02, 0x68, 0x69, 0x2e]).0 else { return XCTFail() }
        XCTAssertEqual(s, "hi")
        guard case let .bytes(b) = try load([0x43, 0x02, 0x01, 0x02, 0x2e]).0 else { return XCTFail() }
        XCTAssertEqual(b, [1, 2])
        XCTAssertThrowsError(try load([0x8c, 0x01, 0xff, 0x2e]), "invalid UTF-8")
    }

    func testProtocol4FramesMemoizeAndContainers() throws {
        // PROTO 4, FRAME, EMPTY_DICT, MEMOIZE, MARK, 'a', 1, 'b', EMPTY_LIST, MEMOIZE, 2, APPEND, SETITEMS, STOP
        let p: [UInt8] = [0x80, 0x04, 0x95, 9, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x28, 0x8c, 1, 0x61, 0x4b, 1,
                          0x8c, 1, 0x62, 0x5d, 0x94, 0x4b, 2, 0x61, 0x75, 0x2e]
        let (root, arena) = try load(p)
        guard case let .dict(d) = root else { return XCTFail() }
        XCTAssertEqual(arena.dicts[d].count, 2)
        guard case let .list(l) = arena.dicts[d][1].value, case .int(2) = arena.lists[l][0] else { return XCTFail() }
    }

    func testMemoGetPutDupPopAndTuples() throws {
        // 7 BINPUT 0, POP, BINGET 0, DUP, TUPLE2, MARK, 1, 2, 3, TUPLE, TUPLE2, STOP
        let (root, arena) = try load([0x4b, 7, 0x71, 0, 0x30, 0x68, 0, 0x32, 0x86, 0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x74, 0x86, 0x2e])
        guard case let .tuple(t) = root, case let .tuple(a) = arena.tuples[t][0], case let .tuple(b) = arena.tuples[t][1] else { return XCTFail() }
        XCTAssertEqual(arena.tuples[a].count, 2)
        XCTAssertEqual(arena.tuples[b].count, 3)
    }

    func testMalformedPicklesThrowInsteadOfTrapping() {
        let cases: [[UInt8]] = [
            [],                      // no STOP
            [0x2e],                  // STOP on an empty stack
            [0x68, 0x05, 0x2e],      // BINGET of a missing memo entry
            [0x74, 0x2e],            // TUPLE without MARK
            [0x28, 0x30, 0x2e],      // POP below the mark
            [0x4b],                  // truncated operand
            [0x58, 0xff, 0xff, 0xff, 0x7f],  // string longer than the pickle
            [0x80, 0x09, 0x2e],      // unknown protocol
            [0x4b, 1, 0x4b, 2, 0x73, 0x2e],  // SETITEM on an int
            [0x29, 0x29, 0x52, 0x2e],        // REDUCE on a tuple
            [0x63, 0x6f, 0x73],              // GLOBAL without newline
        ]
        for c in cases { XCTAssertThrowsError(try load(c), "\(c)") }
    }

    func testTextOpcodesAreRefusedByName() {
        for (op, name) in [(0x49, "INT"), (0x53, "STRING"), (0x50, "PERSID"), (0x92, "NEWOBJ_EX"), (0xff, "unknown opcode 0xff")] {
            XCTAssertThrowsError(try load([UInt8(op), 0x2e])) {
                guard case let .forbiddenOpcode(_, opcode, 0)? = $0 as? PyTorchError else { return XCTFail("\($0)") }
                XCTAssertTrue(opcode.hasPrefix(name), opcode)
            }
        }
    }

    func testStorageClassesAreNotCallable() {
        // GLOBAL torch FloatStorage, EMPTY_TUPLE, REDUCE
        let p = [0x63] + Array("torch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2e]
        XCTAssertThrowsError(try load(p)) { XCTAssertTrue("\($0)".contains("not callable"), "\($0)") }
    }

    func testPersistentIdMustBeAPlainStorageKey() {
        // ('storage', torch.FloatStorage, '../x', 'cpu', 1) BINPERSID
        let p: [UInt8] = [0x28, 0x8c, 7] + Array("storage".utf8) + [0x63] + Array("torch\nFloatStorage\n".utf8)
            + [0x8c, 4] + Array("../x".utf8) + [0x8c, 3] + Array("cpu".utf8) + [0x4b, 1, 0x74, 0x51, 0x2e]
        XCTAssertThrowsError(try load(p)) { XCTAssertTrue("\($0)".contains("plain name"), "\($0)") }
    }
}
