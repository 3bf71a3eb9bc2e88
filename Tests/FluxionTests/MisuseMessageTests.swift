// Every case of the misuse catalogue (Tests/MisuseCases) stops the program with its message.
// The same catalogue runs from an optimised build in FluxionReleaseChecks.

import Testing
import MisuseCases

@Suite("Misuse stops with its message")
struct MisuseMessageTests {
    @Test("the catalogue's case stops with the expected message", arguments: misuseCases.map(\.name))
    func stops(_ name: String) async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [name] in
            runMisuseCase(named: name)
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        let expected = misuseCases.first { $0.name == name }?.expected ?? []
        for fragment in expected {
            #expect(text.contains(fragment), "\(name): missing \"\(fragment)\" in:\n\(text)")
        }
    }
}
