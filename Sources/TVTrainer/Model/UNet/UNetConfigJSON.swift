import Foundation

/// Reading and writing diffusers' `config.json` for UNet2DModel. Keys diffusers would use a
/// default for may be missing; values tvtool cannot run are refused naming the key.
extension UNetConfig {
    public static let projectionsKey = "tvtool_channel_projections"

    public static func fromJSON(_ data: Data, source: String) throws(TrainerError) -> UNetConfig {
        let object: JSONValue
        do { object = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw .badConfig(source: source, reason: "not valid JSON")
        }
        guard case let .object(d) = object else { throw .badConfig(source: source, reason: "not a JSON object") }
        return try ConfigKeys(d, source: source).config()
    }

    public static func load(_ path: String) throws(TrainerError) -> UNetConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badConfig(source: path, reason: "cannot read the file")
        }
        return try fromJSON(data, source: path)
    }

    /// diffusers' config.json for this model (every key UNet2DModel takes, sorted).
    public func jsonData() -> Data {
        var d: [String: Any] = [
            "_class_name": "UNet2DModel", "_diffusers_version": "0.42.1",
            "sample_size": sampleSize, "in_channels": inChannels, "out_channels": outChannels,
            "center_input_sample": centerInputSample, "time_embedding_type": "positional",
            "time_embedding_dim": timeEmbeddingDim.map { $0 as Any } ?? NSNull(),
            "freq_shift": freqShift, "flip_sin_to_cos": flipSinToCos,
            "down_block_types": downBlockTypes.map(\.rawValue), "mid_block_type": "UNetMidBlock2D",
            "up_block_types": upBlockTypes.map(\.rawValue), "block_out_channels": blockOutChannels,
            "layers_per_block": layersPerBlock, "mid_block_scale_factor": midBlockScaleFactor,
            "downsample_padding": downsamplePadding, "downsample_type": "conv", "upsample_type": "conv",
            "dropout": dropout, "act_fn": "silu",
            "attention_head_dim": attentionHeadDim.map { $0 as Any } ?? NSNull(),
            "norm_num_groups": normNumGroups, "attn_norm_num_groups": NSNull(), "norm_eps": normEps,
            "resnet_time_scale_shift": "default", "add_attention": addAttention,
            "class_embed_type": NSNull(), "num_class_embeds": NSNull(),
            "num_train_timesteps": numTrainTimesteps.map { $0 as Any } ?? NSNull(),
        ]
        if channelProjections { d[UNetConfig.projectionsKey] = true }
        return try! JSONSerialization.data(withJSONObject: d, options: [.sortedKeys, .prettyPrinted])
    }
}

/// A JSON value that keeps true/false apart from numbers (JSONDecoder refuses 1 as a Bool).
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Typed access to the config dictionary; every failure names the key.
private struct ConfigKeys {
    let d: [String: JSONValue]
    let source: String
    init(_ d: [String: JSONValue], source: String) { self.d = d; self.source = source }

    func bad(_ key: String, _ why: String) -> TrainerError { .badConfig(source: source, reason: "\(key): \(why)") }
    func unsupported(_ key: String, _ why: String) -> TrainerError { .unsupportedConfig(source: source, reason: "\(key): \(why)") }
    func present(_ key: String) -> JSONValue? {
        guard let v = d[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    func int(_ key: String) throws(TrainerError) -> Int? {
        guard let v = present(key) else { return nil }
        guard case let .number(n) = v, let i = Int(exactly: n) else { throw bad(key, "expected an integer") }
        return i
    }
    func double(_ key: String) throws(TrainerError) -> Double? {
        guard let v = present(key) else { return nil }
        guard case let .number(n) = v, n.isFinite else { throw bad(key, "expected a number") }
        return n
    }
    func bool(_ key: String) throws(TrainerError) -> Bool? {
        guard let v = present(key) else { return nil }
        guard case let .bool(b) = v else { throw bad(key, "expected true or false") }
        return b
    }
    func string(_ key: String) throws(TrainerError) -> String? {
        guard let v = present(key) else { return nil }
        guard case let .string(s) = v else { throw bad(key, "expected a string") }
        return s
    }
    func strings(_ key: String) throws(TrainerError) -> [String]? {
        guard let v = present(key) else { return nil }
        guard case let .array(a) = v else { throw bad(key, "expected a list of strings") }
        var out: [String] = []
        for x in a {
            guard case let .string(s) = x else { throw bad(key, "expected a list of strings") }
            out.append(s)
        }
        return out
    }
    func ints(_ key: String) throws(TrainerError) -> [Int]? {
        guard let v = present(key) else { return nil }
        guard case let .array(a) = v else { throw bad(key, "expected a list of integers") }
        var out: [Int] = []
        for x in a {
            guard case let .number(n) = x, let i = Int(exactly: n) else { throw bad(key, "expected a list of integers") }
            out.append(i)
        }
        return out
    }

    /// Keys whose only supported value is `expected` (nil = must be null/absent).
    func require(_ key: String, oneOf expected: [String?]) throws(TrainerError) {
        let v = try string(key)
        guard expected.contains(v) else {
            let allowed = expected.map { $0 ?? "null" }.joined(separator: " or ")
            throw unsupported(key, "'\(v ?? "null")' is not supported (tvtool's UNet takes \(allowed))")
        }
    }

    func config() throws(TrainerError) -> UNetConfig {
        if let cls = try string("_class_name"), cls != "UNet2DModel" { throw bad("_class_name", "'\(cls)' is not UNet2DModel") }
        var size = try int("sample_size")
        if size == nil, let pair = try? ints("sample_size") {
            guard pair.count == 2, pair[0] == pair[1] else { throw unsupported("sample_size", "only square samples are supported") }
            size = pair[0]
        }
        guard let sampleSize = size else { throw bad("sample_size", "missing (tvtool needs the sample size)") }
        let channels = try ints("block_out_channels") ?? [224, 448, 672, 896]
        let downNames = try strings("down_block_types") ?? ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"]
        let upNames = try strings("up_block_types") ?? ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"]
        var downs: [UNetConfig.DownBlockType] = [], ups: [UNetConfig.UpBlockType] = []
        for n in downNames {
            guard let t = UNetConfig.DownBlockType(rawValue: n) else { throw unsupported("down_block_types", "'\(n)' is not supported (DownBlock2D, AttnDownBlock2D)") }
            downs.append(t)
        }
        for n in upNames {
            guard let t = UNetConfig.UpBlockType(rawValue: n) else { throw unsupported("up_block_types", "'\(n)' is not supported (UpBlock2D, AttnUpBlock2D)") }
            ups.append(t)
        }
        try require("time_embedding_type", oneOf: ["positional", nil])
        if d["mid_block_type"] != nil { try require("mid_block_type", oneOf: ["UNetMidBlock2D"]) }  // explicit null: no mid block
        try require("downsample_type", oneOf: ["conv", nil])
        try require("upsample_type", oneOf: ["conv", nil])
        try require("act_fn", oneOf: ["silu", "swish", nil])
        try require("resnet_time_scale_shift", oneOf: ["default", nil])
        try require("class_embed_type", oneOf: [nil])
        if try int("num_class_embeds") != nil { throw unsupported("num_class_embeds", "class conditioning is not supported") }
        let groups = try int("norm_num_groups") ?? 32
        if let ag = try int("attn_norm_num_groups"), ag != groups {
            throw unsupported("attn_norm_num_groups", "only null or norm_num_groups (\(groups)) is supported")
        }
        var c = UNetConfig(sampleSize: sampleSize, inChannels: try int("in_channels") ?? 3, outChannels: try int("out_channels") ?? 3,
                           blockOutChannels: channels, downBlockTypes: downs, upBlockTypes: ups,
                           layersPerBlock: try int("layers_per_block") ?? 2,
                           attentionHeadDim: d.keys.contains("attention_head_dim") ? try int("attention_head_dim") : 8,
                           normNumGroups: groups, normEps: try double("norm_eps") ?? 1e-5)
        c.centerInputSample = try bool("center_input_sample") ?? false
        c.timeEmbeddingDim = try int("time_embedding_dim")
        if let shift = try double("freq_shift") {
            guard let s = Int(exactly: shift) else { throw bad("freq_shift", "expected an integer") }
            c.freqShift = s
        }
        c.flipSinToCos = try bool("flip_sin_to_cos") ?? true
        c.midBlockScaleFactor = try double("mid_block_scale_factor") ?? 1
        c.downsamplePadding = try int("downsample_padding") ?? 1
        c.dropout = try double("dropout") ?? 0
        c.addAttention = try bool("add_attention") ?? true
        c.numTrainTimesteps = try int("num_train_timesteps")
        c.channelProjections = try bool(UNetConfig.projectionsKey) ?? false
        try c.validate(source: source)
        return c
    }
}
