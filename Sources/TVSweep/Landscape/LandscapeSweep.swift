import Foundation
import TVStorage
import TVImage

/// Landscapes from Swift: the operations behind `tvtool landscape`, for scripts and other tools.
///
///     let prepared = try LandscapeSweep.prepare(base: "base.safetensors", a: "ft_a.safetensors",
///                                               b: "ft_b.safetensors", plane: .init(basis: .orthonormal))
///     let grid = try GridSpec.parse(["-0.2:1.2:29"], dimensions: 2)
///     let evaluator = ExternalCommandEvaluator(command: "python fid.py {checkpoint}", candidates: prepared.family,
///                                              axisNames: prepared.plane.axisNames, timeout: 3600)
///     let manifest = LandscapeSweep.manifest(plane: prepared.plane, grid: grid, inputs: […],
///                                            evaluator: evaluator.summary, valueName: "fid")
///     let outcome = try SweepSession.run(manifest: manifest, evaluator: evaluator, directory: "land",
///                                        options: SweepRunOptions(jobs: 2))
///     try LandscapeSweep.writeOutputs(manifest: manifest, records: outcome.records, directory: "land")
public enum LandscapeSweep {
    /// Opens the checkpoints and resolves the plane.
    public static func prepare(base: String, a: String, b: String, plane options: LandscapePlaneOptions,
                               open: OpenOptions = OpenOptions()) throws -> (family: LinearFamily, plane: LandscapePlane) {
        let rb = try Checkpoints.open(base, options: open)
        let ra = try Checkpoints.open(a, options: open)
        let rB = try Checkpoints.open(b, options: open)
        return try prepare(base: rb, a: ra, b: rB, plane: options)
    }

    public static func prepare(base: any CheckpointReader, a: any CheckpointReader, b: any CheckpointReader,
                               plane options: LandscapePlaneOptions) throws -> (family: LinearFamily, plane: LandscapePlane) {
        try LinearFamily.checkCompatible(base: base, models: [a, b])
        let (plane, random) = try LandscapePlaneBuilder.build(base: base, a: a, b: b, options: options)
        let family = try LinearFamily(base: base, models: [a, b], random: random, mapping: plane.mapping)
        return (family, plane)
    }

    /// The manifest of a landscape sweep (everything that determines its values).
    public static func manifest(plane: LandscapePlane, grid: GridSpec, inputs: [String], evaluator: String,
                                valueName: String, goal: SweepGoal = .minimize) -> SweepManifest {
        var settings = plane.settings
        settings["markers"] = LandscapeSettings.encode(markers: plane.markers)
        settings["x_axis"] = plane.axisDescriptions[0]
        if plane.axisDescriptions.count > 1 { settings["y_axis"] = plane.axisDescriptions[1] }
        settings["value_name"] = valueName
        return SweepManifest(kind: "landscape", axisNames: plane.axisNames, grid: grid, goal: goal, inputs: inputs,
                             evaluator: evaluator, settings: settings)
    }

    /// Output files of a landscape folder.
    public struct Outputs: Sendable, Codable {
        public var surface: String
        public var csv: String
        public var plot: String
        /// The ParaView/VTK structured grid (surface.vts).
        public var vts: String
    }

    /// Writes surface.h5, surface.vts, surface.csv and landscape.png (each atomically) into `directory`.
    @discardableResult
    public static func writeOutputs(manifest: SweepManifest, records: RecordSet, directory: String,
                                    scale: LandscapePlot.Scale = .linear) throws -> Outputs {
        let dir = URL(fileURLWithPath: directory)
        let out = Outputs(surface: dir.appendingPathComponent("surface.h5").path,
                          csv: dir.appendingPathComponent("surface.csv").path,
                          plot: dir.appendingPathComponent("landscape.png").path,
                          vts: dir.appendingPathComponent("surface.vts").path)
        let surface = LandscapeSurface.from(manifest: manifest, records: records)
        try SurfaceFile.write(surface, to: out.surface)
        try StructuredGridFile.write(surface, to: out.vts)
        let grid = manifest.grid.points().compactMap { records.byID[$0.id] }
        try AtomicFile.write(RecordsCSV.render(grid, axisNames: manifest.axisNames), to: out.csv)
        let canvas = surface.isLine ? LinePlot.render(surface, scale: scale) : LandscapePlot.render(surface, scale: scale)
        try AtomicFile.write(Data(PlotImage.png(canvas)), to: out.plot)
        return out
    }
}
