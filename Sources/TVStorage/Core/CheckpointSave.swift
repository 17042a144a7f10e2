extension Checkpoints {
    /// Writes a whole checkpoint from tensors already in memory (format from the extension):
    /// create, write each in order, finish; on any error the writer is aborted, so no partial
    /// file is left behind.
    public static func save(_ tensors: [(String, Tensor)], to path: String, metadata: [String: String],
                            options: CreateOptions = CreateOptions()) throws {
        let writer = try create(path, tensors: tensors.map { $0.1.info(name: $0.0) }, metadata: metadata, options: options)
        do {
            for (name, t) in tensors { try writer.write(t, named: name) }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
    }
}
