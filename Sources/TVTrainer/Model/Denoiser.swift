/// Anything that predicts the noise eps in x_t: a single model, or DeMe's ensemble that routes
/// each timestep to the model finetuned for its range. Samplers and evaluators take this, so an
/// ensemble plugs in wherever a model does.
///
/// Implementations may keep scratch buffers: use one instance per thread.
public protocol Denoiser: AnyObject {
    /// Values per sample (channels × height × width).
    var dataDimension: Int { get }
    /// x is [batch, dataDimension] row-major with batch = t.count; returns eps of the same shape.
    func predictEpsilon(x: [Float], t: [Int]) -> [Float]
    /// The most samples one `predictEpsilon` call should take in evaluation and sampling (bounds
    /// the activation memory of large models; part of what fixes the results).
    var evaluationBatchSize: Int { get }
}

extension Denoiser {
    public var evaluationBatchSize: Int { 512 }
}
