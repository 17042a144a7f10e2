import Foundation

/// diffusers before 0.14 saved the attention blocks of UNet2DModel (AttnDownBlock2D, AttnUpBlock2D,
/// UNetMidBlock2D: `….attentions.N.`) with the projections named query/key/value/proj_attn; today
/// they are to_q/to_k/to_v/to_out.0. diffusers renames them when it loads such a folder
/// (`ModelMixin._fix_state_dict_keys_on_load`, only inside those attention blocks, shapes
/// unchanged), and tvtool does the same when it opens a UNet2DModel folder, so an old DDPM
/// checkpoint is merged, diffed and landscaped next to finetunes saved with the new names.
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

    /// True when `folder`'s config.json describes a UNet2DModel (its `_class_name`, or, without
    /// one, UNet2DModel's block-type keys and no cross-attention).
    static func isUNet2DModelFolder(_ folder: String) -> Bool {
        let url = URL(fileURLWithPath: folder).appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        if let cls = json["_class_name"] as? String { return cls == "UNet2DModel" }
        return json["down_block_types"] != nil && json["cross_attention_dim"] == nil
    }

    /// `reader` (the weights of the diffusers model folder `folder`) with old attention names
    /// renamed, when the folder is a UNet2DModel's and any tensor has one; else `reader` itself.
    /// Old and new names for the same tensor in one file are an error naming it.
    public static func view(of reader: any CheckpointReader, folder: String) throws -> any CheckpointReader {
        guard reader.tensors.contains(where: { modernName($0.name) != nil }), isUNet2DModelFolder(folder) else { return reader }
        let entries = reader.tensors.map { t in
            RemappedEntry(info: TensorInfo(name: modernName(t.name) ?? t.name, dtype: t.dtype, shape: t.shape), source: .whole(t.name))
        }
        return try RemappedReader(reader, entries: entries, notes: [])
    }
}
