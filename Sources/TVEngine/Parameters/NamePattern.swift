import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a rule selects tensors by name.
public enum NamePattern: Sendable, Equatable, CustomStringConvertible {
    /// Shell glob (fnmatch without FNM_PATHNAME: `*` also matches dots), e.g. `down_blocks.*`.
    case glob(String)
    /// Regular expression searched anywhere in the name (anchor with ^…$ for whole names).
    case regex(String)
    /// Plain substring (mergekit's `filter:`).
    case substring(String)
    /// An SD 1.x UNet block of supermerger's block-weighted merge (BASE, IN00…IN11, M00,
    /// OUT00…OUT11), in either naming (see SDBlocks).
    case block(String)

    public func matches(_ name: String) -> Bool {
        switch self {
        case .glob(let p): return fnmatch(p, name, 0) == 0
        case .substring(let s): return name.contains(s)
        case .block(let b): return SDBlocks.blockName(of: name) == b
        case .regex(let p):
            guard let re = try? NSRegularExpression(pattern: p) else { return false }
            return re.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
        }
    }

    /// Validates a regular expression up front (so a typo fails before any tensor is read).
    public func validate(source: String) throws {
        if case .regex(let p) = self {
            do { _ = try NSRegularExpression(pattern: p) } catch {
                throw EngineError.badParameter(source: source, reason: "invalid regular expression '\(p)'")
            }
        }
        if case .block(let b) = self, !SDBlocks.names.contains(b) {
            throw EngineError.badParameter(source: source, reason: "unknown block '\(b)' (blocks: BASE, IN00–IN11, M00, OUT00–OUT11)")
        }
    }

    public var description: String {
        switch self {
        case .glob(let p): return "glob:\(p)"
        case .regex(let p): return "regex:\(p)"
        case .substring(let s): return "substring:\(s)"
        case .block(let b): return "block:\(b)"
        }
    }
}
