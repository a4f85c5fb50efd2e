import KonnectScenario
import KonnectStorage

/// Writes a shrunk schedule as a scenario file anyone can run with `konnect-sim scenario run`.
public enum ScenarioText {
    public static func text(_ shrunk: ChaosRunResult, seed: UInt64, original: ChaosRunResult) -> String {
        var header = [
            "Found by konnect-sim chaos --seed \(seed) and shrunk from \(original.lines.count) to \(shrunk.lines.count) lines.",
            "Broken: \(original.failedInvariants.joined(separator: ", ")). Replay: konnect-sim scenario run --seed \(seed) FILE",
        ]
        for line in (shrunk.outcome?.summary ?? original.summary).split(separator: "\n").prefix(12) {
            header.append(String(line))
        }
        return header.map { "# " + $0 }.joined(separator: "\n") + "\n" + shrunk.lines.joined(separator: "\n") + "\n"
    }

    public static func write(_ shrunk: ChaosRunResult, seed: UInt64, original: ChaosRunResult, to path: String) throws {
        try AtomicFile.write(text(shrunk, seed: seed, original: original), to: path)
    }
}
