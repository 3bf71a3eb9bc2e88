// Conversion between dtypes, elementwise.

/// Conversion between dtypes.
public enum Conversion {
    /// `x` converted to `dtype`: float → int truncates toward zero (NaN gives 0, out-of-range
    /// saturates), anything → bool is `!= 0`, bool → number is 0 or 1.
    public static func convert(_ x: StridedArray, to dtype: DType) -> StridedArray {
        if x.dtype == dtype { return x }
        switch x.dtype {
        case .bool: return convert(x, Bool.self, to: dtype)
        case .int64: return convert(x, Int64.self, to: dtype)
        case .float32: return convert(x, Float.self, to: dtype)
        case .float64: return convert(x, Double.self, to: dtype)
        }
    }

    static func convert<S: Element>(_ x: StridedArray, _: S.Type, to dtype: DType) -> StridedArray {
        switch dtype {
        case .bool: Elementwise.map(x, Kernel.Cast<S, Bool>())
        case .int64: Elementwise.map(x, Kernel.Cast<S, Int64>())
        case .float32: Elementwise.map(x, Kernel.Cast<S, Float>())
        case .float64: Elementwise.map(x, Kernel.Cast<S, Double>())
        }
    }
}
