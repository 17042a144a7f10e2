import Foundation

/// The diffusers configs of an SD 1.x/2.x pipeline written from a single file: what the weights'
/// shapes say (widths, levels, layers, attention placement, cross-attention width, linear or conv
/// projections, latent channels, CLIP sizes) is read from them, the way diffusers'
/// `create_unet_diffusers_config_from_ldm` / `create_vae_diffusers_config_from_ldm` read an LDM
/// yaml; what no shape carries (attention heads, GroupNorm groups, activation, sample size,
/// prediction type) takes SD's own values, those of the reference repos diffusers' single-file
/// loader picks (stable-diffusion-v1-5, stabilityai/stable-diffusion-2-1). docs/stable-diffusion.md.
public struct SDConfigs {
    public let version: SDNaming.Version
    public var unet: [String: Any] = [:]
    public var vae: [String: Any] = [:]
    public var textEncoder: [String: Any] = [:]
    /// Diffusers-view tensors a diffusers folder does not hold: OpenCLIP's last block (SD 2.x uses
    /// the penultimate layer; diffusers' text encoder has one layer less), text_projection, logit_scale.
    public var leftOut: [String] = []
    /// Values that are SD conventions rather than read from the weights, when they matter.
    public var notes: [String] = []

    public static let predictionTypes = ["epsilon", "v_prediction"]

    /// `tensors`: the diffusers (component-prefixed) view of a single file.
    public init(tensors: [TensorInfo], path: String) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func shape(_ n: String) throws -> [Int] {
            guard let s = byName[n]?.shape else {
                throw StorageError.invalidTensor(tensor: n, reason: "\(path): needed to infer the diffusers config, but the checkpoint lacks it")
            }
            // Every tensor read here is a linear, conv or embedding weight: two dimensions at least.
            guard s.count >= 2 else {
                throw StorageError.invalidTensor(tensor: n, reason: "\(path): shape \(s) has \(s.count) dimension(s), a weight needs 2 or more")
            }
            return s
        }
        let names = tensors.map(\.name)
        let linear = try shape(Self.firstMatch(names, prefix: "unet.", suffix: ".proj_in.weight", path: path)).count == 2
        let openCLIP = names.contains { $0 == "text_encoder.text_projection" || $0 == "text_encoder.logit_scale" }
        version = openCLIP || linear ? .v2 : .v1
        let v2 = version == .v2

        // UNet
        let levels = Self.count(names, prefix: "unet.down_blocks.")
        let widths = try (0..<levels).map { try shape("unet.down_blocks.\($0).resnets.0.conv1.weight")[0] }
        let crossDown = (0..<levels).map { i in names.contains { $0.hasPrefix("unet.down_blocks.\(i).attentions.0.") } }
        let crossUp = (0..<levels).map { i in names.contains { $0.hasPrefix("unet.up_blocks.\(i).attentions.0.") } }
        let firstCross = crossDown.firstIndex(of: true) ?? 0
        let depth = Self.count(names, prefix: "unet.down_blocks.\(firstCross).attentions.0.transformer_blocks.")
        let context = try shape(Self.firstMatch(names, prefix: "unet.", suffix: ".attn2.to_k.weight", path: path))[1]
        let groups = Self.convention(32, dividing: widths + [try shape("unet.conv_in.weight")[0]], what: "UNet GroupNorm groups", notes: &notes)
        let heads: Any
        if v2 {
            heads = widths.map { $0 % 64 == 0 ? $0 / 64 : 1 }  // 64-channel heads
            if widths.contains(where: { $0 % 64 != 0 }) { notes.append("UNet widths \(widths) are not multiples of SD 2.x's 64-channel heads: 1 head where they are not (heads are not in the weights)") }
        } else {
            heads = Self.convention(8, dividing: widths, what: "UNet attention heads", notes: &notes)
        }
        unet = [
            "_class_name": "UNet2DConditionModel",
            "sample_size": v2 ? 96 : 64,
            "in_channels": try shape("unet.conv_in.weight")[1],
            "out_channels": try shape("unet.conv_out.weight")[0],
            "down_block_types": crossDown.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" },
            "up_block_types": crossUp.map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" },
            "mid_block_type": names.contains { $0.hasPrefix("unet.mid_block.attentions.") } ? "UNetMidBlock2DCrossAttn" : "UNetMidBlock2D",
            "block_out_channels": widths,
            "layers_per_block": Self.count(names, prefix: "unet.down_blocks.0.resnets."),
            "transformer_layers_per_block": max(depth, 1),
            "cross_attention_dim": context,
            "attention_head_dim": heads,
            "use_linear_projection": linear,
            "upcast_attention": v2,
            "norm_num_groups": groups,
            "norm_eps": 1e-5,
            "act_fn": "silu",
            "flip_sin_to_cos": true,
            "freq_shift": 0,
            "downsample_padding": 1,
            "center_input_sample": false,
        ]

        // VAE
        let vaeLevels = Self.count(names, prefix: "vae.encoder.down_blocks.")
        let vaeWidths = try (0..<vaeLevels).map { try shape("vae.encoder.down_blocks.\($0).resnets.0.conv1.weight")[0] }
        vae = [
            "_class_name": "AutoencoderKL",
            "in_channels": try shape("vae.encoder.conv_in.weight")[1],
            "out_channels": try shape("vae.decoder.conv_out.weight")[0],
            "down_block_types": Array(repeating: "DownEncoderBlock2D", count: vaeLevels),
            "up_block_types": Array(repeating: "UpDecoderBlock2D", count: vaeLevels),
            "block_out_channels": vaeWidths,
            "layers_per_block": Self.count(names, prefix: "vae.encoder.down_blocks.0.resnets."),
            "latent_channels": try shape("vae.decoder.conv_in.weight")[1],
            "norm_num_groups": Self.convention(32, dividing: vaeWidths, what: "VAE GroupNorm groups", notes: &notes),
            "act_fn": "silu",
            "sample_size": v2 ? 768 : 512,
            "scaling_factor": 0.18215,
            "force_upcast": true,
            "use_quant_conv": byName["vae.quant_conv.weight"] != nil,
            "use_post_quant_conv": byName["vae.post_quant_conv.weight"] != nil,
            "mid_block_add_attention": names.contains { $0.hasPrefix("vae.encoder.mid_block.attentions.") },
        ]

        // Text encoder (transformers' CLIPTextModel)
        let token = try shape("text_encoder.text_model.embeddings.token_embedding.weight")
        let hidden = token[1]
        var layers = Self.count(names, prefix: "text_encoder.text_model.encoder.layers.")
        if v2, layers > 1 {
            layers -= 1
            leftOut = Self.openCLIPExtras(names)
        }
        if hidden % 64 != 0 { notes.append("text encoder width \(hidden) is not a multiple of CLIP's 64-channel heads: 1 head (heads are not in the weights)") }
        textEncoder = [
            "architectures": ["CLIPTextModel"],
            "model_type": "clip_text_model",
            "vocab_size": token[0],
            "hidden_size": hidden,
            "intermediate_size": try shape("text_encoder.text_model.encoder.layers.0.mlp.fc1.weight")[0],
            "num_hidden_layers": layers,
            "num_attention_heads": hidden % 64 == 0 ? hidden / 64 : 1,
            "max_position_embeddings": try shape("text_encoder.text_model.embeddings.position_embedding.weight")[0],
            "projection_dim": byName["text_encoder.text_projection"]?.shape.last ?? hidden,
            "hidden_act": v2 ? "gelu" : "quick_gelu",
            "layer_norm_eps": 1e-5,
            "bos_token_id": 0,
            "eos_token_id": 2,
            "pad_token_id": 1,
            "torch_dtype": byName["text_encoder.text_model.embeddings.token_embedding.weight"].map { Self.torchDType($0.dtype) } ?? "float32",
        ]
    }

    /// model_index.json, each component's config.json and the scheduler's config (the noise
    /// schedule read from the single file's `betas` when it has them, else SD's).
    public func files(predictionType: String?, betas: [Double]?) throws -> [String: Data] {
        let prediction = predictionType ?? (version == .v2 ? "v_prediction" : "epsilon")
        var scheduler: [String: Any] = [
            "_class_name": "PNDMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
            "num_train_timesteps": 1000, "prediction_type": prediction, "set_alpha_to_one": false, "skip_prk_steps": true,
            "steps_offset": 1, "clip_sample": false, "timestep_spacing": "leading",
        ]
        if let b = betas, b.count > 1, b.allSatisfy({ $0.isFinite && $0 > 0 }) {
            // scaled_linear: betas = linspace(√start, √end, n)², so the ends are start and end.
            scheduler["beta_start"] = Self.shortest(b[0])
            scheduler["beta_end"] = Self.shortest(b[b.count - 1])
            scheduler["num_train_timesteps"] = b.count
        }
        let index: [String: Any] = [
            "_class_name": "StableDiffusionPipeline",
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
            "text_encoder": ["transformers", "CLIPTextModel"], "scheduler": ["diffusers", "PNDMScheduler"],
            "tokenizer": [NSNull(), NSNull()], "safety_checker": [NSNull(), NSNull()], "feature_extractor": [NSNull(), NSNull()],
            "requires_safety_checker": false,
        ]
        func json(_ o: [String: Any]) throws -> Data {
            try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
        }
        return ["model_index.json": try json(index), "unet/config.json": try json(unet), "vae/config.json": try json(vae),
                "text_encoder/config.json": try json(textEncoder), "scheduler/scheduler_config.json": try json(scheduler)]
    }

    /// A reference pipeline's configs (`convert --config-from`) must describe these weights: the
    /// values read from the shapes are compared, and the first that differs is refused.
    public func check(reference folder: String) throws {
        let checks: [(String, [String: Any], [String])] = [
            ("unet", unet, ["in_channels", "out_channels", "block_out_channels", "layers_per_block", "cross_attention_dim",
                            "use_linear_projection", "down_block_types", "up_block_types"]),
            ("vae", vae, ["in_channels", "out_channels", "block_out_channels", "layers_per_block", "latent_channels"]),
            ("text_encoder", textEncoder, ["vocab_size", "hidden_size", "intermediate_size", "max_position_embeddings", "num_hidden_layers"]),
        ]
        for (component, inferred, keys) in checks {
            let file = folder + "/" + component + "/config.json"
            guard let data = FileManager.default.contents(atPath: file),
                  let ref = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw StorageError.cannotOpen(path: file, reason: "--config-from needs the reference pipeline's \(component)/config.json as a JSON object")
            }
            for key in keys {
                guard let want = inferred[key] else { continue }
                let have = ref[key] ?? Self.defaults[component]?[key]
                guard let have, Self.same(have, want) else {
                    throw StorageError.cannotOpen(path: file, reason: "'\(key)' is \(Self.describe(ref[key])) but the weights have \(Self.describe(want)); not the same model shape")
                }
            }
        }
    }

    /// In the diffusers view of an SD 2.x single file: what diffusers' 23-layer text encoder does
    /// not have (OpenCLIP's last block, text_projection, logit_scale). Empty for SD 1.x names.
    public static func openCLIPExtras(_ names: [String]) -> [String] {
        guard names.contains(where: { $0 == "text_encoder.text_projection" || $0 == "text_encoder.logit_scale" }) else { return [] }
        let layers = count(names, prefix: "text_encoder.text_model.encoder.layers.")
        let last = "text_encoder.text_model.encoder.layers.\(layers - 1)."
        return names.filter { $0.hasPrefix(last) || $0 == "text_encoder.text_projection" || $0 == "text_encoder.logit_scale" }
    }

    // MARK: helpers

    /// Class defaults for keys a reference config may leave out.
    private static var defaults: [String: [String: Any]] { [
        "unet": ["use_linear_projection": false, "layers_per_block": 2, "transformer_layers_per_block": 1, "in_channels": 4, "out_channels": 4],
        "vae": ["in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 1],
    ] }

    private static func same(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? NSNumber, let y = b as? NSNumber { return x == y }
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = a as? [Any], let y = b as? [Any] { return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) } }
        return false
    }

    private static func describe(_ v: Any?) -> String {
        guard let v else { return "missing" }
        if let a = v as? [Any] { return "[" + a.map { describe($0) }.joined(separator: ", ") + "]" }
        return "\(v)"
    }

    /// SD's value when it divides every width; else the largest common divisor below it (a
    /// non-SD-sized model: the value is not in the weights, so say so).
    private static func convention(_ sd: Int, dividing widths: [Int], what: String, notes: inout [String]) -> Int {
        let g = widths.reduce(sd) { gcd($0, $1) }
        if g != sd { notes.append("\(what): \(g) instead of SD's \(sd), which does not divide the widths \(widths) (not in the weights)") }
        return max(g, 1)
    }

    /// The shortest decimal that reads back as the same Float (betas are stored as f32).
    private static func shortest(_ x: Double) -> Double { Double("\(Float(x))") ?? x }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// Number of consecutive indices `prefix{0,1,…}.` present.
    static func count(_ names: [String], prefix: String) -> Int {
        var seen = Set<Int>()
        for n in names where n.hasPrefix(prefix) {
            if let i = Int(n.dropFirst(prefix.count).prefix { $0 != "." }) { seen.insert(i) }
        }
        var k = 0
        while seen.contains(k) { k += 1 }
        return k
    }

    private static func firstMatch(_ names: [String], prefix: String, suffix: String, path: String) throws -> String {
        guard let n = names.first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }) else {
            throw StorageError.invalidTensor(tensor: prefix + "…" + suffix, reason: "\(path): no such tensor, so the diffusers config cannot be inferred (not an SD 1.x/2.x checkpoint?)")
        }
        return n
    }

    private static func torchDType(_ d: DType) -> String {
        switch d {
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        default: return "float32"
        }
    }
}
