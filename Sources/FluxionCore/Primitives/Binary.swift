// Elementwise functions of two arrays with NumPy broadcasting, comparisons and selection.
// Operands arrive with one dtype (the array layer promotes); broadcasting happens inside the
// kernels by strides, so a broadcast operand is never materialised. Each primitive states its
// partial derivatives and the family applies them, unbroadcasting cotangents to each operand;
// addition and subtraction are linear, and logic has zero derivative.
//
// Conventions: maximum and minimum split the gradient equally between tied operands, as
// PyTorch does (a NaN operand takes the whole derivative, as in PyTorch); d(aᵇ)/db is taken
// as 0 where a = 0 and b ≥ 0, and d(aᵇ)/da as 0 where b = 0, as PyTorch's rules mask them;
// atan2's partials are 0 at the origin. Division, pow and atan2 multiply (co)tangents with strong
// zeros (Tangents.swift).
//
// Taylor coefficients (`jet`): sums are linear, products take the Leibniz rule (Bilinear),
// maximum and minimum pass each coefficient through their shares, division solves b·y = a
// order by order; pow and atan2 take theirs from their jvp rules.

import FluxionKernels

/// An elementwise function of two broadcastable arrays of one dtype: its kernel function,
/// evaluation and batch rule. The derivative rules come from `BinaryWithPartials`, from
/// `PiecewiseConstant`, or from the primitive itself.
public protocol BinaryElementwise: BinaryPrimitive {
    /// The kernel function the primitive evaluates.
    var function: BinaryFunction { get }
}

extension BinaryElementwise {
    public var name: String { "\(function)" }

    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.binary(function, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let aligned = alignElementwise(inputs, axes)
        return ([bind(self, aligned[0], aligned[1])], [0])
    }
}

/// An elementwise function whose rules in both modes are the chain rule with its partial
/// derivatives; cotangents are unbroadcast to each operand's shape.
public protocol BinaryWithPartials: BinaryElementwise {
    /// ∂out/∂a and ∂out/∂b elementwise (broadcastable to the output).
    func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray)
    /// Whether a partial can be infinite or undefined at the edge of the domain: the chain
    /// rule then multiplies with strong zeros (Tangents.swift).
    var partialsMayBeInfinite: Bool { get }
}

extension BinaryWithPartials {
    public var partialsMayBeInfinite: Bool { false }

    /// `t · partial`, with strong zeros where a partial may be infinite.
    func chain(_ t: NDArray, _ partial: NDArray) -> NDArray {
        partialsMayBeInfinite ? mulStrongZero(t, partial) : t * partial
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents[0] != nil || tangents[1] != nil else { return [nil] }
        let (da, db) = partials(primals[0], primals[1], outputs[0])
        var t: NDArray?
        if let ta = tangents[0] { t = chain(ta, da) }
        if let tb = tangents[1] { t = addTangents(t, chain(tb, db)) }
        return [t.map { $0.broadcast(to: outputs[0].shape) }]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        let (da, db) = partials(primals[0], primals[1], outputs[0])
        return [
            needs[0] ? chain(ct, da).unbroadcast(to: primals[0].shape) : nil,
            needs[1] ? chain(ct, db).unbroadcast(to: primals[1].shape) : nil,
        ]
    }
}

// MARK: - Arithmetic

/// a + b, broadcast. Linear: its tangent is the sum of the tangents, and its cotangent goes to
/// each operand summed down to that operand's shape (unbroadcast).
public struct Add: BinaryElementwise, LinearPrimitive {
    public var function: BinaryFunction { .add }
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        [addTangents(tangents[0], tangents[1]).map { $0.broadcast(to: outputs[0].shape) }]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [needs[0] ? ct.unbroadcast(to: primals[0].shape) : nil, needs[1] ? ct.unbroadcast(to: primals[1].shape) : nil]
    }
}

/// a − b, broadcast. Linear: tangent t_a − t_b; cotangents ct and −ct, each unbroadcast.
public struct Sub: BinaryElementwise, LinearPrimitive {
    public var function: BinaryFunction { .sub }
    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        [addTangents(tangents[0], tangents[1].map { -$0 }).map { $0.broadcast(to: outputs[0].shape) }]
    }
    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil] }
        return [needs[0] ? ct.unbroadcast(to: primals[0].shape) : nil, needs[1] ? (-ct).unbroadcast(to: primals[1].shape) : nil]
    }
}

/// a · b, broadcast. Bilinear, with partials (b, a):
/// ```
/// d(a·b) = b·da + a·db
/// ```
/// so its second-order term is 2·Σᵢ f(aᵢ, bᵢ) and its Taylor rule the Leibniz product rule.
public struct Mul: BinaryWithPartials, Bilinear {
    public var function: BinaryFunction { .mul }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) { (b, a) }
}

/// a · b with 0 wherever a factor is 0, even when the other is ±∞ or NaN: the product the
/// chain rule uses. Its partials (b, a) are applied with itself, so its derivatives of every
/// order keep the convention.
public struct MulStrongZero: BinaryWithPartials, Bilinear {
    public var function: BinaryFunction { .mulStrongZero }
    public var partialsMayBeInfinite: Bool { true }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) { (b, a) }
}

/// a / b, broadcast, with partials
/// ```
/// ∂/∂a = 1/b,   ∂/∂b = −a/b² = −y/b
/// ```
/// applied with strong zeros (b may be 0); states its own second-order and Taylor rules.
public struct Div: BinaryWithPartials {
    public var function: BinaryFunction { .div }
    public var partialsMayBeInfinite: Bool { true }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) { (1 / b, -(out / b)) }
    /// With y = a/b: ∂²y/∂a² = 0, ∂²y/∂a∂b = −1/b², ∂²y/∂b² = 2y/b², so along (α, β)
    /// D²y[(α, β), (α, β)] = (2/b²)·β·(y·β − α).
    public func secondOrder(_ primals: [NDArray], outputs: [NDArray], directions: [NDArray?], summed: Bool) -> [NDArray?] {
        guard let beta = directions[1] else { return [nil] }
        let (b, y) = (primals[1], outputs[0])
        let scale = 2 / (b * b)
        let terms: NDArray
        if let alpha = directions[0] {
            terms = alongEachDirection([alpha, beta]) { v in [mulStrongZero(scale, v[1] * (y * v[1] - v[0]))] }[0]
        } else {
            terms = alongEachDirection([beta]) { v in [mulStrongZero(scale, v[0] * (y * v[0]))] }[0]
        }
        return [summed ? terms.sum(dim: 0) : terms]
    }
    /// b·y = a differentiated k times: Σᵢ C(k, i)·bᵢ·yₖ₋ᵢ = aₖ, so
    /// yₖ = (aₖ − Σᵢ C(k, i)·bᵢ·yₖ₋ᵢ for i = 1…k) · (1/b₀), with strong zeros as the jvp rule.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let order = seriesOrder(series) else { return [nil] }
        let a = withPrimal(primals[0], series[0], order: order), b = withPrimal(primals[1], series[1], order: order)
        let reciprocal = 1 / primals[1]
        var y: [NDArray?] = [outputs[0]]
        for k in 1..<(order + 1) {
            y.append(subtractTangents(a[k], leibnizSum(k, b, y, from: 1, through: k)).map { mulStrongZero($0, reciprocal) })
        }
        return [Array(y.dropFirst())]
    }
}

/// aᵇ, broadcast, with partials
/// ```
/// ∂/∂a = b·aᵇ⁻¹,   ∂/∂b = aᵇ·log a
/// ```
/// ∂/∂b taken as 0 where a = 0 and b ≥ 0 (its limit as a → 0⁺), without a NaN in either branch.
public struct Pow: BinaryWithPartials {
    public var function: BinaryFunction { .pow }
    public var partialsMayBeInfinite: Bool { true }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) {
        // ∂/∂b = aᵇ·log a, taken as 0 where a = 0 and b ≥ 0 (its limit along a → 0⁺), with the
        // logarithm of the masked elements taken at 1 so that no branch of the mask holds NaN.
        let masked = (a .== 0) .& (b .>= 0)
        let logA = log(NDArray.where(masked, NDArray.onesLike(a), a))
        return (mulStrongZero(b, a ** (b - 1)), NDArray.where(masked, NDArray.zerosLike(out), out * logA))
    }

    /// A constant exponent that is one known number p: `PowScalar`'s rule (products of series
    /// for integers, exact where a₀ = 0); any other constant exponent b: the power recurrence
    /// a·y′ = b·y·a′. A moving exponent: y = exp(b·log a), by the rules of log, the product and
    /// exp, which needs a₀ > 0 (elsewhere the derivative along b is not real).
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard seriesOrder(series) != nil else { return [nil] }
        let (a, b) = (primals[0], primals[1])
        guard let exponentSeries = series[1] else {
            if b.isConcrete, b.count <= 4096, let p = b.doubles.first, b.doubles.allSatisfy({ $0 == p }) {
                return PowScalar(exponent: p).taylor([a], outputs: outputs, series: [series[0]])
            }
            return powerTaylor(b, [a], outputs: outputs, series: [series[0]])
        }
        let logA = log(a)
        let logSeries = Log().taylor([a], outputs: [logA], series: [series[0]])[0]
        let productSeries = bilinearTaylor(Mul(), [b, logA], series: [exponentSeries, logSeries])
        return Exp().taylor([b * logA], outputs: outputs, series: productSeries)
    }
}

// MARK: - Extremes

/// The share of the derivative each operand of maximum (`larger`) or minimum takes: 1 for the
/// selected operand, ½ each at a tie, and 1 each where an operand is NaN (as PyTorch's rule,
/// which zeroes an operand only where the other is strictly better).
private func extremeShares(_ a: NDArray, _ b: NDArray, _ out: NDArray, larger: Bool) -> (NDArray, NDArray) {
    let tie = (a .== b).to(out.dtype) * 0.5
    let (aLoses, bLoses) = larger ? (a .< b, b .< a) : (a .> b, b .> a)
    return ((.!aLoses).to(out.dtype) - tie, (.!bLoses).to(out.dtype) - tie)
}

/// The larger of a and b, broadcast. Piecewise linear: the selected operand takes the derivative,
/// each takes half at a tie, and both take it where one is NaN (PyTorch's rule).
public struct Maximum: BinaryWithPartials, PiecewiseLinear {
    public var function: BinaryFunction { .maximum }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) {
        extremeShares(a, b, out, larger: true)
    }
}

/// The smaller of a and b, broadcast; derivatives shared as `Maximum`'s.
public struct Minimum: BinaryWithPartials, PiecewiseLinear {
    public var function: BinaryFunction { .minimum }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) {
        extremeShares(a, b, out, larger: false)
    }
}

// MARK: - Angles

/// atan2(y, x): ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²); both 0 at the origin, as PyTorch.
public struct Atan2: BinaryWithPartials {
    public var function: BinaryFunction { .atan2 }
    public var partialsMayBeInfinite: Bool { true }
    public func partials(_ a: NDArray, _ b: NDArray, _ out: NDArray) -> (NDArray, NDArray) {
        let r2 = a * a + b * b
        let origin = r2 .== 0
        let safe = NDArray.where(origin, NDArray.onesLike(r2), r2), zero = NDArray.zerosLike(r2)
        return (NDArray.where(origin, zero, b / safe), NDArray.where(origin, zero, -a / safe))
    }

    /// z = atan2(a, b) has z′ = (b·a′ − a·b′)/(a² + b²) =: q, so zₖ = qₖ₋₁: the numerator's
    /// and the denominator's series by the Leibniz rule (a′ has coefficients aₖ₊₁), and q's by
    /// division order by order, d₀qₖ = nₖ − Σᵢ C(k, i)·dᵢ·qₖ₋ᵢ (i = 1…k). Zero at the origin,
    /// as the jvp rule.
    public func taylor(_ primals: [NDArray], outputs: [NDArray], series: [[NDArray?]?]) -> [[NDArray?]?] {
        guard let order = seriesOrder(series) else { return [nil] }
        let a = withPrimal(primals[0], series[0], order: order), b = withPrimal(primals[1], series[1], order: order)
        let da = Array(a.dropFirst()), db = Array(b.dropFirst())
        let d0 = primals[0] * primals[0] + primals[1] * primals[1]
        let origin = d0 .== 0
        let reciprocal = NDArray.where(origin, NDArray.zerosLike(d0), 1 / NDArray.where(origin, NDArray.onesLike(d0), d0))
        let d = (0..<order).map { k in k == 0 ? d0 : addTangents(squareSum(k, a), squareSum(k, b)) }
        var q: [NDArray?] = []
        for k in 0..<order {
            let n = subtractTangents(leibnizSum(k, b, da, from: 0, through: k), leibnizSum(k, a, db, from: 0, through: k))
            var known: NDArray?
            for i in stride(from: 1, through: k, by: 1) {
                guard let di = d[i], let qj = q[k - i] else { continue }
                known = addTangents(known, scaled(binomial(k, i), di * qj))
            }
            q.append(subtractTangents(n, known).map { $0 * reciprocal })
        }
        return [q]
    }
}

// MARK: - Logic

/// The logical and of two bool arrays; no derivative.
public struct LogicalAnd: BinaryElementwise, PiecewiseConstant {
    public var function: BinaryFunction { .logicalAnd }
}

/// The logical or of two bool arrays; no derivative.
public struct LogicalOr: BinaryElementwise, PiecewiseConstant {
    public var function: BinaryFunction { .logicalOr }
}

// MARK: - Comparison

/// An elementwise comparison producing a bool mask.
public struct Compare: BinaryPrimitive, PiecewiseConstant {
    /// The comparison made, elementwise.
    public let comparison: Comparison
    public var name: String { "\(comparison)" }
    public func evaluate(_ a: StridedArray, _ b: StridedArray) -> StridedArray {
        Elementwise.compare(comparison, a, b, shape: Shape.broadcast(a.shape, b.shape)!)
    }
    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        let aligned = alignElementwise(inputs, axes)
        return ([bind(self, aligned[0], aligned[1])], [0])
    }
}

// MARK: - Selection

/// `condition ? a : b` elementwise, all three broadcast together; inputs (condition, a, b).
/// Each branch's cotangent is the output's where that branch was taken and exactly zero
/// elsewhere.
public struct Select: PiecewiseLinear {
    public var name: String { "where" }
    /// The rule reads the condition only (a bool input, saved as such), never the branches.
    public var vjpReadsValues: Bool { false }

    public func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        let shape = Shape.broadcast(Shape.broadcast(inputs[0].shape, inputs[1].shape)!, inputs[2].shape)!
        return [NDArray(Elementwise.select(inputs[0].elements, inputs[1].elements, inputs[2].elements, shape: shape))]
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents[1] != nil || tangents[2] != nil else { return [nil] }
        let zero = NDArray.zerosLike(outputs[0])
        return [NDArray.where(primals[0], tangents[1] ?? zero, tangents[2] ?? zero).broadcast(to: outputs[0].shape)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return [nil, nil, nil] }
        let zero = NDArray.zerosLike(ct)
        return [
            nil,
            needs[1] ? NDArray.where(primals[0], ct, zero).unbroadcast(to: primals[1].shape) : nil,
            needs[2] ? NDArray.where(primals[0], zero, ct).unbroadcast(to: primals[2].shape) : nil,
        ]
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, alignElementwise(inputs, axes)), [0])
    }
}

// MARK: - Clamp

/// `x` limited to [lo, hi] elementwise; inputs (x, lo, hi), each bound present or not, all
/// broadcasting together. The derivatives follow PyTorch, whose rule depends on whether the
/// bounds are numbers or arrays:
///
/// ```
/// number bounds:  ∂/∂x = 1 where lo < x < hi (strictly), else 0
/// array bounds:   ∂/∂x = 1 where lo < x < hi, ½ where x meets a bound (lo < hi), 0 outside
///                 ∂/∂lo = 1 where x < lo, ½ at the tie;  ∂/∂hi = 1 where x > hi, ½ at the tie
///                 lo > hi: every element is hi, which takes the whole derivative
/// ```
///
/// A NaN x stays NaN and takes the derivative, as PyTorch's array-bound rule has it.
public struct Clamp: PiecewiseLinear {
    /// Whether a lower bound is among the inputs (after x).
    public let hasLower: Bool
    /// Whether an upper bound is among the inputs (after the lower one, if any).
    public let hasUpper: Bool
    /// Whether the bounds were numbers (PyTorch's scalar rule: no derivative at a tie).
    public let numberBounds: Bool
    public var name: String { "clamp" }

    /// The clamp of x to the bounds present; `numberBounds` selects PyTorch's rule for number
    /// bounds (no derivative at a tie) rather than the one for array bounds.
    public init(hasLower: Bool, hasUpper: Bool, numberBounds: Bool) {
        self.hasLower = hasLower
        self.hasUpper = hasUpper
        self.numberBounds = numberBounds
    }

    /// The bounds among `inputs` (after x).
    func bounds<T>(_ inputs: [T]) -> (lower: T?, upper: T?) {
        (hasLower ? inputs[1] : nil, hasUpper ? inputs[hasLower ? 2 : 1] : nil)
    }

    public func evaluate(_ inputs: [NDArray]) -> [NDArray] {
        let (lower, upper) = bounds(inputs)
        var y = inputs[0]
        if let lower { y = NDArray.where(y .< lower, lower, y) }
        if let upper { y = NDArray.where(y .> upper, upper, y) }
        return [y.broadcast(to: inputs.map(\.shape).reduce([]) { Shape.broadcast($0, $1)! })]
    }

    /// The share of the derivative each input takes, elementwise (piecewise constant).
    func weights(_ inputs: [NDArray]) -> [NDArray] {
        let x = inputs[0], (lower, upper) = bounds(inputs)
        let one = NDArray.onesLike(x), zero = NDArray.zerosLike(x), half = NDArray.fullLike(x, 0.5)
        func mask(_ m: NDArray) -> NDArray { m.to(x.dtype) }
        if numberBounds {
            var inside = NDArray.full(x.shape, 1, dtype: .bool)
            if let lower { inside = inside .& (x .> lower) }
            if let upper { inside = inside .& (x .< upper) }
            return [mask(inside)] + [lower, upper].compactMap { $0.map(NDArray.zerosLike) }
        }
        switch (lower, upper) {
        case let (lo?, hi?):
            let ordered = lo .< hi, reversed = lo .> hi
            let tieLow = (x .== lo) .& ordered, tieHigh = (x .== hi) .& ordered
            let wx = NDArray.where(reversed, mask(x .!= x),
                                   NDArray.where((x .< lo) .| (x .> hi), zero, NDArray.where(tieLow .| tieHigh, half, one)))
            let wlo = NDArray.where(reversed, zero, NDArray.where(x .< lo, one, NDArray.where(tieLow, half, zero)))
            let whi = NDArray.where(reversed, one, NDArray.where(x .> hi, one, NDArray.where(tieHigh, half, zero)))
            return [wx, wlo, whi]
        case let (lo?, nil):
            return [NDArray.where(x .< lo, zero, NDArray.where(x .== lo, half, one)),
                    NDArray.where(x .> lo, zero, NDArray.where(x .== lo, half, one))]
        case let (nil, hi?):
            return [NDArray.where(x .> hi, zero, NDArray.where(x .== hi, half, one)),
                    NDArray.where(x .< hi, zero, NDArray.where(x .== hi, half, one))]
        case (nil, nil):
            return [one]
        }
    }

    public func jvp(_ primals: [NDArray], outputs: [NDArray], tangents: [NDArray?]) -> [NDArray?] {
        guard tangents.contains(where: { $0 != nil }) else { return [nil] }
        let w = weights(primals)
        var t: NDArray?
        for (tangent, weight) in zip(tangents, w) {
            if let tangent { t = addTangents(t, mulStrongZero(tangent, weight)) }
        }
        return [t!.broadcast(to: outputs[0].shape)]
    }

    public func vjp(_ primals: [NDArray], outputs: [NDArray], cotangents: [NDArray?], needs: [Bool]) -> [NDArray?] {
        guard let ct = cotangents[0] else { return primals.map { _ in nil } }
        let w = weights(primals)
        return primals.indices.map { i in needs[i] ? mulStrongZero(ct, w[i]).unbroadcast(to: primals[i].shape) : nil }
    }

    public func batch(_ inputs: [NDArray], axes: [Int?], size: Int) -> (outputs: [NDArray], axes: [Int?]) {
        (bind(self, alignElementwise(inputs, axes)), [0])
    }
}

// MARK: - Output types (for staging)

extension BinaryElementwise {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: broadcastShape(inputs))] }
}

extension Compare {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [ArrayType(shape: broadcastShape(inputs), dtype: .bool)] }
}

extension Select {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[1].with(shape: broadcastShape(inputs))] }
}

extension Clamp {
    public func outputTypes(_ inputs: [ArrayType]) -> [ArrayType] { [inputs[0].with(shape: broadcastShape(inputs))] }
}
