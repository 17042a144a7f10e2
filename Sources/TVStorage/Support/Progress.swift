import Foundation

/// A progress line on stderr for long work ("12/340 tensors, 1.2/3.4 GB, 2.1 GB/s, ETA 3s").
/// Silent unless enabled and stderr is a terminal; redraws at most ~10 times a second. Thread-safe.
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let totalUnits: Int
    public let totalBytes: Int
    public let unitName: String
    private let enabled: Bool
    private let lock = NSLock()
    private var units = 0
    private var bytes = 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var extra = ""

    /// `enabled: false` (from `--quiet`) or a non-terminal stderr makes every call a no-op.
    public init(label: String, totalUnits: Int, unitName: String = "items", totalBytes: Int = 0, enabled: Bool = true) {
        self.label = label
        self.totalUnits = totalUnits
        self.totalBytes = totalBytes
        self.unitName = unitName
        self.enabled = enabled && Console.stderrIsTerminal
    }

    /// Records `units` more finished items covering `bytes` bytes; `status` replaces the free-text tail
    /// (e.g. "loss 0.041").
    public func advance(units u: Int = 1, bytes b: Int = 0, status: String? = nil) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        units += u
        bytes += b
        if let status { extra = status }
        let now = Date()
        if now.timeIntervalSince(lastDraw) < 0.1 && units < totalUnits { return }
        lastDraw = now
        // The label and status may quote names from files: escaped like every other line.
        Console.errorRaw("\r\u{1B}[K" + Console.oneLine(line(now: now)))
    }

    /// Clears the progress line.
    public func finish() {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        Console.errorRaw("\r\u{1B}[K")
    }

    private func line(now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        var parts = ["\(label): \(units)/\(totalUnits) \(unitName)"]
        if totalBytes > 0 {
            parts.append("\(ByteFormat.human(bytes))/\(ByteFormat.human(totalBytes))")
            parts.append("\(ByteFormat.human(Int(Double(bytes) / elapsed)))/s")
        } else {
            parts.append(String(format: "%.1f %@/s", Double(units) / elapsed, unitName))
        }
        let fraction = totalBytes > 0 ? Double(bytes) / Double(totalBytes) : Double(units) / Double(max(totalUnits, 1))
        if fraction > 0 && fraction < 1 {
            parts.append("ETA " + ByteFormat.duration(elapsed * (1 - fraction) / fraction))
        }
        if !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: ", ")
    }
}

/// Human-readable sizes and durations for tables and progress lines.
public enum ByteFormat {
    public static func human(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.2f %@", v, units[i])
    }

    public static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds) }
        if seconds < 3600 { return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%dh%02dm", Int(seconds) / 3600, (Int(seconds) % 3600) / 60)
    }
}
