// Runtime element types, the Swift types that store them, and PyTorch's promotion order.

/// The element type of an array, chosen at run time.
///
/// `float32` and `float64` are differentiable; `int64` and `bool` hold indices and masks.
public enum DType: UInt8, Sendable, CustomStringConvertible, CaseIterable {
    /// The four element types: bool and int64 for masks and indices, float32 and float64 for values.
    case bool, int64, float32, float64

    /// Bytes per element.
    @inlinable public var byteSize: Int {
        switch self {
        case .bool: 1
        case .int64, .float64: 8
        case .float32: 4
        }
    }

    /// Whether the dtype is float32 or float64 (the differentiable ones).
    @inlinable public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The dtype both operands of a binary operation are converted to: the later of the two in
    /// `bool < int64 < float32 < float64`, as PyTorch promotes tensors of the same category.
    @inlinable public static func promoted(_ a: DType, _ b: DType) -> DType {
        a.rawValue >= b.rawValue ? a : b
    }

    /// `self` when floating, otherwise the default floating dtype (`float32`), which is what
    /// PyTorch produces for `exp`, `/`, `mean` and friends of integer input.
    @inlinable public var floatingOrDefault: DType { isFloatingPoint ? self : .float32 }

    public var description: String {
        switch self {
        case .bool: "bool"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        }
    }
}

/// A Swift type that can be an array element.
public protocol Element: Sendable {
    /// The dtype of arrays of this element type.
    static var dtype: DType { get }
    /// The element nearest `double` (integers truncate toward zero and saturate; NaN gives 0).
    init(converting double: Double)
    /// The element as a `Double` (exact for every float32 and for int64 up to 2⁵³).
    var doubleValue: Double { get }
}

extension Float: Element {
    @inlinable public static var dtype: DType { .float32 }
    @inlinable public init(converting double: Double) { self.init(double) }
    @inlinable public var doubleValue: Double { Double(self) }
}

extension Double: Element {
    @inlinable public static var dtype: DType { .float64 }
    @inlinable public init(converting double: Double) { self = double }
    @inlinable public var doubleValue: Double { self }
}

extension Int64: Element {
    @inlinable public static var dtype: DType { .int64 }
    @inlinable public init(converting double: Double) {
        if double.isNaN { self = 0 } else if double >= 0x1p63 { self = .max } else if double < -0x1p63 { self = .min } else { self.init(double.rounded(.towardZero)) }
    }
    @inlinable public var doubleValue: Double { Double(self) }
}

extension Bool: Element {
    @inlinable public static var dtype: DType { .bool }
    @inlinable public init(converting double: Double) { self = double != 0 }
    @inlinable public var doubleValue: Double { self ? 1 : 0 }
}
