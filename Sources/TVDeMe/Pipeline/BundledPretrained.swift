import Foundation

/// The committed pretrained digits checkpoint the main job starts from (made by `tvtool train`,
/// see fixtures/deme/README.md; the block-conditioned MLP, chosen by docs/deme.md's rule):
/// $TVTOOL_DEME_PRETRAINED, else fixtures/deme/pretrained-blocks.safetensors
/// in the current directory's repository or in the source checkout this binary was built from.
public enum BundledPretrained {
    public static let relativePath = "fixtures/deme/pretrained-blocks.safetensors"

    public static func path() -> String? {
        if let env = ProcessInfo.processInfo.environment["TVTOOL_DEME_PRETRAINED"] { return env }
        var candidates = [FileManager.default.currentDirectoryPath + "/" + relativePath]
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sourceRoot.appendingPathComponent(relativePath).path)
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
