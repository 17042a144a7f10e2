import Foundation
import TVStorage

/// Writes a landscape as a VTK XML structured grid (`.vts`) for ParaView/VisIt: the grid points
/// (x_i, y_j, z) with the surface height z = the score, as loss-landscape's h52vtp.py does with
/// its PolyData, but as a StructuredGrid so the topology is implicit. Point data: `score` (the
/// value), `failed` (1 where the evaluation failed or is missing) and `vtkGhostType` (2 =
/// HIDDENPOINT there), so viewers hide points that have no value instead of drawing a made-up
/// height; such points carry the lowest finite score as a placeholder height and value. The score's
/// name is field data `score_label` of the grid itself (VTK reads field data there, not in a Piece).
/// Point order is VTK's: x fastest, then y (index i + j * nx).
public enum StructuredGridFile {
    public static func render(_ s: LandscapeSurface) -> String {
        let nx = s.xs.count, ny = s.ys.count
        let placeholder = s.finiteValues.min() ?? 0
        var points = "", scores = "", failed = "", ghost = ""
        points.reserveCapacity(nx * ny * 60)
        for j in 0..<ny {
            for i in 0..<nx {
                let v = s.values[i][j]
                let ok = v.isFinite && !s.isFailed(i, j)
                let z = ok ? v : placeholder
                points += "\(number(s.xs[i])) \(number(s.ys[j])) \(number(z))\n"
                scores += number(z) + "\n"
                failed += ok ? "0 " : "1 "
                ghost += ok ? "0 " : "2 "
            }
        }
        let extent = "0 \(nx - 1) 0 \(ny - 1) 0 0"
        let name = xmlEscape(s.scoreLabel)
        return """
            <?xml version="1.0"?>
            <!-- tvtool landscape: \(xmlEscape(s.valueName)); x = \(xmlEscape(s.axisDescriptions.first ?? "")); y = \(xmlEscape(s.axisDescriptions.last ?? "")); z = the score -->
            <VTKFile type="StructuredGrid" version="1.0" byte_order="LittleEndian">
              <StructuredGrid WholeExtent="\(extent)">
                <FieldData>
                  <Array type="String" Name="score_label" NumberOfTuples="1" format="ascii">\(asciiCodes(name))</Array>
                </FieldData>
                <Piece Extent="\(extent)">
                  <PointData Scalars="score">
                    <DataArray type="Float64" Name="score" NumberOfComponents="1" format="ascii">
            \(scores)        </DataArray>
                    <DataArray type="UInt8" Name="failed" NumberOfComponents="1" format="ascii">
            \(failed)
                    </DataArray>
                    <DataArray type="UInt8" Name="vtkGhostType" NumberOfComponents="1" format="ascii">
            \(ghost)
                    </DataArray>
                  </PointData>
                  <Points>
                    <DataArray type="Float64" Name="Points" NumberOfComponents="3" format="ascii">
            \(points)        </DataArray>
                  </Points>
                </Piece>
              </StructuredGrid>
            </VTKFile>

            """
    }

    /// Writes the file atomically (temporary file, then rename).
    public static func write(_ s: LandscapeSurface, to path: String) throws {
        try AtomicFile.write(Data(render(s).utf8), to: path)
    }

    /// Shortest text that reads back as the same Float64.
    static func number(_ v: Double) -> String { "\(v)" }

    /// VTK stores an ascii String array as its bytes in decimal, NUL-terminated.
    static func asciiCodes(_ s: String) -> String { (Array(s.utf8) + [0]).map(String.init).joined(separator: " ") }

    static func xmlEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "--", with: "- -")
    }
}
