/// Where each tensor goes in a written HDF5 file: dotted names become nested groups
/// (`unet.down.0.weight` → group `/unet/down/0`, dataset `weight`).
///
/// Rules (checked before anything is written):
/// - a name must be non-empty, contain no '/' or NUL, and have no empty part (`a..b`, `.a`, `a.`);
/// - names must be distinct;
/// - a name cannot be both a tensor and a prefix of another (`a` and `a.b`): HDF5 would need `/a`
///   to be a dataset and a group at once. tvtool reports this instead of inventing an escape
///   (which another reader would not undo); rename one of the tensors.
struct HDF5WriteLayout: Equatable {
    /// Groups to create, parents before children ("a", "a/b", …).
    let groups: [String]
    /// HDF5 dataset path (no leading '/') for each tensor name.
    let datasets: [String: String]

    init(names: [String], file: String) throws(HDF5Error) {
        var datasets: [String: String] = [:]
        for name in names {
            guard !name.isEmpty else { throw .invalidName(path: file, name: name, reason: "the name is empty") }
            guard !name.contains("/") else { throw .invalidName(path: file, name: name, reason: "'/' is HDF5's path separator") }
            // HDF5 names are C strings: libhdf5 would cut the name at the NUL (and two names collide).
            guard !name.utf8.contains(0) else { throw .invalidName(path: file, name: name, reason: "HDF5 names cannot contain a NUL character") }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard !parts.contains(where: \.isEmpty) else {
                throw .invalidName(path: file, name: name, reason: "it has an empty part between dots")
            }
            guard datasets[name] == nil else { throw .duplicateTensor(path: file, tensor: name) }
            datasets[name] = parts.joined(separator: "/")
        }
        var groups = Set<String>()
        for name in names.sorted() {
            let parts = name.split(separator: ".")
            for depth in 1..<max(parts.count, 1) {
                let prefix = parts[0..<depth].joined(separator: ".")
                if datasets[prefix] != nil { throw .nameConflict(path: file, dataset: prefix, group: name) }
                groups.insert(parts[0..<depth].joined(separator: "/"))
            }
        }
        self.groups = groups.sorted { a, b in
            let da = a.split(separator: "/").count, db = b.split(separator: "/").count
            return da != db ? da < db : a < b
        }
        self.datasets = datasets
    }
}
