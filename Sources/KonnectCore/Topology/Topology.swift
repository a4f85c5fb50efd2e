/// How a cluster's nodes reach each other, fixed when the cluster is created.
///
/// - `unix`: every node on this machine's loopback; node-to-node links are Unix sockets in the run directory.
/// - `netns`: every node is a "host" of its own (a Linux network namespace on one bridge, addresses from
///   198.18.0.0/15); node-to-node links are TLS over TCP, as between separate machines.
public enum Topology: String, Sendable, Hashable, CaseIterable {
    case unix, netns

    /// Parses `--topology`; the error names the valid values.
    public static func parse(_ text: String) -> Result<Topology, TopologyError> {
        guard let topology = Topology(rawValue: text) else {
            return .failure(
                TopologyError(
                    "invalid value '\(text)' for --topology; valid values: \(allCases.map(\.rawValue).joined(separator: ", "))"
                ))
        }
        return .success(topology)
    }
}

/// A topology, link URL or network plan that cannot be used, saying why.
public struct TopologyError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
