import CCrypto

/// A cluster's own certificate authority: EC P-256 key, self-signed, CA:TRUE, keyCertSign,
/// valid from one hour ago for 10 years, random serials. Holds PEM text only, so it is a plain
/// value; each issue reads the key again.
public struct CertificateAuthority: Sendable {
    public let certificatePEM: String
    private let keyPEM: String

    /// Unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----"): keep it where only the cluster can read it.
    public var privateKeyPEM: String { keyPEM }

    /// What a leaf certificate is for: its extendedKeyUsage.
    public enum Usage: Sendable {
        /// serverAuth
        case server
        /// clientAuth
        case client
        /// serverAuth and clientAuth
        case serverAndClient
    }

    private init(certificatePEM: String, keyPEM: String) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }

    public static func create(commonName: String) throws(CertificateError) -> CertificateAuthority {
        ERR_clear_error()
        let key = try LibCrypto.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try LibCrypto.makeCertificate(
            commonName: commonName, organizationalUnit: nil, publicKey: key, issuer: nil, signingKey: key,
            days: 3650,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ],
            alternativeNames: [])
        defer { X509_free(certificate) }
        return CertificateAuthority(
            certificatePEM: try LibCrypto.certificatePEM(certificate), keyPEM: try LibCrypto.privateKeyPEM(key))
    }

    /// Loads one written earlier (checks the key matches the certificate and that it is a CA).
    public init(certificatePEM: String, privateKeyPEM: String) throws(CertificateError) {
        ERR_clear_error()
        let certificate = try LibCrypto.readCertificate(pem: certificatePEM)
        defer { X509_free(certificate) }
        let key = try LibCrypto.readPrivateKey(pem: privateKeyPEM)
        defer { EVP_PKEY_free(key) }
        guard LibCrypto.isAuthority(certificate) else {
            throw CertificateError("the certificate is not a certificate authority (no basicConstraints CA:TRUE)")
        }
        guard EVP_PKEY_eq(X509_get0_pubkey(certificate), key) == 1 else {
            ERR_clear_error()
            throw CertificateError("the private key does not belong to the authority's certificate")
        }
        self.init(certificatePEM: certificatePEM, keyPEM: privateKeyPEM)
    }

    /// A leaf certificate signed by this authority: fresh P-256 key, CN and OU as given,
    /// subjectAltName with each IP address (IPv4 text) and DNS name, CA:FALSE, digitalSignature,
    /// valid 1 hour ago .. `days` days.
    public func issue(
        commonName: String, organizationalUnit: String?, ipAddresses: [String], dnsNames: [String], usage: Usage,
        days: Int = 825
    ) throws(CertificateError) -> IssuedCertificate {
        ERR_clear_error()
        let authority = try LibCrypto.readCertificate(pem: certificatePEM)
        defer { X509_free(authority) }
        let authorityKey = try LibCrypto.readPrivateKey(pem: keyPEM)
        defer { EVP_PKEY_free(authorityKey) }
        let key = try LibCrypto.generateKey()
        defer { EVP_PKEY_free(key) }
        let keyUsage =
            switch usage {
            case .server: "serverAuth"
            case .client: "clientAuth"
            case .serverAndClient: "serverAuth,clientAuth"
            }
        let certificate = try LibCrypto.makeCertificate(
            commonName: commonName, organizationalUnit: organizationalUnit, publicKey: key, issuer: authority,
            signingKey: authorityKey, days: days,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, keyUsage),
                (NID_subject_key_identifier, "hash"),
                (NID_authority_key_identifier, "keyid:always"),
            ],
            alternativeNames: ipAddresses.map { .ipAddress($0) } + dnsNames.map { .dnsName($0) })
        defer { X509_free(certificate) }
        return try IssuedCertificate(certificate: certificate, key: key)
    }

    /// Checks with libcrypto's X509_verify_cert that `leafPEM` chains to this authority now (tests use it;
    /// the TLS layer verifies chains itself).
    func verify(leafPEM: String) throws(CertificateError) {
        ERR_clear_error()
        let authority = try LibCrypto.readCertificate(pem: certificatePEM)
        defer { X509_free(authority) }
        let leaf = try LibCrypto.readCertificate(pem: leafPEM)
        defer { X509_free(leaf) }
        try LibCrypto.verify(leaf: leaf, authority: authority)
    }

    /// Whether `leafPEM`'s subjectAltName covers `ipAddress` and `host`, matched by libcrypto as TLS
    /// does (X509_check_ip_asc, X509_check_host); tests use it.
    static func names(of leafPEM: String, cover ipAddress: String?, host: String?) throws(CertificateError) -> Bool {
        ERR_clear_error()
        let leaf = try LibCrypto.readCertificate(pem: leafPEM)
        defer { X509_free(leaf) }
        if let ipAddress, X509_check_ip_asc(leaf, ipAddress, 0) != 1 { return false }
        if let host, X509_check_host(leaf, host, host.utf8.count, 0, nil) != 1 { return false }
        return true
    }
}
