/// The hosts of a `netns` cluster: one Linux network namespace per node, plus the operator's (where the
/// scenario runner, benchmarks and the CLI's own connections come from), each with one veth link into a
/// bridge that lives in a namespace of its own (the switch). Addresses come from 198.18.0.0/15, the range
/// reserved for network testing (RFC 2544); no namespace gets a default route, so nothing leaves the bridge.
///
/// Pure: it allocates addresses and names and returns the `ip` commands (argument lists) that build,
/// break or remove the network; `NetworkNamespaces` in KonnectCluster runs them. Kept in the run
/// directory as `network.json`.
public struct NetworkPlan: Sendable, Hashable {
    /// 198.18.0.0/15.
    public static let network: UInt32 = 198 << 24 | 18 << 16
    public static let prefixLength = 15
    /// Where every node listens for node-to-node traffic (TLS) on its own address.
    public static let linkPort = 7443
    /// The operator's host: a name no node can have (node names are letters, digits and '-').
    public static let operatorHost = ".operator"
    /// The bridge's interface name inside the switch namespace.
    static let bridge = "br0"
    /// A host's end of its link, inside its namespace.
    public static let interface = "eth0"

    /// Short and unique per cluster (chosen at creation), so namespaces of clusters never collide.
    public let id: String
    /// Host name to its index (its address is `network + index`), in the order they were added.
    public private(set) var hosts: [(name: String, index: UInt32)]

    public init(id: String) {
        self.id = id
        hosts = []
    }

    public static func == (a: NetworkPlan, b: NetworkPlan) -> Bool {
        a.id == b.id && a.hosts.elementsEqual(b.hosts) { $0.name == $1.name && $0.index == $1.index }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        for host in hosts {
            hasher.combine(host.name)
            hasher.combine(host.index)
        }
    }

    /// The switch's namespace.
    public var switchNamespace: String { "ks-\(id).switch" }

    /// A host's namespace: `ks-ID-NAME` for nodes, `ks-ID.operator` for the operator.
    public func namespace(_ host: String) -> String {
        host.hasPrefix(".") ? "ks-\(id)\(host)" : "ks-\(id)-\(host)"
    }

    /// Every namespace of the cluster, the switch last.
    public var namespaces: [String] { hosts.map { namespace($0.name) } + [switchNamespace] }

    public func address(_ host: String) -> String? {
        hosts.first { $0.name == host }.map { IPv4.text(NetworkPlan.network + $0.index) }
    }

    /// The commands that create the switch (a bridge in its own namespace).
    public var switchCommands: [[String]] {
        [
            ["netns", "add", switchNamespace],
            ["-n", switchNamespace, "link", "set", "lo", "up"],
            ["-n", switchNamespace, "link", "add", NetworkPlan.bridge, "type", "bridge"],
            ["-n", switchNamespace, "link", "set", NetworkPlan.bridge, "up"],
        ]
    }

    /// Adds a host (idempotent: a host that exists keeps its address) and returns its address. The auth
    /// node is always 198.18.0.1 and the operator 198.18.0.2; other hosts get the next free address from
    /// 198.18.0.10 on.
    @discardableResult
    public mutating func add(_ host: String) -> String {
        if let existing = address(host) { return existing }
        let index: UInt32
        switch host {
        case "auth": index = 1
        case NetworkPlan.operatorHost: index = 2
        default: index = max(9, hosts.map(\.index).max() ?? 0) + 1
        }
        hosts.append((host, index))
        return IPv4.text(NetworkPlan.network + index)
    }

    /// The commands that create a host's namespace, link it to the bridge and give it its address (and
    /// loopback); empty for a host the plan does not have.
    public func hostCommands(_ host: String) -> [[String]] {
        guard let index = hosts.first(where: { $0.name == host })?.index else { return [] }
        let address = IPv4.text(NetworkPlan.network + index)
        let namespace = self.namespace(host)
        let port = "v\(index)"
        return [
            ["netns", "add", namespace],
            ["-n", namespace, "link", "set", "lo", "up"],
            [
                "-n", namespace, "link", "add", NetworkPlan.interface, "type", "veth", "peer", "name", port, "netns",
                switchNamespace,
            ],
            ["-n", switchNamespace, "link", "set", port, "master", NetworkPlan.bridge],
            ["-n", switchNamespace, "link", "set", port, "up"],
            ["-n", namespace, "addr", "add", "\(address)/\(NetworkPlan.prefixLength)", "dev", NetworkPlan.interface],
            ["-n", namespace, "link", "set", NetworkPlan.interface, "up"],
        ]
    }

    /// `isolate`: the host's link goes down (the kernel drops what it sends and what is sent to it).
    public func isolateCommands(_ host: String) -> [[String]] {
        [["-n", namespace(host), "link", "set", NetworkPlan.interface, "down"]]
    }

    /// `rejoin`: the host's link comes back up, with its address and route.
    public func rejoinCommands(_ host: String) -> [[String]] {
        [["-n", namespace(host), "link", "set", NetworkPlan.interface, "up"]]
    }

    /// Removes every namespace (their links go with them).
    public var removeCommands: [[String]] { namespaces.map { ["netns", "delete", $0] } }

    // MARK: - network.json

    public var json: JSON {
        [
            "id": .string(id),
            "network": .string("\(IPv4.text(NetworkPlan.network))/\(NetworkPlan.prefixLength)"),
            "hosts": .array(
                hosts.map {
                    [
                        "name": .string($0.name), "address": .string(IPv4.text(NetworkPlan.network + $0.index)),
                        "namespace": .string(namespace($0.name)),
                    ]
                }),
        ]
    }

    public init(json: JSON) throws(TopologyError) {
        guard let id = json["id"]?.stringValue, NetworkPlan.isValidID(id), let list = json["hosts"]?.arrayValue else {
            throw TopologyError("network.json: missing or invalid 'id' or 'hosts'")
        }
        self.init(id: id)
        for entry in list {
            guard let name = entry["name"]?.stringValue, let text = entry["address"]?.stringValue,
                let address = IPv4.parse(text), address > NetworkPlan.network,
                address - NetworkPlan.network < 1 << (32 - NetworkPlan.prefixLength) - 1
            else {
                throw TopologyError("network.json: a host without a name or an address in 198.18.0.0/15: \(entry)")
            }
            hosts.append((name, address - NetworkPlan.network))
        }
    }

    /// Ids are 1 to 8 lower-case letters and digits: with the longest node name (32) a namespace name
    /// stays well under the kernel's file-name limit, and the switch's port names under 15 bytes.
    public static func isValidID(_ id: String) -> Bool {
        (1...8).contains(id.utf8.count) && id.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
    }
}
