/// What to do with tensors that some inputs lack.
public enum KeyPolicy: String, Sendable, CaseIterable, Codable {
    /// Any tensor missing from any input is an error (the default: never merge silently).
    case error
    /// Only tensors every input has; the others are left out of the output and reported.
    case intersection
    /// Every tensor of any input. A model lacking a tensor contributes a zero task vector there;
    /// a tensor the base lacks is copied from the first finetuned checkpoint that has it (left out,
    /// with a report, when the inputs are task vectors).
    case union
}

/// What to do when a model's tensor has another shape, or a non-float dtype where the base has a
/// float one (different float dtypes, e.g. F16 base and BF16 model, are fine: all compute is F32/F64).
public enum MismatchPolicy: String, Sendable, CaseIterable, Codable {
    /// Stop with an error naming the tensor and file (default).
    case error
    /// Keep the base's value for that tensor and report it.
    case skip
}

/// What a tensor the base lacks but the models have (DeMe's projection layers: the finetunes add
/// them, the pretrained UNet has none) is measured against.
public enum MissingInBasePolicy: String, Sendable, CaseIterable, Codable {
    /// Such a tensor follows `--keys` (default: an error).
    case error
    /// The base is the identity: a square 2-D or 1×1-conv weight ([C,C] or [C,C,1,1]), so the task
    /// vector is W − I (an identity-initialised projection). Other shapes are an error.
    case identity
    /// The base is zero: the task vector is W itself.
    case zero
}
