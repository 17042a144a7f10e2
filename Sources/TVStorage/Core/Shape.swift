/// Shape arithmetic that cannot trap on hostile input.
public enum Shape {
    /// Product of the dimensions, or nil on a negative dimension or overflow.
    /// An empty shape (rank-0 scalar) has one element.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { return nil }
            n = p
        }
        return n
    }

    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
