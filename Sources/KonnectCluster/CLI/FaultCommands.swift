import KonnectCore
import KonnectHTTP

/// `kill`, `restart`, `pause`, `resume`, `partition`, `heal`, `latency`, `drop`, `isolate`, `rejoin`, `faults`.
enum FaultCommands {
    static func run(_ command: ParsedCommand) throws {
        // Arguments are checked before the cluster is looked up: a usage error stays a usage error.
        func cluster() throws -> Cluster { try command.existingCluster() }
        let arguments = command.arguments
        switch command.path[0] {
        case "kill":
            try cluster().kill(arguments[0])
            print("killed \(arguments[0]) (SIGKILL)")
        case "restart":
            let descriptor = try cluster().restart(arguments[0])
            print("restarted \(arguments[0]) (pid \(descriptor.pid))")
        case "pause":
            try cluster().pause(arguments[0])
            print("paused \(arguments[0]) (SIGSTOP)")
        case "resume":
            try cluster().resume(arguments[0])
            print("resumed \(arguments[0]) (SIGCONT)")
        case "isolate":
            try cluster().isolate(arguments[0])
            print("isolated \(arguments[0]): its host's link is down until 'rejoin'")
        case "rejoin":
            try cluster().rejoin(arguments[0])
            print("rejoined \(arguments[0]): its host's link is up")
        case "partition":
            try cluster().partition(from: arguments[0], to: arguments[1])
            print("partitioned \(arguments[0]) -> \(arguments[1]): its connections are refused until 'heal'")
        case "heal":
            if command.flag("all") {
                try cluster().healAll()
                print("healed every link")
            } else {
                guard arguments.count == 2 else { throw UsageError("heal needs <from> <to>, or --all") }
                try cluster().heal(from: arguments[0], to: arguments[1])
                print("healed \(arguments[0]) -> \(arguments[1])")
            }
        case "latency":
            guard let delay = WallDuration.milliseconds(arguments[2]) else {
                throw UsageError("invalid delay '\(arguments[2])'; expected \(WallDuration.expected)")
            }
            let jitterText = command.option("jitter") ?? "0ms"
            guard let jitter = WallDuration.milliseconds(jitterText) else {
                throw UsageError("invalid value '\(jitterText)' for --jitter; expected \(WallDuration.expected)")
            }
            try cluster().slow(
                from: arguments[0], to: arguments[1], delayMilliseconds: delay, jitterMilliseconds: jitter)
            print("added \(delay) ms (+ up to \(jitter) ms) to \(arguments[0]) -> \(arguments[1])")
        case "drop":
            guard let fraction = FaultFraction.partsPerMillion(arguments[2]) else {
                throw UsageError("invalid fraction '\(arguments[2])'; expected \(FaultFraction.expected)")
            }
            try cluster().drop(from: arguments[0], to: arguments[1], partsPerMillion: fraction)
            print("dropping \(Double(fraction) / 10_000)% of requests on \(arguments[0]) -> \(arguments[1])")
        case "faults":
            let cluster = try cluster()
            let plan = cluster.faultPlan
            if command.flag("json") {
                let body: JSON = ["faults": plan.json, "log": .array(cluster.faultLog)]
                print(body.prettyText)
                return
            }
            if plan.links.isEmpty { print("no link faults in force") }
            for (link, fault) in plan.links.sorted(by: { $0.key < $1.key }) { print("\(link): \(fault.summary)") }
            for entry in cluster.faultLog {
                print(
                    "\(entry["wall_time"]?.stringValue ?? "") calendar \(entry["calendar_time"]?.stringValue ?? "-"): \(entry["fault"]?.stringValue ?? "") \(entry["node"]?.stringValue ?? entry["link"]?.stringValue ?? "")"
                )
            }
        default:
            throw UsageError("unknown fault command")
        }
    }
}
