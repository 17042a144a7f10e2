/// A set of images as Float rows in [-1, 1]: `values` is [count, channels·height·width], each row
/// one image in C×H×W row-major order.
public struct ImageDataset: Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let values: [Float]
    /// Where the data came from (for messages and reports).
    public let source: String

    public init(channels: Int, height: Int, width: Int, values: [Float], source: String) {
        precondition(channels > 0 && height > 0 && width > 0 && values.count % (channels * height * width) == 0)
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
        self.source = source
    }

    public var dimension: Int { channels * height * width }
    public var count: Int { values.count / dimension }

    /// One image as a row.
    public func image(_ i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int], label: String? = nil) -> ImageDataset {
        var out = [Float]()
        out.reserveCapacity(indices.count * dimension)
        for i in indices { out.append(contentsOf: image(i)) }
        return ImageDataset(channels: channels, height: height, width: width, values: out, source: label ?? source)
    }

    /// Rows `indices` gathered into one batch [indices.count, D].
    public func batch(_ indices: [Int]) -> [Float] { subset(indices).values }

    /// A model config whose data layout matches this set.
    public func modelConfig(_ base: ModelConfig = ModelConfig()) -> ModelConfig {
        var c = base
        c.channels = channels; c.height = height; c.width = width
        return c
    }
}

/// A fixed, seeded split of a data set into a training set and disjoint held-out sets (DeMe uses
/// two: one for the weight search, one for the report).
public struct DatasetSplit: Sendable {
    public let train: ImageDataset
    public let heldOut: [ImageDataset]
    public let trainIndices: [Int]
    public let heldOutIndices: [[Int]]
    public let seed: UInt64

    /// Shuffles 0..<count with `seed` (trainer PRNG), takes the held-out sets from the front in
    /// the given sizes, and the rest (in shuffled order) for training.
    public init(_ data: ImageDataset, heldOut sizes: [Int], seed: UInt64) throws(TrainerError) {
        let total = sizes.reduce(0, +)
        guard sizes.allSatisfy({ $0 >= 0 }), total < data.count else {
            throw .badData(source: data.source, reason: "cannot hold out \(total) of \(data.count) images")
        }
        var rng = TrainerRandom.derived(seed: seed, stream: 0x5B17)
        let perm = rng.permutation(data.count)
        var start = 0
        var held = [[Int]]()
        for s in sizes { held.append(Array(perm[start..<(start + s)])); start += s }
        heldOutIndices = held
        trainIndices = Array(perm[start...])
        train = data.subset(trainIndices, label: data.source + " (train)")
        heldOut = held.enumerated().map { data.subset($0.element, label: data.source + " (held-out \($0.offset + 1))") }
        self.seed = seed
    }

    /// The default split: for the bundled digits 1,500 training images and two held-out sets of
    /// 148 and 149; otherwise about 10% held out, halved. Seed 0.
    public static func standard(_ data: ImageDataset, seed: UInt64 = 0) throws(TrainerError) -> DatasetSplit {
        let held = data.count == 1797 ? 297 : max(2, data.count / 10)
        return try DatasetSplit(data, heldOut: [held / 2, held - held / 2], seed: seed)
    }
}
