import Foundation
import XCTest

/// Runs the built tvtool binary for the sweep command tests, and writes tiny safetensors inputs.
enum SweepCLI {
    /// The tvtool executable next to the test bundle (.build/<config>/tvtool).
    static var binary: String {
        // On Linux the bundle URL is the build folder itself; on macOS it is the .xctest bundle in it.
        let url = Bundle(for: BundleMarker.self).bundleURL
        let candidates = [url.appendingPathComponent("tvtool"), url.deletingLastPathComponent().appendingPathComponent("tvtool")]
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]).path
    }
    private final class BundleMarker {}

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs tvtool to completion.
    @discardableResult
    static func run(_ args: [String], in dir: URL) throws -> Result {
        let p = try start(args, in: dir)
        let out = p.1.fileHandleForReading.readDataToEndOfFile()
        let err = p.2.fileHandleForReading.readDataToEndOfFile()
        p.0.waitUntilExit()
        return Result(status: p.0.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }

    /// Starts tvtool without waiting (stdout and stderr go to pipes the caller may drain).
    static func start(_ args: [String], in dir: URL) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    /// A minimal F32 safetensors file (header padded to 8 bytes, tensors in the given order).
    static func writeSafetensors(_ path: String, _ tensors: [(String, [Float], [Int])]) throws {
        var entries: [String] = []
        var offset = 0
        var data = Data()
        for (name, values, shape) in tensors {
            let bytes = values.count * 4
            entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            offset += bytes
        }
        var header = "{" + entries.joined(separator: ",") + "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var file = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { file.append(contentsOf: $0) }
        file.append(Data(header.utf8))
        file.append(data)
        try file.write(to: URL(fileURLWithPath: path))
    }

    /// base, a, b with one weight and one bias.
    static func trio(in dir: URL) throws -> [String] {
        let w0: [Float] = (0..<6).map { Float($0) * 0.1 }
        let models: [(String, [Float], [Float])] = [
            ("base.safetensors", w0, [0, 0]),
            ("a.safetensors", w0.map { $0 + 0.3 }, [0.5, 0]),
            ("b.safetensors", w0.map { $0 - 0.2 }, [0, 0.5]),
        ]
        for (name, w, b) in models {
            try writeSafetensors(dir.appendingPathComponent(name).path, [("w", w, [2, 3]), ("b", b, [2])])
        }
        return models.map(\.0)
    }

    /// Point ids of the point lines of a records file, checking that every line parses.
    static func recordIDs(_ path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"), "records end mid-line")
        var ids: [String] = []
        for (k, line) in text.split(separator: "\n").enumerated() {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if k == 0 { XCTAssertEqual(obj["type"] as? String, "sweep") } else {
                XCTAssertEqual(obj["type"] as? String, "point")
                ids.append(obj["id"] as! String)
            }
        }
        return ids
    }
}
