import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import KonnectStorage

/// A `netns` cluster's own certificate authority (`pki/ca.crt`, `pki/ca.key`, 0600) and the TLS identity
/// it gives each node (`NODE-DIR/tls/`: the CA, the node's certificate for its address, its key).
extension Cluster {
    public var pkiDirectory: String { directory + "/pki" }

    /// The cluster's CA, made on first use.
    public func authority() throws -> CertificateAuthority {
        if let existing = try TLSFiles.readAuthority(from: pkiDirectory) { return existing }
        let made = try CertificateAuthority.create(commonName: "konnect-sim cluster CA \(directory)")
        try TLSFiles.write(made, to: pkiDirectory)
        return made
    }

    /// A node's TLS directory, issued once: a certificate of the cluster's CA for `address` (and loopback),
    /// with `unit` saying what it may do (`NodeNetwork.nodeUnit` or `.dataPlaneUnit`). Returns the
    /// directory and the certificate.
    @discardableResult
    public func issueTLS(for nodeDirectory: String, name: String, unit: String, address: String) throws -> (
        directory: String, certificatePEM: String
    ) {
        let tls = nodeDirectory + "/tls"
        let certificatePath = tls + "/" + NodeNetwork.certificateFile
        let keyPath = tls + "/" + NodeNetwork.keyFile
        if let certificate = readWholeFile(certificatePath), readWholeFile(keyPath) != nil {
            return (tls, String(decoding: certificate, as: UTF8.self))
        }
        let authority = try authority()
        let issued = try authority.issue(
            commonName: name, organizationalUnit: unit, ipAddresses: [address, "127.0.0.1"], dnsNames: [],
            usage: .serverAndClient)
        NodeFiles.makePrivateDirectory(nodeDirectory)
        try TLSFiles.write(issued, authorityPEM: authority.certificatePEM, to: tls)
        return (tls, issued.certificatePEM)
    }

    /// The launch arguments that put a node on its host in a `netns` cluster: its namespace, its address,
    /// its TLS identity, and (for auth and geos) the TLS listener for node-to-node traffic; with the
    /// certificate it was given (none for an upstream, which serves plain HTTP only).
    func hostArguments(
        _ plan: NetworkPlan, kind: NodeKind, name: String, nodeDirectory: String, unit: String = NodeNetwork.nodeUnit
    ) throws -> (arguments: [String], certificatePEM: String?) {
        guard let address = plan.address(name) else {
            throw ProcessError("\(name) has no address in the cluster's network")
        }
        var arguments = ["--netns", plan.namespace(name), "--host", address]
        var certificatePEM: String?
        if kind != .upstream {
            let tls = try issueTLS(for: nodeDirectory, name: name, unit: unit, address: address)
            arguments += ["--tls", tls.directory]
            certificatePEM = tls.certificatePEM
        }
        if kind == .auth || kind == .geo { arguments += ["--listen", "\(address):\(NetworkPlan.linkPort)"] }
        return (arguments, certificatePEM)
    }

    /// Where nodes reach `peer` (the auth node or a geo) for node-to-node traffic.
    func linkURL(to peer: String, plan: NetworkPlan?) throws -> String {
        guard let plan else {
            return NodeLink.unix(path: NodeFiles.socket(nodeDirectory(peer == "auth" ? .auth : .geo, peer))).description
        }
        guard let address = plan.address(peer) else {
            throw ProcessError("\(peer) has no address in the cluster's network")
        }
        return NodeLink.tls(host: address, port: NetworkPlan.linkPort).description
    }
}

/// The files of TLS identities: a CA's directory (`ca.crt`, `ca.key`) and a node's (`ca.crt`, `node.crt`,
/// `node.key`, the `--tls` of `konnect-sim node`), all 0600 in 0700 directories. Used by `up` and by
/// `pki init` / `pki issue`.
enum TLSFiles {
    static func readAuthority(from directory: String) throws -> CertificateAuthority? {
        guard let certificate = readWholeFile(directory + "/ca.crt"), let key = readWholeFile(directory + "/ca.key")
        else { return nil }
        return try CertificateAuthority(
            certificatePEM: String(decoding: certificate, as: UTF8.self),
            privateKeyPEM: String(decoding: key, as: UTF8.self))
    }

    static func write(_ authority: CertificateAuthority, to directory: String) throws {
        NodeFiles.makePrivateDirectory(directory)
        try AtomicFile.write(authority.privateKeyPEM, to: directory + "/ca.key", mode: 0o600)
        try AtomicFile.write(authority.certificatePEM, to: directory + "/ca.crt", mode: 0o600)
    }

    static func write(_ issued: IssuedCertificate, authorityPEM: String, to directory: String) throws {
        NodeFiles.makePrivateDirectory(directory)
        try AtomicFile.write(authorityPEM, to: directory + "/" + NodeNetwork.authorityFile, mode: 0o600)
        try AtomicFile.write(issued.privateKeyPEM, to: directory + "/" + NodeNetwork.keyFile, mode: 0o600)
        try AtomicFile.write(issued.certificatePEM, to: directory + "/" + NodeNetwork.certificateFile, mode: 0o600)
    }
}
