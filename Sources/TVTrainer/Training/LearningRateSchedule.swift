import Foundation

/// Learning rate over optimiser steps: linear warm-up from 0, then constant or cosine decay.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Shape: String, Codable, Sendable, CaseIterable { case constant, cosine }
    public var shape: Shape
    public var warmupSteps: Int
    /// Total steps (the cosine reaches `minimumFactor × peak` here).
    public var totalSteps: Int
    public var minimumFactor: Float

    public init(shape: Shape = .constant, warmupSteps: Int = 0, totalSteps: Int = 1, minimumFactor: Float = 0) {
        self.shape = shape
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumFactor = minimumFactor
    }

    /// Learning rate for 1-based optimiser step n.
    public func rate(peak: Float, step n: Int) -> Float {
        if warmupSteps > 0 && n <= warmupSteps { return peak * Float(n) / Float(warmupSteps) }
        switch shape {
        case .constant: return peak
        case .cosine:
            let span = max(totalSteps - warmupSteps, 1)
            let progress = min(Double(n - warmupSteps) / Double(span), 1)
            let f = Double(minimumFactor) + (1 - Double(minimumFactor)) * 0.5 * (1 + cos(Double.pi * progress))
            return peak * Float(f)
        }
    }
}
