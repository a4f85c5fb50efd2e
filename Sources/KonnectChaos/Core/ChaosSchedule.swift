/// Reading a chaos schedule's lines.
enum ChaosSchedule {
    static let faultWords: Set<String> = [
        "kill", "restart", "pause", "resume", "partition", "heal", "latency", "drop", "isolate", "rejoin",
    ]

    static func isFault(_ line: String) -> Bool {
        faultWords.contains(String(line.split(separator: " ").first ?? ""))
    }

    /// Whether a line takes a host off the network or back (only where nodes are hosts: `--topology netns`).
    static func needsHosts(_ line: String) -> Bool {
        let word = line.split(separator: " ").first ?? ""
        return word == "isolate" || word == "rejoin"
    }
}
