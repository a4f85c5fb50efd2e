import KonnectCore
import KonnectHTTP
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// What settling usage before a calendar move found (B1, B3): usage data planes counted and geos queued
/// is delivered first, so the move attributes it to the moment it happened. A node that cannot deliver
/// (down, paused, or cut off by a link fault) is named with what happens to its usage: it is recorded
/// when it arrives, late, in the cycle open then (ARCHITECTURE.md, decisions).
public struct UsageSettlement: Sendable {
    public struct Unsettled: Sendable, Hashable {
        public var node: String
        public var reason: String
    }

    public var unsettled: [Unsettled] = []

    public var isComplete: Bool { unsettled.isEmpty }

    public var json: JSON {
        [
            "complete": .bool(isComplete),
            "unsettled": .array(unsettled.map { ["node": .string($0.node), "reason": .string($0.reason)] }),
        ]
    }
}

extension Cluster {
    /// How long a calendar move waits for usage in flight (a data plane reports every 500 ms and retries
    /// within 3 s, a geo within 2 s).
    public static let settleMilliseconds = 10_000

    /// Waits until every data plane and geo that can deliver its usage has: data planes are read before
    /// geos (a report moves to its geo before the data plane says it has none left), and two clean passes
    /// in a row are required. Nodes that cannot deliver are not waited for; they and those still pending
    /// at the deadline are named.
    public func settleUsage(timeoutMilliseconds: Int = Cluster.settleMilliseconds) -> UsageSettlement {
        let deadline = Monotonic.now + timeoutMilliseconds
        let plan = faultPlan
        var blocked: [String: String] = [:]
        var pending: [String: String] = [:]
        var cleanPasses = 0
        while true {
            blocked = [:]
            pending = [:]
            let all = records
            let states = Dictionary(uniqueKeysWithValues: all.map { ($0.name, processState($0).1) })
            for record in all where record.kind == .dataPlane {
                let target = record.connectedGeo ?? "?"
                let state = states[record.name] ?? .down
                if state == .paused {
                    blocked[record.name] = "data plane \(record.name) is paused: calls it counted wait in it"
                    continue
                }
                let status = (try? nodeStatus(record.name)) ?? .null
                let unreported = status["unreported_usage"]?.intValue ?? 0
                guard unreported > 0 else { continue }
                let link = plan.links[LinkFault.linkName(from: record.name, to: target)]
                if state == .down {
                    blocked[record.name] = "data plane \(record.name) is down with unreported calls on its disk"
                } else if link?.partitioned == true {
                    blocked[record.name] =
                        "data plane \(record.name) is cut off from geo \(target) (partition) with unreported calls"
                } else if states[target] != .running {
                    blocked[record.name] =
                        "data plane \(record.name) cannot report: its geo \(target) is \(states[target] == .paused ? "paused" : "down")"
                } else {
                    pending[record.name] = "data plane \(record.name) still has \(unreported) unreported calls"
                }
            }
            for record in all where record.kind == .geo {
                let state = states[record.name] ?? .down
                guard state == .running else {
                    blocked[record.name] =
                        "geo \(record.name) is \(state == .paused ? "paused" : "down"): any usage it queued waits on its disk"
                    continue
                }
                let status = (try? client(record, timeoutMilliseconds: 1000).send("GET", "/internal/v1/status"))?.json
                let queued = status?["pending_usage_records"]?.intValue ?? 0
                guard queued > 0 else { continue }
                if plan.links[LinkFault.linkName(from: record.name, to: "auth")]?.partitioned == true {
                    blocked[record.name] =
                        "geo \(record.name) is cut off from the auth node (partition) with \(queued) queued usage records"
                } else {
                    pending[record.name] = "geo \(record.name) still has \(queued) undelivered usage records"
                }
            }
            cleanPasses = pending.isEmpty ? cleanPasses + 1 : 0
            if cleanPasses >= 2 || Monotonic.now >= deadline { break }
            usleep(20_000)
        }
        let late = "; it is recorded when it arrives, in the billing cycle open then"
        var result = UsageSettlement()
        for (node, reason) in blocked.merging(pending, uniquingKeysWith: { first, _ in first }).sorted(by: {
            $0.key < $1.key
        }) {
            result.unsettled.append(.init(node: node, reason: reason + late))
        }
        return result
    }
}
