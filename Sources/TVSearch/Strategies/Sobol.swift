/// The Sobol low-discrepancy sequence in [0, 1)^d, unscrambled, in Gray-code order (the order of
/// scipy.stats.qmc.Sobol(scramble=False): the first point is the origin), with Joe and Kuo's
/// direction numbers (new-joe-kuo-6.21201) for the first 21 dimensions.
public struct Sobol: Sendable {
    public static let maxDimensions = 21
    static let bits = 32

    /// (degree s, coefficients a, initial m_1…m_s) of dimensions 2…21 (dimension 1 is van der Corput).
    static let joeKuo: [(s: Int, a: UInt32, m: [UInt32])] = [
        (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]), (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]), (5, 13, [1, 1, 1, 3, 11]), (5, 14, [1, 3, 5, 5, 31]), (6, 1, [1, 3, 3, 9, 7, 49]),
        (6, 13, [1, 1, 1, 15, 21, 21]), (6, 16, [1, 3, 1, 13, 27, 49]), (6, 19, [1, 1, 1, 15, 7, 5]),
        (6, 22, [1, 3, 1, 15, 13, 25]), (6, 25, [1, 1, 5, 5, 19, 61]), (7, 1, [1, 3, 7, 11, 23, 15, 103]),
        (7, 4, [1, 3, 7, 13, 13, 15, 69]),
    ]

    public let dimensions: Int
    /// directions[j][k] = v_{k+1} of dimension j, scaled to 32 bits.
    private let directions: [[UInt32]]

    public init(dimensions: Int) throws(SearchError) {
        guard dimensions >= 1 && dimensions <= Self.maxDimensions else {
            throw .invalid("Sobol sequences are available for 1 to \(Self.maxDimensions) dimensions, not \(dimensions)")
        }
        self.dimensions = dimensions
        var dirs: [[UInt32]] = [(1...Self.bits).map { UInt32(1) << UInt32(Self.bits - $0) }]
        for j in 1..<dimensions {
            let (s, a, m) = Self.joeKuo[j - 1]
            var v = [UInt32](repeating: 0, count: Self.bits)
            for k in 0..<min(s, Self.bits) { v[k] = m[k] << UInt32(Self.bits - 1 - k) }
            if s < Self.bits {
                for k in s..<Self.bits {
                    var x = v[k - s] ^ (v[k - s] >> UInt32(s))
                    for i in 1..<s where (a >> UInt32(s - 1 - i)) & 1 == 1 { x ^= v[k - i] }
                    v[k] = x
                }
            }
            dirs.append(v)
        }
        directions = dirs
    }

    /// Point `n` (0-based) of the sequence.
    public func point(_ n: Int) -> [Double] {
        let gray = UInt64(n) ^ (UInt64(n) >> 1)
        return directions.map { v in
            var x: UInt32 = 0
            var g = gray, k = 0
            while g != 0 && k < Self.bits {
                if g & 1 == 1 { x ^= v[k] }
                g >>= 1; k += 1
            }
            return Double(x) / 4_294_967_296.0
        }
    }
}
