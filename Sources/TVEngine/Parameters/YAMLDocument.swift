import TVStorage
import Yams

/// Reads the one YAML (or JSON) document of a recipe or rules file with bounds: the file must be
/// a regular file of at most `maxBytes`, and the document, with every alias expanded, at most
/// `maxNodes` nodes. YAML aliases share one parsed node, but turning the document into Swift
/// values copies each use: a few hundred bytes of nested aliases would otherwise expand to
/// billions of values ("billion laughs").
enum YAMLDocument {
    static let maxBytes = 16 << 20
    static let maxNodes = 1_000_000
    static let maxDepth = 256

    /// The document as Swift values (nil for an empty document).
    static func load(_ path: String, what: String) throws -> Any? {
        let text: String
        do { text = try RegularFile.readText(path, limit: maxBytes) } catch {
            throw EngineError.unreadableFile(path: path, reason: "cannot read \(what): \(reasonOnly(error))")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String) throws -> Any? {
        // libyaml composes recursively: bound flow nesting before it can exhaust the stack.
        var depth = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { depth += 1 } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") { depth -= 1 }
            if depth > maxDepth { throw EngineError.unreadableFile(path: source, reason: "the document nests more than \(maxDepth) levels deep") }
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw EngineError.unreadableFile(path: source, reason: "not valid YAML/JSON: \(Console.oneLine("\(error)"))")
        }
        guard let node else { return nil }
        var budget = maxNodes
        guard fits(node, budget: &budget) else {
            throw EngineError.unreadableFile(path: source, reason: "the document expands to more than \(maxNodes) values (nested aliases?)")
        }
        guard !complexKey(in: node) else {
            throw EngineError.unreadableFile(path: source, reason: "mapping keys must be plain strings (and nesting at most 512 levels deep)")
        }
        return node.any
    }

    /// Counts nodes, aliases expanded, stopping as soon as the budget is spent.
    private static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias: return true
        case .sequence(let s):
            for child in s where !fits(child, budget: &budget) { return false }
            return true
        case .mapping(let m):
            for (k, v) in m where !fits(k, budget: &budget) || !fits(v, budget: &budget) { return false }
            return true
        }
    }

    /// Yams force-unwraps mapping keys as strings when building Swift values: a sequence or
    /// mapping used as a key (`? [a]: b`) would crash it (found by fuzzing). Checked first.
    private static func complexKey(in node: Node, depth: Int = 0) -> Bool {
        guard depth < 512 else { return true }  // deeper than any recipe: refused as well
        switch node {
        case .scalar, .alias: return false
        case .sequence(let s): return s.contains { complexKey(in: $0, depth: depth + 1) }
        case .mapping(let m):
            return m.contains { k, v in
                if case .scalar = k {} else { return true }
                return complexKey(in: v, depth: depth + 1)
            }
        }
    }

    private static func reasonOnly(_ error: StorageError) -> String {
        if case let .cannotOpen(_, reason) = error { return reason }
        return "\(error)"
    }
}
