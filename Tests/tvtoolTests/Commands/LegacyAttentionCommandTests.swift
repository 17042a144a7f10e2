import Foundation
import TestSupport
import TVStorage
import XCTest

/// A DDPM folder saved by diffusers < 0.14 (attention query/key/value/proj_attn) is the base of
/// merge / diff / landscape next to tvtool finetunes (to_q/to_k/to_v/to_out.0).
final class LegacyAttentionCommandTests: XCTestCase {
    func run(_ args: [String], in dir: URL) throws -> TVToolBinary.Result { try UNetCommandsTests.run(args, in: dir) }

    /// The inverse of diffusers' rename: today's attention names back to the pre-0.14 ones.
    static func oldName(_ name: String) -> String {
        var parts = name.split(separator: ".").map(String.init)
        guard let i = parts.firstIndex(of: "attentions"), i + 2 < parts.count, Int(parts[i + 1]) != nil else { return name }
        let old = ["to_q": "query", "to_k": "key", "to_v": "value", "to_out": "proj_attn"]
        guard let o = old[parts[i + 2]] else { return name }
        if parts[i + 2] == "to_out" { parts.remove(at: i + 3) }  // to_out.0
        parts[i + 2] = o
        return parts.joined(separator: ".")
    }

    func testOldNamedBaseMergesWithNewNamedFinetunesLikeNumpy() throws {
        guard let python = TestPaths.python(with: ["numpy", "safetensors"]) else { throw XCTSkip("python3 with numpy and safetensors is needed for this oracle") }
        let dir = TestPaths.scratchDirectory("legacy-attn-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try UNetCommandsTests.writeData(dir)
        try UNetCommandsTests.baseAndTwoFinetunes(dir, data: data)
        var r: TVToolBinary.Result
        // The old folder: the base's weights under pre-0.14 names, no tvtool metadata, diffusers' config.json.
        let old = dir.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("base/config.json"), to: old.appendingPathComponent("config.json"))
        let base = try SafetensorsReader(path: dir.appendingPathComponent("base/diffusion_pytorch_model.safetensors").path)
        let renamed = try base.tensors.map { (Self.oldName($0.name), try base.tensor(named: $0.name)) }
        XCTAssertTrue(renamed.contains { $0.0.hasSuffix("attentions.0.proj_attn.weight") } && renamed.contains { $0.0.hasSuffix("attentions.0.query.bias") })
        try Checkpoints.save(renamed, to: old.appendingPathComponent("diffusion_pytorch_model.safetensors").path, metadata: ["format": "pt"])

        r = try run(["merge", "@old", "@a.safetensors", "@b.safetensors", "--weights", "0.3,0.6", "-o", "@m/", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let check = try TestPaths.runPython(python, script: """
            import sys, numpy as np
            from safetensors.numpy import load_file
            old, a, b, m = (load_file(p) for p in sys.argv[1:5])
            ren = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}
            def modern(k):  # diffusers' ModelMixin._fix_state_dict_keys_on_load, inside attention blocks
                p = k.split(".")
                if len(p) >= 4 and p[-1] in ("weight", "bias") and p[-2] in ren and p[-3].isdigit() and p[-4] == "attentions":
                    return ".".join(p[:-2] + [ren[p[-2]], p[-1]])
                return k
            base = {modern(k): v.astype(np.float64) for k, v in old.items()}
            assert set(base) == set(a) == set(m), sorted(set(base) ^ set(m))[:4]
            err = max(float(np.abs(base[k] + 0.3 * (a[k] - base[k]) + 0.6 * (b[k] - base[k]) - m[k]).max()) for k in base)
            assert err < 1e-5, err
            try:
                import torch, diffusers
            except ImportError:
                print("ok"); sys.exit(0)
            # diffusers loads the old folder under the same names and values.
            sd = diffusers.UNet2DModel.from_pretrained(sys.argv[5]).state_dict()
            assert set(sd) == set(base), sorted(set(sd) ^ set(base))[:4]
            assert all(np.array_equal(sd[k].numpy().astype(np.float64), base[k]) for k in base)
            print("ok")
            """, arguments: ["old/diffusion_pytorch_model.safetensors", "a.safetensors", "b.safetensors", "m/diffusion_pytorch_model.safetensors", "old"].map { dir.path + "/" + $0 })
        XCTAssertEqual(check.stdoutText, "ok\n", check.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m/config.json").path))
        r = try run(["eval", "@m", "--data", data, "--fd-samples", "0", "--json"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["diff", "@old", "@a.safetensors", "-o", "@tau.safetensors", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try run(["landscape", "@old", "@a.safetensors", "@b.safetensors", "--grid", "0,1", "--grid", "0", "--data", data,
                     "--quiet", "--json", "-o", "@land"], in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
