// Learning-rate schedules (`torch.optim.lr_scheduler`): each sets its optimizer's `lr` from
// the optimizer's initial rate and the number of `step()` calls so far (epochs, usually).
//
// ```
// StepLR             η_t = η₀ · γ^⌊t / stepSize⌋
// CosineAnnealingLR  η_t = η_min + (η₀ − η_min) · (1 + cos(π·t / T_max)) / 2
// ```

import FluxionCore
import Foundation

/// A schedule for an optimizer's learning rate.
public protocol LRScheduler: AnyObject {
    /// Advances one epoch and sets the optimizer's learning rate.
    func step()
    /// The learning rate last set.
    var lastLR: Double { get }
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs (`StepLR`).
public final class StepLR: LRScheduler {
    /// The optimizer whose `lr` the schedule sets.
    public let optimizer: Optimizer
    /// The number of epochs between decays.
    public let stepSize: Int
    /// γ: the factor applied every `stepSize` epochs.
    public let gamma: Double
    /// η₀: the optimizer's learning rate when the schedule was made.
    public let baseLR: Double
    /// The number of `step()` calls so far.
    public private(set) var epoch = 0

    /// A schedule η_t = η₀·γ^⌊t / stepSize⌋ from the optimizer's current rate; stops for a
    /// `stepSize` below 1.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1, file: StaticString = #fileID, line: UInt = #line) {
        guard stepSize > 0 else {
            fail("StepLR", "stepSize is \(stepSize), but the rate decays every stepSize epochs", fix: "pass a stepSize of at least 1", file: file, line: line)
        }
        self.optimizer = optimizer
        self.stepSize = stepSize
        self.gamma = gamma
        baseLR = optimizer.lr
    }

    public var lastLR: Double { optimizer.lr }

    public func step() {
        epoch += 1
        optimizer.lr = baseLR * Foundation.pow(gamma, Double(epoch / stepSize))
    }
}

/// Anneals the learning rate from its initial value to `etaMin` along half a cosine over
/// `tMax` epochs (`CosineAnnealingLR`, its closed form; past `tMax` it rises again as the
/// cosine does).
public final class CosineAnnealingLR: LRScheduler {
    /// The optimizer whose `lr` the schedule sets.
    public let optimizer: Optimizer
    /// T_max: the epochs from η₀ down to `etaMin`.
    public let tMax: Int
    /// η_min: the rate at epoch `tMax`.
    public let etaMin: Double
    /// η₀: the optimizer's learning rate when the schedule was made.
    public let baseLR: Double
    /// The number of `step()` calls so far.
    public private(set) var epoch = 0

    /// A schedule η_t = η_min + (η₀ − η_min)·(1 + cos(π·t / T_max)) / 2 from the optimizer's
    /// current rate; stops for a `tMax` below 1.
    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0, file: StaticString = #fileID, line: UInt = #line) {
        guard tMax > 0 else {
            fail("CosineAnnealingLR", "tMax is \(tMax), but the cosine spans tMax epochs", fix: "pass a tMax of at least 1", file: file, line: line)
        }
        self.optimizer = optimizer
        self.tMax = tMax
        self.etaMin = etaMin
        baseLR = optimizer.lr
    }

    public var lastLR: Double { optimizer.lr }

    public func step() {
        epoch += 1
        optimizer.lr = etaMin + (baseLR - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
    }
}
