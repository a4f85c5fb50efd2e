import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `up`, `down` and `status`.
enum ClusterCommands {
    static func up(_ command: ParsedCommand) throws {
        let geos: [String]
        switch ClusterConfiguration.parseGeos(command.option("geos") ?? "us,eu,au") {
        case .success(let value): geos = value
        case .failure(let error): throw error
        }
        let startText = command.option("start") ?? SimTime.defaultStart.iso8601
        guard let start = SimTime(iso8601: startText) else {
            throw UsageError(
                "invalid value '\(startText)' for --start; expected an RFC 3339 date such as 2026-01-01T00:00:00Z")
        }
        var rateCardPath: String? = nil
        if let path = command.option("rate-card") {
            let absolute = Cluster.absolute(path)
            guard let bytes = readWholeFile(absolute) else {
                throw UsageError("cannot read the rate card file '\(path)'")
            }
            do {
                _ = try RateCard(json: try JSONParser.parse(bytes))
            } catch let error as APIError {
                throw UsageError(
                    "the rate card '\(path)' is invalid: \(error.invalidParameters.map { "\($0.field) \($0.reason)" }.joined(separator: "; "))"
                )
            } catch {
                throw UsageError("the rate card '\(path)' is not valid JSON: \(error)")
            }
            rateCardPath = absolute
        }
        let configuration = ClusterConfiguration(
            geos: geos, start: start, seed: try command.seed(), rateCardPath: rateCardPath)
        let cluster = Cluster(directory: command.directory)
        let report = try ClusterBoot.up(cluster, configuration)
        print(report.message)
        print(
            formatTable(
                ["NODE", "ROLE", "URL", "SOCKET", "LOG"],
                report.nodes.map { status in
                    [
                        status.record.name, status.record.kind.role, status.descriptor.map { $0.url } ?? "-",
                        status.descriptor?.socket ?? "-", NodeFiles.log(status.record.directory),
                    ]
                }), terminator: "")
        if let token = cluster.supportToken {
            print("support credential: \(cluster.supportTokenPath) (\(token.prefix(9))...)")
        }
    }

    static func down(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        guard cluster.configuration != nil || !cluster.records.isEmpty else {
            print("nothing to stop in \(cluster.directory)")
            return
        }
        let stopped = cluster.down()
        print(
            "stopped \(stopped.count) node\(stopped.count == 1 ? "" : "s"): \(stopped.map(\.name).joined(separator: ", "))"
        )
    }

    static func status(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        let statuses = cluster.status()
        if command.flag("json") {
            var body = JSONObject([("directory", .string(cluster.directory)), ("nodes", .array(statuses.map(\.json)))])
            if let configuration = cluster.configuration { body["cluster"] = configuration.json }
            print(JSON.object(body).prettyText)
            return
        }
        guard !statuses.isEmpty else {
            print("no cluster in \(cluster.directory); start one with 'konnect-sim up --dir \(command.directory)'")
            return
        }
        print(
            formatTable(
                ["NODE", "ROLE", "PID", "STATE", "SOCKET", "URL", "DETAIL"],
                statuses.map { status in
                    [
                        status.record.name, status.record.kind.role, status.descriptor.map { String($0.pid) } ?? "-",
                        status.state,
                        status.descriptor?.socket ?? "-", status.descriptor.map { $0.port > 0 ? $0.url : "-" } ?? "-",
                        detail(status),
                    ]
                }), terminator: "")
    }

    /// A short summary of a data plane's or zone's own status.
    static func detail(_ status: NodeStatus) -> String {
        guard let details = status.details else { return "" }
        var parts: [String] = []
        if let state = details["state"]?.stringValue { parts.append(state) }
        if let version = details["config"]?["version"]?.intValue { parts.append("config v\(version)") }
        if let version = details["policies"]?["version"]?.intValue { parts.append("policies v\(version)") }
        return parts.joined(separator: ", ")
    }
}

/// What `up` did.
public struct BootReport: Sendable {
    public var message: String
    public var nodes: [NodeStatus]
}

/// Bringing a cluster up: shared by the CLI, the scenario runner and the tests.
public enum ClusterBoot {
    /// Starts the auth node, then every geo in parallel; idempotent; restarts nodes that are down.
    public static func up(_ cluster: Cluster, _ configuration: ClusterConfiguration) throws -> BootReport {
        NodeFiles.makePrivateDirectory(cluster.directory)
        guard access(cluster.directory, W_OK) == 0 else { throw ProcessError("cannot write to \(cluster.directory)") }
        if let existing = cluster.configuration, existing.geos != configuration.geos {
            let running = cluster.status().filter { $0.process != .down }
            if !running.isEmpty {
                throw ProcessError(
                    "a cluster with geos \(existing.geos.joined(separator: ",")) is running in \(cluster.directory); run 'konnect-sim down --dir \(cluster.directory)' first"
                )
            }
        }
        // The socket path must fit; fail before starting anything.
        let longest = cluster.nodeDirectory(.geo, "xx") + "/sock"
        if longest.utf8.count > 100 {
            throw ProcessError(
                "the run directory path is too long for Unix sockets (\(longest.utf8.count) bytes, at most 100); use a shorter --dir"
            )
        }
        let effective =
            cluster.configuration.map { existing in
                // A restarted cluster keeps its calendar start and seed.
                ClusterConfiguration(
                    geos: configuration.geos, start: existing.start, seed: existing.seed ?? configuration.seed,
                    rateCardPath: configuration.rateCardPath ?? existing.rateCardPath)
            } ?? configuration
        do {
            try AtomicFile.write(effective.json.prettyText + "\n", to: cluster.configurationPath)
            if cluster.supportToken == nil {
                try AtomicFile.write(Secrets.token(prefix: "ksup_") + "\n", to: cluster.supportTokenPath, mode: 0o600)
            }
            if readWholeFile(cluster.faultsPath) == nil {
                try AtomicFile.write(
                    FaultPlan(seed: effective.seed ?? 0).json.prettyText + "\n", to: cluster.faultsPath)
            }
        } catch {
            throw ProcessError(error.description)
        }

        let auth = authRecord(cluster, effective)
        let geos = effective.geos.map { geoRecord(cluster, effective, $0) }
        var started: [String] = []
        var alreadyRunning: [String] = []
        var restarted: [String] = []
        for record in [auth] + geos {
            let (_, state) = cluster.processState(record)
            if state != .down {
                alreadyRunning.append(record.name)
            } else if cluster.descriptor(record) != nil {
                restarted.append(record.name)
            }
        }
        do {
            if !alreadyRunning.contains("auth") {
                try cluster.start(auth)
                started.append("auth")
            }
            let pending = geos.filter { !alreadyRunning.contains($0.name) }
            try startInParallel(cluster, pending)
            started.append(contentsOf: pending.map(\.name))
        } catch {
            // A node that does not come up takes the others down with it.
            for record in [auth] + geos where started.contains(record.name) || !alreadyRunning.contains(record.name) {
                cluster.stop(record, graceMilliseconds: 2000)
            }
            throw error
        }
        let nodes = cluster.status().filter { $0.record.kind == .auth || $0.record.kind == .geo }
        var message: String
        if started.isEmpty {
            message = "the cluster in \(cluster.directory) is already running"
        } else if !alreadyRunning.isEmpty || !restarted.isEmpty {
            message =
                "restarted \(started.joined(separator: ", ")) in \(cluster.directory) (found stale state from an earlier run; data kept)"
        } else {
            message = "cluster up in \(cluster.directory): auth + \(effective.geos.joined(separator: ", "))"
        }
        if !alreadyRunning.isEmpty && !started.isEmpty {
            message += "; already running: \(alreadyRunning.joined(separator: ", "))"
        }
        return BootReport(message: message, nodes: nodes)
    }

    static func startInParallel(_ cluster: Cluster, _ records: [NodeRecord]) throws {
        try concurrently(records.count, lanes: records.count, name: "start") { index in
            try cluster.start(records[index])
        }
    }

    public static func authRecord(_ cluster: Cluster, _ configuration: ClusterConfiguration) -> NodeRecord {
        let directory = cluster.nodeDirectory(.auth, "auth")
        var arguments = [
            "node", "auth", "--dir", directory, "--geos", configuration.geos.joined(separator: ","), "--start",
            configuration.start.iso8601,
            "--support-token-file", cluster.supportTokenPath,
        ]
        if let path = configuration.rateCardPath { arguments += ["--rate-card", path] }
        if let seed = configuration.seed { arguments += ["--seed", String(seed)] }
        return NodeRecord(kind: .auth, name: "auth", directory: directory, arguments: arguments)
    }

    public static func geoRecord(_ cluster: Cluster, _ configuration: ClusterConfiguration, _ geo: String) -> NodeRecord
    {
        let directory = cluster.nodeDirectory(.geo, geo)
        var arguments = [
            "node", "geo", "--dir", directory, "--name", geo, "--auth-socket",
            NodeFiles.socket(cluster.nodeDirectory(.auth, "auth")),
            "--faults", cluster.faultsPath,
        ]
        if let seed = configuration.seed { arguments += ["--seed", String(seed)] }
        return NodeRecord(kind: .geo, name: geo, directory: directory, arguments: arguments)
    }
}
