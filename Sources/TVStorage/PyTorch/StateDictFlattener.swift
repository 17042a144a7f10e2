/// Turns the unpickled top-level object into a flat list of named tensors, as a state dict:
/// picks the wrapped dict (`nestedKey`, or `state_dict` / `model` when present), joins nested
/// dicts of tensors with '.', and skips everything else with a note. Repeated names are errors.
/// A pickled whole nn.Module (an inert record, see `PickleObject`) anywhere on that path gives
/// the tensors its `state_dict()` would (see `walkModule`).
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
        var start = root
        switch root {
        case let .dict(top):
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
        case let .object(o) where moduleState(o) != nil:
            guard nestedKey == nil else { throw .nestedKeyNotFound(path: path, key: nestedKey ?? "") }
        default:
            throw .unexpectedStructure(path: path, what: "the top-level object is a \(describe(root)), not a dict or an nn.Module")
        }
        switch start {
        case let .dict(d): try walk(d, prefix: "", depth: 0)
        case let .object(o):
            notes.append("a pickled \(arena.objects[o].className) module: read as its state_dict()")
            try walkModule(o, prefix: "", depth: 0)
        default: break
        }
        if !skipped.isEmpty { notes.append("skipped non-tensor entries: " + summarize(skipped)) }
    }

    /// The tensors `module.state_dict()` holds, in its order: own parameters, then persistent
    /// buffers (not in `_non_persistent_buffers_set`), then each child's under `name.`; `None`
    /// entries are skipped as torch skips them. A tied parameter appears under each of its names.
    private mutating func walkModule(_ object: Int, prefix: String, depth: Int) throws(PyTorchError) {
        guard depth < Self.maxDepth else { throw .limitExceeded(path: path, what: "modules nested deeper than \(Self.maxDepth)") }
        guard let state = moduleState(object) else {
            throw .unexpectedStructure(path: path, what: "module '\(prefix)' (\(arena.objects[object].className)) has no _parameters/_modules")
        }
        let className = arena.objects[object].className
        let nonPersistent = Set(members(of: entry("_non_persistent_buffers_set", in: state)).compactMap(keyName))
        for field in ["_parameters", "_buffers"] {
            for (key, value) in try items(of: entry(field, in: state), what: "\(className).\(field)") {
                try countVisit()
                guard let k = keyName(key), !(field == "_buffers" && nonPersistent.contains(k)) else { continue }
                let name = prefix + k
                switch value {
                case .none: continue
                case let .tensor(t):
                    guard names.insert(name).inserted else { throw .duplicateTensorName(path: path, tensor: name) }
                    entries.append((name, t))
                default:
                    throw .unexpectedStructure(path: path, what: "\(field == "_buffers" ? "buffer" : "parameter") '\(name)' of \(className) is a \(describe(value)), not a tensor")
                }
            }
        }
        for (key, value) in try items(of: entry("_modules", in: state), what: "\(className)._modules") {
            try countVisit()
            guard let k = keyName(key) else { continue }
            switch value {
            case .none: continue
            case let .object(child): try walkModule(child, prefix: prefix + k + ".", depth: depth + 1)
            default: throw .unexpectedStructure(path: path, what: "submodule '\(prefix + k)' of \(className) is a \(describe(value))")
            }
        }
    }

    /// The `__dict__` an nn.Module was rebuilt with (BUILD's state, or its first half when the
    /// state is `(dict, slots)`), when it has the fields every module has.
    private func moduleState(_ object: Int) -> Int? {
        var state = arena.objects[object].state
        if case let .tuple(t) = state, arena.tuples[t].count == 2 { state = arena.tuples[t][0] }
        guard case let .dict(d) = state, entry("_parameters", in: d) != nil || entry("_modules", in: d) != nil else { return nil }
        return d
    }

    private func entry(_ key: String, in dict: Int) -> PickleValue? {
        arena.dicts[dict].last(where: { if case .string(key) = $0.key { return true } else { return false } })?.value
    }

    /// Key/value pairs of a dict, or of a dict subclass recorded as an inert object.
    private func items(of value: PickleValue?, what: String) throws(PyTorchError) -> [(key: PickleValue, value: PickleValue)] {
        switch value {
        case nil, .none?: return []
        case let .dict(d)?: return arena.dicts[d]
        case let .object(o)?: return arena.objects[o].dictItems
        case let v?: throw .unexpectedStructure(path: path, what: "\(what) is a \(describe(v)), not a dict")
        }
    }

    private func members(of value: PickleValue?) -> [PickleValue] {
        switch value {
        case let .list(l)?: return arena.lists[l]
        case let .tuple(t)?: return arena.tuples[t]
        default: return []
        }
    }

    private mutating func countVisit() throws(PyTorchError) {
        visits += 1
        guard visits <= maxVisits else { throw .limitExceeded(path: path, what: "more than \(maxVisits) dict entries visited") }
    }

    private func describe(_ value: PickleValue) -> String {
        if case let .object(o) = value { return "\(arena.objects[o].className) object" }
        return value.kind
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
            case let .object(o) where moduleState(o) != nil:
                try walkModule(o, prefix: name + ".", depth: depth + 1)
            case let .dict(d):
                // A nested dict without tensors is reported once, not leaf by leaf.
                let before = (entries.count, skipped.count)
                try walk(d, prefix: name, depth: depth + 1)
                if entries.count == before.0 {
                    skipped.removeSubrange(before.1...)
                    skipped.append("\(name) (dict)")
                }
            default:
                skipped.append("\(name) (\(describe(value)))")
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

    /// The dict (or pickled module) under `key`.
    private func lookup(_ key: String, in dict: Int) -> PickleValue? {
        for (k, v) in arena.dicts[dict] {
            guard case let .string(s) = k, s == key else { continue }
            if case .dict = v { return v }
            if case let .object(o) = v, moduleState(o) != nil { return v }
        }
        return nil
    }

    /// `a.b` descends through nested dicts when no key is literally `a.b`.
    private func lookupDotted(_ key: String, in dict: Int) -> PickleValue? {
        var current = PickleValue.dict(dict)
        for (depth, part) in key.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            guard depth < Self.maxDepth, case let .dict(d) = current, let next = lookup(String(part), in: d) else { return nil }
            current = next
        }
        return current
    }

    private func summarize(_ items: [String]) -> String {
        let shown = items.prefix(8).joined(separator: ", ")
        return items.count > 8 ? "\(shown) and \(items.count - 8) more" : shown
    }
}
