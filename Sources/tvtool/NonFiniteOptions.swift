import ArgumentParser

/// ArgumentParser accepts "nan" and "inf" for Double options. No tvtool option means anything
/// with them (and some would only fail deep inside, e.g. when the recipe is JSON-encoded), so
/// every parsed command is checked once, before it runs: a non-finite number is a usage error
/// (exit 1) naming the option. Options given as text (weight lists) are checked where parsed.
enum NonFiniteOptions {
    static func check(_ command: ParsableCommand) throws {
        try walk(command, label: nil, depth: 0)
    }

    private static func walk(_ value: Any, label: String?, depth: Int) throws {
        guard depth < 6 else { return }
        switch value {
        case let d as Double where !d.isFinite: throw ValidationError("\(optionName(label)) must be a finite number, got \(d)")
        case let f as Float where !f.isFinite: throw ValidationError("\(optionName(label)) must be a finite number, got \(f)")
        default: break
        }
        for child in Mirror(reflecting: value).children {
            // Keep the outermost property name (the option); wrappers' own fields are unnamed for us.
            let name = depth == 0 || label == nil ? child.label : label
            let isGroup = child.value is ParsableArguments
            try walk(child.value, label: isGroup ? nil : name, depth: isGroup ? 0 : depth + 1)
        }
    }

    /// `_learningRate` → `--learning-rate`.
    private static func optionName(_ label: String?) -> String {
        guard var s = label else { return "an option" }
        if s.hasPrefix("_") { s.removeFirst() }
        var out = "--"
        for c in s {
            if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
