import CHDF5
import Foundation

/// Writes a checkpoint as an HDF5 file that h5py reads back with identical values.
///
/// - Tensor names become groups and datasets as `HDF5WriteLayout` describes.
/// - Types (all little-endian, as h5py writes them): integers as H5T_STD_*LE, F32/F64 as IEEE,
///   F16 as h5py's 2-byte float (h5py reads float16), BF16 as a 2-byte float with fields
///   (15,7,8,0,7) and bias 127 (the layout HDF5 2.0 calls bfloat16; h5py reads it as float32 with
///   exact values), BOOL as h5py's FALSE/TRUE int8 enum, C64 as h5py's {r, i} compound.
///   F8 types are written as uint8 with an attribute `dtype` naming them (tvtool reads them back
///   as F8); F4/F6 are refused.
/// - Metadata: one variable-length UTF-8 string attribute per key on the root group.
/// - Streaming: the layout is checked and the groups created up front; each `write` creates and
///   fills one contiguous dataset. Data go to a temporary file in the target directory, which
///   `finish()` fsyncs and renames into place and `abort()` (or deinit) removes.
public final class HDF5Writer: CheckpointWriter {
    public let path: String
    private let tempPath: String
    private var fileID: hid_t?
    private let declared: [String: TensorInfo]
    private let layout: HDF5WriteLayout
    private var written = Set<String>()
    private var finished = false

    public init(path: String, tensors: [TensorInfo], metadata: [String: String]) throws {
        self.path = path
        for t in tensors where [.f4, .f6e2m3, .f6e3m2].contains(t.dtype) {
            throw HDF5Error.unsupportedDType(path: path, tensor: t.name, dtype: t.dtype)
        }
        for key in metadata.keys where key.isEmpty || key == "." || key.utf8.contains(0) {
            throw HDF5Error.invalidMetadataKey(path: path, key: key)
        }
        self.layout = try HDF5WriteLayout(names: tensors.map(\.name), file: path)
        self.declared = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        let url = URL(fileURLWithPath: path)
        self.tempPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tvtool-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let tempPath = self.tempPath
        TerminationSignals.addTemporaryFile(tempPath)
        self.fileID = try HDF5Library.locked { () throws -> hid_t in
            guard let fapl = HDF5Handle(H5Pcreate(tv_h5p_file_access()), .propertyList) else {
                throw HDF5Error.writeFailed(path: path, reason: HDF5Library.lastError(or: "no file access property list"))
            }
            // 1.8 object format or newer: attributes larger than 64 KiB (long metadata) are allowed.
            _ = H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, tv_h5f_libver_latest())
            // Closing the file closes everything still open in it, so finish() really closes.
            _ = H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG)
            let id = H5Fcreate(tempPath, tv_h5f_acc_trunc(), HDF5Library.defaultPlist, fapl.id)
            guard id >= 0 else {
                throw HDF5Error.writeFailed(path: path, reason: HDF5Library.lastError(or: "cannot create \(tempPath)"))
            }
            return id
        }
        do {
            try HDF5Library.locked {
                guard let file = fileID else { return }
                for group in layout.groups {
                    guard HDF5Handle(H5Gcreate2(file, group, HDF5Library.defaultPlist, HDF5Library.defaultPlist,
                                                HDF5Library.defaultPlist), .group) != nil else {
                        throw HDF5Error.writeFailed(path: path, reason: "cannot create group /\(group): " + HDF5Library.lastError(or: ""))
                    }
                }
                for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                    guard HDF5AttributeIO.writeString(value, named: key, on: file) else {
                        _ = HDF5Library.lastError(or: "")
                        throw HDF5Error.invalidMetadataKey(path: path, key: key)
                    }
                }
            }
        } catch {
            abort()
            throw error
        }
    }

    deinit {
        if !finished { abort() }
    }

    public func write(_ tensor: Tensor, named name: String) throws {
        guard let file = fileID, !finished else { throw HDF5Error.writerClosed(path: path) }
        guard let info = declared[name], let datasetPath = layout.datasets[name] else {
            throw HDF5Error.undeclaredTensor(path: path, tensor: name)
        }
        guard !written.contains(name) else { throw HDF5Error.alreadyWritten(path: path, tensor: name) }
        guard info.dtype == tensor.dtype, info.shape == tensor.shape else {
            throw HDF5Error.mismatch(path: path, tensor: name,
                                     declared: "\(info.dtype.rawValue) \(Shape.describe(info.shape))",
                                     got: "\(tensor.dtype.rawValue) \(Shape.describe(tensor.shape))")
        }
        let data = tensor.dtype == .bool ? Self.normalisedBools(tensor.storage) : tensor.storage
        let path = self.path
        try HDF5Library.locked {
            guard let type = HDF5TypeMapping.standardType(for: tensor.dtype) else {
                throw HDF5Error.unsupportedDType(path: path, tensor: name, dtype: tensor.dtype)
            }
            let dims = tensor.shape.map { hsize_t($0) }
            let spaceID = dims.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
            guard let space = HDF5Handle(spaceID, .dataspace),
                  let dset = HDF5Handle(H5Dcreate2(file, datasetPath, type.id, space.id, HDF5Library.defaultPlist,
                                                   HDF5Library.defaultPlist, HDF5Library.defaultPlist), .dataset) else {
                throw HDF5Error.tensorWriteFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "cannot create dataset"))
            }
            // Memory type = file type: the tensor's little-endian bytes are copied unconverted.
            if tensor.elementCount > 0,
               H5Dwrite(dset.id, type.id, tv_h5s_all(), tv_h5s_all(), HDF5Library.defaultPlist, data.base) < 0 {
                throw HDF5Error.tensorWriteFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "H5Dwrite failed"))
            }
            if HDF5TypeMapping.needsDTypeTag(tensor.dtype),
               !HDF5AttributeIO.writeString(tensor.dtype.rawValue, named: "dtype", on: dset.id) {
                throw HDF5Error.tensorWriteFailed(path: path, tensor: name, reason: HDF5Library.lastError(or: "cannot tag dtype"))
            }
        }
        written.insert(name)
    }

    public func finish() throws {
        guard let file = fileID, !finished else { throw HDF5Error.writerClosed(path: path) }
        let missing = declared.keys.filter { !written.contains($0) }.sorted()
        guard missing.isEmpty else { throw HDF5Error.missingTensors(path: path, names: missing) }
        let closed = HDF5Library.locked { () -> String? in
            H5Fclose(file) >= 0 ? nil : HDF5Library.lastError(or: "H5Fclose failed")
        }
        fileID = nil
        if let reason = closed {
            abort()
            throw HDF5Error.writeFailed(path: path, reason: reason)
        }
        do {
            try Self.fsync(tempPath)
            guard rename(tempPath, path) == 0 else {
                throw HDF5Error.writeFailed(path: path, reason: "rename failed: " + String(cString: strerror(errno)))
            }
            TerminationSignals.removeTemporaryFile(tempPath)
            try? Self.fsync(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        } catch {
            abort()
            throw error
        }
        finished = true
    }

    public func abort() {
        if let file = fileID {
            HDF5Library.locked { _ = H5Fclose(file) }
            fileID = nil
        }
        if !finished { unlink(tempPath) }
        TerminationSignals.removeTemporaryFile(tempPath)
        finished = true
    }

    private static func fsync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HDF5Error.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard Foundation.fsync(fd) == 0 else { throw HDF5Error.writeFailed(path: path, reason: "fsync: " + String(cString: strerror(errno))) }
    }

    /// h5py's bool enum has only 0 and 1; any other byte would be an invalid enum value.
    private static func normalisedBools(_ storage: ByteStorage) -> ByteStorage {
        guard storage.buffer.contains(where: { $0 > 1 }) else { return storage }
        return ByteStorage.allocate(count: storage.count) { out in
            for i in 0..<storage.count { out[i] = storage.buffer[i] != 0 ? 1 : 0 }
        }
    }
}
