// Einstein summation (`torch.einsum`, `jnp.einsum`) over any number of operands, lowered to the
// operations that already have all their rules, so every derivative and batch rule comes free:
//
// 1. a letter repeated within one operand takes the diagonal of those dimensions
//    (`"ii->i"`, and `"ii->"`, `"NMKK->NM"` for traces);
// 2. a letter that appears in one operand only, and not in the output, is summed away;
// 3. operands are contracted left to right, two at a time, each pair as one batched matrix
//    product over its (shared and kept, left-only, right-only, summed) letter groups;
// 4. the result is permuted into the output's order.
//
// Without "->" the output is the letters that appear exactly once, in alphabetical order, as
// NumPy's implicit mode. Ellipses are not supported.

import FluxionKernels

/// Einstein summation: `einsum("ij,jk->ik", a, b)` is the matrix product, `einsum("ii->", a)` the
/// trace, `einsum("bij,bjk->bik", a, b)` a batched product, `einsum("i,j->ij", u, v)` the outer
/// product, `einsum("NMKK->NM", x)` a batch of traces. Each letter is a dimension; letters
/// absent from the output are summed.
public func einsum(_ equation: String, _ operands: NDArray..., file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    einsum(equation, operands, file: file, line: line)
}

/// `einsum` with the operands in an array.
public func einsum(_ equation: String, _ operands: [NDArray], file: StaticString = #fileID, line: UInt = #line) -> NDArray {
    let spec = equation.filter { !$0.isWhitespace }
    let halves = spec.components(separatedBy: "->")
    let inputs = halves[0].components(separatedBy: ",").map(Array.init)
    guard halves.count <= 2, inputs.count == operands.count, !operands.isEmpty,
          inputs.allSatisfy({ $0.allSatisfy(\.isLetter) }), halves.count == 1 || halves[1].allSatisfy(\.isLetter) else {
        fail("einsum", "\"\(equation)\" does not describe \(operands.count) operand(s)",
             fix: "write one group of letters per operand, separated by commas, and optionally \"->\" and the output's letters",
             file: file, line: line)
    }
    let all = inputs.flatMap { $0 }
    let output: [Character] = halves.count == 2 ? Array(halves[1])
        : Set(all).filter { letter in all.filter { $0 == letter }.count == 1 }.sorted()
    var size: [Character: Int] = [:]
    for (letters, x) in zip(inputs, operands) {
        guard letters.count == x.rank else {
            fail("einsum", "\"\(String(letters))\" names \(letters.count) dimensions of an operand of shape \(describe(x.shape))",
                 fix: "give every dimension of each operand one letter", file: file, line: line)
        }
        for (letter, n) in zip(letters, x.shape) {
            if let known = size[letter], known != n {
                fail("einsum", "dimension '\(letter)' has sizes \(known) and \(n)", fix: "make dimensions with one letter agree",
                     file: file, line: line)
            }
            size[letter] = n
        }
    }
    guard Set(output).count == output.count, output.allSatisfy({ size[$0] != nil }) else {
        fail("einsum", "the output \"\(String(output))\" repeats a letter or names one no operand has",
             fix: "name each output dimension once, with letters of the operands", file: file, line: line)
    }
    checkShape(output.map { size[$0]! }, "einsum", from: operands.map(\.shape), file: file, line: line)

    // 1 and 2, operand by operand: diagonals of repeated letters, then letters used nowhere else.
    var terms: [(array: NDArray, letters: [Character])] = []
    for (k, (letters, x)) in zip(inputs, operands).enumerated() {
        var (array, own) = (x, letters)
        while let repeated = own.first(where: { letter in own.filter { $0 == letter }.count > 1 }) {
            let first = own.firstIndex(of: repeated)!, second = own.lastIndex(of: repeated)!
            array = array.diagonal(dim1: first, dim2: second, file: file, line: line)
            own.remove(at: second)
            own.remove(at: first)
            own.append(repeated)
        }
        let elsewhere = Set(output + inputs.enumerated().filter { $0.offset != k }.flatMap(\.element))
        let summed = own.indices.filter { !elsewhere.contains(own[$0]) }
        if !summed.isEmpty {
            array = array.sum(dims: summed)
            own = own.indices.filter { !summed.contains($0) }.map { own[$0] }
        }
        terms.append((array, own))
    }
    // 3: contract left to right, keeping the letters later operands or the output use.
    var (result, letters) = terms[0]
    for k in 1..<terms.count {
        let later = Set(output + terms[(k + 1)...].flatMap(\.letters))
        (result, letters) = contract(result, letters, terms[k].array, terms[k].letters, keeping: later, size: size, file: file, line: line)
    }
    // 4: letters still there but not in the output are summed; then the output's order.
    let leftover = letters.indices.filter { !output.contains(letters[$0]) }
    if !leftover.isEmpty {
        result = result.sum(dims: leftover)
        letters = letters.indices.filter { !leftover.contains($0) }.map { letters[$0] }
    }
    return result.permute(output.map { letters.firstIndex(of: $0)! })
}

/// `x` (letters `lx`) times `y` (letters `ly`), summing the shared letters not in `keep`, as
/// one batched matrix product: the result's letters are the kept shared ones, then `x`'s own,
/// then `y`'s own.
private func contract(_ x: NDArray, _ lx: [Character], _ y: NDArray, _ ly: [Character], keeping keep: Set<Character>,
                      size: [Character: Int], file: StaticString, line: UInt) -> (NDArray, [Character]) {
    let batch = lx.filter { ly.contains($0) && keep.contains($0) }
    let summed = lx.filter { ly.contains($0) && !keep.contains($0) }
    let left = lx.filter { !ly.contains($0) }, right = ly.filter { !lx.contains($0) }
    for group in [batch + left + summed, batch + summed + right, batch + left + right] {
        checkShape(group.map { size[$0]! }, "einsum", from: [x.shape, y.shape], file: file, line: line)
    }
    func count(_ letters: [Character]) -> Int { Shape.count(letters.map { size[$0]! }) }
    let xm = x.permute((batch + left + summed).map { lx.firstIndex(of: $0)! })
        .reshape(batch.map { size[$0]! } + [count(left), count(summed)])
    let ym = y.permute((batch + summed + right).map { ly.firstIndex(of: $0)! })
        .reshape(batch.map { size[$0]! } + [count(summed), count(right)])
    let product = matmul(xm, ym, file: file, line: line).reshape((batch + left + right).map { size[$0]! })
    return (product, batch + left + right)
}
