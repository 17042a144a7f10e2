/// Read access to a checkpoint in any supported format.
///
/// Opening reads only the index (header, directory); `tensor(named:)` returns the data, as a
/// zero-copy view where the format allows. Readers are immutable after opening and safe to share
/// between threads.
public protocol CheckpointReader: AnyObject, Sendable {
    /// The path the user gave (file, index or folder), for messages.
    var path: String { get }
    /// Tensors in file order (for safetensors: sorted by offset).
    var tensors: [TensorInfo] { get }
    /// String metadata (safetensors `__metadata__`, HDF5 attributes, …).
    var metadata: [String: String] { get }
    /// Notes about things the reader skipped or interpreted (non-numeric datasets, renamed keys).
    var notes: [String] { get }
    /// The data of one tensor.
    func tensor(named name: String) throws -> Tensor
    /// The description of one tensor, nil when absent. Readers answer from their name index:
    /// commands call this once per tensor, so a linear search would make them quadratic.
    func info(named name: String) -> TensorInfo?
}

extension CheckpointReader {
    public var notes: [String] { [] }

    /// Linear fallback for readers without an index (test doubles); real readers override it.
    public func info(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// Total bytes of tensor data.
    public var totalBytes: Int { tensors.reduce(0) { $0 + $1.byteCount } }
}

/// Streaming write access: the tensor list is declared up front (safetensors needs its header
/// first), tensors are then written one at a time in any order, and `finish()` makes the file
/// appear atomically (temporary file, fsync, rename). A writer dropped without `finish()` removes
/// its temporary file, so an error never leaves a partial output behind.
public protocol CheckpointWriter: AnyObject {
    var path: String { get }
    /// Writes one declared tensor. Its dtype and shape must match the declaration.
    func write(_ tensor: Tensor, named name: String) throws
    /// Completes the file and moves it into place.
    func finish() throws
    /// Discards everything written so far.
    func abort()
}

/// A writer that also takes a declared tensor's bytes piece by piece, from several threads at once,
/// so a streaming producer can write each computed block straight to its place in the file instead
/// of assembling the whole tensor in memory first.
public protocol RangedCheckpointWriter: CheckpointWriter, Sendable {
    /// Writes `bytes` at byte `offset` of declared tensor `name`'s data. Safe to call concurrently
    /// for disjoint ranges (also with `write` of other tensors).
    func write(_ bytes: UnsafeRawBufferPointer, ofTensor name: String, at offset: Int) throws
    /// Records that every byte of `name` has been written through `write(_:ofTensor:at:)`; the
    /// caller is responsible for having covered the whole tensor.
    func completeTensor(_ name: String) throws
}
