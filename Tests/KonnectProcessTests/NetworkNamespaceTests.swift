import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Hosts of their own (issue 17)

/// Tests that need network namespaces are skipped with the reason when this machine cannot make them
/// (not root, no `ip`, a sandbox without veth or bridges), never silently.
let needsNetworkNamespaces = ConditionTrait.enabled(
    if: NetworkNamespaces.unavailableReason() == nil,
    Comment(rawValue: NetworkNamespaces.unavailableReason() ?? "network namespaces are available"))

/// The names `ip netns list` shows (its lines read `NAME` or `NAME (id: N)`).
func listedNetworkNamespaces() throws -> [String] {
    guard let ip = ExternalTool.find("ip") else { throw ProcessTestFailure(message: "iproute2's `ip` is missing") }
    return try ExternalTool.run(ip, ["netns", "list"]).split(separator: "\n").compactMap {
        $0.split(separator: " ").first.map(String.init)
    }
}

/// The namespaces `ip netns list` shows for the cluster with network id `id`.
func listedNetworkNamespaces(ofNetwork id: String) throws -> [String] {
    try listedNetworkNamespaces().filter { $0.hasPrefix("ks-\(id)-") || $0.hasPrefix("ks-\(id).") }.sorted()
}

extension TestCluster {
    /// Runs `body` with a `netns` cluster, then (also when `body` failed) requires that the cluster's
    /// processes are gone with every network namespace it made: none of its `ks-ID...` names is left in
    /// `ip netns list`. (A cluster that fails to start is taken down by `TestCluster.init`.)
    static func withHosts(
        geos: [String] = ["eu"], sourceLocation: SourceLocation = #_sourceLocation, _ body: (TestCluster) throws -> Void
    ) throws {
        var id: String? = nil
        var directory: String? = nil
        let outcome = Result<Void, any Error>(catching: {
            let cluster = try TestCluster(geos: geos, topology: .netns)
            id = cluster.cluster.network?.id
            directory = cluster.directory
            try body(cluster)
            // The cluster goes away here: its deinit runs `down`, which removes its namespaces.
        })
        if let id {
            let left = try listedNetworkNamespaces(ofNetwork: id)
            #expect(
                left.isEmpty, "namespaces of \(directory ?? "the cluster") left behind: \(left)",
                sourceLocation: sourceLocation)
            // Reported, then removed: one defect must not leave the machine littered for the next tests.
            NetworkNamespaces.runIgnoringFailures(left.map { ["netns", "delete", $0] })
        }
        try outcome.get()
    }

    /// The cluster's network plan (`network.json`).
    func networkPlan() throws -> NetworkPlan {
        try #require(cluster.network, "a netns cluster has network.json in \(directory)")
    }

    /// A client of a node's TLS link listener, from the operator's host, presenting `identity` and trusting
    /// `authority` (PEM).
    func linkClient(
        _ node: String, trusting authority: String, identity: (certificate: String, key: String)?,
        timeoutMilliseconds: Int = 5000
    ) throws -> HTTPClient {
        let plan = try networkPlan()
        let address = try #require(plan.address(node))
        let tls = try TLSClientContext(
            trustedAuthorityPEM: authority, certificatePEM: identity?.certificate, privateKeyPEM: identity?.key)
        return HTTPClient(
            endpoint: .tcpInNamespace(
                namespace: plan.namespace(NetworkPlan.operatorHost), host: address, port: NetworkPlan.linkPort),
            tls: tls, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// A data plane's TLS identity, as its `--tls` directory holds it.
    func tlsIdentity(_ node: String) throws -> (certificate: String, key: String) {
        let tls = try record(node).directory + "/tls/"
        let certificate = try #require(readWholeFile(tls + NodeNetwork.certificateFile), "\(tls) has no certificate")
        let key = try #require(readWholeFile(tls + NodeNetwork.keyFile), "\(tls) has no key")
        return (String(decoding: certificate, as: UTF8.self), String(decoding: key, as: UTF8.self))
    }

    /// Control plane "shop" (`gwShop`) with data plane dp1 synced on its version 3.
    func shopWithDataPlane() throws -> GatewayShop {
        let shop = try gwShop()
        try gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
        try gwWaitForVersion("dp1", 3, timeout: 10)
        return shop
    }

    /// A client of a node's public listener from the operator's host that gives up quickly (on a host
    /// whose link is down, a connection attempt gets no answer at all).
    func impatientClient(_ node: String) throws -> HTTPClient {
        HTTPClient(endpoint: try publicEndpoint(node), connectTimeoutMilliseconds: 500, timeoutMilliseconds: 1000)
    }

    /// Waits until the node's public API answers the operator again (after `rejoin`).
    func waitUntilReachable(_ node: String, path: String, token: String, timeout: Double = 15) throws {
        try waitUntil("\(node) answers \(path) from the operator's host", timeout: timeout) {
            try impatientClient(node).send("GET", path, headers: ["Authorization": "Bearer \(token)"]).status == 200
        }
    }
}

extension ProcessTests {
    /// `up --topology netns` (issue 17): every node on a host of its own, node-to-node links over TLS with
    /// the cluster's CA, data planes known by their pinned certificate, and faults at the kernel's level.
    @Suite struct NetworkNamespaceTopology {
        @Test(
            "T1, T4, C2, C3: on hosts of their own, nodes link over TLS, a data plane joins by its pinned certificate, syncs and proxies from the operator's host",
            needsNetworkNamespaces)
        func nodesOnHostsOfTheirOwn() throws {
            try TestCluster.withHosts { cluster in
                let plan = try cluster.networkPlan()
                #expect(plan.address("auth") == "198.18.0.1")
                for name in ["auth", "eu"] {
                    let descriptor = try #require(cluster.cluster.descriptor(try cluster.record(name)))
                    let address = try #require(plan.address(name))
                    #expect(address.hasPrefix("198.18."))
                    #expect(descriptor.host == address, "\(name)'s node.json: \(descriptor.json.text)")
                    #expect(descriptor.extra["link_url"]?.stringValue == "https://\(address):7443")
                }
                #expect(try cluster.record("eu").argument("--auth-url") == "https://198.18.0.1:7443")

                // The public APIs, from the operator's host.
                let shop = try cluster.gwShop()
                #expect(shop.upstreamURL.hasPrefix("http://198.18."), "the upstream is on a host of its own")
                try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
                try cluster.gwWaitForVersion("dp1", 3, timeout: 10)

                // A data plane's credential is its certificate: no secret on disk, the geo pins the certificate.
                let launch = try cluster.record("dp1")
                #expect(!launch.arguments.contains("--credential-file"), "\(launch.arguments)")
                #expect(launch.argument("--geo-url") == "https://\(plan.address("eu") ?? "?"):7443")
                #expect(access(launch.directory + "/credential", F_OK) != 0)
                let pinned = try cluster.tlsIdentity("dp1").certificate
                let listed = try cluster.expect(
                    200, "eu", "GET", "/v2/control-planes/\(shop.controlPlane)/dp-client-certificates",
                    token: shop.token)
                let items = listed["items"]?.arrayValue ?? []
                #expect(items.contains { $0["cert"]?.stringValue == pinned }, "\(listed.text)")

                // C3: the proxy, from the operator's host, to the upstream on its host.
                let hosts = try cluster.networkPlan()
                let dataPlane = try #require(cluster.cluster.descriptor(launch))
                #expect(dataPlane.host == hosts.address("dp1"))
                let response = try cluster.gwProxy("dp1", "GET", "/orders/42")
                #expect(response.status == 200, "\(response.text)\n\(cluster.allLogs())")
                #expect(response.json?["path"]?.stringValue == "/api/42")
                #expect(response.json?["upstream"]?.stringValue == "up1")

                // Every host is a namespace `ip netns list` shows.
                let namespaces = try listedNetworkNamespaces(ofNetwork: hosts.id)
                #expect(Set(hosts.hosts.map(\.name)) == [NetworkPlan.operatorHost, "auth", "eu", "up1", "dp1"])
                #expect(namespaces == hosts.namespaces.sorted())
            }
        }

        @Test(
            "D6, C2: an isolated control plane's data plane goes disconnected and keeps proxying on its configuration; an isolated data plane gets what changed meanwhile after rejoin",
            needsNetworkNamespaces)
        func isolateAndRejoin() throws {
            try TestCluster.withHosts { cluster in
                let shop = try cluster.shopWithDataPlane()
                let controlPlanes = "/v2/control-planes/\(shop.controlPlane)"

                // The geo's host loses its link: the operator cannot reach its API, its data plane cannot
                // reach it, and (D6) the data plane keeps proxying on its configuration.
                try cluster.cluster.isolate("eu")
                #expect(throws: HTTPClientError.self) {
                    try cluster.impatientClient("eu").send(
                        "GET", controlPlanes, headers: ["Authorization": "Bearer \(shop.token)"])
                }
                try cluster.gwWaitForState("dp1", "disconnected", timeout: 15)
                #expect(try cluster.gwVersion("dp1") == 3)
                let during = try cluster.gwProxy("dp1", "GET", "/orders/1")
                #expect(during.status == 200, "\(during.text)")

                try cluster.cluster.rejoin("eu")
                try cluster.waitUntilReachable("eu", path: controlPlanes, token: shop.token)
                try cluster.gwWaitForVersion("dp1", 3, timeout: 15)

                // The data plane's host loses its link: it goes disconnected with its version (its Unix
                // socket still answers), misses a change made meanwhile, and gets it after rejoin (C2).
                try cluster.cluster.isolate("dp1")
                try cluster.gwWaitForState("dp1", "disconnected", timeout: 15)
                #expect(try cluster.gwVersion("dp1") == 3)
                try cluster.gwRoute(
                    shop.controlPlane, service: "orders", ["name": "more", "paths": ["/more"]], token: shop.token)
                #expect(try cluster.gwVersion("dp1") == 3)
                #expect(throws: HTTPClientError.self) { try cluster.impatientClient("dp1").send("GET", "/more") }

                try cluster.cluster.rejoin("dp1")
                try cluster.gwWaitForVersion("dp1", 4, timeout: 15)
                let after = try cluster.gwProxy("dp1", "GET", "/more/x")
                #expect(after.status == 200, "\(after.text)")
                #expect(after.json?["path"]?.stringValue == "/api/x")

                let faults = cluster.cluster.faultLog.compactMap { $0["fault"]?.stringValue }
                #expect(faults == ["isolate", "rejoin", "isolate", "rejoin"], "faults.log: \(faults)")
            }
        }

        @Test(
            "C2: the geo's TLS link admits nodes of the cluster's CA and pinned data planes on their own routes only, and a client trusting another CA refuses the geo",
            needsNetworkNamespaces)
        func linkRefusals() throws {
            try TestCluster.withHosts { cluster in
                let shop = try cluster.shopWithDataPlane()
                let authority = try cluster.cluster.authority()
                let sync: HTTPHeaders = ["X-Node-Id": "8d3b2a1e-5c4f-4e7a-9b1d-2f6e8c0a4b7d"]

                // A data-plane certificate of the cluster's CA that no control plane pinned: 401.
                let unpinned = try authority.issue(
                    commonName: "stray", organizationalUnit: NodeNetwork.dataPlaneUnit, ipAddresses: [], dnsNames: [],
                    usage: .client)
                let stray = try cluster.linkClient(
                    "eu", trusting: authority.certificatePEM,
                    identity: (unpinned.certificatePEM, unpinned.privateKeyPEM))
                let refused = try stray.send("GET", "/internal/v1/dp/sync", headers: sync)
                #expect(refused.status == 401, "\(refused.text)")
                #expect(refused.json?["detail"]?.stringValue?.contains("data-plane credential") == true)

                // The pinned certificate of dp1 on an operator route: 403, naming the certificate.
                let identity = try cluster.tlsIdentity("dp1")
                let fingerprint = try CertificateInfo(pem: identity.certificate).fingerprint
                let dataPlane = try cluster.linkClient("eu", trusting: authority.certificatePEM, identity: identity)
                let operatorRoute = try dataPlane.json(
                    "POST", "/internal/v1/operator/dp-credentials", ["control_plane": .string(shop.controlPlane)])
                #expect(operatorRoute.status == 403, "\(operatorRoute.text)")
                let detail = operatorRoute.json?["detail"]?.stringValue ?? ""
                #expect(detail.contains("dp1") && detail.contains(String(fingerprint.prefix(16))), "\(detail)")
                #expect(detail.contains(NodeNetwork.dataPlaneUnit), "\(detail)")
                // The operator finds that certificate in the control plane's list by the same fingerprint.
                let pinned = try cluster.expect(
                    200, "eu", "GET", "/v2/control-planes/\(shop.controlPlane)/dp-client-certificates",
                    token: shop.token)
                #expect(
                    pinned["items"]?.arrayValue?.contains {
                        $0["cert_fingerprint"]?.stringValue == fingerprint
                    } == true, "\(pinned.text)")

                // A node certificate from another CA: the handshake is accepted (pinned certificates may be
                // self-signed), but it is no node of this cluster: 403 on node routes.
                let other = try CertificateAuthority.create(commonName: "another cluster's CA")
                let foreign = try other.issue(
                    commonName: "impostor", organizationalUnit: NodeNetwork.nodeUnit, ipAddresses: ["198.18.0.2"],
                    dnsNames: [], usage: .serverAndClient)
                let impostor = try cluster.linkClient(
                    "eu", trusting: authority.certificatePEM,
                    identity: (foreign.certificatePEM, foreign.privateKeyPEM))
                #expect(try impostor.send("GET", "/health").status == 200)
                for path in ["/internal/v1/status", "/internal/v1/zone/sync"] {
                    let response = try impostor.send("GET", path)
                    #expect(response.status == 403, "\(path): \(response.text)")
                    let why = response.json?["detail"]?.stringValue ?? ""
                    #expect(why.contains("impostor") && why.contains("not issued by it"), "\(why)")
                }

                // A client trusting another CA refuses the geo's certificate: unreachable, saying why.
                let node = try authority.issue(
                    commonName: "operator", organizationalUnit: NodeNetwork.nodeUnit, ipAddresses: ["198.18.0.2"],
                    dnsNames: [], usage: .serverAndClient)
                let distrustful = try cluster.linkClient(
                    "eu", trusting: other.certificatePEM, identity: (node.certificatePEM, node.privateKeyPEM))
                do throws(HTTPClientError) {
                    let response = try distrustful.send("GET", "/health")
                    Issue.record("a client trusting another CA got \(response.status) from the geo")
                } catch {
                    #expect(error.kind == .unreachable, "\(error)")
                    #expect(error.message.contains("certificate"), "\(error)")
                }
                // The same certificate with the cluster's CA trusted gets through (the refusal above was the CA).
                let trusting = try cluster.linkClient(
                    "eu", trusting: authority.certificatePEM, identity: (node.certificatePEM, node.privateKeyPEM))
                #expect(try trusting.send("GET", "/internal/v1/status").status == 200)
            }
        }

        @Test(
            "down removes every namespace of the cluster; a second up gives every host its address back and the data plane reconnects (D6)",
            needsNetworkNamespaces)
        func downAndUpAgain() throws {
            try TestCluster.withHosts { cluster in
                let shop = try cluster.shopWithDataPlane()
                let plan = try cluster.networkPlan()
                #expect(try listedNetworkNamespaces(ofNetwork: plan.id).count == plan.namespaces.count)

                let stopped = cluster.cluster.down(graceMilliseconds: 3000)
                #expect(Set(stopped.stopped.map(\.name)) == ["auth", "eu", "up1", "dp1"])
                #expect(try listedNetworkNamespaces(ofNetwork: plan.id) == [])
                #expect(cluster.cluster.network == plan, "network.json keeps every host's address")

                let configuration = try #require(cluster.cluster.configuration)
                _ = try ClusterBoot.up(cluster.cluster, configuration)
                try cluster.cluster.startUpstream(name: "up1")
                try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
                #expect(cluster.cluster.network == plan)
                for name in ["auth", "eu", "up1", "dp1"] {
                    let descriptor = try #require(cluster.cluster.descriptor(try cluster.record(name)))
                    #expect(descriptor.host == plan.address(name), "\(name) came back on \(descriptor.host)")
                }
                #expect(try listedNetworkNamespaces(ofNetwork: plan.id) == plan.namespaces.sorted())
                try cluster.gwWaitForVersion("dp1", 3, timeout: 15)
                let response = try cluster.gwProxy("dp1", "GET", "/orders/7")
                #expect(response.status == 200, "\(response.text)")
            }
        }

        @Test("a pinned data-plane certificate must be a PEM certificate: 400 on cert (any topology)")
        func pinnedCertificateMustBeACertificate() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let controlPlane = try cluster.createControlPlane("shop", token: token)
            let path = "/v2/control-planes/\(controlPlane)/dp-client-certificates"
            for cert in [
                "this is not a certificate at all",
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
            ] {
                let body = try cluster.expect(400, "eu", "POST", path, ["cert": .string(cert)], token: token)
                let invalid = body["invalid_parameters"]?.arrayValue ?? []
                #expect(invalid.first?["field"]?.stringValue == "cert", "\(body.text)")
                #expect(invalid.first?["rule"]?.stringValue == "invalid", "\(body.text)")
                #expect(invalid.first?["reason"]?.stringValue?.contains("PEM certificate") == true, "\(body.text)")
            }
            // Nothing was pinned.
            let listed = try cluster.expect(200, "eu", "GET", path, token: token)
            #expect(listed["items"]?.arrayValue?.isEmpty == true, "\(listed.text)")
            // A real certificate is pinned, its fingerprint the credential.
            let authority = try CertificateAuthority.create(commonName: "test CA")
            let leaf = try authority.issue(
                commonName: "dp", organizationalUnit: NodeNetwork.dataPlaneUnit, ipAddresses: [], dnsNames: [],
                usage: .client)
            let created = try cluster.expect(
                201, "eu", "POST", path, ["cert": .string(leaf.certificatePEM)], token: token)
            #expect(created["item"]?["cert"]?.stringValue == leaf.certificatePEM)
            // Its SHA-256 fingerprint, as `pki issue` prints it (a TLS link's refusal names its first 16 digits).
            #expect(created["item"]?["cert_fingerprint"]?.stringValue == leaf.fingerprint)
        }

        @Test("isolate on a one-machine cluster is refused (exit 1), pointing to partition")
        func isolateNeedsHostsOfTheirOwn() throws {
            let cluster = try TestCluster(geos: ["eu"])
            for command in ["isolate", "rejoin"] {
                let result = try cluster.runCLI([command, "eu", "--dir", cluster.directory])
                #expect(result.status == 1, "\(command): \(result.stdout)\(result.stderr)")
                #expect(result.stderr.contains("partition eu"), "\(result.stderr)")
                #expect(result.stderr.contains("--topology netns"), "\(result.stderr)")
            }
            #expect(cluster.cluster.faultLog.isEmpty, "a refused fault is not recorded")
        }
    }
}
