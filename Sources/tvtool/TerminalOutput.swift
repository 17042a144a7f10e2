import TVStorage

/// Every `print` in the CLI goes through here (it shadows Swift.print in this module): text
/// output quotes tensor names, metadata, paths and evaluator output taken from files, so control
/// characters are escaped (line breaks kept) before they reach the terminal. JSON output is
/// unaffected: JSONEncoder/JSONSerialization already escape control characters.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(Console.printable(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}

/// The same, for types that define a `print` of their own (where a bare `print` would recurse).
func printLine(_ text: String) {
    Swift.print(Console.printable(text))
}
