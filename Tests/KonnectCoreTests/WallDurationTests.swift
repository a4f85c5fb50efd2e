import KonnectCore
import Testing

/// The one parser of wall-clock durations and drop fractions (issue 14), shared by the command line and
/// the scenario language.
@Suite struct WallDurationTests {
    @Test(arguments: [
        ("0ms", 0), ("50ms", 50), ("2s", 2000), ("1m", 60_000), ("10m", 600_000), ("600s", 600_000),
        ("600000ms", 600_000), ("007s", 7000),
    ])
    func parsesUnits(_ text: String, _ milliseconds: Int) {
        #expect(WallDuration.milliseconds(text) == milliseconds)
    }

    @Test(arguments: [
        "", "ms", "5", "5h", "5 s", "-1s", "+1s", "1.5s", "1m30s", "11m", "600001ms", "601s",
        "99999999999999999s", "9999999999999999m", "999999999999999999999999999999ms", "１s",
    ])
    func refusesAnythingElseWithoutTrapping(_ text: String) {
        #expect(WallDuration.milliseconds(text) == nil)
    }

    @Test(arguments: [
        ("0", 0), ("1", 1_000_000), ("1.0", 1_000_000), ("0.25", 250_000), (".5", 500_000), ("0.000001", 1),
    ])
    func fractions(_ text: String, _ partsPerMillion: Int) {
        #expect(FaultFraction.partsPerMillion(text) == partsPerMillion)
    }

    @Test(arguments: ["", "1.5", "2", "0.0000001", "-0.1", "0.x", "0..1", "１"])
    func refusedFractions(_ text: String) {
        #expect(FaultFraction.partsPerMillion(text) == nil)
    }
}
