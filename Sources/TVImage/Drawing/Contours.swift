/// Contour lines of a sampled 2-d field by marching squares with linear interpolation along cell
/// edges. Cells with a non-finite corner are skipped (a gap, not a guess).
public enum Contours {
    /// A segment in grid-index coordinates (i along the first axis, j along the second).
    public struct Segment: Sendable, Equatable {
        public var i0: Double, j0: Double, i1: Double, j1: Double
    }

    /// Segments of the level set {f = level} for `values[i][j]`.
    public static func segments(_ values: [[Double]], level: Double) -> [Segment] {
        let ni = values.count
        guard ni >= 2, let nj = values.first?.count, nj >= 2 else { return [] }
        var out: [Segment] = []
        for i in 0..<(ni - 1) {
            for j in 0..<(nj - 1) {
                // Corners anticlockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1).
                let c = [(Double(i), Double(j), values[i][j]), (Double(i + 1), Double(j), values[i + 1][j]),
                         (Double(i + 1), Double(j + 1), values[i + 1][j + 1]), (Double(i), Double(j + 1), values[i][j + 1])]
                guard c.allSatisfy({ $0.2.isFinite }) else { continue }
                var crossings: [(Double, Double)] = []
                for e in 0..<4 {
                    let a = c[e], b = c[(e + 1) % 4]
                    let above0 = a.2 >= level, above1 = b.2 >= level
                    guard above0 != above1 else { continue }
                    let t = (level - a.2) / (b.2 - a.2)
                    crossings.append((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
                }
                if crossings.count == 2 {
                    out.append(Segment(i0: crossings[0].0, j0: crossings[0].1, i1: crossings[1].0, j1: crossings[1].1))
                } else if crossings.count == 4 {
                    // Saddle: the cell-centre average decides which diagonal corners connect; the corners
                    // on the other diagonal are cut off, each by its own segment.
                    let centre = (c[0].2 + c[1].2 + c[2].2 + c[3].2) / 4
                    let pairs = (centre >= level) == (c[0].2 >= level) ? [(0, 1), (2, 3)] : [(0, 3), (1, 2)]
                    for (p, q) in pairs {
                        out.append(Segment(i0: crossings[p].0, j0: crossings[p].1, i1: crossings[q].0, j1: crossings[q].1))
                    }
                }
            }
        }
        return out
    }
}
