import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A node as the run directory records it: what it is and how it was launched.
public struct NodeRecord: Sendable, Hashable {
    public var kind: NodeKind
    public var name: String
    public var directory: String
    public var arguments: [String]
    /// What a data plane or zone was asked to join (`geo`, `target` as given, `target_id`), fixed once
    /// it exists; null for other nodes.
    public var target: JSON = .null

    /// The value following `flag` in the launch arguments (`--geo eu`).
    public func argument(_ flag: String) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    public var json: JSON {
        var object = JSONObject([
            ("kind", .string(kind.rawValue)), ("name", .string(name)), ("arguments", .strings(arguments)),
        ])
        if target != .null { object["target"] = target }
        return .object(object)
    }
}

/// What `status` reports for one node.
public struct NodeStatus: Sendable {
    public var record: NodeRecord
    public var descriptor: NodeDescriptor?
    public var process: ProcessState
    /// Whether its socket answered `/health` (nil when not asked because the process is down or paused).
    public var healthy: Bool?
    /// The node's own status document for data planes and zones (state, config version...).
    public var details: JSON?

    public var state: String {
        switch process {
        case .down: return "down"
        case .paused: return "paused"
        case .running: return healthy == false ? "unresponsive" : "up"
        }
    }

    public var json: JSON {
        var object = JSONObject([
            ("node", .string(record.name)), ("role", .string(record.kind.role)), ("state", .string(state)),
            ("pid", descriptor.map { .int(Int64($0.pid)) } ?? .null), ("socket", .optional(descriptor?.socket)),
            ("url", descriptor.map { $0.port > 0 ? .string($0.url) : .null } ?? .null),
            ("log", .string(NodeFiles.log(record.directory))),
        ])
        if let details { object["details"] = details }
        return .object(object)
    }
}

/// What `down` did: the nodes it stopped, and those that were not running.
public struct DownResult: Sendable {
    public var stopped: [NodeRecord] = []
    public var alreadyStopped: [NodeRecord] = []

    /// What `down` prints.
    public func summary(in directory: String) -> String {
        func names(_ records: [NodeRecord]) -> String { records.map(\.name).joined(separator: ", ") }
        if stopped.isEmpty {
            return
                "nothing was running in \(directory): \(names(alreadyStopped)) \(alreadyStopped.count == 1 ? "was" : "were") already stopped"
        }
        var text = "stopped \(stopped.count) node\(stopped.count == 1 ? "" : "s"): \(names(stopped))"
        if !alreadyStopped.isEmpty { text += "; already stopped: \(names(alreadyStopped))" }
        return text
    }
}

/// A cluster in a run directory: starts, stops, inspects and breaks its nodes. Used by the CLI, the
/// scenario runner and the process tests alike.
public final class Cluster: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = Cluster.absolute(directory)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
    }

    public var configurationPath: String { directory + "/cluster.json" }
    public var faultsPath: String { directory + "/faults.json" }
    public var supportTokenPath: String { directory + "/support.token" }
    public var faultLogPath: String { directory + "/faults.log" }
    /// The cluster's own copy of the rate card it was created with.
    public var rateCardPath: String { directory + "/rate-card.json" }

    /// Whether a cluster was ever started in this directory.
    public var exists: Bool { configuration != nil || !records.isEmpty }

    public var configuration: ClusterConfiguration? {
        guard let bytes = readWholeFile(configurationPath), let json = try? JSONParser.parse(bytes) else { return nil }
        return ClusterConfiguration(json: json)
    }

    public var supportToken: String? {
        readWholeFile(supportTokenPath).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace }.flatMap {
            $0.isEmpty ? nil : $0
        }
    }

    public func nodeDirectory(_ kind: NodeKind, _ name: String) -> String { directory + "/" + kind.directoryName(name) }

    /// Every node recorded in the run directory, auth first, then geos, then the rest by name.
    public var records: [NodeRecord] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var result: [NodeRecord] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix(".") else { continue }
            let path = directory + "/" + name
            guard let bytes = readWholeFile(path + "/launch.json"), let json = try? JSONParser.parse(bytes),
                let kind = json["kind"]?.stringValue.flatMap(NodeKind.init(rawValue:)),
                let nodeName = json["name"]?.stringValue
            else { continue }
            result.append(
                NodeRecord(
                    kind: kind, name: nodeName, directory: path,
                    arguments: json["arguments"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                    target: json["target"] ?? .null))
        }
        let order: [NodeKind: Int] = [.auth: 0, .geo: 1, .upstream: 2, .dataPlane: 3, .zone: 4]
        return result.sorted { (order[$0.kind] ?? 9, $0.name) < (order[$1.kind] ?? 9, $1.name) }
    }

    public func record(named name: String) -> NodeRecord? { records.first { $0.name == name } }

    /// The record or a message naming the nodes that exist.
    public func requireRecord(_ name: String) throws(ProcessError) -> NodeRecord {
        guard let record = record(named: name) else {
            let names = records.map(\.name)
            throw ProcessError(
                "no node named '\(name)' in \(directory)\(names.isEmpty ? " (is the cluster up?)" : "; nodes: \(names.joined(separator: ", "))")"
            )
        }
        return record
    }

    /// The record of a node of the expected kind; a message naming what it is otherwise.
    public func requireRecord(_ name: String, kind: NodeKind) throws -> NodeRecord {
        let record = try requireRecord(name)
        guard record.kind == kind else {
            throw UsageError("\(name) is \(record.kind.described), not \(kind.described)")
        }
        return record
    }

    public func descriptor(_ record: NodeRecord) -> NodeDescriptor? { NodeDescriptor.read(directory: record.directory) }

    /// The process state of a node (checking that the pid is really that node's).
    public func processState(_ record: NodeRecord) -> (NodeDescriptor?, ProcessState) {
        guard let descriptor = descriptor(record) else { return (nil, .down) }
        let state = NodeProcess.state(descriptor.pid)
        guard state != .down, NodeProcess.isNode(descriptor.pid, directory: record.directory) else {
            return (descriptor, .down)
        }
        return (descriptor, state)
    }

    /// A client for a node's Unix socket (the operator's access path).
    public func client(_ record: NodeRecord, timeoutMilliseconds: Int = 10_000) -> HTTPClient {
        HTTPClient(endpoint: .unix(NodeFiles.socket(record.directory)), timeoutMilliseconds: timeoutMilliseconds)
    }

    public func client(named name: String, timeoutMilliseconds: Int = 10_000) throws(ProcessError) -> HTTPClient {
        client(try requireRecord(name), timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Asks a node's `/health` over its socket.
    public func isHealthy(_ record: NodeRecord, timeoutMilliseconds: Int = 1000) -> Bool {
        let client = HTTPClient(
            endpoint: .unix(NodeFiles.socket(record.directory)), connectTimeoutMilliseconds: timeoutMilliseconds,
            timeoutMilliseconds: timeoutMilliseconds)
        return (try? client.send("GET", "/health"))?.status == 200
    }

    // MARK: - Starting and stopping

    /// Records and starts a node, then waits until it answers `/health` (or fails with its log's tail).
    @discardableResult
    public func start(_ record: NodeRecord, timeoutMilliseconds: Int = 15_000) throws(ProcessError) -> NodeDescriptor {
        NodeFiles.makePrivateDirectory(record.directory)
        do {
            try AtomicFile.write(record.json.prettyText + "\n", to: record.directory + "/launch.json")
        } catch {
            throw ProcessError(error.description)
        }
        // A node of a netns cluster needs its host, which `down` removed (`up` makes the cluster's own).
        if record.argument("--netns") != nil { try prepareHosts([record.name]) }
        let pid = try NodeProcess.spawn(arguments: record.arguments, logPath: NodeFiles.log(record.directory))
        let deadline = Monotonic.now + timeoutMilliseconds
        while Monotonic.now < deadline {
            if NodeProcess.state(pid) == .down {
                throw ProcessError(
                    "\(record.kind.role) \(record.name) exited during start-up; its log \(NodeFiles.log(record.directory)) ends with:\n\(logTail(record))"
                )
            }
            if let descriptor = descriptor(record), descriptor.pid == pid, isHealthy(record, timeoutMilliseconds: 500) {
                return descriptor
            }
            usleep(10_000)
        }
        NodeProcess.stop(pid, graceMilliseconds: 1000)
        throw ProcessError(
            "\(record.kind.role) \(record.name) did not become healthy within \(timeoutMilliseconds / 1000) s; its log ends with:\n\(logTail(record))"
        )
    }

    /// The last lines of a node's log, for error messages and failing tests.
    public func logTail(_ record: NodeRecord, lines: Int = 20) -> String {
        guard let bytes = readWholeFile(NodeFiles.log(record.directory)) else { return "(no log)" }
        let all = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return all.suffix(lines).joined(separator: "\n")
    }

    /// Stops a node gracefully (SIGTERM, then SIGKILL after the grace period); false when it was not
    /// running.
    @discardableResult
    public func stop(_ record: NodeRecord, graceMilliseconds: Int = 10_000) -> Bool {
        let (descriptor, state) = processState(record)
        var wasRunning = false
        if let descriptor, state != .down {
            NodeProcess.stop(descriptor.pid, graceMilliseconds: graceMilliseconds)
            wasRunning = true
        }
        unlink(NodeFiles.socket(record.directory))
        return wasRunning
    }

    /// Stops every node: data planes, zones and upstreams first, then geos, then the auth node.
    public func down(graceMilliseconds: Int = 10_000) -> DownResult {
        let all = records
        let order: [NodeKind: Int] = [.dataPlane: 0, .zone: 0, .upstream: 1, .geo: 2, .auth: 3]
        var result = DownResult()
        for group in Set(all.map { order[$0.kind] ?? 0 }).sorted() {
            let members = all.filter { order[$0.kind] == group }
            // Stop a group in parallel: each node drains on its own.
            let outcomes = Mutex<[String: Bool]>([:])
            let threads = members.map { record in
                let done = Signal()
                let seen = done.current
                spawnThread(name: "stop") { [self] in
                    let wasRunning = stop(record, graceMilliseconds: graceMilliseconds)
                    outcomes.withLock { $0[record.name] = wasRunning }
                    done.fire()
                }
                return (done, seen)
            }
            for (done, seen) in threads { done.wait(after: seen, timeoutMilliseconds: graceMilliseconds + 6000) }
            let stopped = outcomes.withLock { $0 }
            for record in members {
                if stopped[record.name] == true {
                    result.stopped.append(record)
                } else {
                    result.alreadyStopped.append(record)
                }
            }
        }
        // A netns cluster's hosts go with their nodes (network.json keeps their addresses for the next `up`).
        removeNetwork()
        return result
    }

    /// `status`: every node, its process, health and, for data planes and zones, their own view.
    public func status() -> [NodeStatus] {
        records.map { record in
            let (descriptor, process) = processState(record)
            var status = NodeStatus(
                record: record, descriptor: descriptor, process: process, healthy: nil, details: nil)
            if process == .running {
                status.healthy = isHealthy(record)
                if status.healthy == true, record.kind == .dataPlane || record.kind == .zone {
                    status.details = (try? client(record, timeoutMilliseconds: 1000).send("GET", "/status"))?.json
                }
            }
            return status
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
