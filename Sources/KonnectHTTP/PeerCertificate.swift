/// Who is at the other end of a TLS link, from the certificate it presented (nil on Unix sockets and plain
/// TCP). The server accepts any certificate; the handler decides whom to trust.
public struct PeerCertificate: Sendable, Hashable {
    /// SHA-256 of the leaf certificate's DER encoding, lowercase hex (what pinned certificates are matched by).
    public var fingerprint: String
    /// The subject's common name, if it has one.
    public var commonName: String?
    /// The subject's organizational unit, if it has one.
    public var organizationalUnit: String?
    /// Whether the certificate chains to the server's trusted authority (false for a self-signed one).
    public var issuedByTrustedAuthority: Bool

    public init(fingerprint: String, commonName: String?, organizationalUnit: String?, issuedByTrustedAuthority: Bool) {
        self.fingerprint = fingerprint
        self.commonName = commonName
        self.organizationalUnit = organizationalUnit
        self.issuedByTrustedAuthority = issuedByTrustedAuthority
    }
}
