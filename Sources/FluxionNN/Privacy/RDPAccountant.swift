// Privacy accounting for DP-SGD: the Rényi differential privacy (RDP) of the Poisson-subsampled
// Gaussian mechanism, composed over steps and converted to (ε, δ).
//
// One step samples each example with probability q, clips each example's gradient to norm C and
// adds N(0, σ²C²) noise to their sum. Its RDP at order α > 1 is log(A_α)/(α − 1) (Mironov,
// Talwar and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019), with
//
//     A_α = Σₖ C(α, k)·(1 − q)^(α−k)·q^k·exp((k² − k)/(2σ²))        integer α,
//
// and for fractional α the two-sided series of Section 3.3 of that paper, with erfc terms. RDP
// adds up over steps; (ε, δ) follows from the bound of Balle et al. 2020 (Proposition 12 of
// "Hypothesis testing interpretations and Rényi differential privacy", also Canonne, Kamath and
// Steinke 2020):
//
//     ε = min over α of  RDP(α) + log(1 − 1/α) − log(δ·α)/(α − 1).
//
// Everything is computed in log space; the numbers agree with Google's `dp-accounting` (its
// `RdpAccountant`, add-or-remove-one neighbours) to about 1e-12 relative, which the tests check
// on a grid of sampling rates, noise multipliers and step counts.

import Foundation
import FluxionCore

/// Rényi-DP accounting of the Poisson-subsampled Gaussian mechanism (DP-SGD), as
/// `dp_accounting.rdp.RdpAccountant`.
public struct RDPAccountant: Sendable {
    /// The RDP orders α tracked: dp-accounting's defaults, 1.1, 1.2, …, 10.9, 11, 12, …, 63,
    /// 128, 256, 512, 1024.
    public static let defaultOrders: [Double] = {
        let fractional: [Double] = (1...99).map { 1 + Double($0) / 10 }
        let integral: [Double] = (11...63).map { Double($0) }
        return fractional + integral + [128, 256, 512, 1024]
    }()

    /// The orders tracked.
    public let orders: [Double]
    /// The RDP accumulated at each order.
    public private(set) var rdp: [Double]

    /// An accountant that has spent nothing, tracking `orders` (each > 1).
    public init(orders: [Double] = RDPAccountant.defaultOrders, file: StaticString = #fileID, line: UInt = #line) {
        if let bad = orders.first(where: { !($0 > 1) }) {
            fail("RDPAccountant", "order \(bad) is not above 1", fix: "track Rényi orders α > 1, such as RDPAccountant.defaultOrders",
                 file: file, line: line)
        }
        self.orders = orders
        rdp = orders.map { _ in 0 }
    }

    /// Accounts for `steps` steps of the Gaussian mechanism with noise multiplier σ (noise
    /// standard deviation over the clipping norm) on a Poisson sample of rate q of the data.
    public mutating func compose(noiseMultiplier sigma: Double, samplingRate q: Double, steps: Int = 1,
                                 file: StaticString = #fileID, line: UInt = #line) {
        guard q >= 0 && q <= 1, sigma >= 0, steps >= 0 else {
            fail("RDPAccountant.compose", "sampling rate \(q), noise multiplier \(sigma), steps \(steps)",
                 fix: "give a sampling rate in [0, 1], a noise multiplier ≥ 0 and a step count ≥ 0", file: file, line: line)
        }
        for (k, alpha) in orders.enumerated() {
            rdp[k] += Double(steps) * RDPAccountant.subsampledGaussianRDP(samplingRate: q, noiseMultiplier: sigma, order: alpha)
        }
    }

    /// The smallest ε over the tracked orders for which the steps so far are (ε, δ)-DP, and the
    /// order that gives it.
    public func epsilon(delta: Double, file: StaticString = #fileID, line: UInt = #line) -> (epsilon: Double, order: Double) {
        guard delta >= 0 && delta <= 1 else {
            fail("RDPAccountant.epsilon", "δ = \(delta) is outside [0, 1]", fix: "ask for a δ such as 1e-5 (below 1/n for n examples)",
                 file: file, line: line)
        }
        if delta == 0 { return rdp.allSatisfy { $0 == 0 } ? (0, 0) : (.infinity, 0) }
        var best = (epsilon: Double.infinity, order: orders[0])
        for (alpha, r) in zip(orders, rdp) {
            let epsilon: Double
            if r < 0 {
                epsilon = 0
            } else if delta * delta + Foundation.expm1(-r) > 0 {
                // δ ≥ √(1 − e^(−KL)): the divergence alone gives ε = 0.
                epsilon = 0
            } else if alpha > 1.01 {
                epsilon = r + Foundation.log1p(-1 / alpha) - Foundation.log(delta * alpha) / (alpha - 1)
            } else {
                epsilon = .infinity
            }
            if epsilon < best.epsilon { best = (epsilon, alpha) }
        }
        return (Swift.max(0, best.epsilon), best.order)
    }

    /// The RDP at order α of one step of the Gaussian mechanism with noise multiplier σ on a
    /// Poisson sample of rate q: log(A_α)/(α − 1); 0 for q = 0, α/(2σ²) for q = 1, ∞ for σ = 0.
    public static func subsampledGaussianRDP(samplingRate q: Double, noiseMultiplier sigma: Double, order alpha: Double) -> Double {
        if q == 0 { return 0 }
        if alpha.isInfinite || sigma == 0 { return .infinity }
        if q == 1 { return alpha / (2 * sigma * sigma) }
        let logA = alpha == alpha.rounded() ? logAInteger(q, sigma, Int(alpha)) : logAFractional(q, sigma, alpha)
        return logA / (alpha - 1)
    }

    /// log(e^x + e^y).
    static func logAdd(_ x: Double, _ y: Double) -> Double {
        let (a, b) = (Swift.min(x, y), Swift.max(x, y))
        if a == -.infinity { return b }
        return Foundation.log1p(Foundation.exp(a - b)) + b
    }

    /// log C(n, k) for real n, k.
    static func logBinomial(_ n: Double, _ k: Double) -> Double {
        Foundation.lgamma(n + 1) - Foundation.lgamma(k + 1) - Foundation.lgamma(n - k + 1)
    }

    /// log erfc(x), accurate where erfc(x) underflows (the asymptotic series of
    /// log(erfc(x)·x·√π) + x² beyond x = 25).
    static func logErfc(_ x: Double) -> Double {
        if x < 25 { return Foundation.log(Foundation.erfc(x)) }
        let x2 = x * x
        return -Foundation.log(Double.pi) / 2 - Foundation.log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2)
            - 37.0 / 24.0 / (x2 * x2 * x2) + 353.0 / 64.0 / (x2 * x2 * x2 * x2)
    }

    /// log A_α for integer α and 0 < q < 1.
    static func logAInteger(_ q: Double, _ sigma: Double, _ alpha: Int) -> Double {
        var logA = -Double.infinity
        let log1mq = Foundation.log1p(-q), logq = Foundation.log(q)
        for i in 0...alpha {
            let (k, a) = (Double(i), Double(alpha))
            let term = logBinomial(a, k) + k * logq + (a - k) * log1mq + (k * k - k) / (2 * sigma * sigma)
            logA = logAdd(logA, term)
        }
        return logA
    }

    /// log A_α for fractional α and 0 < q < 1: the integrals below and above z₀ =
    /// σ²·log(1/q − 1) + ½ as two series, summed until both terms fall 30 nats below the total
    /// (∞, excluding the order, if that takes more than 1,000 terms).
    static func logAFractional(_ q: Double, _ sigma: Double, _ alpha: Double) -> Double {
        var (logA0, logA1) = (-Double.infinity, -Double.infinity)
        let z0 = sigma * sigma * Foundation.log(1 / q - 1) + 0.5
        let log1mq = Foundation.log1p(-q), logq = Foundation.log(q)
        var (lastS0, lastS1) = (-Double.infinity, -Double.infinity)
        for step in 0..<1000 {
            let i = Double(step), j = alpha - i
            let logCoefficient = logBinomial(alpha, i)
            let logT0 = logCoefficient + i * logq + j * log1mq
            let logT1 = logCoefficient + j * logq + i * log1mq
            let logE0 = Foundation.log(0.5) + logErfc((i - z0) / (2.0.squareRoot() * sigma))
            let logE1 = Foundation.log(0.5) + logErfc((z0 - j) / (2.0.squareRoot() * sigma))
            let logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0
            let logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1
            logA0 = logAdd(logA0, logS0)
            logA1 = logAdd(logA1, logS1)
            let total = logAdd(logA0, logA1)
            if logS0 < lastS0 && logS1 < lastS1 && Swift.max(logS0, logS1) < total - 30 { return total }
            (lastS0, lastS1) = (logS0, logS1)
        }
        return .infinity
    }
}
