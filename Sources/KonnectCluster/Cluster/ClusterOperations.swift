import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// A data plane, zone or upstream `start` found running or started.
public struct StartedNode: Sendable {
    public var descriptor: NodeDescriptor
    /// It was running already with the same target (starting is idempotent).
    public var wasRunning: Bool
}

/// Operations on a running cluster shared by the CLI, the scenario runner and the tests: faults,
/// data planes, upstreams, zones, and calls to the auth node with the support credential.
extension Cluster {
    // MARK: - The support credential's API

    /// Calls the auth node over its socket with the support credential.
    public func support(_ method: String, _ path: String, _ body: JSON? = nil, timeoutMilliseconds: Int = 60_000) throws
        -> ClientResponse
    {
        let auth = try runningAuth()
        guard let token = supportToken else {
            throw ProcessError("no support credential in \(directory); is the cluster up?")
        }
        return try client(auth, timeoutMilliseconds: timeoutMilliseconds).json(
            method, path, body, headers: ["Authorization": "Bearer \(token)"])
    }

    /// The auth node's record, when it runs; what to do otherwise.
    func runningAuth() throws -> NodeRecord {
        guard exists else { throw ProcessError("no cluster in \(directory) (run `konnect-sim up --dir \(directory)`)") }
        let auth = try requireRecord("auth")
        let state = processState(auth).1
        guard state == .running else {
            throw ProcessError(
                "the auth node is \(state == .paused ? "paused (resume it with `konnect-sim resume auth`)" : "down (start it with `konnect-sim up` or `konnect-sim restart auth`)") in \(directory)"
            )
        }
        return auth
    }

    /// The calendar's moment, or nil when the auth node does not answer.
    public var calendarNow: SimTime? {
        guard let auth = record(named: "auth"), processState(auth).1 == .running,
            let response = try? client(auth, timeoutMilliseconds: 500).send("GET", "/v3/simulator/clock")
        else { return nil }
        return response.json?["now"]?.stringValue.flatMap(SimTime.init(iso8601:))
    }

    /// Checks the auth node's answer to an operator call; its problem detail otherwise.
    public static func checked(_ response: ClientResponse) throws -> JSON {
        guard response.isSuccess else {
            let detail = response.json?["detail"]?.stringValue ?? response.text
            throw ProcessError("the auth node answered \(response.status): \(detail)")
        }
        return response.json ?? .null
    }

    /// `clock advance`: settles usage in flight, then moves the calendar forward, running what falls due;
    /// the move's report, with `usage_settlement` naming what could not be settled.
    public func advanceCalendar(by duration: String) throws -> JSON {
        guard SimDuration(text: duration) != nil else {
            throw UsageError("invalid duration '\(duration)'; expected e.g. 31d, 12h, 90m or 1d12h")
        }
        return try moveCalendar { try support("POST", "/v3/simulator/clock/advance", ["by": .string(duration)]) }
    }

    /// `clock set`: like `advanceCalendar`, to a date.
    public func setCalendar(to date: String) throws -> JSON {
        guard SimTime(iso8601: date) != nil else {
            throw UsageError("invalid date '\(date)'; expected RFC 3339 such as 2026-03-01T00:00:00Z")
        }
        return try moveCalendar { try support("PUT", "/v3/simulator/clock", ["now": .string(date)]) }
    }

    /// A calendar move must not outrun usage that already happened (B1, B3): what data planes counted and
    /// geos queued is delivered first, so the auth node attributes it to the moment it happened.
    private func moveCalendar(_ move: () throws -> ClientResponse) throws -> JSON {
        _ = try runningAuth()
        let settlement = settleUsage()
        var report = try Cluster.checked(try move())
        report["usage_settlement"] = settlement.json
        return report
    }

    // MARK: - Faults

    /// Every fault is recorded with its calendar time and wall time in `faults.log`.
    public func recordFault(_ description: JSON) {
        var entry = description
        entry["wall_time"] = .string(NodeRuntime.wallClockNow())
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        entry["wall_ms"] = .int(Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
        entry["calendar_time"] = calendarNow.map { .string($0.iso8601) } ?? .null
        let line = entry.bytes + [0x0A]
        let fd = open(faultLogPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    public var faultLog: [JSON] {
        guard let bytes = readWholeFile(faultLogPath) else { return [] }
        return bytes.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
    }

    public func kill(_ name: String) throws {
        let record = try requireRecord(name)
        let (descriptor, state) = processState(record)
        guard let descriptor, state != .down else { throw ProcessError("\(name) is not running") }
        NodeProcess.signal(descriptor.pid, SIGKILL)
        _ = NodeProcess.waitUntilGone(descriptor.pid, milliseconds: 5000)
        recordFault(["fault": "kill", "node": .string(name)])
    }

    public func pause(_ name: String) throws {
        let record = try requireRecord(name)
        let (descriptor, state) = processState(record)
        guard let descriptor, state == .running else {
            throw ProcessError("\(name) is not running (\(state.rawValue))")
        }
        NodeProcess.signal(descriptor.pid, SIGSTOP)
        // Every thread must stop before the node counts as paused: return once the kernel says so, so that
        // whatever comes next (status, a scenario's expectation) sees a paused node, not a half-stopped one.
        let deadline = Monotonic.now + 2000
        while NodeProcess.state(descriptor.pid) != .paused && Monotonic.now < deadline { usleep(1000) }
        recordFault(["fault": "pause", "node": .string(name)])
    }

    public func resume(_ name: String) throws {
        let record = try requireRecord(name)
        let (descriptor, state) = processState(record)
        guard let descriptor, state != .down else { throw ProcessError("\(name) is not running") }
        NodeProcess.signal(descriptor.pid, SIGCONT)
        recordFault(["fault": "resume", "node": .string(name)])
    }

    /// Starts a node again with its recorded arguments (stopping it first if it runs).
    @discardableResult
    public func restart(_ name: String) throws -> NodeDescriptor {
        let record = try requireRecord(name)
        if processState(record).1 != .down { stop(record) }
        let descriptor = try start(record)
        recordFault(["fault": "restart", "node": .string(name)])
        return descriptor
    }

    /// The links that exist: each node that connects to another, by the connecting side.
    public var linkEnds: [ClusterSnapshot.Link] {
        records.compactMap { record -> ClusterSnapshot.Link? in
            switch record.kind {
            case .geo: return ClusterSnapshot.Link(from: record.name, to: "auth")
            case .dataPlane, .zone: return record.connectedGeo.map { ClusterSnapshot.Link(from: record.name, to: $0) }
            default: return nil
            }
        }
    }

    /// The links' names (`eu->auth`, `dp1->eu`).
    public var links: [String] { linkEnds.map(\.name) }

    public var faultPlan: FaultPlan {
        guard let bytes = readWholeFile(faultsPath), let json = try? JSONParser.parse(bytes) else {
            return FaultPlan(seed: configuration?.seed ?? 0)
        }
        return FaultPlan(json: json)
    }

    /// Changes one link's fault in `faults.json` (nodes notice on their next request).
    public func updateLink(from: String, to: String, description: JSON, _ change: (inout LinkFault) -> Void) throws {
        let link = LinkFault.linkName(from: from, to: to)
        guard links.contains(link) else {
            throw UsageError(
                "there is no link \(link); links are named by the connecting node: \(links.joined(separator: ", "))")
        }
        var plan = faultPlan
        plan.update(link, change)
        try AtomicFile.write(plan.json.prettyText + "\n", to: faultsPath)
        var entry = description
        entry["link"] = .string(link)
        recordFault(entry)
    }

    /// `partition FROM TO`: the connecting node's connections are refused until healed.
    public func partition(from: String, to: String) throws {
        try updateLink(from: from, to: to, description: ["fault": "partition"]) { $0.partitioned = true }
    }

    /// `heal FROM TO`: every fault on the link removed.
    public func heal(from: String, to: String) throws {
        try updateLink(from: from, to: to, description: ["fault": "heal"]) { $0 = LinkFault() }
    }

    /// `latency FROM TO DELAY --jitter J`: every request and streamed message on the link delayed.
    public func slow(from: String, to: String, delayMilliseconds: Int, jitterMilliseconds: Int) throws {
        try updateLink(
            from: from, to: to,
            description: [
                "fault": "latency", "latency_ms": .int(delayMilliseconds), "jitter_ms": .int(jitterMilliseconds),
            ]
        ) {
            $0.latencyMilliseconds = delayMilliseconds
            $0.jitterMilliseconds = jitterMilliseconds
        }
    }

    /// `drop FROM TO FRACTION`: a fraction (in parts per million) of the link's requests fail.
    public func drop(from: String, to: String, partsPerMillion: Int) throws {
        try updateLink(from: from, to: to, description: ["fault": "drop", "drop_ppm": .int(partsPerMillion)]) {
            $0.dropPartsPerMillion = partsPerMillion
        }
    }

    public func healAll() throws {
        var plan = faultPlan
        plan.links = [:]
        try AtomicFile.write(plan.json.prettyText + "\n", to: faultsPath)
        recordFault(["fault": "heal", "link": "*"])
    }

    // MARK: - Data planes, upstreams, zones

    static func validateNodeName(_ name: String) throws {
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        guard !name.isEmpty, name.count <= 32, allowed, name.first != "-" else {
            throw UsageError("invalid node name '\(name)'; use 1 to 32 lower-case letters, digits and '-'")
        }
        guard name != "auth", !ClusterConfiguration.knownGeos.contains(name) else {
            throw UsageError("invalid node name '\(name)'; 'auth' and geo codes name the cluster's own nodes")
        }
    }

    private func reserve(_ kind: NodeKind, _ name: String) throws -> NodeRecord? {
        try Cluster.validateNodeName(name)
        if let existing = record(named: name) {
            guard existing.kind == kind else {
                throw UsageError("'\(name)' is already \(existing.kind.described); choose another name")
            }
            return existing
        }
        return nil
    }

    /// The geo's record, running: a data plane or zone can only join through a geo that answers.
    private func runningGeo(_ geo: String) throws -> NodeRecord {
        guard let configuration else {
            throw ProcessError("no cluster in \(directory) (run `konnect-sim up --dir \(directory)`)")
        }
        guard configuration.geos.contains(geo) else {
            throw UsageError(
                "invalid value '\(geo)' for --geo; this cluster's geos are \(configuration.geos.joined(separator: ", "))"
            )
        }
        let record = try requireRecord(geo)
        let (_, state) = processState(record)
        guard state == .running else {
            throw ProcessError(
                "geo \(geo) is \(state == .paused ? "paused" : "down"), so it cannot issue a credential; \(state == .paused ? "resume it with `konnect-sim resume \(geo)`" : "start it with `konnect-sim restart \(geo)` (or `konnect-sim up`)") and try again"
            )
        }
        return record
    }

    /// Starts a data plane joined to a control plane (by name or id), with a credential the geo issues.
    /// Starting one that exists is idempotent for the same target, and an error for another one.
    @discardableResult
    public func startDataPlane(
        name: String, geo: String, controlPlane: String, organizationID: String? = nil, port: Int = 0
    ) throws -> StartedNode {
        try startJoined(
            .dataPlane, name: name, geo: geo, target: controlPlane, organizationID: organizationID,
            operatorPath: "/internal/v1/operator/dp-credentials",
            request: ["control_plane": .string(controlPlane), "organization_id": .optional(organizationID)],
            secretFile: "credential"
        ) { directory, geoLink, secret, target in
            [
                "node", "dp", "--dir", directory, "--name", name, "--geo", geo, "--geo-url", geoLink,
                "--control-plane", target, "--port", String(port),
            ] + (secret.map { ["--credential-file", $0] } ?? [])
        }
    }

    @discardableResult
    public func startUpstream(name: String, port: Int = 0) throws -> NodeDescriptor {
        if let existing = try reserve(.upstream, name) { return try startAgain(existing).descriptor }
        let nodeDirectory = self.nodeDirectory(.upstream, name)
        var arguments = ["node", "upstream", "--dir", nodeDirectory, "--name", name, "--port", String(port)]
        if topology == .netns {
            let plan = try prepareHosts([name])
            arguments += try hostArguments(plan, kind: .upstream, name: name, nodeDirectory: nodeDirectory).arguments
        }
        return try start(NodeRecord(kind: .upstream, name: name, directory: nodeDirectory, arguments: arguments))
    }

    /// Starts a Mesh zone control plane joined to a Mesh global control plane, with a zone token.
    @discardableResult
    public func startZone(name: String, geo: String, meshControlPlane: String, organizationID: String? = nil) throws
        -> StartedNode
    {
        try startJoined(
            .zone, name: name, geo: geo, target: meshControlPlane, organizationID: organizationID,
            operatorPath: "/internal/v1/operator/zone-tokens",
            request: [
                "mesh_control_plane": .string(meshControlPlane), "organization_id": .optional(organizationID),
                "zone": .string(name),
            ],
            secretFile: "token"
        ) { directory, geoLink, secret, target in
            [
                "node", "zone", "--dir", directory, "--name", name, "--geo", geo, "--geo-url", geoLink,
                "--token-file", secret ?? "", "--mesh-cp", target,
            ]
        }
    }

    /// A node that exists already: returned if it runs, started again with its arguments if not.
    private func startAgain(_ existing: NodeRecord) throws -> StartedNode {
        if processState(existing).1 != .down, let descriptor = descriptor(existing) {
            return StartedNode(descriptor: descriptor, wasRunning: true)
        }
        return StartedNode(descriptor: try start(existing), wasRunning: false)
    }

    /// Refuses to start an existing data plane or zone for another target than the one it joined.
    private func requireSameTarget(
        _ existing: NodeRecord, geo: String, target: String, organizationID: String?
    ) throws {
        let joinedGeo = existing.connectedGeo ?? "?"
        let joinedID =
            existing.target["target_id"]?.stringValue
            ?? existing.argument("--control-plane") ?? existing.argument("--mesh-cp") ?? "?"
        let joinedAs = existing.target["target_name"]?.stringValue
        let joinedOrganization = existing.target["organization_id"]?.stringValue
        let sameTarget = target == joinedID || target == joinedAs || target == existing.target["target"]?.stringValue
        let sameOrganization =
            organizationID == nil || joinedOrganization == nil || organizationID == joinedOrganization
        guard geo == joinedGeo, sameTarget, sameOrganization else {
            let what = existing.kind == .zone ? "Mesh control plane" : "control plane"
            throw ProcessError(
                "\(existing.kind == .zone ? "zone" : "data plane") \(existing.name) already exists, joined to \(what) \(joinedAs.map { "\($0) (\(joinedID))" } ?? joinedID) in geo \(joinedGeo); it cannot join \(target) in geo \(geo). A node's target is fixed: choose another --name, or stop it and start a new one under another name."
            )
        }
    }

    /// Data planes and zones: the geo issues a secret for the target (over its Unix socket, the
    /// operator's access), kept in the node's directory (mode 0600), then the node starts.
    private func startJoined(
        _ kind: NodeKind, name: String, geo: String, target requested: String, organizationID: String?,
        operatorPath: String, request: JSON, secretFile: String,
        arguments: (_ directory: String, _ geoLink: String, _ secret: String?, _ target: String) -> [String]
    ) throws -> StartedNode {
        if let existing = try reserve(kind, name) {
            try requireSameTarget(existing, geo: geo, target: requested, organizationID: organizationID)
            return try startAgain(existing)
        }
        let geoNode = try runningGeo(geo)
        let nodeDirectory = self.nodeDirectory(kind, name)
        // On a host of its own the node gets a certificate of the cluster's CA. A data plane's is its
        // credential: the geo pins it (Konnect's pinned mode), and no secret is written.
        var host: [String] = []
        var request = request
        var pinned = false
        if topology == .netns {
            let plan = try prepareHosts([name])
            let unit = kind == .dataPlane ? NodeNetwork.dataPlaneUnit : NodeNetwork.nodeUnit
            let placed = try hostArguments(plan, kind: kind, name: name, nodeDirectory: nodeDirectory, unit: unit)
            host = placed.arguments
            if kind == .dataPlane, let certificate = placed.certificatePEM {
                request["cert"] = .string(certificate)
                pinned = true
            }
        }
        let response: ClientResponse
        do {
            response = try client(geoNode).json("POST", operatorPath, request)
        } catch {
            throw ProcessError("geo \(geo) did not answer over \(NodeFiles.socket(geoNode.directory)): \(error)")
        }
        guard response.status == 201, let body = response.json, let secret = body["credential"]?.stringValue,
            let target = body["control_plane_id"]?.stringValue
        else {
            throw ProcessError(
                "geo \(geo) could not issue a credential for \(name): \(response.json?["detail"]?.stringValue ?? response.text)"
            )
        }
        NodeFiles.makePrivateDirectory(nodeDirectory)
        let secretPath = pinned ? nil : nodeDirectory + "/" + secretFile
        if let secretPath { try AtomicFile.write(secret + "\n", to: secretPath, mode: 0o600) }
        var launch =
            arguments(nodeDirectory, try linkURL(to: geo, plan: network), secretPath, target) + host + [
                "--faults", faultsPath,
            ]
        if let seed = configuration?.seed { launch += ["--seed", String(seed)] }
        let joined: JSON = [
            "geo": .string(geo), "target": .string(requested), "target_id": .string(target),
            "target_name": .optional(body["control_plane_name"]?.stringValue),
            "organization_id": .optional(body["organization_id"]?.stringValue ?? organizationID),
        ]
        return StartedNode(
            descriptor: try start(
                NodeRecord(kind: kind, name: name, directory: nodeDirectory, arguments: launch, target: joined)),
            wasRunning: false)
    }

    /// A data plane's or zone's own status document.
    public func nodeStatus(_ name: String) throws -> JSON {
        let record = try requireRecord(name)
        let (_, state) = processState(record)
        guard state == .running else {
            // A stopped data plane shows what its disk would serve at the next start.
            if state == .down, record.kind == .dataPlane {
                return DataPlaneNode.diskStatus(
                    directory: record.directory, name: name,
                    controlPlaneID: record.target["target_id"]?.stringValue ?? "")
            }
            return [
                "name": .string(name), "state": .string(state == .paused ? "paused" : "down"),
                "process": .string(state.rawValue),
            ]
        }
        guard record.kind == .dataPlane || record.kind == .zone else {
            throw UsageError("\(name) is \(record.kind.described), not a data plane or zone")
        }
        let response = try client(record, timeoutMilliseconds: 2000).send("GET", "/status")
        guard response.status == 200, let body = response.json else {
            throw ProcessError("\(name) did not answer its status: \(response.status)")
        }
        return body
    }
}
