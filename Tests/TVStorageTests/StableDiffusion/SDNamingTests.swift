import Foundation
import XCTest
@testable import TVStorage

/// SD 1.5 / 2.1 single-file checkpoints with the full key set (fixtures/stable_diffusion/make.py):
/// tvtool's diffusers view must equal what diffusers' own single-file loader code produced at
/// fixture time (names, dtypes, shapes, CRC-32 of the bytes), and the way back must give the
/// original file's tensors bit for bit.
final class SDNamingTests: XCTestCase {
    struct Expected: Decodable { let dtype: String; let shape: [Int]; let crc32: UInt32 }

    private func fixture(_ name: String) -> String { TestPaths.fixture("stable_diffusion/" + name) }

    private func expected(_ name: String) throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: URL(fileURLWithPath: fixture(name))))
    }

    private func crc(_ t: Tensor) -> UInt32 { t.withUnsafeBytes { CRC32.checksum($0) } }

    private func assertMatchesDiffusers(_ file: String, extras: (String) -> Bool, file line: UInt = #line) throws {
        let single = try Checkpoints.open(fixture(file + ".safetensors"))
        XCTAssertTrue(SDNaming.isSingleFile(single.tensors.map(\.name)))
        let view = try RemappedReader.diffusersView(of: single)
        let want = try expected(file + "_diffusers_expected.json")
        let names = Set(view.tensors.map(\.name))
        for (name, e) in want {
            guard names.contains(name) else { XCTFail("\(file): diffusers has \(name), tvtool's view does not", line: line); continue }
            let t = try view.tensor(named: name)
            XCTAssertEqual(t.shape, e.shape, "\(file): \(name) shape", line: line)
            XCTAssertEqual(crc(t), e.crc32, "\(file): \(name) bytes", line: line)
        }
        let extra = names.subtracting(want.keys)
        XCTAssertTrue(extra.allSatisfy(extras), "\(file): unexpected extra names \(extra.sorted().prefix(5))", line: line)
        XCTAssertTrue(view.notes.contains { $0.contains("12 tensor(s) outside") }, "\(view.notes)", line: line)
    }

    /// Notes never carry the file's path (whoever prints them names the file, once), as every
    /// other reader's notes: the diffusers and single-file views and the harmonized SD 2.x file.
    func testNotesArePathFree() throws {
        let sd15 = try Checkpoints.open(fixture("sd15.safetensors")), sd21 = try Checkpoints.open(fixture("sd21.safetensors"))
        let pipeline = try RemappedReader.diffusersView(of: sd15)
        let withExtra = try RemappedReader.excluding(["unet.conv_in.bias"], of: pipeline)
        let single = try RemappedReader.singleFileView(of: try RemappedReader(withExtra, entries: withExtra.tensors.map {
            RemappedEntry(info: $0, source: .whole($0.name))
        } + [RemappedEntry(info: TensorInfo(name: "extra", dtype: .f32, shape: [1]), source: .whole("unet.conv_in.weight"))], notes: []))
        let harmonized = try ModelNaming.harmonize([pipeline, sd21])[1]
        for (what, notes) in [("diffusers view", pipeline.notes), ("single-file view", single.notes), ("harmonized", harmonized.notes)] {
            XCTAssertFalse(notes.isEmpty, what)
            for note in notes {
                XCTAssertFalse(note.contains(fixture("")), "\(what): \(note)")
                XCTAssertFalse(note.hasPrefix("/"), "\(what): \(note)")
            }
        }
        XCTAssertTrue(harmonized.notes.contains { $0.contains(" OpenCLIP tensor(s) diffusers") }, "\(harmonized.notes)")
    }

    func testSD15MatchesDiffusersConversion() throws {
        try assertMatchesDiffusers("sd15") { $0 == "text_encoder.text_model.embeddings.position_ids" }
    }

    func testSD21MatchesDiffusersConversionIncludingTheQKVSplit() throws {
        // Kept beyond diffusers' CLIPTextModel so the way back is lossless: the 24th block SD 2.x
        // does not use, the projection and logit scale.
        try assertMatchesDiffusers("sd21") {
            $0.hasPrefix("text_encoder.text_model.encoder.layers.23.") || $0 == "text_encoder.text_projection" || $0 == "text_encoder.logit_scale"
        }
    }

    func testRoundTripGivesTheOriginalTensors() throws {
        for file in ["sd15", "sd21"] {
            let single = try Checkpoints.open(fixture(file + ".safetensors"))
            let back = try RemappedReader.singleFileView(of: try RemappedReader.diffusersView(of: single))
            let models = single.tensors.filter { $0.name.contains(".") && !$0.name.hasPrefix("model_ema") }
            XCTAssertEqual(Set(back.tensors.map(\.name)), Set(models.map(\.name)), file)
            for info in models {
                let a = try single.tensor(named: info.name), b = try back.tensor(named: info.name)
                XCTAssertEqual(b.shape, a.shape, info.name)
                XCTAssertEqual(b.dtype, a.dtype, info.name)
                XCTAssertEqual(crc(b), crc(a), info.name)
            }
        }
    }

    func testVersionIsDetectedFromTheUNetProjection() throws {
        for (file, version) in [("sd15", SDNaming.Version.v1), ("sd21", .v2)] {
            let view = try RemappedReader.diffusersView(of: try Checkpoints.open(fixture(file + ".safetensors")))
            XCTAssertEqual(SDNaming.detectVersion(Dictionary(view.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })), version)
            // proj_in keeps its layout: 1x1 conv in SD1, linear in SD2 (in both namings).
            XCTAssertEqual(view.info(named: "unet.down_blocks.0.attentions.0.proj_in.weight")?.shape.count, version == .v1 ? 4 : 2)
        }
    }

    func testNamingTableIsABijectionOnTheFullKeySet() throws {
        let single = try Checkpoints.open(fixture("sd15.safetensors"))
        for info in single.tensors where info.name.hasPrefix(SDNamingTable.unetPrefix) {
            let rest = String(info.name.dropFirst(SDNamingTable.unetPrefix.count))
            let (d, _) = SDNaming.map(rest, SDNamingTable.unet, toDiffusers: true)
            XCTAssertNotEqual(d, rest, "\(rest) matched no rule")
            XCTAssertEqual(SDNaming.map(d, SDNamingTable.unet, toDiffusers: false).0, rest)
        }
    }
}
