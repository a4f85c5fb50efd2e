import KonnectCore
import KonnectSecurity

/// A data-plane certificate pinned for a control plane (`dp-client-certificates` with `cert`, Konnect's
/// pinned mode): its SHA-256 fingerprint is the credential a data plane presents by connecting over TLS
/// with it.
enum PinnedCertificate {
    /// The fingerprint of `cert`; a 400 on `field` saying why it is not a certificate.
    static func fingerprint(_ cert: String, field: String = "cert") throws -> String {
        do {
            return try CertificateInfo(pem: cert).fingerprint
        } catch {
            throw APIError.invalid(
                field: field, rule: "invalid",
                reason:
                    "is not a PEM certificate (\(error.message)); send the data plane's certificate, -----BEGIN CERTIFICATE----- ..."
            )
        }
    }
}
