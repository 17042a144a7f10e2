import Foundation
import TVStorage

/// CIFAR-10 as users have it on disk (`--data cifar10:FOLDER`): the training batches
/// `data_batch_1` … `data_batch_5` of cifar-10-python.tar.gz (pickled dicts whose `data` is a
/// uint8 [10000, 3072] numpy array, read by the restricted unpickler: numpy array reconstruction
/// only, nothing executed) or `data_batch_1.bin` … of cifar-10-binary.tar.gz (records of one
/// label byte and 3,072 pixel bytes). Each row is the R, G and B planes of a 32×32 image, i.e.
/// already C×H×W. FOLDER may also be the folder that holds `cifar-10-batches-py` or
/// `cifar-10-batches-bin`. Labels are not used (unconditional models); `test_batch` is not read
/// (tvtool's own split holds images out of the training batches).
public enum CIFAR10 {
    static let pixels = 3 * 32 * 32

    public static func load(folder: String) throws -> ImageDataset {
        let fm = FileManager.default
        var dir = folder
        for sub in ["cifar-10-batches-py", "cifar-10-batches-bin"] where !hasBatch(dir) {
            let candidate = (folder as NSString).appendingPathComponent(sub)
            if hasBatch(candidate) { dir = candidate }
        }
        let python = (1...5).map { (dir as NSString).appendingPathComponent("data_batch_\($0)") }.filter { fm.fileExists(atPath: $0) }
        let binary = (1...5).map { (dir as NSString).appendingPathComponent("data_batch_\($0).bin") }.filter { fm.fileExists(atPath: $0) }
        guard !python.isEmpty || !binary.isEmpty else {
            throw TrainerError.badData(source: folder, reason: "no CIFAR-10 batches (data_batch_1 … or data_batch_1.bin …) in the folder")
        }
        var bytes: [UInt8] = []
        for path in python.isEmpty ? binary : python {
            bytes += python.isEmpty ? try binaryBatch(path) : try pythonBatch(path)
        }
        let values = bytes.map { Float($0) / 255 * 2 - 1 }
        let n = python.isEmpty ? binary.count : python.count
        return ImageDataset(channels: 3, height: 32, width: 32, values: values,
                            source: "cifar10:\(folder) (\(values.count / pixels) images, \(n) \(python.isEmpty ? "binary" : "python") batches)")
    }

    static func hasBatch(_ dir: String) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: (dir as NSString).appendingPathComponent("data_batch_1"))
            || fm.fileExists(atPath: (dir as NSString).appendingPathComponent("data_batch_1.bin"))
    }

    /// The `data` array of one python batch, row-major [N, 3072].
    static func pythonBatch(_ path: String) throws -> [UInt8] {
        let dict: [String: NumpyPickle.Item]
        do { dict = try NumpyPickle.readDict(path) } catch let e as PyTorchError {
            throw TrainerError.badData(source: path, reason: reason(e, path: path))
        }
        guard case let .array(a)? = dict["data"] else {
            throw TrainerError.badData(source: path, reason: "not a CIFAR-10 python batch: no uint8 'data' array (keys: \(dict.keys.sorted().joined(separator: ", ")))")
        }
        guard a.dtype == "u1", a.shape.count == 2, a.shape[1] == pixels, a.shape[0] >= 1 else {
            throw TrainerError.badData(source: path, reason: "'data' is \(a.dtype) \(a.shape); CIFAR-10 batches hold uint8 [N, 3072]")
        }
        if case let .integers(labels)? = dict["labels"], labels.count != a.shape[0] {
            throw TrainerError.badData(source: path, reason: "\(labels.count) labels for \(a.shape[0]) images")
        }
        guard a.fortranOrder else { return a.bytes }
        // Column-major storage: element (i, j) is at j * N + i.
        let n = a.shape[0]
        var out = [UInt8](repeating: 0, count: a.bytes.count)
        for i in 0..<n { for j in 0..<pixels { out[i * pixels + j] = a.bytes[j * n + i] } }
        return out
    }

    /// The unpickler's messages speak of torch's data.pkl; here the file is the batch itself.
    static func reason(_ e: PyTorchError, path: String) -> String {
        switch e {
        case let .forbiddenGlobal(_, global):
            return "refusing global '\(global)': a CIFAR-10 batch may only name numpy's array globals (nothing is imported or executed)"
        case let .forbiddenOpcode(_, opcode, offset):
            return "refusing pickle opcode \(opcode) at byte \(offset) (not used by numpy data pickles)"
        default:
            return e.description.replacingOccurrences(of: path + ": ", with: "").replacingOccurrences(of: " of data.pkl", with: "")
                .replacingOccurrences(of: "data.pkl", with: "the pickle")
        }
    }

    /// The pixels of one binary batch: records of 1 label byte + 3072 bytes.
    static func binaryBatch(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StorageError.cannotOpen(path: path, reason: "cannot read file")
        }
        let record = pixels + 1
        guard data.count >= record, data.count % record == 0 else {
            throw TrainerError.badData(source: path, reason: "\(data.count) bytes is not a whole number of 3,073-byte CIFAR-10 records")
        }
        var out = [UInt8]()
        out.reserveCapacity(data.count / record * pixels)
        data.withUnsafeBytes { raw in
            for r in 0..<(data.count / record) {
                out.append(contentsOf: raw[(r * record + 1)..<((r + 1) * record)])
            }
        }
        for r in 0..<(data.count / record) where data[r * record] > 9 {
            throw TrainerError.badData(source: path, reason: "record \(r) has label \(data[r * record]) (CIFAR-10 labels are 0…9)")
        }
        return out
    }
}
