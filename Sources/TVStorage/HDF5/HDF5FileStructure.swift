import CHDF5

/// The structure of an opened HDF5 file: every group and dataset reachable through hard links,
/// with attributes, dataset shapes and read plans. Reading it touches no dataset values.
/// Paths are relative to the root without a leading '/' ("" is the root group).
struct HDF5FileStructure: Sendable {
    struct Dataset: Sendable {
        let path: String
        /// nil for a dataset with a null dataspace (no values at all).
        let shape: [Int]?
        let plan: Result<HDF5ReadPlan, HDF5TypeMapping.SkipReason>
        /// File offset of the values for an allocated, contiguous, unfiltered dataset.
        var contiguousOffset: Int? = nil
    }

    var groups: [String] = []
    var datasets: [Dataset] = []
    /// Attributes per object path ("" = root).
    var attributes: [String: [HDF5Attribute]] = [:]
    /// Attributes that could not be read, as "object@name: reason".
    var skippedAttributes: [String] = []

    /// Walks `file` (inside `HDF5Library.locked`). Throws `HDF5Error.corrupt` when an object
    /// the file lists cannot be opened or described.
    /// The caller has checked the file's global heaps first (`HDF5GlobalHeapCheck.verify`).
    static func read(file: hid_t, path filePath: String) throws(HDF5Error) -> HDF5FileStructure {
        final class Collector { var objects: [(name: String, kind: Int32)] = [] }
        let collector = Collector()
        let visit: tv_h5_visit_fn = { name, kind, data in
            let c = Unmanaged<Collector>.fromOpaque(data!).takeUnretainedValue()
            c.objects.append((String(cString: name!), kind))
            return 0
        }
        let status = tv_h5_visit(file, visit, Unmanaged.passUnretained(collector).toOpaque())
        guard status >= 0 else {
            throw .corrupt(path: filePath, object: "/", reason: HDF5Library.lastError(or: "cannot walk the groups"))
        }

        var structure = HDF5FileStructure()
        for (rawName, kind) in collector.objects where kind == 1 || kind == 2 {
            let objectPath = rawName == "." ? "" : rawName
            guard let object = HDF5Handle(H5Oopen(file, objectPath.isEmpty ? "/" : objectPath, HDF5Library.defaultPlist), .object) else {
                throw .corrupt(path: filePath, object: "/" + objectPath, reason: HDF5Library.lastError(or: "cannot open"))
            }
            var skipped: [String] = []
            let attrs = HDF5AttributeIO.readAll(of: object.id, skipped: &skipped)
            if !attrs.isEmpty { structure.attributes[objectPath] = attrs }
            structure.skippedAttributes += skipped.map { "/\(objectPath)@\($0)" }
            if kind == 1 {
                structure.groups.append(objectPath)
            } else {
                let dtypeTag = attrs.first { $0.name == "dtype" }?.stringValue
                structure.datasets.append(try describeDataset(object.id, path: objectPath, dtypeTag: dtypeTag, file: filePath))
            }
        }
        return structure
    }

    private static func describeDataset(_ dset: hid_t, path: String, dtypeTag: String?, file: String) throws(HDF5Error) -> Dataset {
        guard let type = HDF5Handle(H5Dget_type(dset), .datatype),
              let space = HDF5Handle(H5Dget_space(dset), .dataspace) else {
            throw .corrupt(path: file, object: "/" + path, reason: HDF5Library.lastError(or: "unreadable datatype or dataspace"))
        }
        var plan = HDF5TypeMapping.plan(for: type.id, dtypeAttribute: dtypeTag)
        if let outside = storedOutsideFile(dset) { plan = .failure(.init(outside)) }
        let offset = contiguousOffset(dset)
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_NULL:
            return Dataset(path: path, shape: nil, plan: plan)
        case H5S_SCALAR:
            return Dataset(path: path, shape: [], plan: plan, contiguousOffset: offset)
        default:
            let rank = Int(H5Sget_simple_extent_ndims(space.id))
            guard rank >= 0 else { throw .corrupt(path: file, object: "/" + path, reason: "unreadable dataspace rank") }
            var dims = [hsize_t](repeating: 0, count: max(rank, 1))
            guard H5Sget_simple_extent_dims(space.id, &dims, nil) >= 0 else {
                throw .corrupt(path: file, object: "/" + path, reason: "unreadable dataspace dimensions")
            }
            let shape = dims.prefix(rank).map { Int(clamping: $0) }
            guard let elements = Shape.elementCount(shape) else {
                throw .corrupt(path: file, object: "/" + path, reason: "shape \(Shape.describe(shape)) overflows")
            }
            // Sizes in the file's own type: libhdf5 may convert, e.g. an odd 4-byte float to F64.
            let (need, overflow) = elements.multipliedReportingOverflow(by: H5Tget_size(type.id))
            if case .success = plan, !overflow, let shortfall = storageShortfall(dset, need: need, allocatedContiguous: offset != nil) {
                throw .corrupt(path: file, object: "/" + path, reason: "shape \(Shape.describe(shape)) needs \(ByteFormat.human(need)) but the file stores \(shortfall)")
            }
            return Dataset(path: path, shape: shape, plan: plan, contiguousOffset: offset)
        }
    }

    /// Values a reader would allocate must come from the file: a damaged dimension (a fuzz find:
    /// [2, 2] became [131072, 131072] over 16 stored bytes) or a crafted chunked dataset whose
    /// chunks were never written (fill values: terabytes declared in a few KB) would otherwise
    /// make every command allocate, and fill, what the header says. An allocated contiguous block
    /// holds every value; other layouts may hold less, but are refused when they would decode to
    /// more than deflate's ratio allows (filtered: gzip, HDF5's usual filter; a rarer filter
    /// packing constants tighter is refused too) or their own size (unfiltered), plus a little
    /// for small datasets a writer left unwritten. Returns what the file stores, when that
    /// cannot hold `need`.
    private static func storageShortfall(_ dset: hid_t, need: Int, allocatedContiguous: Bool) -> String? {
        let stored = Int(clamping: H5Dget_storage_size(dset))
        if allocatedContiguous { return stored < need ? "\(ByteFormat.human(stored)) (damaged)" : nil }
        let filtered = HDF5Handle(H5Dget_create_plist(dset), .propertyList).map { H5Pget_nfilters($0.id) > 0 } ?? false
        let (expanded, overflow) = stored.multipliedReportingOverflow(by: filtered ? Inflate.maxRatio : 1)
        guard !overflow, need > expanded + unwrittenAllowance else { return nil }
        return "\(ByteFormat.human(stored))\(filtered ? " compressed" : "") (damaged, or chunks never written)"
    }

    /// Fill values beyond the stored bytes a dataset may declare (an unwritten buffer, bias).
    static let unwrittenAllowance = 1 << 20

    /// Datasets whose values live in other files (external raw storage, virtual datasets) are
    /// not read: a checkpoint must not pull in arbitrary files named inside it.
    private static func storedOutsideFile(_ dset: hid_t) -> String? {
        guard let dcpl = HDF5Handle(H5Dget_create_plist(dset), .propertyList) else { return nil }
        if H5Pget_external_count(dcpl.id) > 0 { return "values stored in external raw files" }
        if H5Pget_layout(dcpl.id) == H5D_VIRTUAL { return "virtual dataset (values in other files)" }
        return nil
    }

    /// Where a contiguous dataset without filters keeps its values (H5Dget_offset counts from
    /// the start of the file, user block included), or nil when it is chunked, compact,
    /// filtered, external or not yet allocated.
    private static func contiguousOffset(_ dset: hid_t) -> Int? {
        guard let dcpl = HDF5Handle(H5Dget_create_plist(dset), .propertyList),
              H5Pget_layout(dcpl.id) == H5D_CONTIGUOUS, H5Pget_nfilters(dcpl.id) == 0,
              H5Pget_external_count(dcpl.id) == 0 else { return nil }
        let offset = H5Dget_offset(dset)
        guard offset != tv_haddr_undef(), offset <= UInt64(Int.max) else { return nil }
        return Int(offset)
    }
}
