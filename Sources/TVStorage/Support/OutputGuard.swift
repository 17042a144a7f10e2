#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The one check every writing command runs over ALL its outputs against ALL its inputs before
/// any work starts: an output must not be an input (same path after `.`/`..`/symlinks, or the
/// same file through a hard link), must not replace an existing file inside an input folder (a
/// new file there is fine: diffusers pipelines are written into folders), and two outputs must
/// not be one file. Refusing after hours of evaluations, or never, loses the user's data.
public enum OutputGuard {
    public static func check(outputs: [String], inputs: [String]) throws(StorageError) {
        let ins = inputs.map(Identity.init)
        var seen: [Identity] = []
        for output in outputs {
            let out = Identity(output)
            for inp in ins where out.sameFile(as: inp) || (out.exists && out.isInside(inp)) {
                throw .wouldOverwriteInput(path: output)
            }
            if seen.contains(where: { out.sameFile(as: $0) }) {
                throw .cannotWrite(path: output, reason: "given as two of this command's outputs")
            }
            seen.append(out)
        }
    }

    private struct Identity {
        let path: String
        let device: UInt64?
        let inode: UInt64?

        init(_ raw: String) {
            path = URL(fileURLWithPath: raw).standardizedFileURL.resolvingSymlinksInPath().path
            var st = stat()
            if stat(path, &st) == 0 { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) } else { device = nil; inode = nil }
        }

        var exists: Bool { inode != nil }

        func sameFile(as other: Identity) -> Bool {
            if path == other.path { return true }
            guard let device, let inode else { return false }
            return device == other.device && inode == other.inode
        }

        func isInside(_ folder: Identity) -> Bool {
            path.hasPrefix(folder.path.hasSuffix("/") ? folder.path : folder.path + "/")
        }
    }
}
