import CHDF5

/// Owns one libhdf5 identifier and closes it with the matching close call when released.
/// Only identifiers the caller opened or created go in here: the library's predefined type ids
/// (H5T_NATIVE_*, H5T_IEEE_*) must never be closed.
final class HDF5Handle: Sendable {
    enum Kind: Sendable { case file, group, dataset, dataspace, datatype, attribute, propertyList, object }

    let id: hid_t
    let kind: Kind

    /// Wraps `id`, or returns nil when the call that produced it failed (negative id).
    init?(_ id: hid_t, _ kind: Kind) {
        guard id >= 0 else { return nil }
        self.id = id
        self.kind = kind
    }

    deinit {
        let id = self.id, kind = self.kind
        HDF5Library.locked {
            switch kind {
            case .file: _ = H5Fclose(id)
            case .group: _ = H5Gclose(id)
            case .dataset: _ = H5Dclose(id)
            case .dataspace: _ = H5Sclose(id)
            case .datatype: _ = H5Tclose(id)
            case .attribute: _ = H5Aclose(id)
            case .propertyList: _ = H5Pclose(id)
            case .object: _ = H5Oclose(id)
            }
        }
    }
}
