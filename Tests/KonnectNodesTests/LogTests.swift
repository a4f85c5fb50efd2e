import Testing

@testable import KonnectNodes

@Suite struct LogTests {
    @Test func plainMessagesAreUnchanged() {
        #expect(
            Log.escaped("control plane shop created in eu (ünïcode ok)")
                == "control plane shop created in eu (ünïcode ok)")
    }

    @Test func controlCharactersCannotForgeALineOrDriveATerminal() {
        let forged = "evil\n21:30:00.000 warn FORGED \u{1B}[31mred\r\t\u{7F}\u{85}\u{2028}"
        let escaped = Log.escaped(forged)
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(escaped == "evil\\n21:30:00.000 warn FORGED \\u{1B}[31mred\\r\\t\\u{7F}\\u{85}\\u{2028}")
    }

    /// The first failure of a loop has no previous log time: it must be logged, not overflow the
    /// subtraction from `Int.min` (which trapped and killed the geo at its first failed event poll).
    @Test func aLoopsFirstFailuresAndRecoveryAreLoggedWithoutTrapping() {
        struct Refused: Error {}
        let log = LoopLog(loop: "test loop", intervalMilliseconds: 60_000)
        log.failed(Refused(), next: "retrying in 100 ms")
        log.failed(Refused(), next: "retrying in 200 ms")
        log.succeeded()
        log.failed(Refused(), next: "retrying in 100 ms")
    }
}
