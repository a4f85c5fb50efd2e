import KonnectCore

/// How often the nemesis injects faults, and which kinds: `--fault-rate 0.1 --faults kill=2,pause,partition`.
/// `isolate` needs hosts of their own (`--topology netns`): on by default there, a usage error elsewhere.
public struct FaultRates: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// SIGKILL a node, restart it later.
        case kill
        /// SIGSTOP a node, resume it later.
        case pause
        /// Refuse a link's connections, heal it later.
        case partition
        /// Delay a link's requests and streamed messages.
        case slow
        /// Fail a fraction of a link's requests.
        case drop
        /// Take a node's host off the network (its link down), rejoin it later (`--topology netns`).
        case isolate
    }

    /// The share of steps that inject a fault, from 0 to 1 (repairs are extra steps).
    public var rate: Double
    /// Relative weights of the kinds; a kind absent or at 0 is never injected.
    public var weights: [Kind: Int]

    public static let standard = FaultRates(
        rate: 0.1, weights: [.kill: 2, .pause: 1, .partition: 2, .slow: 1, .drop: 1])

    /// The default for a topology: `standard`, plus `isolate` where nodes are hosts of their own.
    public static func standard(for topology: Topology) -> FaultRates {
        var rates = FaultRates.standard
        if topology == .netns { rates.weights[.isolate] = 2 }
        return rates
    }

    public init(rate: Double, weights: [Kind: Int]) {
        self.rate = rate
        self.weights = weights
    }

    /// Parses `--fault-rate` and `--faults` for a topology; the error names the bad value and the valid
    /// ones.
    public static func parse(rate: String?, kinds: String?, topology: Topology = .unix) -> Result<
        FaultRates, FaultRatesError
    > {
        var rates = FaultRates.standard(for: topology)
        if let rate {
            guard let value = Double(rate), value >= 0, value <= 1 else {
                return .failure(
                    FaultRatesError("invalid value '\(rate)' for --fault-rate; expected a number from 0 to 1"))
            }
            rates.rate = value
        }
        if let kinds {
            var weights: [Kind: Int] = [:]
            for item in kinds.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard let name = parts.first, let kind = Kind(rawValue: name) else {
                    return .failure(
                        FaultRatesError(
                            "invalid fault '\(item)' in --faults; expected \(Kind.allCases.map(\.rawValue).joined(separator: ", ")), each optionally with =WEIGHT"
                        ))
                }
                var weight = 1
                if parts.count == 2 {
                    guard let value = Int(parts[1]), (0...100).contains(value) else {
                        return .failure(
                            FaultRatesError("invalid weight '\(parts[1])' for \(name) in --faults; expected 0 to 100"))
                    }
                    weight = value
                }
                if kind == .isolate, weight > 0, topology != .netns {
                    return .failure(
                        FaultRatesError(
                            "isolate in --faults takes a node's host off the network, and in --topology \(topology.rawValue) the nodes share one machine; add --topology netns, or use partition"
                        ))
                }
                weights[kind] = weight
            }
            rates.weights = weights
        }
        return .success(rates)
    }

    /// As the command line writes it.
    public var description: String {
        let kinds = Kind.allCases.compactMap { kind in weights[kind].flatMap { $0 > 0 ? "\(kind.rawValue)=\($0)" : nil }
        }
        return "--fault-rate \(rate) --faults \(kinds.joined(separator: ","))"
    }
}

public struct FaultRatesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
