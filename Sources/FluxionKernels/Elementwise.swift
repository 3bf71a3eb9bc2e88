// Elementwise kernels: unary maps, binary maps with broadcasting by strides, comparisons,
// selection and dtype conversion. Inputs may be any strided views; outputs are contiguous.
//
// Stability choices: sigmoid is evaluated as 1/(1+e^-x) for x ≥ 0 and e^x/(1+e^x) below, so
// neither branch overflows; softplus is max(x, 0) + log1p(e^-|x|); relu, maximum and minimum
// propagate NaN as PyTorch does; round is half-to-even.

import RealModule
#if canImport(Glibc)
import Glibc
#endif

/// A floating element type with the elementary functions.
public protocol FloatingElement: Element, Real, BinaryFloatingPoint {
    /// C's `pow`: finite for a negative base with an integral exponent.
    static func cPow(_ x: Self, _ y: Self) -> Self
}

extension Float: FloatingElement {
    @inlinable public static func cPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

extension Double: FloatingElement {
    @inlinable public static func cPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
}

/// Unary elementwise functions.
public enum UnaryFunction: Sendable, Equatable {
    case neg, abs, sign
    case exp, log, log1p, expm1, sqrt, rsqrt
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh
    case sigmoid, relu, softplus, erf
    case floor, ceil, round
    /// `x ** exponent` for a constant exponent.
    case pow(Double)
    /// Logical not of a bool array.
    case logicalNot

    /// Functions that keep integer dtypes (all others compute in floating point).
    @inlinable public var acceptsIntegers: Bool {
        switch self {
        case .neg, .abs, .sign, .relu, .floor, .ceil, .round: true
        default: false
        }
    }

    /// A rough cost in simple operations, used to decide when to use both cores.
    @inlinable var cost: Int {
        switch self {
        case .neg, .abs, .sign, .relu, .floor, .ceil, .round, .logicalNot, .rsqrt, .sqrt: 1
        default: 16
        }
    }
}

/// Binary elementwise functions.
public enum BinaryFunction: Sendable, Equatable {
    case add, sub, mul, div, pow, maximum, minimum, atan2
    case logicalAnd, logicalOr
}

/// Comparisons, producing bool.
public enum Comparison: Sendable, Equatable {
    case lt, le, gt, ge, eq, ne
}

public enum Elementwise {
    // MARK: - Unary

    /// `f` applied to each element of `x`. `x`'s dtype must be floating unless
    /// `f.acceptsIntegers` (or bool for `logicalNot`); the result has `x`'s dtype.
    public static func unary(_ f: UnaryFunction, _ x: StridedArray) -> StridedArray {
        switch x.dtype {
        case .float32: return unaryFloating(f, x, Float.self)
        case .float64: return unaryFloating(f, x, Double.self)
        case .int64:
            switch f {
            case .neg: return map(x, Int64.self) { 0 &- $0 }
            case .abs: return map(x, Int64.self) { Swift.abs($0) }
            case .sign: return map(x, Int64.self) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
            case .relu: return map(x, Int64.self) { Swift.max($0, 0) }
            case .floor, .ceil, .round: return x.contiguous()
            case .pow(let e): return map(x, Int64.self) { integerPower($0, e) }
            default: preconditionFailure("\(f) is not defined for int64")
            }
        case .bool:
            precondition(f == .logicalNot, "\(f) is not defined for bool")
            return map(x, Bool.self) { !$0 }
        }
    }

    @inlinable
    static func unaryFloating<T: FloatingElement>(_ f: UnaryFunction, _ x: StridedArray, _: T.Type) -> StridedArray {
        let c = f.cost
        switch f {
        case .neg: return map(x, T.self, cost: c) { -$0 }
        case .abs: return map(x, T.self, cost: c) { Swift.abs($0) }
        case .sign: return map(x, T.self, cost: c) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) }
        case .exp: return map(x, T.self, cost: c) { T.exp($0) }
        case .log: return map(x, T.self, cost: c) { T.log($0) }
        case .log1p: return map(x, T.self, cost: c) { T.log(onePlus: $0) }
        case .expm1: return map(x, T.self, cost: c) { T.expMinusOne($0) }
        case .sqrt: return map(x, T.self, cost: c) { $0.squareRoot() }
        case .rsqrt: return map(x, T.self, cost: c) { 1 / $0.squareRoot() }
        case .sin: return map(x, T.self, cost: c) { T.sin($0) }
        case .cos: return map(x, T.self, cost: c) { T.cos($0) }
        case .tan: return map(x, T.self, cost: c) { T.tan($0) }
        case .asin: return map(x, T.self, cost: c) { T.asin($0) }
        case .acos: return map(x, T.self, cost: c) { T.acos($0) }
        case .atan: return map(x, T.self, cost: c) { T.atan($0) }
        case .sinh: return map(x, T.self, cost: c) { T.sinh($0) }
        case .cosh: return map(x, T.self, cost: c) { T.cosh($0) }
        case .tanh: return map(x, T.self, cost: c) { T.tanh($0) }
        case .sigmoid:
            return map(x, T.self, cost: c) { v in
                if v >= 0 { return 1 / (1 + T.exp(-v)) }
                let e = T.exp(v)
                return e / (1 + e)
            }
        case .relu: return map(x, T.self, cost: c) { $0 > 0 || $0.isNaN ? $0 : 0 }
        case .softplus: return map(x, T.self, cost: c) { Swift.max($0, 0) + T.log(onePlus: T.exp(-Swift.abs($0))) }
        case .erf: return map(x, T.self, cost: c) { T.erf($0) }
        case .floor: return map(x, T.self, cost: c) { $0.rounded(.down) }
        case .ceil: return map(x, T.self, cost: c) { $0.rounded(.up) }
        case .round: return map(x, T.self, cost: c) { $0.rounded(.toNearestOrEven) }
        case .pow(let e):
            let p = T(e)
            switch e {
            case 0: return map(x, T.self, cost: 1) { _ in 1 }
            case 1: return map(x, T.self, cost: 1) { $0 }
            case 2: return map(x, T.self, cost: 1) { $0 * $0 }
            case 3: return map(x, T.self, cost: 1) { $0 * $0 * $0 }
            case -1: return map(x, T.self, cost: 1) { 1 / $0 }
            case 0.5: return map(x, T.self, cost: 1) { $0.squareRoot() }
            default: return map(x, T.self, cost: 16) { T.cPow($0, p) }
            }
        case .logicalNot: preconditionFailure("logicalNot is defined for bool only")
        }
    }

    @inlinable
    static func integerPower(_ x: Int64, _ e: Double) -> Int64 {
        precondition(e >= 0 && e == e.rounded(), "an int64 array can only be raised to a non-negative integer power")
        var result: Int64 = 1, base = x, n = Int(e)
        while n > 0 {
            if n & 1 == 1 { result = result &* base }
            base = base &* base
            n >>= 1
        }
        return result
    }

    /// `op` applied elementwise to `x` (of element type `T`), giving a contiguous result of
    /// element type `R`.
    @inlinable
    public static func map<T: Element>(_ x: StridedArray, _: T.Type, cost: Int = 1, _ op: (T) -> T) -> StridedArray {
        map(x, T.self, to: T.self, cost: cost, op)
    }

    /// `op` applied elementwise to `x` (of element type `T`), giving a contiguous result of
    /// element type `R`.
    @inlinable
    public static func map<T: Element, R: Element>(
        _ x: StridedArray, _: T.Type, to _: R.Type, cost: Int = 1, _ op: (T) -> R
    ) -> StridedArray {
        let n = x.count
        let out = Storage.allocate(R.dtype, count: n)
        let o = out.pointer(R.self)
        let p = x.pointer(T.self)
        if x.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = op(p[i]) }
            }
        } else {
            Loops.forEachRow(shape: x.shape, x.strides, x.strides) { oo, oa, _, m, sa, _ in
                let src = p + oa, dst = o + oo
                if sa == 0 {
                    let v = op(src[0])
                    for k in 0..<m { dst[k] = v }
                } else {
                    for k in 0..<m { dst[k] = op(src[k &* sa]) }
                }
            }
        }
        return StridedArray(contiguous: out, shape: x.shape)
    }

    // MARK: - Binary

    /// `f` applied to `a` and `b` broadcast to `shape`. Both must already have the same dtype.
    public static func binary(_ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        precondition(a.dtype == b.dtype, "binary kernels need operands of one dtype")
        switch a.dtype {
        case .float32: return binaryFloating(f, a, b, shape, Float.self)
        case .float64: return binaryFloating(f, a, b, shape, Double.self)
        case .int64:
            switch f {
            case .add: return zip(a, b, shape, Int64.self) { $0 &+ $1 }
            case .sub: return zip(a, b, shape, Int64.self) { $0 &- $1 }
            case .mul: return zip(a, b, shape, Int64.self) { $0 &* $1 }
            case .maximum: return zip(a, b, shape, Int64.self) { Swift.max($0, $1) }
            case .minimum: return zip(a, b, shape, Int64.self) { Swift.min($0, $1) }
            case .pow: return zip(a, b, shape, Int64.self) { integerPower($0, Double($1)) }
            default: preconditionFailure("\(f) is not defined for int64")
            }
        case .bool:
            switch f {
            case .logicalAnd, .mul, .minimum: return zip(a, b, shape, Bool.self) { $0 && $1 }
            case .logicalOr, .add, .maximum: return zip(a, b, shape, Bool.self) { $0 || $1 }
            default: preconditionFailure("\(f) is not defined for bool")
            }
        }
    }

    @inlinable
    static func binaryFloating<T: FloatingElement>(
        _ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type
    ) -> StridedArray {
        switch f {
        case .add: return zip(a, b, shape, T.self) { $0 + $1 }
        case .sub: return zip(a, b, shape, T.self) { $0 - $1 }
        case .mul: return zip(a, b, shape, T.self) { $0 * $1 }
        case .div: return zip(a, b, shape, T.self) { $0 / $1 }
        case .pow: return zip(a, b, shape, T.self, cost: 16) { T.cPow($0, $1) }
        case .maximum: return zip(a, b, shape, T.self) { $0 > $1 || $0.isNaN ? $0 : $1 }
        case .minimum: return zip(a, b, shape, T.self) { $0 < $1 || $0.isNaN ? $0 : $1 }
        case .atan2: return zip(a, b, shape, T.self, cost: 16) { T.atan2(y: $0, x: $1) }
        case .logicalAnd, .logicalOr: preconditionFailure("\(f) is defined for bool only")
        }
    }

    /// Compares `a` and `b` (same dtype) broadcast to `shape`.
    public static func compare(_ c: Comparison, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: return compare(c, a, b, shape, Float.self)
        case .float64: return compare(c, a, b, shape, Double.self)
        case .int64: return compare(c, a, b, shape, Int64.self)
        case .bool:
            switch c {
            case .eq: return zip(a, b, shape, Bool.self) { $0 == $1 }
            case .ne: return zip(a, b, shape, Bool.self) { $0 != $1 }
            default: return compare(c, Conversion.convert(a, to: .int64), Conversion.convert(b, to: .int64), shape, Int64.self)
            }
        }
    }

    @inlinable
    static func compare<T: Element & Comparable>(
        _ c: Comparison, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type
    ) -> StridedArray {
        switch c {
        case .lt: return zip(a, b, shape, T.self, to: Bool.self) { $0 < $1 }
        case .le: return zip(a, b, shape, T.self, to: Bool.self) { $0 <= $1 }
        case .gt: return zip(a, b, shape, T.self, to: Bool.self) { $0 > $1 }
        case .ge: return zip(a, b, shape, T.self, to: Bool.self) { $0 >= $1 }
        case .eq: return zip(a, b, shape, T.self, to: Bool.self) { $0 == $1 }
        case .ne: return zip(a, b, shape, T.self, to: Bool.self) { $0 != $1 }
        }
    }

    /// `op` applied to `a` and `b` broadcast to `shape`, giving a contiguous result.
    @inlinable
    public static func zip<T: Element>(
        _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type, cost: Int = 1, _ op: (T, T) -> T
    ) -> StridedArray {
        zip(a, b, shape, T.self, to: T.self, cost: cost, op)
    }

    /// `op` applied to `a` and `b` broadcast to `shape`, giving a contiguous result of type `R`.
    @inlinable
    public static func zip<T: Element, R: Element>(
        _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type, to _: R.Type,
        cost: Int = 1, _ op: (T, T) -> R
    ) -> StridedArray {
        let n = Shape.count(shape)
        let out = Storage.allocate(R.dtype, count: n)
        let o = out.pointer(R.self)
        let pa = a.pointer(T.self), pb = b.pointer(T.self)
        if a.shape == shape && b.shape == shape && a.isContiguous && b.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = op(pa[i], pb[i]) }
            }
        } else if b.count == 1 && a.shape == shape && a.isContiguous {
            let v = pb[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = op(pa[i], v) }
            }
        } else if a.count == 1 && b.shape == shape && b.isContiguous {
            let v = pa[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                for i in start..<end { o[i] = op(v, pb[i]) }
            }
        } else {
            let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
            let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
            Loops.forEachRow(shape: shape, sa, sb) { oo, ia, ib, m, ta, tb in
                let x = pa + ia, y = pb + ib, dst = o + oo
                if ta == 1 && tb == 1 {
                    for k in 0..<m { dst[k] = op(x[k], y[k]) }
                } else if ta == 1 && tb == 0 {
                    let v = y[0]
                    for k in 0..<m { dst[k] = op(x[k], v) }
                } else if ta == 0 && tb == 1 {
                    let v = x[0]
                    for k in 0..<m { dst[k] = op(v, y[k]) }
                } else {
                    for k in 0..<m { dst[k] = op(x[k &* ta], y[k &* tb]) }
                }
            }
        }
        return StridedArray(contiguous: out, shape: shape)
    }

    // MARK: - Selection

    /// `cond ? a : b` elementwise, all three broadcast to `shape`; a and b share a dtype.
    public static func select(_ cond: StridedArray, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: return select(cond, a, b, shape, Float.self)
        case .float64: return select(cond, a, b, shape, Double.self)
        case .int64: return select(cond, a, b, shape, Int64.self)
        case .bool: return select(cond, a, b, shape, Bool.self)
        }
    }

    @inlinable
    static func select<T: Element>(_ cond: StridedArray, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type) -> StridedArray {
        // Broadcast a against the condition first, then pick from b where the condition fails.
        let n = Shape.count(shape)
        let out = Storage.allocate(T.dtype, count: n)
        let o = out.pointer(T.self)
        let mask = broadcast(cond, to: shape).contiguous()
        let left = broadcast(a, to: shape).contiguous(), right = broadcast(b, to: shape).contiguous()
        withExtendedLifetime((mask, left, right)) {
            let c = mask.pointer(Bool.self), pa = left.pointer(T.self), pb = right.pointer(T.self)
            for i in 0..<n { o[i] = c[i] ? pa[i] : pb[i] }
        }
        return StridedArray(contiguous: out, shape: shape)
    }

    /// `x` read as if it had the broadcast shape `shape` (a view, no copy).
    @inlinable
    public static func broadcast(_ x: StridedArray, to shape: [Int]) -> StridedArray {
        if x.shape == shape { return x }
        return x.view(shape: shape, strides: Shape.broadcastStrides(shape: x.shape, strides: x.strides, to: shape))
    }
}

/// Conversion between dtypes.
public enum Conversion {
    /// `x` converted to `dtype`: float → int truncates toward zero, anything → bool is `!= 0`,
    /// bool → number is 0 or 1.
    public static func convert(_ x: StridedArray, to dtype: DType) -> StridedArray {
        if x.dtype == dtype { return x }
        switch (x.dtype, dtype) {
        case (.float32, .float64): return Elementwise.map(x, Float.self, to: Double.self) { Double($0) }
        case (.float64, .float32): return Elementwise.map(x, Double.self, to: Float.self) { Float($0) }
        case (.int64, .float32): return Elementwise.map(x, Int64.self, to: Float.self) { Float($0) }
        case (.int64, .float64): return Elementwise.map(x, Int64.self, to: Double.self) { Double($0) }
        default: return convertThroughDouble(x, to: dtype)
        }
    }

    static func convertThroughDouble(_ x: StridedArray, to dtype: DType) -> StridedArray {
        switch x.dtype {
        case .bool: return convert(x, Bool.self, to: dtype)
        case .int64: return convert(x, Int64.self, to: dtype)
        case .float32: return convert(x, Float.self, to: dtype)
        case .float64: return convert(x, Double.self, to: dtype)
        }
    }

    static func convert<S: Element>(_ x: StridedArray, _: S.Type, to dtype: DType) -> StridedArray {
        switch dtype {
        case .bool: return Elementwise.map(x, S.self, to: Bool.self) { $0.doubleValue != 0 }
        case .int64: return Elementwise.map(x, S.self, to: Int64.self) { Int64(converting: $0.doubleValue) }
        case .float32: return Elementwise.map(x, S.self, to: Float.self) { Float($0.doubleValue) }
        case .float64: return Elementwise.map(x, S.self, to: Double.self) { $0.doubleValue }
        }
    }
}
