import Foundation

/// EMA of the parameters. Decay at optimiser step n (1-based): min(maxDecay, 1 - n^(-power)),
/// DeMe's schedule with maxDecay 0.9999 and power 3/4 by default; a fixed decay when power is nil.
public final class ExponentialMovingAverage {
    public struct Settings: Codable, Sendable, Equatable {
        public var maxDecay: Double
        public var power: Double?
        public init(maxDecay: Double = 0.9999, power: Double? = 0.75) {
            self.maxDecay = maxDecay
            self.power = power
        }
        public func decay(step n: Int) -> Double {
            guard let power else { return maxDecay }
            return min(maxDecay, 1 - pow(Double(max(n, 1)), -power))
        }
    }

    public let settings: Settings
    public let shadow: FloatBuffer

    public init(initial: FloatBuffer, settings: Settings = Settings()) {
        self.settings = settings
        shadow = FloatBuffer(count: initial.count)
        shadow.assign(initial)
    }

    /// shadow = d·shadow + (1 - d)·params, d = decay(step).
    public func update(from params: FloatBuffer, step: Int) {
        let d = Float(settings.decay(step: step))
        let s = shadow.pointer, p = params.pointer
        for i in 0..<shadow.count { s[i] = d * s[i] + (1 - d) * p[i] }
    }
}
