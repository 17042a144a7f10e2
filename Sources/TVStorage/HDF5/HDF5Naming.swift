/// Tensor names for HDF5 paths, and the order tensors are listed in.
///
/// A dataset at `/a/b/0` is the tensor `a.b.0`. h5py lists members lexicographically
/// ('0', '10', '2'); tvtool sorts path components that are all digits as integers instead, and
/// puts numeric components before other names at the same level.
enum HDF5Naming {
    static func dottedName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: ".")
    }

    /// True when `a` sorts before `b` (component-wise, numeric components as integers).
    static func pathPrecedes(_ a: String, _ b: String) -> Bool {
        let ca = a.split(separator: "/"), cb = b.split(separator: "/")
        for (x, y) in zip(ca, cb) where x != y {
            return componentPrecedes(x, y)
        }
        return ca.count < cb.count
    }

    static func componentPrecedes(_ x: Substring, _ y: Substring) -> Bool {
        let nx = isNumeric(x), ny = isNumeric(y)
        switch (nx, ny) {
        case (true, true):
            // Compare as integers without parsing (names may exceed Int): strip leading zeros,
            // then shorter is smaller, then digit order; ties ("1" vs "01") fall back to the text.
            let sx = x.drop { $0 == "0" }, sy = y.drop { $0 == "0" }
            if sx.count != sy.count { return sx.count < sy.count }
            if sx != sy { return sx.utf8.lexicographicallyPrecedes(sy.utf8) }
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        case (true, false): return true
        case (false, true): return false
        case (false, false): return x.utf8.lexicographicallyPrecedes(y.utf8)
        }
    }

    static func isNumeric(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}
