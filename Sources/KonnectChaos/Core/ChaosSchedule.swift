/// Reading a chaos schedule's lines.
enum ChaosSchedule {
    static let faultWords: Set<String> = ["kill", "restart", "pause", "resume", "partition", "heal", "latency", "drop"]

    static func isFault(_ line: String) -> Bool {
        faultWords.contains(String(line.split(separator: " ").first ?? ""))
    }
}
