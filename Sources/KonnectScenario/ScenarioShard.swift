import KonnectCluster

/// `scenario run PATHS --shard K/N`: the K-th of N parts of a scenario set, for CI systems that already
/// spread work over a job matrix or Kubernetes Jobs. The files are sorted and dealt out in turn, so the N
/// shards of one tree hold every file exactly once, their sizes differ by at most one, and the same
/// tree always deals the same way.
public struct ScenarioShard: Sendable, Equatable {
    /// 1-based, as written on the command line.
    public var index: Int
    public var count: Int

    public static let maximumCount = 1000

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Reads `K/N` (1 <= K <= N <= 1000).
    public init(parsing text: String) throws(UsageError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy { $0 >= "0" && $0 <= "9" } }),
            let index = Int(parts[0]), let count = Int(parts[1]), (1...ScenarioShard.maximumCount).contains(count),
            (1...count).contains(index)
        else {
            throw UsageError(
                "invalid value '\(text)' for --shard; expected K/N with 1 <= K <= N <= \(ScenarioShard.maximumCount), such as 2/8"
            )
        }
        self.init(index: index, count: count)
    }

    /// This shard's files among `files` (sorted first, so the order they were found in does not matter).
    public func select(_ files: [String]) -> [String] {
        files.sorted().enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}
