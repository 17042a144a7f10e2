import Foundation
import XCTest
import TVStorage
@testable import tvtool

/// `search --per-block` through the CLI on the SD fixtures of fixtures/blocks (BASE + every MBW
/// block): axis names in the records and best.json, an --eval-cmd objective whose optimum is known,
/// and the best checkpoint against `merge --block-weights` with the equivalent 26-value lists.
final class PerBlockSearchCommandTests: XCTestCase {
    func fixture(_ name: String) -> String { TestPaths.fixture("blocks/" + name) }

    func testPerBlockSearchFindsTheKnownOptimumAndWritesTheMatchingMBWMerge() throws {
        let dir = TestPaths.scratchDirectory("search-per-block")
        // Minimised at w1_IN = 0.25, w2_OUT = 0.75; the other axes do not matter: they stay at the
        // grid's centre, the start (coord moves only to strictly better points, its first line
        // search included).
        let eval = "awk -v a=$TVTOOL_AXIS_W1_IN -v b=$TVTOOL_AXIS_W2_OUT 'BEGIN { print (a - 0.25)^2 + (b - 0.75)^2 }'"
        let out = dir.appendingPathComponent("s").path
        let r = try TVToolBinary.run(["search", fixture("single_base.safetensors"), fixture("single_a.safetensors"), fixture("single_b.safetensors"),
                                      "--per-block", "--grid", "0:1:5", "--eval-cmd", eval, "-o", out, "--json", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        struct Best: Decodable { let axis_names: [String]; let best_weights: [Double]; let best_value: Double }
        let best = try JSONDecoder().decode(Best.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/best.json")))
        XCTAssertEqual(best.axis_names, ["w1_BASE", "w1_IN", "w1_MID", "w1_OUT", "w2_BASE", "w2_IN", "w2_MID", "w2_OUT"])
        XCTAssertEqual(best.best_weights, [0.5, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.75])
        XCTAssertEqual(best.best_value, 0)
        let header = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")[0]
        XCTAssertTrue(header.contains(best.axis_names.joined(separator: ",")), String(header))

        // The same weights as supermerger block lists (BASE, IN00–IN11, M00, OUT00–OUT11).
        func list(_ base: Double, _ i: Double, _ m: Double, _ o: Double) -> String {
            ([base] + Array(repeating: i, count: 12) + [m] + Array(repeating: o, count: 12)).map { "\($0)" }.joined(separator: ",")
        }
        let mbw = dir.appendingPathComponent("mbw.safetensors").path
        var merge = try TVTool.parseAsRoot(["merge", fixture("single_base.safetensors"), fixture("single_a.safetensors"), fixture("single_b.safetensors"),
                                            "--block-weights", list(0.5, 0.25, 0.5, 0.5), "--block-weights", list(0.5, 0.5, 0.5, 0.75),
                                            "-o", mbw, "--quiet"])
        try merge.run()
        let got = try Checkpoints.open(out + "/best.safetensors"), want = try Checkpoints.open(mbw)
        XCTAssertEqual(got.tensors.map(\.name).sorted(), want.tensors.map(\.name).sorted())
        for t in want.tensors {
            XCTAssertEqual(try got.tensor(named: t.name).floats().map(\.bitPattern), try want.tensor(named: t.name).floats().map(\.bitPattern), t.name)
        }
    }

    func testPerBlockUsageMistakes() throws {
        let inputs = [fixture("single_base.safetensors"), fixture("single_a.safetensors"), fixture("single_b.safetensors")]
        let out = TestPaths.scratchDirectory("search-per-block-bad").path
        for (args, message) in [(["--block-groups", "mbw"], "--block-groups applies to --per-block"),
                                (["--per-block", "--start", "0.5,0.5,0.5"], "--start has 3 values"),
                                (["--per-block", "--block-groups", "mlp"], "not tvtool's trainer MLP"),
                                (["--per-block", "--block-groups", "unet"], "is not a diffusers UNet")] {
            let r = try TVToolBinary.run(["search"] + inputs + args + ["--eval-cmd", "echo 1", "-o", out, "--dry-run"])
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { !$0.isEmpty }.count, 1, "one line: \(r.stderr)")
        }
        // mbw: 26 axes per model; the dry run states the cost without evaluating anything.
        let r = try TVToolBinary.run(["search"] + inputs + ["--per-block", "--block-groups", "mbw", "--start", "0.3,0.7",
                                                            "--eval-cmd", "echo 1", "-o", out, "--dry-run", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((obj["grid_shape"] as? [Int])?.count, 52)
    }
}
