import Foundation

/// Runs the built `tvtool` executable (next to the test bundle in the build products directory)
/// and captures its exit status, stdout and stderr.
enum TVToolBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Linux: the test runner executable sits in the products directory itself; macOS: inside a
    /// `.xctest` bundle there.
    static var url: URL {
        let dirs = (Bundle.allBundles + [Bundle.main]).flatMap { [$0.bundleURL, $0.bundleURL.deletingLastPathComponent()] }
        let candidates = dirs.map { $0.appendingPathComponent("tvtool") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    static func run(_ arguments: [String]) throws -> Result {
        let p = Process()
        p.executableURL = url
        p.arguments = arguments
        // stderr goes to a file so a chatty process cannot block on a full pipe we are not reading.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("tvtool-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
