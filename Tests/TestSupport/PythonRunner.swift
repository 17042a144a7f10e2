import Foundation

/// Runs `python -c script args…` for cross-checks against numpy/h5py/safetensors, capturing
/// stdout and stderr separately (stderr is drained on another thread so neither pipe can fill up
/// and stall the child).
public struct PythonRun {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stdout then stderr, for assertion messages and "prints exactly ok" checks.
    public var combinedText: String { stdoutText + stderr }
}

extension TestPaths {
    public static func runPython(_ python: String, script: String, arguments: [String] = []) throws -> PythonRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let errBox = ErrBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return PythonRun(status: p.terminationStatus, stdout: data, stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

private final class ErrBox: @unchecked Sendable { var data = Data() }
