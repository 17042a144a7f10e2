import Foundation

/// Shared by every test target (each re-exports this module from its TestPaths.swift).
/// Locations used by the tests: the repository's fixtures/ folder and a fresh scratch directory.
public enum TestPaths {
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let fixtures: URL = repoRoot.appendingPathComponent("fixtures")

    public static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }

    /// A new empty temporary directory, removed by the caller or left to the OS.
    public static func scratchDirectory(_ label: String = "tvtool-test") -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// python3 with the given modules importable, or nil (tests that need it then skip, saying so).
    public static func python(with modules: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import " + modules.joined(separator: ", ")]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? "python3" : nil
    }
}
