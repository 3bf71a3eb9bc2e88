// A staged program (Fluxion's jaxpr): a typed, shaped list of primitive applications in SSA
// form. Variables are numbered; each equation applies one primitive to variables and constants
// and defines new variables; the program's inputs come first, its outputs last. Constants are
// the concrete arrays the staged function used, held (not copied) by the program.
//
// A program runs in two ways: `run` on concrete arrays, calling each primitive's kernel directly
// (no tracers, no tape, no dispatch through `bind`; chains of elementwise functions fused into
// one loop, see Execution.swift), releasing every intermediate value after its last use; and
// `inline`, binding each equation in turn, which is how enclosing transforms
// see a program (its derivatives and batches are programs again, see Jit.swift).

import FluxionKernels
import Synchronization

/// A function staged into primitive applications: what `makeProgram` returns and `jit` runs.
///
/// ```
/// { lambda ; a:f32[3]. let
///     b:f32[3] = sin a
///     c:f32[3] = mul b 2.0:f32[]
///     d:f32[] = sum[axes=[0]] c
///   in (d) }
/// ```
public final class Program: CustomStringConvertible, @unchecked Sendable {
    /// An operand of an equation: a variable, or one of the program's constants.
    public enum Atom: Hashable, Sendable {
        /// The variable with this number (an input or an equation's output).
        case variable(Int)
        /// The program's constant at this index (`constants`).
        case constant(Int)
    }

    /// One primitive application: `outputs = primitive(inputs)`.
    public struct Equation: @unchecked Sendable {
        /// The primitive applied.
        public let primitive: any Primitive
        /// Its operands.
        public let inputs: [Atom]
        /// The numbers of the variables it defines.
        public let outputs: [Int]
    }

    /// The name of the staged function, for printing.
    public let name: String
    /// Each variable's shape and dtype, by number.
    public let types: [ArrayType]
    /// The input variables, in order.
    public let inputs: [Int]
    /// The constants equations refer to.
    public let constants: [NDArray]
    /// The equations, in order of evaluation.
    public let equations: [Equation]
    /// The results, in order.
    public let outputs: [Atom]

    private let plan: ExecutionPlan
    /// Programs derived from this one by transforms (its jvp, vjp and batched forms), made
    /// once per kind and kept.
    private let derived = Mutex<[String: Program]>([:])

    init(name: String, types: [ArrayType], inputs: [Int], constants: [NDArray], equations: [Equation], outputs: [Atom]) {
        self.name = name
        self.types = types
        self.inputs = inputs
        self.constants = constants
        self.equations = equations
        self.outputs = outputs
        plan = ExecutionPlan(types: types, inputs: inputs, constantTypes: constants.map(\.arrayType), equations: equations, outputs: outputs)
    }

    /// The inputs' shapes and dtypes.
    public var inputTypes: [ArrayType] { inputs.map { types[$0] } }

    /// The outputs' shapes and dtypes.
    public var outputTypes: [ArrayType] { outputs.map(type) }

    /// The shape and dtype of an atom.
    public func type(of atom: Atom) -> ArrayType {
        switch atom {
        case .variable(let v): types[v]
        case .constant(let c): constants[c].arrayType
        }
    }

    /// The program applied to concrete arrays of its input types: each equation's kernel runs
    /// directly, and each intermediate value is released after its last use.
    public func run(_ inputs: [NDArray]) -> [NDArray] { plan.run(inputs, constants: constants) }

    /// How `run` executes the program, one step per line in order: the primitive each kernel
    /// call runs, and for each fused loop its shape, dtype and functions — what became one pass
    /// over memory.
    public var executionSteps: String { plan.description }

    /// The program applied by binding each equation, so that the transforms of the values it
    /// is given (tracers of `grad`, `vmap`, staging) apply to it operation by operation.
    public func inline(_ inputs: [NDArray]) -> [NDArray] {
        var values = [NDArray?](repeating: nil, count: types.count)
        for (v, x) in zip(self.inputs, inputs) { values[v] = x }
        func value(_ atom: Atom) -> NDArray {
            switch atom {
            case .variable(let v): values[v]!
            case .constant(let c): constants[c]
            }
        }
        for equation in equations {
            let results = bind(equation.primitive, equation.inputs.map(value))
            for (v, y) in zip(equation.outputs, results) { values[v] = y }
        }
        return outputs.map(value)
    }

    /// The program derived by `make` under `key` (made on first use, then kept).
    func derivedProgram(_ key: String, _ make: () throws -> Program) rethrows -> Program {
        if let known = derived.withLock({ $0[key] }) { return known }
        let program = try make()
        return derived.withLock { cache in
            if let known = cache[key] { return known }
            cache[key] = program
            return program
        }
    }

    // MARK: - Printing

    /// The program as text, one equation per line: `c:f32[128,256] = matmul a b`.
    public var description: String { text(indent: "") }

    private func text(indent: String) -> String {
        let header = (constants.indices.filter { constants[$0].rank > 0 }.map { "c\($0):\(constants[$0].arrayType)" }).joined(separator: " ")
        let arguments = inputs.map { "\(variableName($0)):\(types[$0])" }.joined(separator: " ")
        var lines = ["\(indent){ lambda \(header)\(header.isEmpty ? "" : " ");\(arguments.isEmpty ? "" : " ")\(arguments). let"]
        for equation in equations {
            let defined = equation.outputs.map { "\(variableName($0)):\(types[$0])" }.joined(separator: " ")
            let operands = equation.inputs.map(atomText).joined(separator: " ")
            lines.append("\(indent)    \(defined) = \(equationName(equation.primitive))\(operands.isEmpty ? "" : " ")\(operands)")
            if let call = equation.primitive as? CallProgram {
                lines.append(call.program.text(indent: indent + "      "))
            }
        }
        lines.append("\(indent)  in (\(outputs.map(atomText).joined(separator: ", "))) }")
        return lines.joined(separator: "\n")
    }

    /// How an operand prints: a variable's name, a 0-d constant's value, another constant's name.
    private func atomText(_ atom: Atom) -> String {
        switch atom {
        case .variable(let v): return variableName(v)
        case .constant(let c):
            let x = constants[c]
            guard x.rank == 0 else { return "c\(c)" }
            let value = x.dtype.isFloatingPoint ? "\(x.item())" : x.dtype == .bool ? "\(x.scalars(as: Bool.self)[0])" : "\(Int(x.item()))"
            return "\(value):\(x.arrayType)"
        }
    }

    /// A variable's name as JAX prints it: a, b, …, z, ba, bb, …
    func variableName(_ v: Int) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var n = v, name = String(letters[n % 26])
        n /= 26
        while n > 0 {
            name = String(letters[n % 26]) + name
            n /= 26
        }
        return name
    }

    // MARK: - Pictures

    /// The program as a graph: inputs and constants flowing through equations to the outputs
    /// (`drawing.dot` for Graphviz, `drawing.mermaid` for Markdown).
    public var drawing: GraphDrawing {
        var graph = GraphDrawing(title: name)
        var producer: [Int: String] = [:]
        for v in inputs {
            graph.addNode("v\(v)", label: "\(variableName(v)): \(types[v])", shape: .input)
            producer[v] = "v\(v)"
        }
        var constantDrawn = Set<Int>()
        func source(_ atom: Atom) -> String {
            switch atom {
            case .variable(let v): return producer[v]!
            case .constant(let c):
                if constantDrawn.insert(c).inserted {
                    graph.addNode("c\(c)", label: atomText(.constant(c)), shape: .constant)
                }
                return "c\(c)"
            }
        }
        for (i, equation) in equations.enumerated() {
            let id = "e\(i)"
            let defined = equation.outputs.map { "\(variableName($0)): \(types[$0])" }.joined(separator: ", ")
            let sources = equation.inputs.map(source)
            graph.addNode(id, label: "\(equationName(equation.primitive))\n\(defined)")
            for from in sources { graph.addEdge(from: from, to: id) }
            for v in equation.outputs { producer[v] = id }
        }
        for (k, atom) in outputs.enumerated() {
            let id = "out\(k)"
            graph.addNode(id, label: "output \(k): \(type(of: atom))", shape: .output)
            graph.addEdge(from: source(atom), to: id)
        }
        return graph
    }
}

/// A primitive's name with its parameters, as a program prints it: `sum[axes=[0]]`.
func equationName(_ primitive: any Primitive) -> String {
    if let call = primitive as? CallProgram { return "jit[\(call.program.name)]" }
    let parameters = Mirror(reflecting: primitive).children.compactMap { child -> String? in
        guard let label = child.label else { return nil }
        return "\(label)=\(parameterText(child.value))"
    }
    guard !parameters.isEmpty else { return primitive.name }
    // A name that carries its parameter (`pow(3.0)`) prints it once, among the others.
    let base = primitive.name.prefix { $0 != "(" }
    return "\(base)[\(parameters.joined(separator: ", "))]"
}

private func parameterText(_ value: Any) -> String {
    let text = "\(value)"
    // Closures (custom rules) print as their type: say what they are instead.
    return text.contains("->") ? "function" : text
}
