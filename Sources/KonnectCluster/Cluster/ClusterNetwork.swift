import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// A `netns` cluster's hosts: each node in a network namespace of its own on the cluster's bridge
/// (`NetworkPlan`, kept in `network.json`), and the kernel-level faults `isolate` and `rejoin`.
extension Cluster {
    public var networkPath: String { directory + "/network.json" }

    /// The cluster's network, when it has one (`--topology netns`).
    public var network: NetworkPlan? {
        guard let bytes = readWholeFile(networkPath), let json = try? JSONParser.parse(bytes) else { return nil }
        return try? NetworkPlan(json: json)
    }

    public var topology: Topology { configuration?.topology ?? .unix }

    /// Gives each host its namespace on the bridge (creating the plan, the switch, the operator's host and
    /// the namespaces that are missing: after `down` they are gone, and come back with the same
    /// addresses); returns the plan. Serialized across processes by a lock file.
    @discardableResult
    public func prepareHosts(_ names: [String]) throws(ProcessError) -> NetworkPlan {
        try withNetworkLock { () throws(ProcessError) in
            let known = network
            var plan = known ?? NetworkPlan(id: Cluster.newNetworkID())
            for name in [NetworkPlan.operatorHost] + names { plan.add(name) }
            if plan != known {
                do {
                    // Written first, so `down` and the interrupt handler find every namespace this may create.
                    try AtomicFile.write(plan.json.prettyText + "\n", to: networkPath)
                } catch {
                    throw ProcessError("cannot write \(networkPath): \(error)")
                }
            }
            if !NetworkNamespaces.exists(plan.switchNamespace) {
                if let reason = NetworkNamespaces.unavailableReason() {
                    throw ProcessError("cannot start a cluster with --topology netns here: \(reason)")
                }
                try NetworkNamespaces.run(plan.switchCommands)
            }
            for name in [NetworkPlan.operatorHost] + names where !NetworkNamespaces.exists(plan.namespace(name)) {
                do throws(ProcessError) {
                    try NetworkNamespaces.run(plan.hostCommands(name))
                } catch {
                    // Half a host is no host: remove it so the next attempt starts clean.
                    NetworkNamespaces.runIgnoringFailures([["netns", "delete", plan.namespace(name)]])
                    throw error
                }
            }
            return plan
        }
    }

    /// Removes every namespace of the cluster (their links and bridge go with them); `network.json`
    /// stays, so the next `up` gives every host its address back.
    public func removeNetwork() {
        guard let plan = network else { return }
        // `removeCommands` deletes `namespaces`, one command each, in that order.
        NetworkNamespaces.runIgnoringFailures(
            zip(plan.namespaces, plan.removeCommands).filter { NetworkNamespaces.exists($0.0) }.map(\.1))
    }

    /// `isolate NODE`: its host's link goes down; everything it sends or is sent is lost until `rejoin`.
    public func isolate(_ name: String) throws {
        try setLink(name, isolated: true)
        recordFault(["fault": "isolate", "node": .string(name)])
    }

    /// `rejoin NODE`: its host's link comes back up.
    public func rejoin(_ name: String) throws {
        try setLink(name, isolated: false)
        recordFault(["fault": "rejoin", "node": .string(name)])
    }

    private func setLink(_ name: String, isolated: Bool) throws {
        _ = try requireRecord(name)
        // Not a usage error: the command is right, this cluster cannot do it (exit 1, no pointer to --help).
        guard topology == .netns, let plan = network else {
            throw ProcessError(
                "\(isolated ? "isolate" : "rejoin") acts on a host's network link, and this cluster's nodes share one machine (--topology unix); use `partition \(name) NODE` to cut a link, or start a cluster with `up --topology netns`"
            )
        }
        guard plan.address(name) != nil, NetworkNamespaces.exists(plan.namespace(name)) else {
            throw ProcessError("\(name) has no host in this cluster's network (is the cluster up?)")
        }
        try NetworkNamespaces.run(isolated ? plan.isolateCommands(name) : plan.rejoinCommands(name))
    }

    /// Where the operator's side (the scenario runner, benchmarks, the CLI) reaches a node's public
    /// listener: loopback on one machine, the node's address from the operator's host in `netns`.
    public func publicEndpoint(_ descriptor: NodeDescriptor) -> Endpoint {
        guard descriptor.host != "127.0.0.1", let plan = network else {
            return .tcp(host: "127.0.0.1", port: descriptor.port)
        }
        return .tcpInNamespace(
            namespace: plan.namespace(NetworkPlan.operatorHost), host: descriptor.host, port: descriptor.port)
    }

    private func withNetworkLock<T>(_ body: () throws(ProcessError) -> T) throws(ProcessError) -> T {
        let fd = open(directory + "/network.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ProcessError("cannot open \(directory)/network.lock: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    static func newNetworkID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: Secrets.randomBytes(6).map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }
}
