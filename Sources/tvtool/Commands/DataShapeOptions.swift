import ArgumentParser
import TVTrainer

/// `--image-size` / `--resize`: how every command that reads `--data` shapes the images.
struct DataShapeOptions: ParsableArguments {
    @Option(help: "Image size S or WxH: checked, or the target of --resize.") var imageSize: String?
    @Flag(help: "Resize images to --image-size (Pillow BILINEAR on the shorter side, centre crop).") var resize = false

    func options() throws -> DataOptions {
        guard !resize || imageSize != nil else { throw ValidationError("--resize needs --image-size") }
        do { return DataOptions(imageSize: try imageSize.map(DataOptions.parseSize), resize: resize) } catch {
            throw ValidationError(error.description)
        }
    }

    func load(_ spec: String) throws -> ImageDataset { try DatasetLoader.load(spec, options: try options()) }
}
