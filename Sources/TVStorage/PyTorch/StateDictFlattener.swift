/// Turns the unpickled top-level object into a flat list of named tensors, as a state dict:
/// picks the wrapped dict (`nestedKey`, or `state_dict` / `model` when present), joins nested
/// dicts of tensors with '.', and skips everything else with a note. Repeated names are errors.
struct StateDictFlattener {
    let path: String
    let arena: PickleArena
    /// Bounds the walk (a pickle can reference one dict from many places): a real state dict
    /// needs at most one visit per couple of pickle bytes.
    let maxVisits: Int
    static let maxDepth = 64

    private(set) var entries: [(name: String, tensor: Int)] = []
    private(set) var notes: [String] = []
    private var names: Set<String> = []
    private var skipped: [String] = []
    private var visits = 0

    init(path: String, arena: PickleArena, maxVisits: Int) {
        self.path = path
        self.arena = arena
        self.maxVisits = maxVisits
    }

    mutating func flatten(_ root: PickleValue, nestedKey: String?) throws(PyTorchError) {
        guard case let .dict(top) = root else {
            throw .unexpectedStructure(path: path, what: "the top-level object is a \(root.kind), not a dict")
        }
        var start = top
        if let key = nestedKey {
            guard let d = lookup(key, in: top) ?? lookupDotted(key, in: top) else { throw .nestedKeyNotFound(path: path, key: key) }
            start = d
            notes.append("using the tensors under '\(key)'")
        } else {
            for wrapper in ["state_dict", "model"] {
                guard let d = lookup(wrapper, in: top) else { continue }
                start = d
                let others = arena.dicts[top].compactMap { keyName($0.key) }.filter { $0 != wrapper }
                notes.append("using the tensors under '\(wrapper)'" + (others.isEmpty ? "" : "; skipped the other top-level entries: " + summarize(others)))
                break
            }
        }
        try walk(start, prefix: "", depth: 0)
        if !skipped.isEmpty { notes.append("skipped non-tensor entries: " + summarize(skipped)) }
    }

    private mutating func walk(_ dict: Int, prefix: String, depth: Int) throws(PyTorchError) {
        guard depth < Self.maxDepth else { throw .limitExceeded(path: path, what: "dicts nested deeper than \(Self.maxDepth)") }
        for (key, value) in arena.dicts[dict] {
            visits += 1
            guard visits <= maxVisits else { throw .limitExceeded(path: path, what: "more than \(maxVisits) dict entries visited") }
            guard let k = keyName(key) else {
                skipped.append("\(prefix.isEmpty ? "" : prefix + ".")<\(key.kind) key>")
                continue
            }
            let name = prefix.isEmpty ? k : prefix + "." + k
            switch value {
            case let .tensor(t):
                guard names.insert(name).inserted else { throw .duplicateTensorName(path: path, tensor: name) }
                entries.append((name, t))
            case let .dict(d):
                // A nested dict without tensors is reported once, not leaf by leaf.
                let before = (entries.count, skipped.count)
                try walk(d, prefix: name, depth: depth + 1)
                if entries.count == before.0 {
                    skipped.removeSubrange(before.1...)
                    skipped.append("\(name) (dict)")
                }
            default:
                skipped.append("\(name) (\(value.kind))")
            }
        }
    }

    /// Keys of state dicts are strings; integer keys (optimizer states) are named in decimal.
    private func keyName(_ key: PickleValue) -> String? {
        switch key {
        case let .string(s): return s
        case let .int(i): return String(i)
        default: return nil
        }
    }

    private func lookup(_ key: String, in dict: Int) -> Int? {
        for (k, v) in arena.dicts[dict] {
            if case let .string(s) = k, s == key, case let .dict(d) = v { return d }
        }
        return nil
    }

    /// `a.b` descends through nested dicts when no key is literally `a.b`.
    private func lookupDotted(_ key: String, in dict: Int) -> Int? {
        var current = dict
        for (depth, part) in key.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            guard depth < Self.maxDepth, let next = lookup(String(part), in: current) else { return nil }
            current = next
        }
        return current
    }

    private func summarize(_ items: [String]) -> String {
        let shown = items.prefix(8).joined(separator: ", ")
        return items.count > 8 ? "\(shown) and \(items.count - 8) more" : shown
    }
}
