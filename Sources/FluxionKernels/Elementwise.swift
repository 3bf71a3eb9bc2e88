// Elementwise kernels: unary maps, binary maps with broadcasting by strides, comparisons and
// selection, dispatched by dtype to the element kernels (ElementKernels.swift). Inputs may be
// any strided views; outputs are contiguous. Large contiguous loops split across cores.

/// Elementwise kernels: unary and binary maps with broadcasting by strides, comparisons and
/// selection, dispatched by dtype. Inputs may be any strided views; outputs are contiguous.
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
            case .neg: return map(x, Kernel.Neg<Int64>())
            case .abs: return map(x, Kernel.Abs<Int64>())
            case .sign: return map(x, Kernel.IntegerSign())
            case .relu: return map(x, Kernel.IntegerRelu())
            case .floor, .ceil, .round: return x.contiguous()
            case .pow(let e): return map(x, Kernel.IntegerPower(e))
            default: kernelFailure("\(f) is not defined for int64")
            }
        case .bool:
            guard f == .logicalNot else { kernelFailure("\(f) is not defined for bool") }
            return map(x, Kernel.Not())
        }
    }

    @inlinable
    static func unaryFloating<T: FloatingElement>(_ f: UnaryFunction, _ x: StridedArray, _: T.Type) -> StridedArray {
        withKernel(f, Map<T>(x: x))
    }

    /// `use` applied to the element kernel of the floating function `f`: the one place that
    /// says which kernel computes each function, shared by the array loops here and the fused
    /// loops of staged programs (Fusion.swift), so both compute every element alike.
    @inlinable
    public static func withKernel<U: FloatingUnaryKernelUse>(_ f: UnaryFunction, _ use: U) -> U.Result {
        typealias T = U.Element
        let c = f.cost
        switch f {
        case .neg: return use.apply(Kernel.Neg<T>(), cost: c)
        case .abs: return use.apply(Kernel.Abs<T>(), cost: c)
        case .sign: return use.apply(Kernel.SignOf<T>(), cost: c)
        case .exp: return use.apply(Kernel.Exp<T>(), cost: c)
        case .log: return use.apply(Kernel.Log<T>(), cost: c)
        case .log1p: return use.apply(Kernel.Log1p<T>(), cost: c)
        case .expm1: return use.apply(Kernel.Expm1<T>(), cost: c)
        case .sqrt: return use.apply(Kernel.Sqrt<T>(), cost: c)
        case .rsqrt: return use.apply(Kernel.Rsqrt<T>(), cost: c)
        case .sin: return use.apply(Kernel.Sin<T>(), cost: c)
        case .cos: return use.apply(Kernel.Cos<T>(), cost: c)
        case .tan: return use.apply(Kernel.Tan<T>(), cost: c)
        case .asin: return use.apply(Kernel.Asin<T>(), cost: c)
        case .acos: return use.apply(Kernel.Acos<T>(), cost: c)
        case .atan: return use.apply(Kernel.Atan<T>(), cost: c)
        case .sinh: return use.apply(Kernel.Sinh<T>(), cost: c)
        case .cosh: return use.apply(Kernel.Cosh<T>(), cost: c)
        case .tanh: return use.apply(Kernel.Tanh<T>(), cost: c)
        case .sigmoid: return use.apply(Kernel.Sigmoid<T>(), cost: c)
        case .relu: return use.apply(Kernel.Relu<T>(), cost: c)
        case .reluSlope: return use.apply(Kernel.ReluSlope<T>(), cost: c)
        case .softplus: return use.apply(Kernel.Softplus<T>(), cost: c)
        case .erf: return use.apply(Kernel.Erf<T>(), cost: c)
        case .floor: return use.apply(Kernel.Rounded<T>(.down), cost: c)
        case .ceil: return use.apply(Kernel.Rounded<T>(.up), cost: c)
        case .round: return use.apply(Kernel.Rounded<T>(.toNearestOrEven), cost: c)
        case .pow(let e):
            switch e {
            case 0: return use.apply(Kernel.Fill<T>(1), cost: 1)
            case 1: return use.apply(Kernel.Identity<T>(), cost: 1)
            case 2: return use.apply(Kernel.Square<T>(), cost: 1)
            case 3: return use.apply(Kernel.Cube<T>(), cost: 1)
            case -1: return use.apply(Kernel.Reciprocal<T>(), cost: 1)
            // As PyTorch: x^½ and x^−½ are sqrt and rsqrt, so −0 and −∞ give what those give.
            case 0.5: return use.apply(Kernel.Sqrt<T>(), cost: 1)
            case -0.5: return use.apply(Kernel.Rsqrt<T>(), cost: 1)
            default: return use.apply(Kernel.PowConstant<T>(T(e)), cost: 16)
            }
        case .logicalNot: kernelFailure("logicalNot is defined for bool only")
        }
    }

    /// A unary kernel mapped over an array.
    @usableFromInline
    struct Map<T: FloatingElement>: FloatingUnaryKernelUse {
        @usableFromInline typealias Element = T
        @usableFromInline let x: StridedArray
        @inlinable init(x: StridedArray) { self.x = x }
        @inlinable func apply<K: UnaryKernel>(_ kernel: K, cost: Int) -> StridedArray where K.Input == T, K.Output == T {
            Elementwise.map(x, kernel, cost: cost)
        }
    }

    @inlinable
    static func integerPower(_ x: Int64, _ e: Double) -> Int64 {
        guard e >= 0 && e == e.rounded() else {
            kernelFailure("pow: an int64 array can only be raised to a non-negative integral power, not \(e). Fix: convert it to floating point first, e.g. x.to(.float32) ** p")
        }
        var result: Int64 = 1, base = x, n = Int(e)
        while n > 0 {
            if n & 1 == 1 { result = result &* base }
            base = base &* base
            n >>= 1
        }
        return result
    }

    /// `kernel` applied to each element of `x`, giving a contiguous result.
    @inlinable
    public static func map<K: UnaryKernel>(_ x: StridedArray, _ kernel: K, cost: Int = 1) -> StridedArray {
        let n = x.count
        let out = Storage.allocate(K.Output.dtype, count: n)
        let o = out.pointer(K.Output.self)
        let p = x.pointer(K.Input.self)
        if x.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                kernel.map(p + start, stride: 1, o + start, count: end - start)
            }
            // A contiguous input's strides are valid for the output: no new stride array.
            return StridedArray(storage: out, shape: x.shape, strides: x.strides)
        }
        Loops.forEachRow(shape: x.shape, x.strides, x.strides) { oo, oa, _, m, sa, _ in
            let src = p + oa, dst = o + oo
            if sa == 0 {
                let v = kernel(src[0])
                for k in 0..<m { dst[k] = v }
            } else {
                kernel.map(src, stride: sa, dst, count: m)
            }
        }
        return StridedArray(contiguous: out, shape: x.shape)
    }

    // MARK: - Binary

    /// `f` applied to `a` and `b` broadcast to `shape`. Both must already have the same dtype.
    public static func binary(_ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        guard a.dtype == b.dtype else { kernelFailure("\(f): operands of one dtype were expected, got \(a.dtype) and \(b.dtype)") }
        switch a.dtype {
        case .float32: return binaryFloating(f, a, b, shape, Float.self)
        case .float64: return binaryFloating(f, a, b, shape, Double.self)
        case .int64:
            switch f {
            case .add: return zip(a, b, shape, Kernel.Add<Int64>())
            case .sub: return zip(a, b, shape, Kernel.Sub<Int64>())
            case .mul, .mulStrongZero: return zip(a, b, shape, Kernel.Mul<Int64>())
            case .maximum: return zip(a, b, shape, Kernel.Larger<Int64>())
            case .minimum: return zip(a, b, shape, Kernel.Smaller<Int64>())
            case .pow: return zip(a, b, shape, Kernel.IntegerPow())
            default: kernelFailure("\(f) is not defined for int64")
            }
        case .bool:
            switch f {
            case .logicalAnd, .mul, .minimum: return zip(a, b, shape, Kernel.And())
            case .logicalOr, .add, .maximum: return zip(a, b, shape, Kernel.Or())
            default: kernelFailure("\(f) is not defined for bool")
            }
        }
    }

    @inlinable
    static func binaryFloating<T: FloatingElement>(
        _ f: BinaryFunction, _ a: StridedArray, _ b: StridedArray, _ shape: [Int], _: T.Type
    ) -> StridedArray {
        withKernel(f, Zip<T>(a: a, b: b, shape: shape))
    }

    /// `use` applied to the element kernel of the floating function `f` (see the unary form).
    @inlinable
    public static func withKernel<U: FloatingBinaryKernelUse>(_ f: BinaryFunction, _ use: U) -> U.Result {
        typealias T = U.Element
        let c = f.cost
        switch f {
        case .add: return use.apply(Kernel.Add<T>(), cost: c)
        case .sub: return use.apply(Kernel.Sub<T>(), cost: c)
        case .mul: return use.apply(Kernel.Mul<T>(), cost: c)
        case .mulStrongZero: return use.apply(Kernel.MulStrongZero<T>(), cost: c)
        case .div: return use.apply(Kernel.Div<T>(), cost: c)
        case .pow: return use.apply(Kernel.Pow<T>(), cost: c)
        case .maximum: return use.apply(Kernel.Maximum<T>(), cost: c)
        case .minimum: return use.apply(Kernel.Minimum<T>(), cost: c)
        case .atan2: return use.apply(Kernel.Atan2<T>(), cost: c)
        case .logicalAnd, .logicalOr: kernelFailure("\(f) is defined for bool only")
        }
    }

    /// A binary kernel zipped over two arrays broadcast to `shape`.
    @usableFromInline
    struct Zip<T: FloatingElement>: FloatingBinaryKernelUse {
        @usableFromInline typealias Element = T
        @usableFromInline let a: StridedArray, b: StridedArray, shape: [Int]
        @inlinable init(a: StridedArray, b: StridedArray, shape: [Int]) {
            self.a = a
            self.b = b
            self.shape = shape
        }
        @inlinable func apply<K: BinaryKernel>(_ kernel: K, cost: Int) -> StridedArray where K.Input == T, K.Output == T {
            Elementwise.zip(a, b, shape, kernel, cost: cost)
        }
    }

    /// Compares `a` and `b` (same dtype) broadcast to `shape`.
    public static func compare(_ c: Comparison, _ a: StridedArray, _ b: StridedArray, shape: [Int]) -> StridedArray {
        switch a.dtype {
        case .float32: return zip(a, b, shape, Kernel.Compare<Float>(c))
        case .float64: return zip(a, b, shape, Kernel.Compare<Double>(c))
        case .int64: return zip(a, b, shape, Kernel.Compare<Int64>(c))
        case .bool:
            return zip(Conversion.convert(a, to: .int64), Conversion.convert(b, to: .int64), shape, Kernel.Compare<Int64>(c))
        }
    }

    /// `kernel` applied to `a` and `b` broadcast to `shape`, giving a contiguous result.
    @inlinable
    public static func zip<K: BinaryKernel>(_ a: StridedArray, _ b: StridedArray, _ shape: [Int], _ kernel: K, cost: Int = 1) -> StridedArray {
        let n = Shape.count(shape)
        let out = Storage.allocate(K.Output.dtype, count: n)
        let o = out.pointer(K.Output.self)
        let pa = a.pointer(K.Input.self), pb = b.pointer(K.Input.self)
        if a.shape == shape && b.shape == shape && a.isContiguous && b.isContiguous {
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                if VectorMaps.zip(kernel, pa + start, 1, pb + start, 1, o + start, count: end - start) { return }
                for i in start..<end { o[i] = kernel(pa[i], pb[i]) }
            }
            return StridedArray(storage: out, shape: shape, strides: a.strides)
        }
        if b.count == 1 && a.shape == shape && a.isContiguous {
            let v = pb[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                if VectorMaps.zip(kernel, pa + start, 1, pb, 0, o + start, count: end - start) { return }
                for i in start..<end { o[i] = kernel(pa[i], v) }
            }
            return StridedArray(storage: out, shape: shape, strides: a.strides)
        }
        if a.count == 1 && b.shape == shape && b.isContiguous {
            let v = pa[0]
            Loops.parallelRanges(count: n, costPerElement: cost) { start, end in
                if VectorMaps.zip(kernel, pa, 0, pb + start, 1, o + start, count: end - start) { return }
                for i in start..<end { o[i] = kernel(v, pb[i]) }
            }
            return StridedArray(storage: out, shape: shape, strides: b.strides)
        }
        let sa = Shape.broadcastStrides(shape: a.shape, strides: a.strides, to: shape)
        let sb = Shape.broadcastStrides(shape: b.shape, strides: b.strides, to: shape)
        /// The elements whose first coordinate lies in `range` (the contiguous output's rows
        /// from there on).
        func rows(_ range: Range<Int>) {
            var part = shape
            part[0] = range.count
            let (oBase, aBase, bBase) = (range.lowerBound &* (n / shape[0]), range.lowerBound &* sa[0], range.lowerBound &* sb[0])
            Loops.forEachRow(shape: part, sa, sb) { oo, ia, ib, m, ta, tb in
                let x = pa + aBase + ia, y = pb + bBase + ib, dst = o + oBase + oo
                if VectorMaps.zip(kernel, x, ta, y, tb, dst, count: m) { return }
                if ta == 1 && tb == 1 {
                    for k in 0..<m { dst[k] = kernel(x[k], y[k]) }
                } else if ta == 1 && tb == 0 {
                    let v = y[0]
                    for k in 0..<m { dst[k] = kernel(x[k], v) }
                } else if ta == 0 && tb == 1 {
                    let v = x[0]
                    for k in 0..<m { dst[k] = kernel(v, y[k]) }
                } else {
                    for k in 0..<m { dst[k] = kernel(x[k &* ta], y[k &* tb]) }
                }
            }
        }
        // Split between threads along the first dimension (n > 0 here: an empty result took
        // a path above or has no rows to visit).
        if shape.isEmpty || n == 0 {
            Loops.forEachRow(shape: shape, sa, sb) { oo, ia, ib, m, ta, tb in
                for k in 0..<m { o[oo + k] = kernel(pa[ia + k &* ta], pb[ib + k &* tb]) }
            }
        } else {
            Loops.parallelRanges(count: shape[0], costPerElement: cost &* (n / shape[0])) { lo, hi in rows(lo..<hi) }
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
