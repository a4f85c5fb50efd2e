import KonnectCore
import KonnectHTTP
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// The command line: parses with `CommandLineParser`, runs the command, returns the exit status
/// (0 success, 1 failure, 64 usage error).
public enum KonnectSimCLI {
    public static func main(_ arguments: [String]) -> Int32 {
        switch CommandLineParser.parse(arguments, root: CommandTree.root) {
        case .help(let path):
            print(CommandLineParser.help(path, root: CommandTree.root), terminator: "")
            return 0
        case .usageError(let path, let message):
            printError(
                "error: \(message)\nUsage: see 'konnect-sim help\(path.isEmpty ? "" : " " + path.joined(separator: " "))'"
            )
            return 64
        case .run(let command):
            do {
                try run(command)
                return 0
            } catch let error as UsageError {
                printError(
                    "error: \(error.message)\nUsage: see 'konnect-sim help \(command.path.joined(separator: " "))'")
                return 64
            } catch {
                printError("error: \(error)")
                return 1
            }
        }
    }

    public static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func run(_ command: ParsedCommand) throws {
        switch command.path {
        case ["up"]: try ClusterCommands.up(command)
        case ["down"]: try ClusterCommands.down(command)
        case ["status"]: try ClusterCommands.status(command)
        case ["kill"], ["restart"], ["pause"], ["resume"], ["isolate"], ["rejoin"], ["partition"], ["heal"],
            ["latency"], ["drop"], ["faults"]:
            try FaultCommands.run(command)
        case ["clock", "show"], ["clock", "advance"], ["clock", "set"]: try OperatorCommands.clock(command)
        case ["billing", "show"]: try OperatorCommands.billing(command)
        case ["support", "deactivate"], ["support", "reactivate"], ["support", "unlock-email"], ["support", "show"]:
            try OperatorCommands.support(command)
        case ["dp", "start"], ["dp", "stop"], ["dp", "status"]: try EdgeCommands.dataPlane(command)
        case ["upstream", "start"], ["upstream", "stop"]: try EdgeCommands.upstream(command)
        case ["zone", "start"], ["zone", "stop"], ["zone", "status"], ["zone", "policies"]:
            try EdgeCommands.zone(command)
        case ["scenario", "run"], ["scenario", "check"], ["scenario", "merge-reports"]:
            try ScenarioCommand.handler(command)
        case ["chaos"]: try ChaosCommand.handler(command)
        case ["bench", "sync"], ["bench", "calendar"], ["bench", "http"], ["bench", "writes"], ["bench", "proxy"],
            ["bench", "connections"]:
            try BenchCommand.handler(command)
        case ["console"]: try ConsoleCommand.handler(command)
        case ["pki", "init"], ["pki", "issue"]: try PKICommands.run(command)
        case ["openapi"]:
            let listener: ListenerKind
            switch command.option("listener") ?? "tcp" {
            case "tcp": listener = .tcp
            case "unix": listener = .unix
            case "link": listener = .link
            case let other: throw UsageError("invalid value '\(other)' for --listener; expected tcp, unix or link")
            }
            let geos = try ClusterConfiguration.parseGeos(command.option("geos") ?? "us,eu,au").get()
            switch command.arguments[0] {
            case "auth": print(OpenAPIDocument.auth(geos: geos, listener: listener).prettyText)
            case "geo": print(OpenAPIDocument.geo(listener: listener).prettyText)
            default: throw UsageError("invalid value '\(command.arguments[0])' for <api>; expected auth or geo")
            }
        case ["node", "auth"], ["node", "geo"], ["node", "dp"], ["node", "upstream"], ["node", "zone"]:
            try NodeCommands.run(command)
        default: throw UsageError("unknown command \(command.path.joined(separator: " "))")
        }
    }
}

/// Hooks filled in by higher layers (the scenario runner and benchmarks live in modules that depend
/// on this one).
public enum ScenarioCommand {
    nonisolated(unsafe) public static var handler: (ParsedCommand) throws -> Void = { _ in
        throw UsageError("scenarios are not available in this build")
    }
}

public enum ConsoleCommand {
    nonisolated(unsafe) public static var handler: (ParsedCommand) throws -> Void = { _ in
        throw UsageError("the console is not available in this build")
    }
}

public enum ChaosCommand {
    nonisolated(unsafe) public static var handler: (ParsedCommand) throws -> Void = { _ in
        throw UsageError("chaos runs are not available in this build")
    }
}

public enum BenchCommand {
    nonisolated(unsafe) public static var handler: (ParsedCommand) throws -> Void = { _ in
        throw UsageError("benchmarks are not available in this build")
    }
}

/// Reading typed option values, with usage errors that name the bad value.
extension ParsedCommand {
    func required(_ name: String) throws -> String {
        guard let value = option(name), !value.isEmpty else { throw UsageError("missing --\(name)") }
        return value
    }

    public func integer(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = option(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(
                "invalid value '\(text)' for --\(name); expected an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    func seed() throws -> UInt64? {
        guard let text = option("seed") else { return nil }
        guard let value = UInt64(text) else {
            throw UsageError("invalid value '\(text)' for --seed; expected a non-negative integer")
        }
        return value
    }

    public var directory: String { option("dir") ?? ".konnect-sim" }

    /// `--topology unix|netns` (nil when not given). `netns` is refused at once, with the reason, on a
    /// machine that cannot make network namespaces.
    public func topology() throws -> Topology? {
        guard let text = option("topology") else { return nil }
        switch Topology.parse(text) {
        case .failure(let error): throw UsageError(error.message)
        case .success(.netns):
            if let reason = NetworkNamespaces.unavailableReason() {
                throw ProcessError("--topology netns is not available here: \(reason)")
            }
            return .netns
        case .success(let topology): return topology
        }
    }

    /// The cluster `--dir` names; an error saying how to start one when there is none.
    func existingCluster() throws -> Cluster {
        let cluster = Cluster(directory: directory)
        guard cluster.exists else {
            throw ProcessError("no cluster in \(directory) (run `konnect-sim up --dir \(directory)`)")
        }
        return cluster
    }
}

/// Renders rows as an aligned text table.
public func formatTable(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
        }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
}
