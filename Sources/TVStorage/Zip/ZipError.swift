/// Ways a ZIP archive (the container of PyTorch ≥ 1.6 checkpoints) can be wrong. Each message names
/// the file and, where there is one, the entry.
public enum ZipError: BadInputError, Equatable {
    case notAZip(path: String)
    case truncated(path: String, what: String)
    case malformed(path: String, what: String)
    case entryOutsideFile(path: String, entry: String)
    case localHeaderMismatch(path: String, entry: String, reason: String)
    case unsupportedCompression(path: String, entry: String, method: UInt16)
    case encrypted(path: String, entry: String)
    case duplicateEntry(path: String, entry: String)
    case checksumMismatch(path: String, entry: String, expected: UInt32, actual: UInt32)
    case entryNotFound(path: String, entry: String)

    /// One line whatever the file holds: names quoted from it have control characters escaped.
    public var description: String { Console.oneLine(message) }

    private var message: String {
        switch self {
        case let .notAZip(path):
            return "\(path): not a ZIP archive (no end-of-central-directory record)"
        case let .truncated(path, what):
            return "\(path): truncated ZIP archive: \(what)"
        case let .malformed(path, what):
            return "\(path): malformed ZIP archive: \(what)"
        case let .entryOutsideFile(path, entry):
            return "\(path): ZIP entry '\(entry)' points outside the file (truncated or corrupt archive)"
        case let .localHeaderMismatch(path, entry, reason):
            return "\(path): ZIP entry '\(entry)': local header disagrees with the central directory (\(reason))"
        case let .unsupportedCompression(path, entry, method):
            return "\(path): ZIP entry '\(entry)' uses compression method \(method); only stored and deflated entries are supported (torch.save writes stored ones: re-save the checkpoint with torch.save)"
        case let .encrypted(path, entry):
            return "\(path): ZIP entry '\(entry)' is encrypted"
        case let .duplicateEntry(path, entry):
            return "\(path): ZIP archive has two entries named '\(entry)'"
        case let .checksumMismatch(path, entry, expected, actual):
            return "\(path): ZIP entry '\(entry)' is corrupt: CRC-32 is \(hex(actual)), the directory says \(hex(expected))"
        case let .entryNotFound(path, entry):
            return "\(path): ZIP archive has no entry '\(entry)'"
        }
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
