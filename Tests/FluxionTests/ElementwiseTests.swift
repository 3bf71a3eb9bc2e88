// Elementwise functions and operators against Foundation math applied per element: every unary
// function on contiguous, transposed, strided and broadcast inputs, 0-d and size-0 arrays; the
// binary operators over a sweep of broadcast shape pairs; dtype promotion; comparisons, masks
// and selection.

import Foundation
import Testing
import Fluxion

// MARK: - Unary functions

/// A unary function, its Foundation reference and the inputs it is tested on.
struct UnaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let domain: ClosedRange<Double>
    let apply: @Sendable (NDArray) -> NDArray
    let reference: @Sendable (Double) -> Double
    var testDescription: String { name }

    init(_ name: String, _ domain: ClosedRange<Double>, _ apply: @escaping @Sendable (NDArray) -> NDArray,
         _ reference: @escaping @Sendable (Double) -> Double) {
        self.name = name
        self.domain = domain
        self.apply = apply
        self.reference = reference
    }
}

let unaryCases: [UnaryCase] = [
    UnaryCase("neg", -3...3, { -$0 }, { -$0 }),
    UnaryCase("abs", -3...3, { abs($0) }, { Swift.abs($0) }),
    UnaryCase("sign", -3...3, { sign($0) }, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
    UnaryCase("exp", -3...3, { exp($0) }, { Foundation.exp($0) }),
    UnaryCase("log", 0.05...5, { log($0) }, { Foundation.log($0) }),
    UnaryCase("log1p", -0.9...3, { log1p($0) }, { Foundation.log1p($0) }),
    UnaryCase("expm1", -3...3, { expm1($0) }, { Foundation.expm1($0) }),
    UnaryCase("sqrt", 0...5, { sqrt($0) }, { Foundation.sqrt($0) }),
    UnaryCase("rsqrt", 0.05...5, { rsqrt($0) }, { 1 / Foundation.sqrt($0) }),
    UnaryCase("sin", -4...4, { sin($0) }, { Foundation.sin($0) }),
    UnaryCase("cos", -4...4, { cos($0) }, { Foundation.cos($0) }),
    UnaryCase("tan", -1.2...1.2, { tan($0) }, { Foundation.tan($0) }),
    UnaryCase("asin", -0.95...0.95, { asin($0) }, { Foundation.asin($0) }),
    UnaryCase("acos", -0.95...0.95, { acos($0) }, { Foundation.acos($0) }),
    UnaryCase("atan", -4...4, { atan($0) }, { Foundation.atan($0) }),
    UnaryCase("sinh", -3...3, { sinh($0) }, { Foundation.sinh($0) }),
    UnaryCase("cosh", -3...3, { cosh($0) }, { Foundation.cosh($0) }),
    UnaryCase("tanh", -3...3, { tanh($0) }, { Foundation.tanh($0) }),
    UnaryCase("sigmoid", -6...6, { sigmoid($0) }, { 1 / (1 + Foundation.exp(-$0)) }),
    UnaryCase("relu", -3...3, { relu($0) }, { Swift.max($0, 0) }),
    UnaryCase("softplus", -6...6, { softplus($0) }, { Foundation.log1p(Foundation.exp($0)) }),
    UnaryCase("erf", -3...3, { erf($0) }, { Foundation.erf($0) }),
    UnaryCase("floor", -4...4, { floor($0) }, { Foundation.floor($0) }),
    UnaryCase("ceil", -4...4, { ceil($0) }, { Foundation.ceil($0) }),
    UnaryCase("round", -4...4, { round($0) }, { Foundation.rint($0) }),
    UnaryCase("pow 0", -3...3, { pow($0, 0) }, { _ in 1 }),
    UnaryCase("pow 1", -3...3, { pow($0, 1) }, { $0 }),
    UnaryCase("pow 2", -3...3, { pow($0, 2) }, { Foundation.pow($0, 2) }),
    UnaryCase("pow 3", -3...3, { $0 ** 3 }, { Foundation.pow($0, 3) }),
    UnaryCase("pow 0.5", 0...4, { $0 ** 0.5 }, { Foundation.pow($0, 0.5) }),
    UnaryCase("pow -1", 0.2...4, { pow($0, -1) }, { Foundation.pow($0, -1) }),
    UnaryCase("pow 2.5", 0...4, { $0.pow(2.5) }, { Foundation.pow($0, 2.5) }),
    UnaryCase("pow -2", 0.2...4, { $0 ** -2 }, { Foundation.pow($0, -2) }),
    UnaryCase("method abs", -3...3, { $0.abs() }, { Swift.abs($0) }),
    UnaryCase("method exp", -3...3, { $0.exp() }, { Foundation.exp($0) }),
    UnaryCase("method log", 0.05...5, { $0.log() }, { Foundation.log($0) }),
    UnaryCase("method sqrt", 0...5, { $0.sqrt() }, { Foundation.sqrt($0) }),
    UnaryCase("method sin", -4...4, { $0.sin() }, { Foundation.sin($0) }),
    UnaryCase("method cos", -4...4, { $0.cos() }, { Foundation.cos($0) }),
    UnaryCase("method tanh", -3...3, { $0.tanh() }, { Foundation.tanh($0) }),
    UnaryCase("method sigmoid", -6...6, { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }),
    UnaryCase("method relu", -3...3, { $0.relu() }, { Swift.max($0, 0) }),
]

@Suite struct UnaryTests {
    @Test(arguments: unaryCases, floatDTypes)
    func matchesFoundation(_ c: UnaryCase, _ dtype: DType) {
        let pool = stored(testValues(24, in: c.domain, seed: UInt64(c.name.utf8.count)), dtype)
        for (name, x, values) in layouts(pool, dtype) {
            let y = c.apply(x)
            #expect(y.shape == [3, 4], "\(name)")
            #expect(y.dtype == dtype, "\(name)")
            #expect(name == "contiguous" || !x.isContiguous, "the \(name) input should be non-contiguous")
            expectClose(y, values.map(c.reference), label: "\(c.name) of a \(name) input")
        }
        // 0-d and size-0 arrays keep their shape and dtype.
        let scalar = c.apply(array([pool[5]], [], dtype))
        #expect(scalar.shape == [])
        #expect(scalar.dtype == dtype)
        expectClose(scalar, [c.reference(pool[5])])
        let empty = c.apply(NDArray.zeros([0, 3], dtype: dtype))
        #expect(empty.shape == [0, 3])
        #expect(empty.dtype == dtype)
    }

    /// Above 2¹⁸ units of work a kernel splits across cores; the halves must line up.
    @Test func largeInputsSplitAcrossCoresCorrectly() {
        let n = 1 << 15
        let values = stored((0..<n).map { Double($0 % 97) / 13 - 3 }, .float32)
        let x = array(values, [n], .float32)
        expectClose(exp(x), values.map { Foundation.exp($0) })
        expectClose(x * 2, values.map { $0 * 2 })
    }

    @Test(arguments: floatDTypes)
    func sigmoidAndSoftplusStayFiniteAtExtremes(_ dtype: DType) {
        let x = array([-1000, -100, 0, 100, 1000], [5], dtype)
        let s = sigmoid(x)
        #expect(s.doubles.allSatisfy { $0.isFinite })
        expectClose(s, [0, 1 / (1 + Foundation.exp(100)), 0.5, 1 / (1 + Foundation.exp(-100)), 1], atol: 1e-38)
        let p = softplus(x)
        #expect(p.doubles.allSatisfy { $0.isFinite })
        expectClose(p, [0, Foundation.log1p(Foundation.exp(-100)), Foundation.log(2), 100, 1000], atol: 1e-30)
    }

    @Test(arguments: floatDTypes)
    func roundIsHalfToEven(_ dtype: DType) {
        let x = array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49, -0.51, 2.6], [10], dtype)
        #expect(round(x).doubles == [0, 2, 2, 4, 0, -2, -2, 0, -1, 3])
        #expect(floor(x).doubles == [0, 1, 2, 3, -1, -2, -3, 0, -1, 2])
        #expect(ceil(x).doubles == [1, 2, 3, 4, 0, -1, -2, 1, 0, 3])
    }

    @Test(arguments: floatDTypes)
    func nanPropagation(_ dtype: DType) {
        let x = array([.nan, -1, 2], [3], dtype)
        let r = relu(x).doubles
        #expect(r[0].isNaN)
        #expect(Array(r[1...]) == [0, 2])
        #expect(abs(x).doubles[0].isNaN)
        #expect(exp(x).doubles[0].isNaN)
        #expect(sqrt(array([-1], [1], dtype)).doubles[0].isNaN)
        #expect(log(array([0], [1], dtype)).doubles == [-.infinity])
    }

    @Test(arguments: floatDTypes)
    func specialValues(_ dtype: DType) {
        let x = array([0.0, -0.0, .infinity, -.infinity], [4], dtype)
        #expect(sign(x).doubles == [0, 0, 1, -1])
        #expect(relu(x).doubles == [0, 0, .infinity, 0])
        #expect(exp(x).doubles == [1, 1, .infinity, 0])
        #expect(sigmoid(x).doubles == [0.5, 0.5, 1, 0])
        #expect(tanh(x).doubles == [0, 0, 1, -1])
        #expect(softplus(x).doubles == [Foundation.log(2), Foundation.log(2), .infinity, 0].map { stored([$0], dtype)[0] })
        #expect(pow(x, 2).doubles == [0, 0, .infinity, .infinity])
        let nan = array([.nan], [1], dtype)
        for (name, f) in [("exp", exp), ("tanh", tanh), ("sigmoid", sigmoid), ("softplus", softplus), ("log", log)] as [(String, (NDArray) -> NDArray)] {
            #expect(f(nan).doubles[0].isNaN, "\(name)(NaN)")
        }
        // Overflow and underflow at the ends of the exponent range.
        let big = dtype == .float32 ? 89.0 : 710.0, small = dtype == .float32 ? -104.0 : -746.0
        #expect(exp(array([big, small], [2], dtype)).doubles == [.infinity, 0])
        #expect(sigmoid(array([-big, big], [2], dtype)).doubles == [0, 1])
        #expect(tanh(array([-big, big], [2], dtype)).doubles == [-1, 1])
    }

    /// Odd functions keep the sign of zero, as the C library (and PyTorch) do.
    @Test(arguments: floatDTypes)
    func oddFunctionsKeepTheSignOfZero(_ dtype: DType) {
        let z = array([-0.0], [1], dtype)
        for (name, f) in [("neg", { -$0 }), ("sin", sin), ("tan", tan), ("asin", asin), ("atan", atan), ("sinh", sinh),
                          ("tanh", tanh), ("expm1", expm1), ("log1p", log1p), ("erf", erf)] as [(String, (NDArray) -> NDArray)] {
            let y = f(z).doubles[0]
            #expect(y == 0 && y.sign == (name == "neg" ? .plus : .minus), "\(name)(-0) = \(y)")
        }
    }

    /// exp, tanh and sigmoid over their whole useful range, not just near 0, within a few ulp.
    @Test(arguments: floatDTypes)
    func wideRangeAccuracy(_ dtype: DType) {
        let ulp = dtype == .float32 ? 0x1p-23 : 0x1p-52
        // Up to the largest finite result and down to the smallest normal one.
        let high = dtype == .float32 ? 88.7 : 709.7, low = dtype == .float32 ? -87.3 : -708.3
        let x = stored(testValues(2000, in: low...high, seed: 77) + [low, high, -1e-3, 1e-3, 1e-6, 0.625, -0.626], dtype)
        let a = array(x, [x.count], dtype)
        expectClose(exp(a), x.map { Foundation.exp($0) }, rtol: 4 * ulp, atol: 0, label: "exp")
        let t = stored(testValues(2000, in: -12...12, seed: 78) + [0.6249, 0.6251, -0.6251, 1e-4, -1e-7, 9, 20], dtype)
        expectClose(tanh(array(t, [t.count], dtype)), t.map { Foundation.tanh($0) }, rtol: 4 * ulp, atol: 0, label: "tanh")
        let s = stored(testValues(2000, in: (low + 1)...40, seed: 79), dtype)
        expectClose(sigmoid(array(s, [s.count], dtype)), s.map { 1 / (1 + Foundation.exp(-$0)) }, rtol: 6 * ulp, atol: 0, label: "sigmoid")
    }

    @Test func integerInputs() {
        let i = NDArray([-3, 0, 2])
        #expect((-i).dtype == .int64)
        #expect((-i).ints == [3, 0, -2])
        #expect(abs(i).ints == [3, 0, 2])
        #expect(sign(i).ints == [-1, 0, 1])
        #expect(relu(i).ints == [0, 0, 2])
        #expect(floor(i).dtype == .int64)
        #expect(pow(i, 2).dtype == .int64)
        #expect(pow(i, 2).ints == [9, 0, 4])
        #expect((i ** 3).ints == [-27, 0, 8])
        // Everything transcendental (and fractional or negative powers) computes in float32.
        #expect(exp(i).dtype == .float32)
        expectClose(exp(i), [-3, 0, 2].map { Double(Float(Foundation.exp(Double($0)))) })
        #expect(pow(i, 0.5).dtype == .float32)
        #expect(pow(NDArray([2, 4]), -1).doubles == [0.5, 0.25])
        #expect(sqrt(NDArray([true, false])).doubles == [1, 0])
    }
}

// MARK: - Binary operators and functions

/// A binary function, its reference and the domains of its two operands.
struct BinaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let lhs: ClosedRange<Double>
    let rhs: ClosedRange<Double>
    let apply: @Sendable (NDArray, NDArray) -> NDArray
    let reference: @Sendable (Double, Double) -> Double
    var testDescription: String { name }

    init(_ name: String, _ lhs: ClosedRange<Double>, _ rhs: ClosedRange<Double>,
         _ apply: @escaping @Sendable (NDArray, NDArray) -> NDArray, _ reference: @escaping @Sendable (Double, Double) -> Double) {
        self.name = name
        self.lhs = lhs
        self.rhs = rhs
        self.apply = apply
        self.reference = reference
    }
}

let binaryCases: [BinaryCase] = [
    BinaryCase("+", -3...3, -3...3, { $0 + $1 }, { $0 + $1 }),
    BinaryCase("-", -3...3, -3...3, { $0 - $1 }, { $0 - $1 }),
    BinaryCase("*", -3...3, -3...3, { $0 * $1 }, { $0 * $1 }),
    BinaryCase("/", -3...3, 0.5...3, { $0 / $1 }, { $0 / $1 }),
    BinaryCase("**", 0.2...3, -2...2, { $0 ** $1 }, { Foundation.pow($0, $1) }),
    BinaryCase("pow", 0.2...3, -2...2, { pow($0, $1) }, { Foundation.pow($0, $1) }),
    BinaryCase("maximum", -3...3, -3...3, { maximum($0, $1) }, { Swift.max($0, $1) }),
    BinaryCase("minimum", -3...3, -3...3, { minimum($0, $1) }, { Swift.min($0, $1) }),
    BinaryCase("atan2", -3...3, -3...3, { atan2($0, $1) }, { Foundation.atan2($0, $1) }),
]

/// Shapes whose every broadcastable pair the binary operations are tested on.
let sweepShapes: [[Int]] = [[], [3], [2, 3], [2, 1], [1, 3], [4, 2, 3], [4, 1, 1], [0, 3]]

@Suite struct BinaryTests {
    @Test(arguments: binaryCases, floatDTypes)
    func broadcastSweep(_ c: BinaryCase, _ dtype: DType) {
        var pairs = 0
        for (i, sa) in sweepShapes.enumerated() {
            for (j, sb) in sweepShapes.enumerated() {
                guard let shape = referenceBroadcast(sa, sb) else { continue }
                pairs += 1
                let av = stored(testValues(elementCount(sa), in: c.lhs, seed: UInt64(10 * i + j)), dtype)
                let bv = stored(testValues(elementCount(sb), in: c.rhs, seed: UInt64(100 + 10 * i + j)), dtype)
                let result = c.apply(array(av, sa, dtype), array(bv, sb, dtype))
                #expect(result.shape == shape, "\(sa) \(c.name) \(sb)")
                #expect(result.dtype == dtype, "\(sa) \(c.name) \(sb)")
                let expected = zip(broadcastValues(av, from: sa, to: shape), broadcastValues(bv, from: sb, to: shape)).map(c.reference)
                expectClose(result, expected, label: "\(sa) \(c.name) \(sb)")
            }
        }
        #expect(pairs == 58)
    }

    @Test(arguments: binaryCases, floatDTypes)
    func nonContiguousOperands(_ c: BinaryCase, _ dtype: DType) {
        let ap = stored(testValues(24, in: c.lhs, seed: 7), dtype)
        let bp = stored(testValues(24, in: c.rhs, seed: 8), dtype)
        let left = layouts(ap, dtype), right = layouts(bp, dtype)
        for (an, a, av) in left {
            for (bn, b, bv) in right {
                let result = c.apply(a, b)
                #expect(result.shape == [3, 4], "\(an) \(c.name) \(bn)")
                expectClose(result, zip(av, bv).map(c.reference), label: "\(an) \(c.name) \(bn)")
            }
            // A transposed operand against a broadcast row and a column.
            let row = array(Array(bp[0..<4]), [4], dtype), column = array(Array(bp[4..<7]), [3, 1], dtype)
            expectClose(c.apply(a, row), zip(av, broadcastValues(Array(bp[0..<4]), from: [4], to: [3, 4])).map(c.reference),
                        label: "\(an) \(c.name) row")
            expectClose(c.apply(column, a), zip(broadcastValues(Array(bp[4..<7]), from: [3, 1], to: [3, 4]), av).map(c.reference),
                        label: "column \(c.name) \(an)")
        }
    }

    @Test func maximumAndMinimumPropagateNaN() {
        let a = NDArray([.nan, 1, 2], dtype: .float64), b = NDArray([0, .nan, 1], dtype: .float64)
        let mx = maximum(a, b).doubles, mn = minimum(a, b).doubles
        #expect(mx[0].isNaN && mx[1].isNaN && mx[2] == 2)
        #expect(mn[0].isNaN && mn[1].isNaN && mn[2] == 1)
    }

    @Test func clamp() {
        let x = NDArray([-2, -0.5, 0.5, 3], dtype: .float64)
        #expect(x.clamp(min: -1, max: 1).doubles == [-1, -0.5, 0.5, 1])
        #expect(x.clamp(min: 0).doubles == [0, 0, 0.5, 3])
        #expect(x.clamp(max: 0).doubles == [-2, -0.5, 0, 0])
        #expect(x.clamp(min: 0).dtype == .float64)
    }

    @Test func compoundAssignment() {
        var x = NDArray([1.0, 2.0], dtype: .float64)
        let original = x
        x += NDArray([10.0, 20.0], dtype: .float64)
        x *= 2
        x -= 1
        x /= NDArray([1.0, 2.0], dtype: .float64)
        #expect(x.doubles == [21, 21.5])
        #expect(original.doubles == [1, 2])
    }
}

// MARK: - Dtype promotion

@Suite struct PromotionTests {
    @Test func arraysPromoteToTheLaterDType() {
        let i = NDArray([1, 2]), f = NDArray([0.5, 0.25]), d = NDArray([0.1, 0.2], dtype: .float64), b = NDArray([true, false])
        #expect((i + f).dtype == .float32)
        #expect((i + f).doubles == [1.5, 2.25])
        #expect((f + i).dtype == .float32)
        #expect((f + d).dtype == .float64)
        #expect((f + d).doubles == [Double(Float(0.5)) + 0.1, 0.25 + 0.2])
        #expect((i * d).dtype == .float64)
        #expect((b + i).dtype == .int64)
        #expect((b + i).ints == [2, 2])
        #expect((b * f).dtype == .float32)
        #expect((i + i).dtype == .int64)
        #expect(maximum(i, f).dtype == .float32)
    }

    @Test func integerDivisionIsTrueDivision() {
        let q = NDArray([7, -7, 1]) / NDArray([2, 2, 3])
        #expect(q.dtype == .float32)
        expectClose(q, [3.5, -3.5, Double(Float(1.0 / 3))])
        #expect((NDArray([7]) / 2).dtype == .float32)
        #expect((NDArray([7]) / 2).doubles == [3.5])
        #expect((1 / NDArray([4])).doubles == [0.25])
        #expect(atan2(NDArray([1]), NDArray([1])).dtype == .float32)
    }

    @Test func swiftNumbersTakeTheArraysDType() {
        let d = NDArray([1.0, 2.0], dtype: .float64)
        #expect((d + 0.1).dtype == .float64)
        #expect((d + 0.1).doubles == [1.0 + 0.1, 2.0 + 0.1])
        #expect((0.1 * d).doubles == [0.1, 0.2])
        #expect((1 - d).doubles == [0, -1])
        #expect((3 / d).doubles == [3, 1.5])

        let f = NDArray([1.0, 2.0])
        #expect((f * 0.1).dtype == .float32)
        #expect((f * 0.1).doubles == [Double(Float(0.1)), Double(Float(0.2))])

        let i = NDArray([1, 2])
        #expect((i + 2).dtype == .int64)
        #expect((i + 2).ints == [3, 4])
        #expect((2 * i).dtype == .int64)
        #expect((i + 2.5).dtype == .float32)
        #expect((i + 2.5).doubles == [3.5, 4.5])
        #expect((i - 0.5).doubles == [0.5, 1.5])
    }

    @Test func integerArraysMeetNonFiniteAndHugeNumbers() {
        let i = NDArray([1, 2])
        #expect((i + .infinity).dtype == .float32)
        #expect((i + .infinity).doubles == [.infinity, .infinity])
        #expect((i * 1e20).doubles == [1e20, 2e20].map { Double(Float($0)) })
        #expect((i .< .infinity).bools == [true, true])
        #expect((i .== .nan).bools == [false, false])
    }
}

// MARK: - Comparisons, masks and selection

@Suite struct ComparisonTests {
    @Test(arguments: floatDTypes)
    func comparisonsBroadcastToBool(_ dtype: DType) {
        let av = stored(testValues(6, in: -1...1, seed: 3), dtype)
        let bv = [av[1], 0.0, av[5]]
        let a = array(av, [2, 3], dtype), b = array(bv, [3], dtype)
        let ab = zip(av, broadcastValues(bv, from: [3], to: [2, 3]))
        let cases: [(String, NDArray, (Double, Double) -> Bool)] = [
            (".<", a .< b, { $0 < $1 }), (".<=", a .<= b, { $0 <= $1 }),
            (".>", a .> b, { $0 > $1 }), (".>=", a .>= b, { $0 >= $1 }),
            (".==", a .== b, { $0 == $1 }), (".!=", a .!= b, { $0 != $1 }),
        ]
        for (name, mask, reference) in cases {
            #expect(mask.dtype == .bool, "\(name)")
            #expect(mask.shape == [2, 3], "\(name)")
            #expect(mask.bools == ab.map(reference), "\(name)")
        }
        #expect((a .> 0).bools == av.map { $0 > 0 })
        #expect((a .<= 0).bools == av.map { $0 <= 0 })
        #expect((a .== av[2]).bools == av.map { $0 == av[2] })
        #expect((a .!= av[2]).bools == av.map { $0 != av[2] })
        #expect((a .>= av[4]).bools == av.map { $0 >= av[4] })
        #expect((a .< av[4]).bools == av.map { $0 < av[4] })
        // Non-contiguous operands.
        #expect((a.T .> b.unsqueeze(1)).bools == (0..<6).map { f in av[(f % 2) * 3 + f / 2] > bv[f / 2] })
    }

    @Test func comparisonsAcrossDTypes() {
        #expect((NDArray([1, 2, 3]) .< NDArray([1.5, 1.5, 3.5])).bools == [true, false, true])
        #expect((NDArray([1, 2, 3]) .>= 2.5).bools == [false, false, true])
        #expect((NDArray([1, 2, 3]) .== 2).bools == [false, true, false])
        let nan = NDArray([Double.nan], dtype: .float64)
        #expect((nan .== nan).bools == [false])
        #expect((nan .!= nan).bools == [true])
        #expect((nan .< 1).bools == [false])
        #expect((NDArray([true, false]) .== NDArray([true, true])).bools == [true, false])
        #expect((NDArray([true, false]) .> NDArray([false, false])).bools == [true, false])
    }

    @Test func logicalOperators() {
        let p = NDArray([true, true, false, false]), q = NDArray([true, false, true, false])
        #expect((p .& q).bools == [true, false, false, false])
        #expect((p .| q).bools == [true, true, true, false])
        #expect((.!p).bools == [false, false, true, true])
        #expect((p .& q).dtype == .bool)
        // Any dtype counts nonzero as true, and masks broadcast.
        #expect((NDArray([0.0, 2.0]) .| NDArray([0, 0])).bools == [false, true])
        #expect((.!NDArray([0.0, -1.5])).bools == [true, false])
        #expect((NDArray([[true], [false]]) .& NDArray([true, false])).bools == [true, false, false, false])
    }

    @Test(arguments: floatDTypes)
    func whereBroadcasts(_ dtype: DType) {
        let condition = NDArray([[true], [false]])
        let a = array([1, 2, 3], [3], dtype)
        let b = array([-1], [], dtype)
        let r = NDArray.where(condition, a, b)
        #expect(r.shape == [2, 3])
        #expect(r.dtype == dtype)
        #expect(r.doubles == [1, 2, 3, -1, -1, -1])

        let x = array([-2, 0.5, 3, -1], [2, 2], dtype)
        #expect(NDArray.where(x .> 0, x, 0).doubles == [0, 0.5, 3, 0])
        #expect(NDArray.where(x.T .> 0, x.T, 0).doubles == [0, 3, 0.5, 0])
        // A numeric condition counts nonzero as true.
        #expect(NDArray.where(NDArray([0, 1]), array([5, 6], [2], dtype), array([7, 8], [2], dtype)).doubles == [7, 6])
    }

    @Test func whereIgnoresTheUntakenBranch() {
        let x = NDArray([-1, 0, 4, -9], dtype: .float64)
        let safe = NDArray.where(x .> 0, sqrt(x) + log(x), 0)
        #expect(safe.doubles == [0, 0, 2 + Foundation.log(4), 0])
        let inf = NDArray([Double.infinity, .nan, 1], dtype: .float64)
        #expect(NDArray.where(NDArray([false, false, true]), inf, NDArray([7.0], dtype: .float64)).doubles == [7, 7, 1])
    }

    @Test func wherePromotes() {
        let r = NDArray.where(NDArray([true, false]), NDArray([1, 2]), NDArray([0.5, 0.5]))
        #expect(r.dtype == .float32)
        #expect(r.doubles == [1, 0.5])
        let s = NDArray.where(NDArray([true, false]), NDArray([1, 2]), NDArray([0.5, 0.5], dtype: .float64))
        #expect(s.dtype == .float64)
    }
}

// MARK: - Powers of negative bases

/// C's pow: real results for a negative base with an integral exponent, NaN otherwise.
@Suite struct NegativeBaseTests {
    let bases: [Double] = [-2, -1.5, -0.5, 0, 0.5, 2]

    @Test("x ** p for constant p matches C's pow in both float dtypes", arguments: [4.0, 3, -1, -2, 5, 0.5, 2.5, -1.5])
    func constantExponent(_ p: Double) {
        for dtype in floatDTypes {
            let x = NDArray(bases, dtype: dtype)
            let expected = bases.map { dtype == .float32 ? Double(Foundation.powf(Float($0), Float(p))) : Foundation.pow($0, p) }
            expectClose(x ** p, expected, label: "\(dtype) x ** \(p)")
        }
    }

    @Test("array ** array matches C's pow in both float dtypes")
    func arrayExponent() {
        let exponents: [Double] = [3, 4, -1, 2, 0.5, -2]
        for dtype in floatDTypes {
            let expected = zip(bases, exponents).map { Foundation.pow($0, $1) }
            expectClose(NDArray(bases, dtype: dtype) ** NDArray(exponents, dtype: dtype), expected, label: "\(dtype)")
        }
    }

    @Test("derivatives of integral powers at a negative base are real")
    func derivatives() throws {
        let x = NDArray([-2.0], dtype: .float64)
        #expect(try grad { (x: NDArray) in (x ** -1).sum() }(x).doubles == [-0.25])
        #expect(try grad { (x: NDArray) in (x ** 3).sum() }(x).doubles == [12])
        #expect(try grad { (x: NDArray) in try grad { (x: NDArray) in (x ** 4).sum() }(x).sum() }(x).doubles == [48])
        #expect(try grad { (x: NDArray) in (x ** NDArray([3.0], dtype: .float64)).sum() }(x).doubles == [12])
    }
}
