/// Fitting a model config to the data it trains on.
extension ImageDataset {
    /// The config for training on this data. The MLP takes the data's shape. A UNet's settings
    /// with sample_size / in_channels / out_channels 0 take them from the data (square images);
    /// set values (e.g. from a diffusers config.json) must match the data, else a bad-data error
    /// naming both shapes. num_train_timesteps, when set, is the trainer's number of timesteps.
    public func fittedConfig(_ base: ModelConfig) throws(TrainerError) -> ModelConfig {
        guard base.architecture == UNet2DModel.architecture else { return modelConfig(base) }
        guard var u = base.unet else {
            throw .badArgument("--model unet needs UNet settings (--config FILE or --block-out-channels …)")
        }
        if u.sampleSize == 0 {
            guard height == width else {
                throw .badData(source: source, reason: "images are \(width)×\(height); a UNet needs square images (--image-size S --resize)")
            }
            u.sampleSize = height
        }
        if u.inChannels == 0 { u.inChannels = channels }
        if u.outChannels == 0 { u.outChannels = u.inChannels }
        guard u.sampleSize == height, u.sampleSize == width, u.inChannels == channels, u.outChannels == channels else {
            throw .badData(source: source, reason: "images are \(channels)×\(height)×\(width) (C×H×W), but the UNet config has in_channels \(u.inChannels), out_channels \(u.outChannels), sample_size \(u.sampleSize)")
        }
        var c = modelConfig(base)
        if let t = u.numTrainTimesteps { c.timesteps = t } else { u.numTrainTimesteps = c.timesteps }
        // Projections from either place: --projections or a config.json's tvtool_channel_projections.
        c.projections = c.projections || u.channelProjections
        u.channelProjections = c.projections
        c.unet = u
        return c
    }
}
