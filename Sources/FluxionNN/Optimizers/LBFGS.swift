// L-BFGS with an optional strong-Wolfe line search, as `torch.optim.LBFGS` (itself after
// minFunc and Torch7's `lbfgs.lua` / `lswolfe.lua`), in two forms over one implementation:
// `LBFGSState`, a value threaded through steps of a value-and-gradient function of a tree of
// arrays (optax / jaxopt style), and `LBFGS`, the optimizer over tensors whose step takes a
// closure. Both flatten their arrays into one vector x and run the same iterations on it:
//
// ```
// d₀ = −g₀,  t₀ = min(1, 1/‖g₀‖₁)·η                                     (first iteration)
// sₖ = tₖ·dₖ,  yₖ = gₖ₊₁ − gₖ;  the pair is kept only if yₖᵀsₖ > 1e-10  (curvature)
// γ = yᵀs / yᵀy  of the newest kept pair                               (H₀ = γ·I)
// dₖ = −Hₖ·gₖ  by the two-loop recursion over the last m pairs:
//     q = −g;  for i newest → oldest: αᵢ = ρᵢ·sᵢᵀq,  q ← q − αᵢ·yᵢ      (ρᵢ = 1/yᵢᵀsᵢ)
//     r = γ·q;  for i oldest → newest: βᵢ = ρᵢ·yᵢᵀr,  r ← r + (αᵢ − βᵢ)·sᵢ
// tₖ = η, or the strong-Wolfe step from η; xₖ₊₁ = xₖ + tₖ·dₖ
// ```
//
// The strong-Wolfe search looks for t with
//
// ```
// φ(t) ≤ φ(0) + c₁·t·φ′(0)    and    |φ′(t)| ≤ −c₂·φ′(0),     φ(t) = f(x + t·d),  c₁ = 1e-4, c₂ = 0.9
// ```
//
// by bracketing (extrapolating by cubic interpolation within [t + 0.01·(t − t₋₁), 10·t]), then
// zooming (cubic interpolation inside the bracket, moved to 10% of its width from an end when
// it lands too close twice), at most max(maxEval − evaluations so far, 0) trials after the
// first; it stops when the bracket is narrower than 1e-9 / max|d| (PyTorch's line search has
// its own fixed 1e-9 here, not `toleranceChange`).
//
// PyTorch's choices are kept exactly, so that iterates agree with it to rounding: one step
// runs up to `maxIter` iterations and `maxEval` evaluations; it stops when max|g| ≤
// `toleranceGrad`, when the directional derivative gᵀd > −`toleranceChange`, when
// max|t·d| ≤ `toleranceChange` or |fₖ₊₁ − fₖ| < `toleranceChange`; the bracketing phase
// tests φ(t) ≥ φ(t₋₁) only from its third trial; without a line search the last iteration of
// a step does not evaluate its new point. Memory (pairs, direction, step length) carries over
// from one step to the next, so a step with `maxIter` 1 is one iteration of a longer run.
//
// Vectors keep the parameters' dtype (float32 or float64); the scalars — values, inner
// products, step lengths — are Double. Left out: PyTorch's `maximize` flag (negate the
// objective), complex parameters, and line searches other than strong Wolfe.

import Fluxion
import FluxionCore

/// The line search L-BFGS runs along each direction (`line_search_fn`); nil takes the fixed
/// step `lr`.
public enum LBFGSLineSearch: Sendable {
    /// Cubic-interpolation search for a step satisfying the strong Wolfe conditions with
    /// c₁ = 1e-4, c₂ = 0.9 (`"strong_wolfe"`).
    case strongWolfe
}

/// L-BFGS's settings and its memory between steps, for minimising a function of a tree of
/// arrays (optax / jaxopt style; the `LBFGS` optimizer keeps one of these for its tensors):
///
/// ```swift
/// var solver = LBFGSState(lineSearch: .strongWolfe)
/// let objective = jit(valueAndGrad(loss))
/// for _ in 0..<5 { (params, _) = try solver.step(params, objective: objective) }
/// ```
///
/// Vectors held here (`parameterChanges`, `gradientChanges`, `direction`) are flat: the
/// leaves of the tree, each flattened in row-major order, one after the other.
public struct LBFGSState {
    /// The step length η: the fixed step without a line search, the first trial with one.
    public var lr: Double
    /// The most iterations one `step` runs.
    public let maxIter: Int
    /// The most function evaluations one `step` runs (it may go over by the last line search's
    /// first trial, as PyTorch's does).
    public let maxEval: Int
    /// A step stops when max|g| ≤ this.
    public let toleranceGrad: Double
    /// A step stops when gᵀd, max|t·d| or the change in value falls below this.
    public let toleranceChange: Double
    /// The number m of (s, y) pairs kept.
    public let historySize: Int
    /// The line search, or nil for the fixed step `lr`.
    public let lineSearch: LBFGSLineSearch?

    /// Iterations run over all steps (PyTorch's `n_iter`).
    public private(set) var iterations = 0
    /// Function evaluations over all steps (`func_evals`).
    public private(set) var evaluations = 0
    /// The kept steps sₖ = xₖ₊₁ − xₖ, oldest first (`old_stps`).
    public private(set) var parameterChanges: [NDArray] = []
    /// The kept gradient changes yₖ = gₖ₊₁ − gₖ, oldest first (`old_dirs`).
    public private(set) var gradientChanges: [NDArray] = []
    /// The last search direction d (nil before the first iteration).
    public private(set) var direction: NDArray?
    /// The last step length t (nil before the first iteration).
    public private(set) var stepLength: Double?
    /// γ = yᵀs / yᵀy of the newest kept pair, the initial inverse Hessian's scale (`H_diag`).
    public private(set) var inverseHessianScale = 1.0
    /// ρᵢ = 1 / yᵢᵀsᵢ for the kept pairs.
    private var curvatures: [Double] = []
    /// The gradient and value at the start of the last iteration.
    private var previousGradient: NDArray?
    private var previousValue: Double?

    /// Settings with PyTorch's defaults; `maxEval` defaults to ⌊maxIter·5/4⌋.
    public init(lr: Double = 1, maxIter: Int = 20, maxEval: Int? = nil, toleranceGrad: Double = 1e-7,
                toleranceChange: Double = 1e-9, historySize: Int = 100, lineSearch: LBFGSLineSearch? = nil,
                file: StaticString = #fileID, line: UInt = #line) {
        let maxEval = maxEval ?? maxIter * 5 / 4
        let problem: (String, String)? =
            !(lr >= 0) ? ("lr \(lr) is not a step length", "pass lr ≥ 0 (PyTorch's default is 1)")
            : maxIter < 1 ? ("maxIter \(maxIter) runs no iterations", "pass maxIter ≥ 1")
            : maxEval < 1 ? ("maxEval \(maxEval) allows no evaluations", "pass maxEval ≥ 1, or leave it nil for maxIter·5/4")
            : historySize < 1 ? ("historySize \(historySize) keeps no curvature pairs", "pass historySize ≥ 1")
            : nil
        if let problem { fail("LBFGS", problem.0, fix: problem.1, file: file, line: line) }
        self.lr = lr
        self.maxIter = maxIter
        self.maxEval = maxEval
        self.toleranceGrad = toleranceGrad
        self.toleranceChange = toleranceChange
        self.historySize = historySize
        self.lineSearch = lineSearch
    }

    /// Runs one step — up to `maxIter` iterations, as one `torch.optim.LBFGS.step` — from `x`,
    /// calling `objective` for the value and gradient at each point it tries.
    ///
    /// `objective` returns a one-element value and a gradient with `x`'s structure and shapes
    /// (`valueAndGrad(loss)`, or `jit(valueAndGrad(loss))`). All leaves must share one floating
    /// dtype.
    ///
    /// - Returns: the new point and the value at `x` (the value the step started from, as
    ///   PyTorch's `step` returns).
    public mutating func step<T: ArrayTree>(_ x: T, objective: (T) throws -> (value: NDArray, grad: T),
                                            file: StaticString = #fileID, line: UInt = #line) rethrows -> (x: T, value: NDArray) {
        let operation = "LBFGSState.step"
        let layout = FlatLayout(x.leaves, operation, file: file, line: line)
        func evaluate(_ point: T) throws -> (value: NDArray, flat: Evaluation) {
            let (value, gradient) = try objective(point)
            let g = gradient.leaves
            guard g.map(\.shape) == layout.shapes else {
                fail(operation, "the objective's gradient has shapes \(g.map { describe($0.shape) }) but the parameters have shapes \(layout.shapes.map(describe))",
                     fix: "return the gradient with respect to the point the objective was given, e.g. with valueAndGrad(loss)", file: file, line: line)
            }
            return (value, Evaluation(value: singleValue(value, from: "the objective", operation, file: file, line: line), gradient: layout.flatten(g)))
        }
        let start = try evaluate(x)
        let end = try iterate(from: layout.flatten(x.leaves), start: start.flat) { try evaluate(x.rebuilt(with: layout.unflatten($0))).flat }
        return (end.map { x.rebuilt(with: layout.unflatten($0)) } ?? x, start.value)
    }
}

// MARK: - The optimizer over tensors

/// L-BFGS over tensors (`torch.optim.LBFGS`): each `step` re-evaluates the loss through a
/// closure, as many times as its iterations and line searches need.
///
/// ```swift
/// let optimizer = LBFGS(model.parameters(), lineSearch: .strongWolfe)
/// try optimizer.step {
///     optimizer.zeroGrad()
///     let loss = mseLoss(model(x), y)
///     try loss.backward()
///     return loss
/// }
/// ```
///
/// The parameters are treated as one flat vector, in the order given; a parameter without a
/// gradient counts as a zero gradient. Settings and memory are `state`'s, the same
/// `LBFGSState` the functional form uses.
public final class LBFGS: Optimizer {
    public let parameters: [Tensor]
    /// The settings, the iteration and evaluation counts, the kept (s, y) pairs, and the last
    /// direction and step length.
    public private(set) var state: LBFGSState

    public var lr: Double {
        get { state.lr }
        set { state.lr = newValue }
    }

    /// An optimizer with PyTorch's defaults: lr 1, 20 iterations and ⌊20·5/4⌋ = 25 evaluations
    /// per step, tolerances 1e-7 on the gradient and 1e-9 on changes, 100 pairs, no line search.
    public init(_ parameters: [Tensor], lr: Double = 1, maxIter: Int = 20, maxEval: Int? = nil, toleranceGrad: Double = 1e-7,
                toleranceChange: Double = 1e-9, historySize: Int = 100, lineSearch: LBFGSLineSearch? = nil,
                file: StaticString = #fileID, line: UInt = #line) {
        self.parameters = parameters
        // Parameters of mixed or integer dtypes are a mistake made here, not at the first step.
        _ = FlatLayout(parameters.map(\.value), "LBFGS", file: file, line: line)
        state = LBFGSState(lr: lr, maxIter: maxIter, maxEval: maxEval, toleranceGrad: toleranceGrad, toleranceChange: toleranceChange,
                           historySize: historySize, lineSearch: lineSearch, file: file, line: line)
    }

    /// Runs one step: up to `maxIter` iterations, each evaluating the loss through `closure`,
    /// which must clear the gradients, compute the loss (one element), call `backward()` and
    /// return it. The closure runs with recording on, even inside `noGrad`.
    ///
    /// - Returns: the loss the first call of `closure` returned, at the parameters the step
    ///   started from (as PyTorch's).
    @discardableResult
    public func step(file: StaticString = #fileID, line: UInt = #line, _ closure: () throws -> Tensor) rethrows -> Tensor {
        let operation = "LBFGS.step"
        let layout = FlatLayout(parameters.map(\.value), operation, file: file, line: line)
        func evaluate() throws -> (loss: Tensor, flat: Evaluation) {
            let loss = try enableGrad(closure)
            let gradients = parameters.enumerated().map { i, p in
                gradient(of: p, at: i, in: "LBFGS")?.value ?? NDArray.zeros(p.shape, dtype: p.dtype)
            }
            return (loss, Evaluation(value: singleValue(loss.value, from: "the closure", operation, file: file, line: line), gradient: layout.flatten(gradients)))
        }
        let start = try evaluate()
        var state = self.state  // the closure may read `state` while the step runs
        let end = try state.iterate(from: layout.flatten(parameters.map(\.value)), start: start.flat) { point in
            write(point, layout)
            return try evaluate().flat
        }
        if let end { write(end, layout) }
        self.state = state
        return start.loss
    }

    /// Stops: L-BFGS evaluates the loss several times per step, so it needs `step(_:)` with a
    /// closure that recomputes it.
    public func step() {
        fail("LBFGS.step", "L-BFGS evaluates the loss several times per step, so step() without a closure cannot run it",
             fix: "call step { optimizer.zeroGrad(); let loss = …; try loss.backward(); return loss }", file: #fileID, line: #line)
    }

    /// Sets the parameters to the pieces of the flat vector `x`.
    private func write(_ x: NDArray, _ layout: FlatLayout) {
        for (p, value) in zip(parameters, layout.unflatten(x)) { update(p, to: value) }
    }
}

// MARK: - The iterations

/// A value and a flat gradient.
struct Evaluation {
    var value: Double
    var gradient: NDArray

    var pair: (Double, NDArray) { (value, gradient) }
}

extension LBFGSState {
    /// One step from the flat point `x0`, where the objective is `start` (the caller has
    /// evaluated it; counted here). Returns the new point, or nil when the step stopped where it
    /// started (as it does at once for an empty vector). A step that throws leaves the state as
    /// it was.
    mutating func iterate(from x0: NDArray, start: Evaluation, evaluate: (NDArray) throws -> Evaluation) rethrows -> NDArray? {
        var next = self
        let x = try next.iterateInPlace(from: x0, start: start, evaluate: evaluate)
        self = next
        return x
    }

    private mutating func iterateInPlace(from x0: NDArray, start: Evaluation, evaluate: (NDArray) throws -> Evaluation) rethrows -> NDArray? {
        guard x0.count > 0 else { return nil }
        var x = x0
        var (value, gradient) = (start.value, start.gradient)
        var evaluationsThisStep = 1
        evaluations += 1
        var optimal = maxAbs(gradient) <= toleranceGrad
        if optimal { return nil }

        var d = direction ?? gradient
        var t = stepLength ?? lr
        var moved = false
        for iteration in 1...maxIter {
            iterations += 1
            if iterations == 1 {
                d = -gradient
                parameterChanges = []
                gradientChanges = []
                curvatures = []
                inverseHessianScale = 1
            } else {
                remember(s: d * t, y: gradient - previousGradient!)
                d = twoLoop(gradient)
            }
            previousGradient = gradient
            previousValue = value

            t = iterations == 1 ? Swift.min(1, 1 / abs(gradient).sum().item()) * lr : lr
            let slope = inner(gradient, d)
            if slope > -toleranceChange { break }

            var newEvaluations = 0
            if lineSearch == .strongWolfe {
                let found = try strongWolfe(evaluate, x: x, t: t, d: d, value: value, gradient: gradient, slope: slope,
                                            maxEvaluations: maxEval - evaluationsThisStep)
                (value, gradient, t, newEvaluations) = (found.value, found.gradient, found.t, found.evaluations)
                x = x + t * d
                optimal = maxAbs(gradient) <= toleranceGrad
            } else {
                x = x + t * d
                if iteration != maxIter {
                    // The last iteration leaves its point unevaluated: the next step starts by
                    // evaluating it, and in a stochastic setting this one would be stale.
                    (value, gradient) = try evaluate(x).pair
                    optimal = maxAbs(gradient) <= toleranceGrad
                    newEvaluations = 1
                }
            }
            moved = true
            evaluationsThisStep += newEvaluations
            evaluations += newEvaluations

            if iteration == maxIter || evaluationsThisStep >= maxEval || optimal { break }
            if maxAbs(d * t) <= toleranceChange || Swift.abs(value - previousValue!) < toleranceChange { break }
        }
        direction = d
        stepLength = t
        return moved ? x : nil
    }

    /// Keeps the pair (s, y) if it has positive curvature yᵀs > 1e-10 — so that the update
    /// keeps H positive definite — dropping the oldest beyond `historySize`, and rescales H₀.
    private mutating func remember(s: NDArray, y: NDArray) {
        let ys = inner(y, s)
        guard ys > 1e-10 else { return }
        if gradientChanges.count == historySize {
            parameterChanges.removeFirst()
            gradientChanges.removeFirst()
            curvatures.removeFirst()
        }
        parameterChanges.append(s)
        gradientChanges.append(y)
        curvatures.append(1 / ys)
        inverseHessianScale = ys / inner(y, y)
    }

    /// −H·g by the two-loop recursion over the kept pairs, with H₀ = γ·I.
    private func twoLoop(_ gradient: NDArray) -> NDArray {
        let (s, y, rho) = (parameterChanges, gradientChanges, curvatures)
        var alpha = [Double](repeating: 0, count: s.count)
        var q = -gradient
        for i in s.indices.reversed() {
            alpha[i] = inner(s[i], q) * rho[i]
            q = q - alpha[i] * y[i]
        }
        var r = q * inverseHessianScale
        for i in s.indices {
            let beta = inner(y[i], r) * rho[i]
            r = r + (alpha[i] - beta) * s[i]
        }
        return r
    }
}

// MARK: - Strong-Wolfe line search

/// A trial step of the line search: t, φ(t), ∇f(x + t·d) and φ′(t) = ∇f(x + t·d)ᵀd.
private struct Trial {
    var t: Double
    var value: Double
    var gradient: NDArray
    var slope: Double
}

/// The step `lswolfe.lua` and PyTorch's `_strong_wolfe` find along `d` from `x`, starting at
/// `t`, with at most `maxEvaluations` evaluations after the first; the chosen step's value and
/// gradient, and the evaluations made.
private func strongWolfe(_ evaluate: (NDArray) throws -> Evaluation, x: NDArray, t initialStep: Double, d: NDArray,
                         value: Double, gradient: NDArray, slope: Double, maxEvaluations: Int,
                         c1: Double = 1e-4, c2: Double = 0.9, toleranceChange: Double = 1e-9)
    rethrows -> (value: Double, gradient: NDArray, t: Double, evaluations: Int) {
    let dNorm = maxAbs(d)
    func trial(_ t: Double) throws -> Trial {
        let (f, g) = try evaluate(x + t * d).pair
        return Trial(t: t, value: f, gradient: g, slope: inner(g, d))
    }
    let origin = Trial(t: 0, value: value, gradient: gradient, slope: slope)
    func sufficientDecrease(_ trial: Trial) -> Bool { trial.value <= value + c1 * trial.t * slope }
    func curvature(_ trial: Trial) -> Bool { Swift.abs(trial.slope) <= -c2 * slope }

    // Bracketing: grow t until [t₋₁, t] contains an acceptable step, or t is one.
    var current = try trial(initialStep)
    var evaluations = 1
    var previous = origin
    var bracket: [Trial] = []
    var done = false
    var searches = 0
    while searches < maxEvaluations {
        if !sufficientDecrease(current) || (searches > 1 && current.value >= previous.value) {
            bracket = [previous, current]
            break
        }
        if curvature(current) {
            bracket = [current]
            done = true
            break
        }
        if current.slope >= 0 {
            bracket = [previous, current]
            break
        }
        let t = cubicMinimum(previous, current, bounds: (current.t + 0.01 * (current.t - previous.t), current.t * 10))
        previous = current
        current = try trial(t)
        evaluations += 1
        searches += 1
    }
    if searches == maxEvaluations { bracket = [origin, current] }

    // Zoom: shrink the bracket around a step satisfying both conditions.
    var (low, high) = bracket[0].value <= bracket[bracket.count - 1].value ? (0, 1) : (1, 0)
    var insufficientProgress = false
    while !done && searches < maxEvaluations {
        if Swift.abs(bracket[1].t - bracket[0].t) * dNorm < toleranceChange { break }
        var t = cubicMinimum(bracket[0], bracket[1])
        // A trial at the bracket's end makes no progress: move it 10% of the width inside when
        // it lands there, or lands near an end twice in a row.
        let lo = Swift.min(bracket[0].t, bracket[1].t), hi = Swift.max(bracket[0].t, bracket[1].t)
        let margin = 0.1 * (hi - lo)
        if Swift.min(hi - t, t - lo) < margin {
            if insufficientProgress || t >= hi || t <= lo {
                t = Swift.abs(t - hi) < Swift.abs(t - lo) ? hi - margin : lo + margin
                insufficientProgress = false
            } else {
                insufficientProgress = true
            }
        } else {
            insufficientProgress = false
        }
        let next = try trial(t)
        evaluations += 1
        searches += 1
        if !sufficientDecrease(next) || next.value >= bracket[low].value {
            bracket[high] = next
            (low, high) = bracket[0].value <= bracket[1].value ? (0, 1) : (1, 0)
        } else {
            if curvature(next) {
                done = true
            } else if next.slope * (bracket[high].t - bracket[low].t) >= 0 {
                bracket[high] = bracket[low]
            }
            bracket[low] = next
        }
    }
    let chosen = bracket[low]
    return (chosen.value, chosen.gradient, chosen.t, evaluations)
}

/// The minimiser of the cubic through two trials' values and slopes, clamped to `bounds`
/// (default: between the two); the middle of `bounds` when the cubic has no minimum.
///
/// ```
/// d₁ = φ′₁ + φ′₂ − 3·(φ₁ − φ₂)/(t₁ − t₂),   d₂ = √(d₁² − φ′₁·φ′₂)
/// t = t₂ − (t₂ − t₁)·(φ′₂ + d₂ − d₁)/(φ′₂ − φ′₁ + 2·d₂)      (t₁ ≤ t₂; mirrored otherwise)
/// ```
private func cubicMinimum(_ a: Trial, _ b: Trial, bounds: (Double, Double)? = nil) -> Double {
    let (lo, hi) = bounds ?? (a.t <= b.t ? (a.t, b.t) : (b.t, a.t))
    let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.t - b.t)
    let d2Square = d1 * d1 - a.slope * b.slope
    guard d2Square >= 0 else { return (lo + hi) / 2 }
    let d2 = d2Square.squareRoot()
    let t = a.t <= b.t
        ? b.t - (b.t - a.t) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2))
        : a.t - (a.t - b.t) * ((a.slope + d2 - d1) / (a.slope - b.slope + 2 * d2))
    return Swift.min(Swift.max(t, lo), hi)
}

// MARK: - Flat vectors

/// ⟨a, b⟩ of two flat vectors.
private func inner(_ a: NDArray, _ b: NDArray) -> Double { dot(a, b).item() }

/// max |aᵢ| (0 for an empty vector).
private func maxAbs(_ a: NDArray) -> Double { a.count == 0 ? 0 : abs(a).max().item() }

/// The single element of the value `source` returned, stopping when it has more.
func singleValue(_ value: NDArray, from source: String, _ operation: String, file: StaticString, line: UInt) -> Double {
    guard value.count == 1 else {
        fail(operation, "\(source) returned a loss of shape \(describe(value.shape)); L-BFGS minimises a single number",
             fix: "return a scalar loss, e.g. with .sum() or .mean()", file: file, line: line)
    }
    return value.item()
}

/// How a list of arrays of one floating dtype lies in one flat vector.
struct FlatLayout {
    let shapes: [[Int]]
    let dtype: DType

    init(_ arrays: [NDArray], _ operation: String, file: StaticString, line: UInt) {
        shapes = arrays.map(\.shape)
        dtype = arrays.first?.dtype ?? .float32
        guard dtype.isFloatingPoint, arrays.allSatisfy({ $0.dtype == dtype }) else {
            fail(operation, "L-BFGS needs parameters of one floating dtype, got \(arrays.map { "\($0.dtype)" })",
                 fix: "convert every parameter to float32, or every one to float64", file: file, line: line)
        }
    }

    /// The arrays one after the other, each in row-major order (an empty vector for none).
    func flatten(_ arrays: [NDArray]) -> NDArray {
        arrays.isEmpty ? NDArray.zeros([0], dtype: dtype) : concat(arrays.map { $0.to(dtype).reshape([-1]) })
    }

    /// The arrays `flatten` made `flat` from.
    func unflatten(_ flat: NDArray) -> [NDArray] {
        zip(flat.split(sizes: shapes.map { $0.reduce(1, *) }), shapes).map { $0.reshape($1) }
    }
}
