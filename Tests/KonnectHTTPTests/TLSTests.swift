import Foundation
import KonnectCore
import KonnectSecurity
import Synchronization
import Testing

@testable import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

// Issue 17: links between nodes over TCP with TLS. A real HTTPServer with a TLS listener on 127.0.0.1
// (kernel-assigned port) and real clients with certificates from the test authority.

/// Certificates for the tests, from a throwaway authority (KonnectSecurity's, as the cluster's `pki/`).
struct TLSTestCertificates: Sendable {
    var authorityPEM: String
    /// An authority the server's certificate does not come from.
    var otherAuthorityPEM: String
    /// The server's: IP SAN 127.0.0.1.
    var server: IssuedCertificate
    /// A server certificate naming 127.0.0.2 only.
    var serverNamedElsewhere: IssuedCertificate
    /// A data plane's client certificate issued by the authority.
    var client: IssuedCertificate
    /// A pinned data plane's self-signed certificate.
    var selfSigned: IssuedCertificate

    static func make() throws -> TLSTestCertificates {
        let authority = try CertificateAuthority.create(commonName: "konnect-sim test CA")
        let other = try CertificateAuthority.create(commonName: "another CA")
        return TLSTestCertificates(
            authorityPEM: authority.certificatePEM, otherAuthorityPEM: other.certificatePEM,
            server: try authority.issue(
                commonName: "geo-eu", organizationalUnit: "geo", ipAddresses: ["127.0.0.1"], dnsNames: [],
                usage: .serverAndClient),
            serverNamedElsewhere: try authority.issue(
                commonName: "geo-us", organizationalUnit: "geo", ipAddresses: ["127.0.0.2"], dnsNames: [],
                usage: .serverAndClient),
            client: try authority.issue(
                commonName: "dp-1", organizationalUnit: "data-plane", ipAddresses: [], dnsNames: [], usage: .client),
            selfSigned: try IssuedCertificate.selfSigned(commonName: "pinned-dp"))
    }
}

/// A server with a TLS link listener and a plain TCP listener, serving `TLSTests.router`.
private final class TLSLinkServer {
    let server: HTTPServer
    let tls: TLSServerContext
    let linkPort: Int
    let tcpPort: Int

    init(certificates: TLSTestCertificates, identity: IssuedCertificate? = nil) throws {
        let identity = identity ?? certificates.server
        tls = try TLSServerContext(
            certificatePEM: identity.certificatePEM, privateKeyPEM: identity.privateKeyPEM,
            trustedAuthorityPEM: certificates.authorityPEM)
        var configuration = HTTPServer.Configuration()
        configuration.idleTimeoutMilliseconds = 5000
        configuration.requestTimeoutMilliseconds = 2000
        configuration.limits.maxBodyBytes = 8 << 20
        let router = TLSTests.router
        server = HTTPServer(configuration: configuration) { request, listener in
            router.handle(request, listener: listener)
        }
        linkPort = try server.listen(tcpHost: "127.0.0.1", port: 0, tls: tls)
        tcpPort = try server.listen(tcpPort: 0)
        server.start()
    }

    deinit { server.shutdown(drainMilliseconds: 500) }

    /// A client of the link, trusting `authorityPEM` and presenting `identity` (none: no certificate).
    func client(
        _ identity: IssuedCertificate?, trusting authorityPEM: String, host: String = "127.0.0.1", link: String? = nil,
        faults: (any LinkFaultSource)? = nil
    ) throws -> HTTPClient {
        let context = try TLSClientContext(
            trustedAuthorityPEM: authorityPEM, certificatePEM: identity?.certificatePEM,
            privateKeyPEM: identity?.privateKeyPEM)
        return HTTPClient(
            endpoint: .tcp(host: host, port: linkPort), tls: context, link: link, faults: faults,
            connectTimeoutMilliseconds: 5000, timeoutMilliseconds: 5000)
    }
}

@Suite("TLS links between nodes")
struct TLSTests {
    let certificates: TLSTestCertificates

    init() throws { certificates = try TLSTestCertificates.make() }

    static let router = Router(routes: [
        Router.route("GET", "/whoami") { request in
            guard let peer = request.peer else { return HTTPResponse.json(["peer": .null]) }
            return HTTPResponse.json([
                "listener": .string("\(request.listener)"),
                "fingerprint": .string(peer.fingerprint),
                "common_name": peer.commonName.map(JSON.string) ?? .null,
                "organizational_unit": peer.organizationalUnit.map(JSON.string) ?? .null,
                "trusted": .bool(peer.issuedByTrustedAuthority),
            ])
        },
        Router.route("POST", "/echo") { request in HTTPResponse(status: 200, bytes: request.http.body) },
        Router.route("GET", "/internal/ping", unixOnly: true) { _ in HTTPResponse.json(["pong": true]) },
        Router.route("GET", "/stream") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "application/x-ndjson"],
                body: .push { writer in
                    spawnThread(name: "tls-producer") {
                        for index in 0..<3 { writer.write(Array("{\"n\":\(index)}\n".utf8)) }
                    }
                })
        },
        Router.route("GET", "/later") { _ in
            HTTPResponse.deferred(timeoutMilliseconds: 5000, onTimeout: { HTTPResponse(status: 504) }) { pending in
                spawnThread(name: "tls-later") { pending.complete(HTTPResponse.json(["later": true])) }
            }
        },
    ])

    /// SHA-256 of a PEM certificate's DER bytes, lowercase hex, computed here independently of the server.
    static func fingerprint(_ pem: String) throws -> String {
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: base64))
        return Secrets.sha256Hex(Array(der))
    }

    @Test("issue 17: requests over a TLS link are answered, and keep-alive reuses one connection (one handshake)")
    func keepAliveReusesTheSession() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let client = try server.client(certificates.client, trusting: certificates.authorityPEM)
        for _ in 0..<3 {
            let response = try client.send("GET", "/whoami")
            #expect(response.status == 200)
            #expect(response.json?["listener"]?.stringValue == "link")
        }
        #expect(try client.send("GET", "/later").json?["later"]?.boolValue == true)
        #expect(server.tls.handshakes.load(ordering: .relaxed) == 1)
        #expect(server.server.openConnections.link == 1)
    }

    @Test("issue 17: megabytes go both ways over a TLS link (writes that would block resume where they stopped)")
    func largeBodiesBothWays() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let client = try server.client(certificates.client, trusting: certificates.authorityPEM)
        let body = Secrets.randomBytes(3 << 20)
        for _ in 0..<2 {
            let response = try client.send("POST", "/echo", body: body)
            #expect(response.status == 200)
            // Compared by digest: a failing comparison of two 3 MB arrays would print both.
            #expect(response.body.count == body.count)
            #expect(Secrets.sha256Hex(response.body) == Secrets.sha256Hex(body))
        }
    }

    @Test("issue 17: a connection that does not complete its handshake is closed at the first request's deadline")
    func silentConnectionIsClosedAtTheHeadDeadline() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let silent = try ServerTestSocket(tcpPort: server.linkPort)
        #expect(eventually { server.server.openConnections.link == 1 })
        // The server's request timeout is 2 s: the connection closes after it, without a byte sent.
        #expect(silent.closesWithoutData(within: 10_000))
        #expect(eventually { server.server.openConnections.link == 0 })
    }

    @Test("issue 17: a pushed stream is read through HTTPStream over TLS")
    func pushedStreamOverTLS() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let client = try server.client(certificates.client, trusting: certificates.authorityPEM)
        let stream = try client.openStream("GET", "/stream")
        defer { stream.close() }
        #expect(try stream.awaitHead(timeoutMilliseconds: 5000).get() == 200)
        var numbers: [Int] = []
        while numbers.count < 3 {
            guard case .message(let message) = stream.next(timeoutMilliseconds: 5000) else { break }
            numbers.append(message["n"]?.intValue.map(Int.init) ?? -1)
        }
        #expect(numbers == [0, 1, 2])
    }

    @Test(
        "issue 17: the handler sees the client's certificate: fingerprint, names, and whether the authority issued it")
    func handlerSeesThePeer() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let issued = try server.client(certificates.client, trusting: certificates.authorityPEM)
        let seen = try #require(try issued.send("GET", "/whoami").json)
        #expect(seen["fingerprint"]?.stringValue == (try TLSTests.fingerprint(certificates.client.certificatePEM)))
        #expect(seen["common_name"]?.stringValue == "dp-1")
        #expect(seen["organizational_unit"]?.stringValue == "data-plane")
        #expect(seen["trusted"]?.boolValue == true)

        // A pinned, self-signed certificate is accepted; the handler learns it is not the authority's.
        let pinned = try server.client(certificates.selfSigned, trusting: certificates.authorityPEM)
        let pinnedSeen = try #require(try pinned.send("GET", "/whoami").json)
        #expect(
            pinnedSeen["fingerprint"]?.stringValue == (try TLSTests.fingerprint(certificates.selfSigned.certificatePEM))
        )
        #expect(pinnedSeen["trusted"]?.boolValue == false)
    }

    @Test("issue 17: a client trusting another authority refuses the server's certificate and says why")
    func otherAuthorityIsRefused() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let client = try server.client(certificates.client, trusting: certificates.otherAuthorityPEM)
        let error = try #require(throws: HTTPClientError.self) { try client.send("GET", "/whoami") }
        #expect(error.kind == .unreachable)
        #expect(error.message.contains("certificate was refused"))
        // The server sends its chain up to its authority, which the client does not know.
        #expect(
            error.message.contains("self-signed certificate in certificate chain")
                || error.message.contains("unable to get local issuer certificate"))
    }

    @Test("issue 17: a server certificate that does not name the IP address connected to is refused")
    func serverNamedForAnotherAddressIsRefused() throws {
        let server = try TLSLinkServer(certificates: certificates, identity: certificates.serverNamedElsewhere)
        let client = try server.client(certificates.client, trusting: certificates.authorityPEM)
        let error = try #require(throws: HTTPClientError.self) { try client.send("GET", "/whoami") }
        #expect(error.kind == .unreachable)
        #expect(error.message.contains("certificate was refused"))
        #expect(error.message.contains("IP address mismatch"))
    }

    @Test("issue 17: a client without a certificate fails the handshake; the server goes on serving")
    func clientWithoutCertificateFails() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let anonymous = try server.client(nil, trusting: certificates.authorityPEM)
        let error = try #require(throws: HTTPClientError.self) { try anonymous.send("GET", "/whoami") }
        #expect(error.message.contains("certificate required"))
        #expect(server.tls.handshakes.load(ordering: .relaxed) == 0)
        let good = try server.client(certificates.client, trusting: certificates.authorityPEM)
        #expect(try good.send("GET", "/whoami").status == 200)
    }

    @Test("issue 17: plain HTTP to the TLS port gets no 2xx, and the server then serves a good client")
    func plainHTTPToTheTLSPort() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let plain = HTTPClient(
            endpoint: .tcp(host: "127.0.0.1", port: server.linkPort), connectTimeoutMilliseconds: 5000,
            timeoutMilliseconds: 5000)
        do {
            let response = try plain.send("GET", "/whoami")
            #expect(!(200..<300).contains(response.status))
        } catch {
            #expect(error.kind != .timedOut)
        }
        #expect(eventually { server.server.openConnections.link == 0 })
        let good = try server.client(certificates.client, trusting: certificates.authorityPEM)
        #expect(try good.send("GET", "/whoami").status == 200)
    }

    @Test("issue 17: node-to-node (unixOnly) routes are served on a link and are 404 on the plain TCP port")
    func nodeRoutesOnLinksOnly() throws {
        let server = try TLSLinkServer(certificates: certificates)
        let link = try server.client(certificates.client, trusting: certificates.authorityPEM)
        #expect(try link.send("GET", "/internal/ping").status == 200)
        let tcp = HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: server.tcpPort), timeoutMilliseconds: 5000)
        #expect(try tcp.send("GET", "/internal/ping").status == 404)
        #expect(try tcp.send("GET", "/whoami").json?["peer"] == .null)
    }

    @Test("issue 17: a partition in faults.json refuses the TLS link, and healing it restores the link")
    func partitionRefusesTheLink() throws {
        let server = try TLSLinkServer(certificates: certificates)
        var template = Array("/tmp/ktls-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/faults.json"
        let faults = FaultFile(path: path)
        let client = try server.client(
            certificates.client, trusting: certificates.authorityPEM, link: "dp->eu", faults: faults)
        #expect(try client.send("GET", "/whoami").status == 200)

        var plan = FaultPlan()
        plan.update("dp->eu") { $0.partitioned = true }
        try plan.json.text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: HTTPClientError.self) { try client.send("GET", "/whoami") }
        #expect(error.kind == .faultInjected)

        try FaultPlan().json.text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try client.send("GET", "/whoami").status == 200)
    }
}
