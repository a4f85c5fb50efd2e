import KonnectCore
import Testing

/// Issue 17: the pure parts of running beyond one machine: topologies, link URLs, listen addresses and the
/// network plan of a `netns` cluster.
@Suite struct TopologyTests {
    @Test func topologiesParseAndTheErrorNamesTheValidOnes() throws {
        #expect(try Topology.parse("netns").get() == .netns)
        #expect(try Topology.parse("unix").get() == .unix)
        guard case .failure(let error) = Topology.parse("docker") else {
            Issue.record("docker accepted")
            return
        }
        #expect(error.message == "invalid value 'docker' for --topology; valid values: unix, netns")
    }

    @Test func linkURLsAreUnixSocketsOrTLS() throws {
        #expect(try NodeLink.parse("unix:/run/d/auth/sock").get() == .unix(path: "/run/d/auth/sock"))
        #expect(try NodeLink.parse("https://198.18.0.1:7443").get() == .tls(host: "198.18.0.1", port: 7443))
        #expect(try NodeLink.parse("https://10.0.0.2:7443/").get() == .tls(host: "10.0.0.2", port: 7443))
        #expect(NodeLink.tls(host: "198.18.0.1", port: 7443).description == "https://198.18.0.1:7443")
        #expect(NodeLink.unix(path: "/d/sock").description == "unix:/d/sock")
    }

    @Test(arguments: [
        ("http://198.18.0.1:7443", "TLS only"),
        ("unix:relative/sock", "must be absolute"),
        ("https://auth.example:7443", "not an IPv4 address"),
        ("https://198.18.0.1", "not IPv4:PORT"),
        ("https://198.18.0.1:0", "port must be 1-65535"),
        ("https://198.18.0.1:70000", "not a port"),
        ("https://300.1.1.1:7443", "not an IPv4 address"),
        ("ftp://x", "use unix:/path/to/sock or https://IPv4:PORT"),
        ("", "use unix:/path/to/sock or https://IPv4:PORT"),
    ])
    func badLinkURLsSayWhy(text: String, says: String) {
        guard case .failure(let error) = NodeLink.parse(text) else {
            Issue.record("\(text) accepted")
            return
        }
        #expect(error.message.contains(says), "\(error.message)")
        #expect(error.message.contains("'\(text)'"))
    }

    @Test func listenAddressesAreIPv4AndAPort() throws {
        #expect(try ListenAddress.parse("0.0.0.0:7443").get() == ListenAddress(host: "0.0.0.0", port: 7443))
        #expect(try ListenAddress.parse("127.0.0.1:0").get().port == 0)
        for bad in ["7443", "0.0.0.0", "1.2.3:80", "1.2.3.4:-1", "01234.1.1.1:80", "a.b.c.d:1", "1.2.3.4:80:1"] {
            guard case .failure = ListenAddress.parse(bad) else {
                Issue.record("\(bad) accepted")
                continue
            }
        }
        #expect(IPv4.parse("198.19.255.254") == 0xC613_FFFE)
        #expect(IPv4.text(0xC612_0001) == "198.18.0.1")
    }

    @Test func theAuthNodeAndTheOperatorHaveFixedAddressesAndOthersTheNextFree() {
        var plan = NetworkPlan(id: "ab12")
        #expect(plan.add("eu") == "198.18.0.10")
        #expect(plan.add("auth") == "198.18.0.1")
        #expect(plan.add(NetworkPlan.operatorHost) == "198.18.0.2")
        #expect(plan.add("us") == "198.18.0.11")
        #expect(plan.add("eu") == "198.18.0.10", "a host keeps its address")
        #expect(plan.add("dp1") == "198.18.0.12")
        #expect(plan.address("nobody") == nil)
    }

    @Test func namespacesAreNamedPerClusterAndNeverCollideWithNodeNames() {
        let plan = NetworkPlan(id: "ab12")
        #expect(plan.namespace("eu") == "ks-ab12-eu")
        #expect(plan.namespace(NetworkPlan.operatorHost) == "ks-ab12.operator")
        #expect(plan.switchNamespace == "ks-ab12.switch")
        // Node names are letters, digits and '-': no node can be called ".operator" or ".switch".
        #expect(!plan.namespace(NetworkPlan.operatorHost).hasPrefix("ks-ab12-"))
    }

    @Test func aHostIsItsOwnNamespaceLinkedToTheBridgeWithNoRouteOut() {
        var plan = NetworkPlan(id: "ab12")
        plan.add("auth")
        let commands = plan.hostCommands("auth")
        #expect(commands.first == ["netns", "add", "ks-ab12-auth"])
        #expect(commands.contains(["-n", "ks-ab12-auth", "addr", "add", "198.18.0.1/15", "dev", "eth0"]))
        #expect(commands.contains(["-n", "ks-ab12.switch", "link", "set", "v1", "master", "br0"]))
        // Only the connected /15: no default route, no gateway, nothing outside 198.18.0.0/15.
        #expect(!commands.flatMap { $0 }.contains("route"))
        #expect(!commands.flatMap { $0 }.contains("default"))
        #expect(plan.hostCommands("nobody").isEmpty)
        #expect(plan.switchCommands.first == ["netns", "add", "ks-ab12.switch"])
    }

    @Test func isolateAndRejoinTurnTheHostsLinkDownAndUp() {
        let plan = NetworkPlan(id: "ab12")
        #expect(plan.isolateCommands("eu") == [["-n", "ks-ab12-eu", "link", "set", "eth0", "down"]])
        #expect(plan.rejoinCommands("eu") == [["-n", "ks-ab12-eu", "link", "set", "eth0", "up"]])
    }

    @Test func removingDeletesEveryNamespaceTheSwitchLast() {
        var plan = NetworkPlan(id: "ab12")
        plan.add("auth")
        plan.add("eu")
        #expect(
            plan.removeCommands == [
                ["netns", "delete", "ks-ab12-auth"], ["netns", "delete", "ks-ab12-eu"],
                ["netns", "delete", "ks-ab12.switch"],
            ])
    }

    @Test func thePlanRoundTripsThroughNetworkJSON() throws {
        var plan = NetworkPlan(id: "ab12")
        plan.add("auth")
        plan.add(NetworkPlan.operatorHost)
        plan.add("eu")
        let read = try NetworkPlan(json: try JSONParser.parse(plan.json.bytes))
        #expect(read == plan)
        #expect(read.address("eu") == "198.18.0.10")
    }

    @Test(arguments: [
        #"{"id":"ab12"}"#, #"{"id":"AB/..","hosts":[]}"#, #"{"id":"toolongid9","hosts":[]}"#,
        #"{"id":"ab12","hosts":[{"name":"eu","address":"10.0.0.1"}]}"#,
        #"{"id":"ab12","hosts":[{"name":"eu","address":"198.18.0.0"}]}"#,
        #"{"id":"ab12","hosts":[{"name":"eu"}]}"#,
    ])
    func aDamagedNetworkJSONIsRefused(text: String) throws {
        #expect(throws: TopologyError.self) { try NetworkPlan(json: try JSONParser.parse(Array(text.utf8))) }
    }
}
