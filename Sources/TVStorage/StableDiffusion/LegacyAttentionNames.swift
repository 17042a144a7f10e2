import Foundation

/// diffusers before 0.14 saved its deprecated attention blocks (UNet2DModel's AttnDownBlock2D,
/// AttnUpBlock2D, UNetMidBlock2D; AutoencoderKL's encoder and decoder mid blocks:
/// `….attentions.N.`) with the projections named query/key/value/proj_attn; today they are
/// to_q/to_k/to_v/to_out.0. diffusers renames them when it loads such a folder
/// (`ModelMixin._fix_state_dict_keys_on_load`, only inside those attention blocks, shapes
/// unchanged: the old projections were linear too), and tvtool does the same when it opens a
/// UNet2DModel or AutoencoderKL folder (alone or a pipeline's unet/ and vae/), so an old DDPM
/// checkpoint or VAE is merged, diffed and converted next to
/// ones saved with the new names, and a converted SD single file gets the VAE's `attn_1.q` names.
public enum LegacyAttentionNames {
    static let renames: [String: String] = ["query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"]

    /// `….attentions.N.query.weight` → `….attentions.N.to_q.weight` (and key, value, proj_attn;
    /// weight or bias); nil for any other name.
    public static func modernName(_ name: String) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        let n = parts.count
        guard n >= 4, parts[n - 1] == "weight" || parts[n - 1] == "bias", let new = renames[String(parts[n - 2])],
              Int(parts[n - 3]) != nil, parts[n - 4] == "attentions" else { return nil }
        return (parts[..<(n - 2)] + [Substring(new), parts[n - 1]]).joined(separator: ".")
    }

    /// The model classes whose saved weights may hold deprecated attention blocks.
    static let classesWithDeprecatedBlocks: Set<String> = ["UNet2DModel", "AutoencoderKL"]

    /// True when `folder`'s config.json describes a model with deprecated attention blocks (its
    /// `_class_name`, or, without one, a UNet2DModel's or a VAE's block-type keys and no
    /// cross-attention).
    static func hasDeprecatedBlocks(_ folder: String) -> Bool {
        let url = URL(fileURLWithPath: folder).appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        if let cls = json["_class_name"] as? String { return classesWithDeprecatedBlocks.contains(cls) }
        return json["down_block_types"] != nil && json["cross_attention_dim"] == nil
    }

    /// `reader` (the weights of the diffusers model folder `folder`) with old attention names
    /// renamed, when the folder is a UNet2DModel's or AutoencoderKL's and any tensor has one;
    /// else `reader` itself.
    /// Old and new names for the same tensor in one file are an error naming it.
    public static func view(of reader: any CheckpointReader, folder: String) throws -> any CheckpointReader {
        guard reader.tensors.contains(where: { modernName($0.name) != nil }), hasDeprecatedBlocks(folder) else { return reader }
        let entries = reader.tensors.map { t in
            RemappedEntry(info: TensorInfo(name: modernName(t.name) ?? t.name, dtype: t.dtype, shape: t.shape), source: .whole(t.name))
        }
        return try RemappedReader(reader, entries: entries, notes: [])
    }
}
