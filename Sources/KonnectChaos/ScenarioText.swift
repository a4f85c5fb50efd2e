import KonnectCore
import KonnectScenario
import KonnectStorage

/// Writes a shrunk schedule as a scenario file anyone can run with `konnect-sim scenario run`.
///
/// A run in `--topology netns` is written with a first comment line saying so and a replay command that
/// passes `--topology netns`: its lines may isolate hosts (refused in a unix cluster), and even without
/// them what it found happened over TLS links between hosts.
public enum ScenarioText {
    public static func text(_ shrunk: ChaosRunResult, seed: UInt64, original: ChaosRunResult) -> String {
        let topology = shrunk.topology
        var header: [String] = []
        if topology != .unix {
            header.append("Needs --topology \(topology.rawValue): found with every node on a host of its own.")
        }
        header += [
            "Found by konnect-sim chaos --seed \(seed)\(topology == .unix ? "" : " --topology \(topology.rawValue)") and shrunk from \(original.lines.count) to \(shrunk.lines.count) lines.",
            "Broken: \(original.failedInvariants.joined(separator: ", ")). Replay: konnect-sim scenario run \(topologyOption(topology))--seed \(seed) FILE",
        ]
        for line in (shrunk.outcome?.summary ?? original.summary).split(separator: "\n").prefix(12) {
            header.append(String(line))
        }
        return header.map { "# " + $0 }.joined(separator: "\n") + "\n" + shrunk.lines.joined(separator: "\n") + "\n"
    }

    /// `--topology netns ` for a replay command line, nothing for the default.
    public static func topologyOption(_ topology: Topology) -> String {
        topology == .unix ? "" : "--topology \(topology.rawValue) "
    }

    public static func write(_ shrunk: ChaosRunResult, seed: UInt64, original: ChaosRunResult, to path: String) throws {
        try AtomicFile.write(text(shrunk, seed: seed, original: original), to: path)
    }
}
