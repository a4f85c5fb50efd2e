import CCrypto

/// What a PEM certificate says, read with libcrypto.
public struct CertificateInfo: Sendable, Hashable {
    /// SHA-256 over the certificate's DER bytes, lowercase hex (64 chars): what pinning compares.
    public let fingerprint: String
    public let commonName: String?
    public let organizationalUnit: String?
    /// Unix seconds.
    public let notBefore: Int64
    /// Unix seconds.
    public let notAfter: Int64
    /// basicConstraints CA:TRUE.
    public let isAuthority: Bool

    /// Reads the first certificate of PEM text; throws CertificateError saying what was wrong
    /// (not PEM, not a certificate, more than 16 KiB, ...), never crashes on any input.
    public init(pem: String) throws(CertificateError) {
        ERR_clear_error()
        let certificate = try LibCrypto.readCertificate(pem: pem)
        defer { X509_free(certificate) }
        fingerprint = try LibCrypto.fingerprint(certificate)
        commonName = try LibCrypto.subjectEntry(certificate, nid: NID_commonName, what: "common name (CN)")
        organizationalUnit = try LibCrypto.subjectEntry(
            certificate, nid: NID_organizationalUnitName, what: "organizational unit (OU)")
        notBefore = try LibCrypto.unixSeconds(X509_get0_notBefore(certificate), what: "notBefore")
        notAfter = try LibCrypto.unixSeconds(X509_get0_notAfter(certificate), what: "notAfter")
        isAuthority = LibCrypto.isAuthority(certificate)
    }
}
