import CCrypto

/// A certificate and its private key, both PEM text.
public struct IssuedCertificate: Sendable, Hashable {
    public let certificatePEM: String
    /// Unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----").
    public let privateKeyPEM: String
    /// SHA-256 over the certificate's DER bytes, lowercase hex (64 chars): what pinning compares.
    public let fingerprint: String
}

extension IssuedCertificate {
    /// A self-signed leaf (no CA), e.g. what a user pins for a data plane (Konnect's pinned mode):
    /// fresh EC P-256 key, CN as given, CA:FALSE, digitalSignature, serverAuth and clientAuth,
    /// valid from one hour ago for `days` days.
    public static func selfSigned(commonName: String, days: Int = 365) throws(CertificateError) -> IssuedCertificate {
        ERR_clear_error()
        let key = try LibCrypto.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try LibCrypto.makeCertificate(
            commonName: commonName, organizationalUnit: nil, publicKey: key, issuer: nil, signingKey: key, days: days,
            extensions: [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature"),
                (NID_ext_key_usage, "serverAuth,clientAuth"),
                (NID_subject_key_identifier, "hash"),
            ],
            alternativeNames: [])
        defer { X509_free(certificate) }
        return try IssuedCertificate(certificate: certificate, key: key)
    }

    /// PEM texts and fingerprint of a certificate built here.
    init(certificate: OpaquePointer, key: OpaquePointer) throws(CertificateError) {
        self.init(
            certificatePEM: try LibCrypto.certificatePEM(certificate),
            privateKeyPEM: try LibCrypto.privateKeyPEM(key),
            fingerprint: try LibCrypto.fingerprint(certificate))
    }
}
