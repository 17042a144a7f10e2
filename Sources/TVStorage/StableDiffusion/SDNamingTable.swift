/// The naming tables between Stable Diffusion 1.x/2.x single-file checkpoints (the LDM layout
/// A1111, ComfyUI and the original `scripts/txt2img.py` use) and diffusers' unet/vae/text_encoder
/// folders. Built from the same block arithmetic as diffusers' own
/// `convert_diffusers_to_original_stable_diffusion.py` / `single_file_utils.py`; documented in
/// docs/stable-diffusion.md. Every rule is a pair of name prefixes plus a table for the first
/// component(s) after it, so the same table maps both ways.
struct SDPrefixRule: Sendable {
    /// Prefix in the single-file checkpoint (after the component prefix), ending in ".".
    let sd: String
    /// Prefix in the diffusers component, ending in ".".
    let diffusers: String
    let parts: SDPartTable
}

/// What happens to the name after a rule's prefix.
enum SDPartTable: Sendable {
    /// Kept as it is (attention blocks: SpatialTransformer and Transformer2DModel share names).
    case same
    /// Renamed leading components (UNet/VAE resnets).
    case renamed([(sd: String, diffusers: String)])
    /// VAE mid-block attention: renamed, and q/k/v/proj_out weights are 1×1 convs ([C,C,1,1]) in
    /// the single file and linear ([C,C]) in diffusers.
    case vaeAttention
    /// OpenCLIP residual block (SD 2.x text encoder): renamed, and the fused `attn.in_proj_*`
    /// ([3C,C] / [3C]) is diffusers' separate q/k/v projections.
    case openCLIPBlock
}

/// One of the three models of an SD checkpoint.
enum SDComponent: String, Sendable, CaseIterable {
    case unet, vae, textEncoder = "text_encoder"
}

enum SDNamingTable {
    static let unetPrefix = "model.diffusion_model."
    static let vaePrefix = "first_stage_model."
    /// SD 1.x: transformers' CLIPTextModel, names kept (`text_model.…`).
    static let clipPrefix = "cond_stage_model.transformer."
    /// SD 2.x: OpenCLIP ViT-H text tower.
    static let openCLIPPrefix = "cond_stage_model.model."

    static let resnetParts: [(sd: String, diffusers: String)] = [
        ("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("out_layers.0.", "norm2."),
        ("out_layers.3.", "conv2."), ("emb_layers.1.", "time_emb_proj."), ("skip_connection.", "conv_shortcut."),
    ]

    static let vaeResnetParts: [(sd: String, diffusers: String)] = [("nin_shortcut.", "conv_shortcut.")]

    static let vaeAttentionParts: [(sd: String, diffusers: String)] = [
        ("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."), ("proj_out.", "to_out.0."),
    ]

    static let openCLIPParts: [(sd: String, diffusers: String)] = [
        ("ln_1.", "layer_norm1."), ("ln_2.", "layer_norm2."), ("mlp.c_fc.", "mlp.fc1."), ("mlp.c_proj.", "mlp.fc2."),
        ("attn.out_proj.", "self_attn.out_proj."),
    ]

    /// SD 1.x/2.x UNet: 4 levels, 2 resnets per down level (attention on the first 3), 3 per up
    /// level (attention on the last 3), downsamplers on the first 3 down levels, upsamplers on the
    /// first 3 up levels.
    static let unet: [SDPrefixRule] = {
        var r: [SDPrefixRule] = [
            .init(sd: "time_embed.0.", diffusers: "time_embedding.linear_1.", parts: .same),
            .init(sd: "time_embed.2.", diffusers: "time_embedding.linear_2.", parts: .same),
            .init(sd: "input_blocks.0.0.", diffusers: "conv_in.", parts: .same),
            .init(sd: "out.0.", diffusers: "conv_norm_out.", parts: .same),
            .init(sd: "out.2.", diffusers: "conv_out.", parts: .same),
            .init(sd: "middle_block.0.", diffusers: "mid_block.resnets.0.", parts: .renamed(resnetParts)),
            .init(sd: "middle_block.1.", diffusers: "mid_block.attentions.0.", parts: .same),
            .init(sd: "middle_block.2.", diffusers: "mid_block.resnets.1.", parts: .renamed(resnetParts)),
        ]
        for i in 0..<4 {
            for j in 0..<2 {
                r.append(.init(sd: "input_blocks.\(3 * i + j + 1).0.", diffusers: "down_blocks.\(i).resnets.\(j).", parts: .renamed(resnetParts)))
                if i < 3 { r.append(.init(sd: "input_blocks.\(3 * i + j + 1).1.", diffusers: "down_blocks.\(i).attentions.\(j).", parts: .same)) }
            }
            for j in 0..<3 {
                r.append(.init(sd: "output_blocks.\(3 * i + j).0.", diffusers: "up_blocks.\(i).resnets.\(j).", parts: .renamed(resnetParts)))
                if i > 0 { r.append(.init(sd: "output_blocks.\(3 * i + j).1.", diffusers: "up_blocks.\(i).attentions.\(j).", parts: .same)) }
            }
            if i < 3 {
                r.append(.init(sd: "input_blocks.\(3 * (i + 1)).0.op.", diffusers: "down_blocks.\(i).downsamplers.0.conv.", parts: .same))
                r.append(.init(sd: "output_blocks.\(3 * i + 2).\(i == 0 ? 1 : 2).", diffusers: "up_blocks.\(i).upsamplers.0.", parts: .same))
            }
        }
        return r
    }()

    /// SD's AutoencoderKL: 4 levels; the decoder's up levels are numbered in reverse by diffusers.
    static let vae: [SDPrefixRule] = {
        var r: [SDPrefixRule] = [
            .init(sd: "encoder.norm_out.", diffusers: "encoder.conv_norm_out.", parts: .same),
            .init(sd: "decoder.norm_out.", diffusers: "decoder.conv_norm_out.", parts: .same),
        ]
        for coder in ["encoder", "decoder"] {
            for k in 0..<2 {
                r.append(.init(sd: "\(coder).mid.block_\(k + 1).", diffusers: "\(coder).mid_block.resnets.\(k).", parts: .renamed(vaeResnetParts)))
            }
            r.append(.init(sd: "\(coder).mid.attn_1.", diffusers: "\(coder).mid_block.attentions.0.", parts: .vaeAttention))
        }
        for i in 0..<4 {
            for j in 0..<2 {
                r.append(.init(sd: "encoder.down.\(i).block.\(j).", diffusers: "encoder.down_blocks.\(i).resnets.\(j).", parts: .renamed(vaeResnetParts)))
            }
            for j in 0..<3 {
                r.append(.init(sd: "decoder.up.\(3 - i).block.\(j).", diffusers: "decoder.up_blocks.\(i).resnets.\(j).", parts: .renamed(vaeResnetParts)))
            }
            if i < 3 {
                r.append(.init(sd: "encoder.down.\(i).downsample.", diffusers: "encoder.down_blocks.\(i).downsamplers.0.", parts: .same))
                r.append(.init(sd: "decoder.up.\(3 - i).upsample.", diffusers: "decoder.up_blocks.\(i).upsamplers.0.", parts: .same))
            }
        }
        return r
    }()

    /// OpenCLIP text tower → transformers CLIPTextModel. `text_projection` and `logit_scale` (not
    /// in CLIPTextModel) keep their names, so a conversion back is lossless; diffusers' own
    /// converter drops them (and the last block, which SD 2.x does not use: it is kept here too).
    static func openCLIP(layers: Int) -> [SDPrefixRule] {
        var r: [SDPrefixRule] = [
            .init(sd: "positional_embedding.", diffusers: "text_model.embeddings.position_embedding.weight.", parts: .same),
            .init(sd: "token_embedding.", diffusers: "text_model.embeddings.token_embedding.", parts: .same),
            .init(sd: "ln_final.", diffusers: "text_model.final_layer_norm.", parts: .same),
        ]
        for n in 0..<layers {
            r.append(.init(sd: "transformer.resblocks.\(n).", diffusers: "text_model.encoder.layers.\(n).", parts: .openCLIPBlock))
        }
        return r
    }
}
