// Optimizers against updates stepped by hand in plain Swift (no Fluxion), over several steps
// with gradients that change between steps; schedules against their closed forms.

import Foundation
import Testing
import Fluxion
import FluxionNN

/// Runs `steps` steps of `optimizer` on L(θ) = Σ (θ·c + ½θ²): ∇ = c + θ, changing each step.
private func run(_ optimizer: Optimizer, _ theta: Tensor, steps: Int, c: [Double]) throws -> [[Double]] {
    var trajectory: [[Double]] = []
    let coefficients = Tensor(NDArray(c, dtype: .float64))
    for _ in 0..<steps {
        optimizer.zeroGrad()
        try (theta * coefficients + 0.5 * theta * theta).sum().backward()
        optimizer.step()
        trajectory.append(try theta.detach().doubles())
    }
    return trajectory
}

/// The same gradients in plain Swift.
private func gradient(_ theta: [Double], _ c: [Double]) -> [Double] { zip(theta, c).map { $1 + $0 } }

@Suite("Optimizers and schedules")
struct OptimizerTests {
    let start = [1.0, -2.0, 0.5]
    let c = [0.5, -1.0, 3.0]

    func parameter() throws -> Tensor { try Tensor(NDArray(start, dtype: .float64), requiresGrad: true) }

    @Test("SGD: plain, momentum, Nesterov, dampening, weight decay", arguments: [
        (0.0, 0.0, 0.0, false), (0.9, 0.0, 0.0, false), (0.9, 0.0, 0.1, true), (0.8, 0.3, 0.05, false),
    ])
    func sgd(_ settings: (Double, Double, Double, Bool)) throws {
        let (mu, dampening, decay, nesterov) = settings
        let theta = try parameter()
        let lr = 0.1
        let got = try run(SGD([theta], lr: lr, momentum: mu, dampening: dampening, weightDecay: decay, nesterov: nesterov),
                          theta, steps: 4, c: c)
        var x = start
        var velocity: [Double]?
        for step in 0..<4 {
            var g = gradient(x, c)
            g = zip(g, x).map { $0 + decay * $1 }
            if mu != 0 {
                let v = velocity.map { zip($0, g).map { mu * $0 + (1 - dampening) * $1 } } ?? g
                velocity = v
                g = nesterov ? zip(g, v).map { $0 + mu * $1 } : v
            }
            x = zip(x, g).map { $0 - lr * $1 }
            expectClose(got[step], x, rtol: 1e-12, atol: 1e-14, "step \(step + 1)")
        }
        #expect(theta.requiresGrad && theta.isLeaf && theta.version == 4)
    }

    @Test("Adam: bias-corrected moments; the first step moves each coordinate by lr·sign(g)")
    func adam() throws {
        let theta = try parameter()
        let (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-8)
        let got = try run(Adam([theta], lr: lr), theta, steps: 5, c: c)
        // Bias correction makes the first step ≈ lr in magnitude, whatever the gradient's scale.
        let g0 = gradient(start, c)
        expectClose(got[0], zip(start, g0).map { $0 - lr * ($1 > 0 ? 1 : -1) }, rtol: 1e-6, atol: 1e-9, "first step")
        var x = start, m = [0.0, 0, 0], v = [0.0, 0, 0]
        for t in 1...5 {
            let g = gradient(x, c)
            m = zip(m, g).map { b1 * $0 + (1 - b1) * $1 }
            v = zip(v, g).map { b2 * $0 + (1 - b2) * $1 * $1 }
            let mHat = m.map { $0 / (1 - Foundation.pow(b1, Double(t))) }, vHat = v.map { $0 / (1 - Foundation.pow(b2, Double(t))) }
            x = (0..<3).map { x[$0] - lr * mHat[$0] / (vHat[$0].squareRoot() + eps) }
            expectClose(got[t - 1], x, rtol: 1e-12, atol: 1e-14, "step \(t)")
        }
    }

    @Test("Adam with L2 weight decay and AMSGrad; AdamW's decoupled decay")
    func adamVariants() throws {
        let (lr, b1, b2, eps, decay) = (0.05, 0.8, 0.99, 1e-8, 0.1)
        for (name, decoupled, amsgrad) in [("Adam+L2+AMSGrad", false, true), ("AdamW", true, false), ("AdamW+AMSGrad", true, true)] {
            let theta = try parameter()
            let optimizer: Optimizer = decoupled
                ? AdamW([theta], lr: lr, betas: (b1, b2), eps: eps, weightDecay: decay, amsgrad: amsgrad)
                : Adam([theta], lr: lr, betas: (b1, b2), eps: eps, weightDecay: decay, amsgrad: amsgrad)
            let got = try run(optimizer, theta, steps: 4, c: c)
            var x = start, m = [0.0, 0, 0], v = [0.0, 0, 0], vMax = [0.0, 0, 0]
            for t in 1...4 {
                var g = gradient(x, c)
                if decoupled { x = x.map { $0 * (1 - lr * decay) } } else { g = zip(g, x).map { $0 + decay * $1 } }
                m = zip(m, g).map { b1 * $0 + (1 - b1) * $1 }
                v = zip(v, g).map { b2 * $0 + (1 - b2) * $1 * $1 }
                vMax = zip(vMax, v).map { Swift.max($0, $1) }
                let used = amsgrad ? vMax : v
                let c1 = 1 - Foundation.pow(b1, Double(t)), c2 = 1 - Foundation.pow(b2, Double(t))
                x = (0..<3).map { x[$0] - lr * (m[$0] / c1) / ((used[$0] / c2).squareRoot() + eps) }
                expectClose(got[t - 1], x, rtol: 1e-12, atol: 1e-14, "\(name), step \(t)")
            }
        }
    }

    @Test("parameters without a gradient are skipped; zeroGrad both ways")
    func skippingAndZeroing() throws {
        let used = try parameter(), unused = try parameter()
        let optimizer = SGD([used, unused], lr: 0.5, momentum: 0.9)
        try (used * 2).sum().backward()
        optimizer.step()
        #expect(try used.detach().doubles() == start.map { $0 - 1 })
        #expect(try unused.detach().doubles() == start && unused.version == 0)
        optimizer.zeroGrad(setToNone: false)
        #expect(try used.grad?.doubles() == [0, 0, 0])
        #expect(unused.grad == nil)
        optimizer.zeroGrad()
        #expect(used.grad == nil)
        // The update is not recorded: the parameter stays a leaf of the next graph.
        #expect(used.isLeaf && used.gradFn == nil && used.requiresGrad)
    }

    @Test("StepLR and CosineAnnealingLR set the rate from their closed forms")
    func schedules() throws {
        let sgd = SGD([try parameter()], lr: 1)
        let step = StepLR(sgd, stepSize: 2, gamma: 0.5)
        var rates: [Double] = []
        for _ in 0..<5 {
            step.step()
            rates.append(step.lastLR)
        }
        #expect(rates == [1, 0.5, 0.5, 0.25, 0.25])

        let adam = Adam([try parameter()], lr: 1)
        let cosine = CosineAnnealingLR(adam, tMax: 4, etaMin: 0.1)
        var annealed: [Double] = []
        for _ in 0..<4 {
            cosine.step()
            annealed.append(adam.lr)
        }
        expectClose(annealed, (1...4).map { 0.1 + 0.9 * (1 + Foundation.cos(Double.pi * Double($0) / 4)) / 2 }, rtol: 1e-15)
        #expect(Swift.abs(annealed[3] - 0.1) < 1e-15)
    }

    @Test("clipGradNorm rescales gradients to the maximum joint norm")
    func clipping() throws {
        let a = try Tensor([3.0, 0.0], requiresGrad: true), b = try Tensor([4.0], requiresGrad: true)
        try ((a * a).sum() * 0.5 + (b * b).sum() * 0.5).backward()
        let norm = clipGradNorm([a, b], maxNorm: 1)
        #expect(Swift.abs(norm - 5) < 1e-6)
        expectClose(a.grad, [0.6, 0], rtol: 1e-5)
        expectClose(b.grad, [0.8], rtol: 1e-5)
    }
}
