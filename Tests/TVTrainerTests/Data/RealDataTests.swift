import XCTest
import TVImage
@testable import TVStorage
@testable import TVTrainer

/// CIFAR-10 batches, PNG folders of every colour type, resizing and flips, against files the
/// fixture script wrote (fixtures/trainer/make.py) and, for resizing, Pillow's output.
final class RealDataTests: XCTestCase {
    let cifar = TestPaths.fixture("trainer/cifar10")

    /// expected.npy (uint8 [6, 3, 32, 32]) scaled to [-1, 1].
    func expectedCIFAR() throws -> [Float] {
        let a = try NumpyArray.read(cifar + "/expected.npy")
        XCTAssertEqual(a.shape, [6, 3, 32, 32])
        return a.values.map { Float($0) / 255 * 2 - 1 }
    }

    func testCIFARPythonBatchesBinaryBatchesAndPython3ResavesAgree() throws {
        let expected = try expectedCIFAR()
        for form in ["py", "py3", "bin"] {
            let d = try DatasetLoader.load("cifar10:" + cifar + "/" + form)
            XCTAssertEqual([d.count, d.channels, d.height, d.width], [6, 3, 32, 32], form)
            XCTAssertEqual(d.values, expected, form)
            XCTAssertTrue(d.source.contains(form == "bin" ? "binary" : "python"), d.source)
        }
    }

    func testCIFARPickleNamingAnythingButNumpyIsRefused() {
        XCTAssertThrowsError(try DatasetLoader.load("cifar10:" + cifar + "/evil")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("os.system") && m.contains("evil/data_batch_1") && !m.contains("\n"), m)
        }
    }

    func testNumpyArraysStayForbiddenInTorchCheckpoints() throws {
        // The allowance is per unpickler: the torch reader still refuses numpy's _reconstruct.
        XCTAssertNil(AllowedGlobal.resolve(module: "numpy", name: "frombuffer"))
        var u = Unpickler(UnsafeRawBufferPointer(start: nil, count: 0), path: "m.pt")
        XCTAssertThrowsError(try u.resolveGlobal("numpy.core.multiarray", "_reconstruct"))
        u.allowsNumpyArrays = true
        XCTAssertNoThrow(try u.resolveGlobal("numpy.core.multiarray", "_reconstruct"))
    }

    func testCIFARBadInputsNameTheFile() throws {
        let dir = TestPaths.scratchDirectory()
        XCTAssertThrowsError(try DatasetLoader.load("cifar10:" + dir.path)) { XCTAssertTrue("\($0)".contains("data_batch_1"), "\($0)") }
        try Data(repeating: 1, count: 3073 + 5).write(to: dir.appendingPathComponent("data_batch_1.bin"))
        XCTAssertThrowsError(try DatasetLoader.load("cifar10:" + dir.path)) { XCTAssertTrue("\($0)".contains("3,073-byte"), "\($0)") }
        // Truncated pickle: one line, naming the file.
        let py = dir.appendingPathComponent("py")
        try FileManager.default.createDirectory(at: py, withIntermediateDirectories: true)
        let good = try Data(contentsOf: URL(fileURLWithPath: cifar + "/py/data_batch_1"))
        try good.prefix(200).write(to: py.appendingPathComponent("data_batch_1"))
        XCTAssertThrowsError(try DatasetLoader.load("cifar10:" + py.path)) { XCTAssertTrue("\($0)".contains("data_batch_1") && !"\($0)".contains("data.pkl"), "\($0)") }
    }

    func testImageSizeIsCheckedOrResized() throws {
        let spec = "cifar10:" + cifar + "/bin"
        XCTAssertNoThrow(try DatasetLoader.load(spec, options: DataOptions(imageSize: .init(height: 32, width: 32))))
        XCTAssertThrowsError(try DatasetLoader.load(spec, options: DataOptions(imageSize: .init(height: 16, width: 16)))) {
            XCTAssertTrue("\($0)".contains("--resize"), "\($0)")
        }
        let small = try DatasetLoader.load(spec, options: DataOptions(imageSize: .init(height: 16, width: 16), resize: true))
        XCTAssertEqual([small.count, small.channels, small.height, small.width], [6, 3, 16, 16])
        // Halving with the triangle filter: each output is a weighted mean of a 4×4 neighbourhood.
        XCTAssertTrue(small.values.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    struct ResizeCase: Decodable { let size, channels: Int; let pixels: [Int] }

    /// Pillow BILINEAR of the shorter side + centre crop (fixtures/trainer/make.py `write_resize`);
    /// Pillow rounds to 8 bits after each pass, so agreement is to about one level.
    func testResizeMatchesPillow() throws {
        let dir = TestPaths.fixture("trainer/png/resize")
        let cases = try JSONDecoder().decode([String: ResizeCase].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        XCTAssertEqual(cases.count, 3)
        for (name, e) in cases {
            let scratch = TestPaths.scratchDirectory()
            try FileManager.default.copyItem(atPath: dir + "/\(name).png", toPath: scratch.appendingPathComponent("\(name).png").path)
            let d = try DatasetLoader.load(scratch.path, options: DataOptions(imageSize: .init(height: e.size, width: e.size), resize: true))
            XCTAssertEqual([d.channels, d.height, d.width], [e.channels, e.size, e.size], name)
            for (a, b) in zip(d.values, e.pixels) {
                XCTAssertEqual(Double(a + 1) / 2 * 255, Double(b), accuracy: 1.01, name)
            }
        }
    }

    /// A folder mixing grey (1, 8, 16 bits), grey + alpha, palette and RGBA: RGB, grey replicated,
    /// alpha dropped, every depth at full precision.
    func testPNGFolderOfMixedColourTypes() throws {
        let src = TestPaths.fixture("trainer/png/types")
        let cases = try JSONDecoder().decode([String: PNGCodecCase].self, from: Data(contentsOf: URL(fileURLWithPath: src + "/expected.json")))
        let dir = TestPaths.scratchDirectory()
        let names = ["c0_d1", "c0_d16", "c3_d4", "c4_d8", "c6_d16"]
        for n in names { try FileManager.default.copyItem(atPath: src + "/\(n).png", toPath: dir.appendingPathComponent("\(n).png").path) }
        let d = try DatasetLoader.load(dir.path)
        XCTAssertEqual([d.count, d.channels, d.height, d.width], [5, 3, 6, 5])
        for (i, n) in names.sorted().enumerated() {
            let e = cases[n]!
            let img = Array(d.image(i))
            for p in 0..<30 {
                for k in 0..<3 {
                    let s = e.samples[p * e.channels + (e.channels >= 3 ? k : 0)]
                    XCTAssertEqual(img[k * 30 + p], Float(s) / Float(e.max) * 2 - 1, accuracy: 1e-6, "\(n) pixel \(p) channel \(k)")
                }
            }
        }
    }
    struct PNGCodecCase: Decodable { let channels: Int; let max: Int; let samples: [Int] }

    func testHorizontalFlipMirrorsAboutHalfTheImagesAndCostsNoDrawsWhenOff() {
        let c = ModelConfig(channels: 2, height: 2, width: 3, hiddenWidth: 4, blocks: 1, timeEmbedding: 4)
        let values = (0..<(10 * 12)).map { Float($0) / 120 }
        let data = ImageDataset(channels: 2, height: 2, width: 3, values: values, source: "t")
        var settings = TrainingSettings(batchSize: 64, seed: 1)
        let plain = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 0), settings: settings)
        settings.horizontalFlip = true
        let flipped = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 0), settings: settings)
        let a = plain.nextBatch(from: data), b = flipped.nextBatch(from: data)
        var mirrored = 0
        for i in 0..<64 {
            let row = Array(a[(i * 12)..<((i + 1) * 12)]), got = Array(b[(i * 12)..<((i + 1) * 12)])
            let mirror = stride(from: 0, to: 12, by: 3).flatMap { Array(row[$0..<($0 + 3)].reversed()) }
            XCTAssertTrue(got == row || got == mirror, "row \(i)")
            if got == mirror { mirrored += 1 }
        }
        XCTAssertTrue((16...48).contains(mirrored), "\(mirrored) of 64 mirrored")
        // Off: the generator has moved exactly as before the option (next draws equal).
        let reference = DiffusionTrainer(model: MLPDenoiser(config: c, seed: 0), settings: TrainingSettings(batchSize: 64, seed: 1))
        _ = reference.nextBatch(from: data)
        XCTAssertEqual(plain.rng.state, reference.rng.state)
        XCTAssertNotEqual(flipped.rng.state, reference.rng.state)
        XCTAssertFalse(String(decoding: try! JSONEncoder().encode(TrainingSettings()), as: UTF8.self).contains("horizontalFlip"))
    }
}
