// Simplifications of staged programs, applied to every program `jit` runs: what tracing and
// differentiation leave behind costs time on every call, and a program is simplified once.
//
// - Dead code: equations whose results nothing uses are dropped.

extension Program {
    /// This program simplified; the results are the same.
    public func optimized() -> Program { withoutDeadCode() }

    /// The program without the equations that no output depends on.
    func withoutDeadCode() -> Program {
        var live = Set(outputs.compactMap { if case .variable(let v) = $0 { v } else { nil } })
        var kept: [Equation] = []
        for equation in equations.reversed() where equation.outputs.contains(where: live.contains) {
            kept.append(equation)
            for case .variable(let v) in equation.inputs { live.insert(v) }
        }
        return Program(name: name, types: types, inputs: inputs, constants: constants, equations: kept.reversed(), outputs: outputs)
    }
}
