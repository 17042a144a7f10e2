import Foundation

/// Parses sizes given on the command line: "5GB", "500MB", "1.5GiB", "4096" (bytes).
/// Decimal units are powers of 1000 (as transformers' max_shard_size), binary ones (KiB…) of 1024.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("TIB", 1_099_511_627_776),
                                         ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1)]
        var number = Substring(s)
        var scale = 1.0
        for (u, f) in units where s.hasSuffix(u) {
            number = s.dropLast(u.count)
            scale = f
            break
        }
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0 else { return nil }
        let bytes = v * scale
        guard bytes >= 1, bytes < 9e18 else { return nil }
        return Int(bytes)
    }
}
