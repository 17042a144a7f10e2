/// Why a PNG could not be read or written. One line each, naming the file.
public enum PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    case notPNG(path: String)
    case corrupt(path: String, reason: String)
    case unsupported(path: String, feature: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notPNG(path): return "\(path): not a PNG file (bad signature)"
        case let .corrupt(path, reason): return "\(path): corrupt PNG: \(reason)"
        case let .unsupported(path, feature):
            return "\(path): unsupported PNG variant: \(feature) (tvtool reads every colour type and bit depth, non-interlaced)"
        case let .cannotWrite(path, reason): return "\(path): cannot write PNG: \(reason)"
        }
    }
}
