import Foundation
import XCTest
@testable import TVStorage

/// The ZIP reader on archives written by Python's zipfile and on hand-built ZIP64 layouts.
final class ZipArchiveTests: XCTestCase {
    private var dir: URL!

    override func setUp() { dir = TestPaths.scratchDirectory("zip") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func archive(_ bytes: [UInt8]) throws -> ZipArchive {
        let url = dir.appendingPathComponent("a.zip")
        try Data(bytes).write(to: url)
        return try ZipArchive(file: MappedFile(path: url.path))
    }

    func testTorchArchiveEntriesAreStoredAndChecksummed() throws {
        let zip = try ZipArchive(file: MappedFile(path: PyTorchFixtures.path("views.pt")))
        XCTAssertTrue(zip.entries.contains { $0.name.hasSuffix("/data.pkl") })
        for e in zip.entries {
            XCTAssertTrue(e.isStored)
            XCTAssertNoThrow(try zip.verifyChecksum(of: e), e.name)
        }
    }

    func testZip64SizesAndOffsetsFromTheExtraField() throws {
        let zip = try archive(ZipBuilder.build([("root/data.pkl", Array("hello".utf8))], zip64Central: true, comment: "c"))
        let e = try XCTUnwrap(zip.entry(named: "root/data.pkl"))
        XCTAssertEqual(e.compressedSize, 5)
        XCTAssertEqual(Array(try zip.storedBytes(of: e)), Array("hello".utf8))
        XCTAssertNoThrow(try zip.verifyChecksum(of: e))
    }

    func testZip64MarkersWithoutTheExtraFieldAreRejected() throws {
        let bytes = ZipBuilder.build([("x", [1, 2, 3])], zip64Central: true, omitZip64Extra: true)
        XCTAssertThrowsError(try archive(bytes)) {
            guard case .malformed? = $0 as? ZipError else { return XCTFail("\($0)") }
        }
    }

    func testDuplicateEntriesAndNameMismatchesAreRejected() throws {
        XCTAssertThrowsError(try archive(ZipBuilder.build([("x", [1]), ("x", [2])]))) {
            XCTAssertEqual($0 as? ZipError, .duplicateEntry(path: self.dir.appendingPathComponent("a.zip").path, entry: "x"))
        }
        XCTAssertThrowsError(try archive(ZipBuilder.build([("x", [1])], localName: "y"))) {
            guard case .localHeaderMismatch? = $0 as? ZipError else { return XCTFail("\($0)") }
        }
    }

    func testEmptyAndTinyFilesAreNotZips() throws {
        for bytes: [UInt8] in [[], [0x50, 0x4b], Array(repeating: 0, count: 100)] {
            XCTAssertThrowsError(try archive(bytes)) { XCTAssertNotNil($0 as? ZipError) }
        }
    }
}

/// Builds small stored ZIP archives byte by byte (for layouts Python's zipfile will not write).
enum ZipBuilder {
    static func build(_ files: [(String, [UInt8])], zip64Central: Bool = false, omitZip64Extra: Bool = false,
                      localName: String? = nil, comment: String = "") -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in files {
            let offset = out.count
            let crc = data.withUnsafeBytes { CRC32.checksum($0) }
            let local = Array((localName ?? name).utf8)
            out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            out += le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(UInt16(local.count)) + le16(0) + local + data
            let n = Array(name.utf8)
            let extra = zip64Central && !omitZip64Extra
                ? le16(1) + le16(24) + le64(UInt64(data.count)) + le64(UInt64(data.count)) + le64(UInt64(offset)) : []
            let size32 = zip64Central ? 0xffff_ffff : UInt32(data.count)
            central += le32(0x0201_4b50) + le16(45) + le16(45) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
            central += le32(size32) + le32(size32) + le16(UInt16(n.count)) + le16(UInt16(extra.count)) + le16(0)
            central += le16(0) + le16(0) + le32(0) + le32(zip64Central ? 0xffff_ffff : UInt32(offset)) + n + extra
        }
        let cdOffset = out.count
        out += central
        let zip64End = out.count
        out += le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
        out += le64(UInt64(files.count)) + le64(UInt64(files.count)) + le64(UInt64(central.count)) + le64(UInt64(cdOffset))
        out += le32(0x0706_4b50) + le32(0) + le64(UInt64(zip64End)) + le32(1)
        let c = Array(comment.utf8)
        out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(0xffff) + le16(0xffff) + le32(0xffff_ffff) + le32(0xffff_ffff)
        out += le16(UInt16(c.count)) + c
        return out
    }

    private static func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    private static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
    private static func le64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
}
