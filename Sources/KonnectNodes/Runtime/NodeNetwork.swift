import KonnectCore
import KonnectHTTP

/// Where a node is on the network (`konnect-sim node ... --host --listen --tls`): the address of its public
/// listener, the TLS listener for node-to-node traffic, and its TLS identity. One machine needs none of it
/// (loopback and Unix sockets); separate hosts, real or network namespaces, need all of it.
public struct NodeNetwork: Sendable {
    /// The files of a node's TLS directory: the cluster's CA, the node's certificate and its key (PEM).
    public static let authorityFile = "ca.crt"
    public static let certificateFile = "node.crt"
    public static let keyFile = "node.key"
    /// The organizational unit of the certificates the cluster's CA issues to its nodes (auth, geos, zones,
    /// the operator): only these may call node-to-node routes over TLS. Data planes are known by their
    /// pinned certificate instead, and reach only their own routes.
    public static let nodeUnit = "konnect-sim node"
    public static let dataPlaneUnit = "konnect-sim data plane"

    /// The address the public listener binds and advertises.
    public var host: String
    /// The public listener's port (auth and geos; 0: the previous run's, else one the kernel picks).
    public var port: Int = 0
    /// The TLS listener for node-to-node traffic.
    public var listen: ListenAddress?
    /// The directory with `ca.crt`, `node.crt` and `node.key`.
    public var tlsDirectory: String?

    public init(host: String = "127.0.0.1", listen: ListenAddress? = nil, tlsDirectory: String? = nil) {
        self.host = host
        self.listen = listen
        self.tlsDirectory = tlsDirectory
    }

    /// The TLS files, read once; an error naming the missing file and the flag.
    func tlsFiles() throws(TopologyError) -> (authority: String, certificate: String, key: String) {
        guard let tlsDirectory else {
            throw TopologyError(
                "a TLS link needs --tls DIR (with \(NodeNetwork.authorityFile), \(NodeNetwork.certificateFile) and \(NodeNetwork.keyFile))"
            )
        }
        func read(_ file: String) throws(TopologyError) -> String {
            guard let bytes = readWholeFile(tlsDirectory + "/" + file) else {
                throw TopologyError("cannot read \(tlsDirectory)/\(file) (--tls \(tlsDirectory))")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        return (
            try read(NodeNetwork.authorityFile), try read(NodeNetwork.certificateFile), try read(NodeNetwork.keyFile)
        )
    }

    public func serverContext() throws -> TLSServerContext {
        let files = try tlsFiles()
        return try TLSServerContext(
            certificatePEM: files.certificate, privateKeyPEM: files.key, trustedAuthorityPEM: files.authority)
    }

    /// A client of a peer's link: its Unix socket, or TLS to its address with this node's certificate.
    public func client(
        to link: NodeLink, linkName: String, faults: (any LinkFaultSource)?, connectTimeoutMilliseconds: Int,
        timeoutMilliseconds: Int
    ) throws -> HTTPClient {
        switch link {
        case .unix(let path):
            return HTTPClient(
                endpoint: .unix(path), link: linkName, faults: faults,
                connectTimeoutMilliseconds: connectTimeoutMilliseconds, timeoutMilliseconds: timeoutMilliseconds)
        case .tls(let host, let port):
            let files = try tlsFiles()
            let tls = try TLSClientContext(
                trustedAuthorityPEM: files.authority, certificatePEM: files.certificate, privateKeyPEM: files.key)
            return HTTPClient(
                endpoint: .tcp(host: host, port: port), tls: tls, link: linkName, faults: faults,
                connectTimeoutMilliseconds: connectTimeoutMilliseconds, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Who may use a node-to-node route over a TLS link: nodes with a certificate of the cluster's CA, and
    /// data planes on their own routes (`/internal/v1/dp/...`, where their pinned certificate is their
    /// credential). Everything else is refused before routing, with what was presented.
    public static func admits(_ peer: PeerCertificate?, path: String) -> APIError? {
        guard let peer else { return nil }
        if path.hasPrefix("/internal/v1/dp/") || path == "/health" { return nil }
        guard peer.issuedByTrustedAuthority, peer.organizationalUnit == nodeUnit else {
            return APIError(
                status: 403,
                detail:
                    "Forbidden: \(path) over a TLS link needs a node certificate issued by this cluster's CA (OU '\(nodeUnit)'); the certificate presented (\(peer.commonName ?? "no common name"), fingerprint \(peer.fingerprint.prefix(16))...) is \(peer.issuedByTrustedAuthority ? "for OU '\(peer.organizationalUnit ?? "none")'" : "not issued by it")"
            )
        }
        return nil
    }

    /// A server handler that refuses, before routing, what `admits` refuses on a TLS link.
    public static func guarded(_ router: Router) -> @Sendable (HTTPRequest, ListenerKind) -> HTTPResponse {
        { request, listener in
            if listener == .link, let refusal = admits(request.peer, path: request.path) {
                return router.render(refusal, style: .problem, traceID: "link")
            }
            return router.handle(request, listener: listener)
        }
    }
}
