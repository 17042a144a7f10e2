/// The training objective, written out with its gradient:
///
///     L = mse(out, eps) + w_c · mse(out, teacher)
///     dL/dout = 2 (out - eps) / n + 2 w_c (out - teacher) / n      (n = elements in the batch)
///
/// The second term is DeMe's consistency loss against a frozen teacher evaluated on the same
/// x_t and t; with no teacher (or w_c = 0) it is plain DDPM epsilon-MSE.
public enum DiffusionLoss {
    public struct Value: Sendable, Equatable {
        public var total: Double
        public var epsilonMSE: Double
        public var consistencyMSE: Double
    }

    public static func evaluate(out: UnsafePointer<Float>, eps: UnsafePointer<Float>, teacher: UnsafePointer<Float>?,
                                consistencyWeight: Float, count n: Int,
                                gradient: UnsafeMutablePointer<Float>?) -> Value {
        var mse = 0.0, cons = 0.0
        let scale = 2 / Float(n)
        for i in 0..<n {
            let r = out[i] - eps[i]
            mse += Double(r * r)
            var gi = scale * r
            if let teacher {
                let c = out[i] - teacher[i]
                cons += Double(c * c)
                gi += scale * consistencyWeight * c
            }
            gradient?[i] = gi
        }
        mse /= Double(n)
        cons /= Double(n)
        let total = mse + (teacher == nil ? 0 : Double(consistencyWeight) * cons)
        return Value(total: total, epsilonMSE: mse, consistencyMSE: teacher == nil ? 0 : cons)
    }
}
