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
        let cluster = Cluster(directory: command.directory)
        // Options not given keep what the cluster was created with (a new one gets the defaults).
        var configuration = cluster.configuration ?? ClusterConfiguration()
        if let text = command.option("geos") {
            switch ClusterConfiguration.parseGeos(text) {
            case .success(let value): configuration.geos = value
            case .failure(let error): throw error
            }
        }
        if let startText = command.option("start") {
            guard let start = SimTime(iso8601: startText) else {
                throw UsageError(
                    "invalid value '\(startText)' for --start; expected an RFC 3339 date such as 2026-01-01T00:00:00Z")
            }
            configuration.start = start
        }
        if command.option("seed") != nil { configuration.seed = try command.seed() }
        if let topology = try command.topology() { configuration.topology = topology }
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
            configuration.rateCardPath = absolute
        }
        let report = try ClusterBoot.up(cluster, configuration, shownAs: command.directory)
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
        if let plan = cluster.network, let auth = report.nodes.first(where: { $0.record.kind == .auth })?.descriptor {
            let operatorHost = plan.namespace(NetworkPlan.operatorHost)
            print(
                "every node is a host of its own on 198.18.0.0/15 (TLS links, CA in \(cluster.pkiDirectory)); the operator's host is \(operatorHost) (\(plan.address(NetworkPlan.operatorHost) ?? "")): ip netns exec \(operatorHost) curl \(auth.url)/health"
            )
        }
    }

    static func down(_ command: ParsedCommand) throws {
        let cluster = try command.existingCluster()
        let result = cluster.down()
        print(result.summary(in: command.directory))
    }

    static func status(_ command: ParsedCommand) throws {
        let cluster = try command.existingCluster()
        let statuses = cluster.status()
        if command.flag("json") {
            var body = JSONObject([("directory", .string(cluster.directory)), ("nodes", .array(statuses.map(\.json)))])
            if let configuration = cluster.configuration { body["cluster"] = configuration.json }
            print(JSON.object(body).prettyText)
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
    /// Starts the auth node, then every geo in parallel; idempotent; starts again the nodes that are down.
    /// A cluster's configuration is fixed when it is created: asking an existing one for anything else
    /// is refused before anything changes. `shownAs` is the directory as the user wrote it.
    public static func up(_ cluster: Cluster, _ requested: ClusterConfiguration, shownAs: String? = nil) throws
        -> BootReport
    {
        let shown = shownAs ?? cluster.directory
        let existing = cluster.configuration
        if let existing {
            let differences = existing.differences(from: requested)
            guard differences.isEmpty else {
                throw ProcessError(
                    """
                    the cluster in \(shown) was created with other settings, and a cluster's geos, calendar start, \
                    seed, rate card and topology are fixed when it is created; nothing was changed:
                      \(differences.joined(separator: "\n  "))
                    Run `konnect-sim up --dir \(shown)` without options to start it as it is, or use another --dir.
                    """)
            }
        }
        NodeFiles.makePrivateDirectory(cluster.directory)
        guard access(cluster.directory, W_OK) == 0 else { throw ProcessError("cannot write to \(cluster.directory)") }
        // The socket path must fit; fail before starting anything.
        let longest = cluster.nodeDirectory(.geo, "xx") + "/sock"
        if longest.utf8.count > 100 {
            throw ProcessError(
                "the run directory path is too long for Unix sockets (\(longest.utf8.count) bytes, at most 100); use a shorter --dir"
            )
        }
        var effective = existing ?? requested
        do {
            if existing == nil {
                // The rate card is the cluster's own from now on: a copy, so editing the file changes nothing.
                if let source = requested.rateCardPath {
                    let copy = cluster.rateCardPath
                    if source != copy {
                        guard let bytes = readWholeFile(source) else {
                            throw ProcessError("cannot read the rate card file \(source)")
                        }
                        try AtomicFile.write(bytes, to: copy)
                    }
                    effective.rateCardPath = copy
                }
                try AtomicFile.write(effective.json.prettyText + "\n", to: cluster.configurationPath)
            }
            if cluster.supportToken == nil {
                try AtomicFile.write(Secrets.token(prefix: "ksup_") + "\n", to: cluster.supportTokenPath, mode: 0o600)
            }
            if readWholeFile(cluster.faultsPath) == nil {
                try AtomicFile.write(
                    FaultPlan(seed: effective.seed ?? 0).json.prettyText + "\n", to: cluster.faultsPath)
            }
        } catch let error as ProcessError {
            throw error
        } catch {
            throw ProcessError("\(error)")
        }

        let plan = effective.topology == .netns ? try cluster.prepareHosts(["auth"] + effective.geos) : nil
        let auth = try authRecord(cluster, effective, plan)
        let geos = try effective.geos.map { try geoRecord(cluster, effective, $0, plan) }
        var started: [String] = []
        var alreadyRunning: [String] = []
        var crashed: [String] = []
        for record in [auth] + geos {
            let (descriptor, state) = cluster.processState(record)
            if state != .down {
                alreadyRunning.append(record.name)
            } else if let descriptor, !descriptor.stoppedCleanly {
                crashed.append(record.name)
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
            message = "the cluster in \(shown) is already running"
        } else if existing == nil {
            message = "cluster up in \(shown): auth + \(effective.geos.joined(separator: ", "))"
        } else {
            if crashed.isEmpty {
                message = "started \(started.joined(separator: ", ")) again in \(shown) (data kept)"
            } else {
                message =
                    "restarted \(started.joined(separator: ", ")) in \(shown) (found stale state from an earlier run: \(crashed.joined(separator: ", ")) did not stop cleanly; data kept)"
            }
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

    public static func authRecord(_ cluster: Cluster, _ configuration: ClusterConfiguration, _ plan: NetworkPlan?)
        throws -> NodeRecord
    {
        let directory = cluster.nodeDirectory(.auth, "auth")
        var arguments = [
            "node", "auth", "--dir", directory, "--geos", configuration.geos.joined(separator: ","), "--start",
            configuration.start.iso8601,
            "--support-token-file", cluster.supportTokenPath,
        ]
        if let plan {
            arguments += try cluster.hostArguments(plan, kind: .auth, name: "auth", nodeDirectory: directory).arguments
        }
        if let path = configuration.rateCardPath { arguments += ["--rate-card", path] }
        if let seed = configuration.seed { arguments += ["--seed", String(seed)] }
        return NodeRecord(kind: .auth, name: "auth", directory: directory, arguments: arguments)
    }

    public static func geoRecord(
        _ cluster: Cluster, _ configuration: ClusterConfiguration, _ geo: String, _ plan: NetworkPlan?
    ) throws -> NodeRecord {
        let directory = cluster.nodeDirectory(.geo, geo)
        var arguments = [
            "node", "geo", "--dir", directory, "--name", geo, "--auth-url", try cluster.linkURL(to: "auth", plan: plan),
            "--faults", cluster.faultsPath,
        ]
        if let plan {
            arguments += try cluster.hostArguments(plan, kind: .geo, name: geo, nodeDirectory: directory).arguments
        }
        if let seed = configuration.seed { arguments += ["--seed", String(seed)] }
        return NodeRecord(kind: .geo, name: geo, directory: directory, arguments: arguments)
    }
}
