import CSSL
import Synchronization

/// Why a TLS context could not be built: which PEM was wrong and how, in OpenSSL's words.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// The server's side of TLS links between nodes (one per listener, shared by every connection).
///
/// Every client must present a certificate, or the handshake fails. A certificate that does not chain to
/// the trusted authority is still accepted (pinned, self-signed data-plane certificates): the handler sees
/// `PeerCertificate.issuedByTrustedAuthority` and decides.
public final class TLSServerContext: @unchecked Sendable {
    /// Configured once in `init`, then only read (OpenSSL allows sharing it between threads).
    let context: OpaquePointer
    /// Handshakes completed with this context (a keep-alive client does one per connection).
    let handshakes = Atomic<Int>(0)

    public init(certificatePEM: String, privateKeyPEM: String, trustedAuthorityPEM: String) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError("cannot create a TLS server context: \(OpenSSL.takeErrors())")
        }
        do {
            try OpenSSL.configure(context)
            try OpenSSL.useIdentity(context, certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM)
            try OpenSSL.trust(context, authorityPEM: trustedAuthorityPEM)
            konnect_SSL_CTX_require_client_certificate(context)
            // No session resumption: links are long-lived keep-alive connections, and a ticket would only
            // cost bytes after every handshake.
            SSL_CTX_set_num_tickets(context, 0)
            let sessionContext = Array("konnect-link".utf8)
            SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }
}

/// The client's side of TLS links: verifies the server's chain against the trusted authority and that the
/// server's certificate names the host connected to (its IP SAN for an IP address, else its DNS name);
/// presents its own certificate when it has one.
public final class TLSClientContext: @unchecked Sendable {
    /// Configured once in `init`, then only read (OpenSSL allows sharing it between threads).
    let context: OpaquePointer

    public init(trustedAuthorityPEM: String, certificatePEM: String?, privateKeyPEM: String?) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError("cannot create a TLS client context: \(OpenSSL.takeErrors())")
        }
        do throws(TLSError) {
            try OpenSSL.configure(context)
            try OpenSSL.trust(context, authorityPEM: trustedAuthorityPEM)
            switch (certificatePEM, privateKeyPEM) {
            case (let certificate?, let key?):
                try OpenSSL.useIdentity(context, certificatePEM: certificate, privateKeyPEM: key)
            case (nil, nil):
                break
            case (.some, nil):
                throw TLSError("the client certificate was given without its private key; pass both or neither")
            case (nil, .some):
                throw TLSError("the client private key was given without its certificate; pass both or neither")
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }
}

/// Helpers over libssl and libcrypto shared by the TLS types.
enum OpenSSL {
    /// Drains this thread's OpenSSL error queue into one readable line.
    static func takeErrors() -> String {
        var reasons: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return reasons.isEmpty ? "no detail from OpenSSL" : reasons.joined(separator: "; ")
    }

    static func configure(_ context: OpaquePointer) throws(TLSError) {
        guard konnect_SSL_CTX_configure(context) == 1 else {
            throw TLSError("cannot require TLS 1.2 or later: \(takeErrors())")
        }
    }

    /// Runs `body` with a read-only memory BIO over `text`.
    private static func withBIO<Result>(_ text: String, _ body: (OpaquePointer) -> Result) -> Result? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> Result? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// Every certificate of a PEM text (X509 pointers the caller frees), or an error naming `what`.
    static func certificates(_ pem: String, what: String) throws(TLSError) -> [OpaquePointer] {
        ERR_clear_error()
        let found =
            withBIO(pem) { bio -> [OpaquePointer] in
                var certificates: [OpaquePointer] = []
                while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(certificate) }
                return certificates
            } ?? []
        // Reading stops with a "no start line" error at the end of the text.
        let errors = takeErrors()
        guard !found.isEmpty else {
            throw TLSError(
                "the \(what) is not a PEM certificate (expected -----BEGIN CERTIFICATE-----): \(errors)")
        }
        return found
    }

    /// Installs the certificate (the first of the PEM) and its private key, checking that they match.
    static func useIdentity(_ context: OpaquePointer, certificatePEM: String, privateKeyPEM: String) throws(TLSError) {
        let certificates = try certificates(certificatePEM, what: "certificate")
        defer { for certificate in certificates { X509_free(certificate) } }
        ERR_clear_error()
        // A passphrase-protected key is refused instead of prompting on the terminal.
        let key = withBIO(privateKeyPEM) { bio in PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) } ?? nil
        guard let key else {
            throw TLSError(
                "the private key is not an unencrypted PEM private key (expected -----BEGIN PRIVATE KEY-----): \(takeErrors())"
            )
        }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_certificate(context, certificates[0]) == 1 else {
            throw TLSError("the certificate cannot be used: \(takeErrors())")
        }
        guard SSL_CTX_use_PrivateKey(context, key) == 1 else {
            throw TLSError("the private key cannot be used: \(takeErrors())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError("the private key does not match the certificate: \(takeErrors())")
        }
    }

    /// Adds the authority's certificates to the context's trust store.
    static func trust(_ context: OpaquePointer, authorityPEM: String) throws(TLSError) {
        let authorities = try certificates(authorityPEM, what: "trusted authority")
        defer { for authority in authorities { X509_free(authority) } }
        let store = SSL_CTX_get_cert_store(context)
        for authority in authorities where X509_STORE_add_cert(store, authority) != 1 {
            throw TLSError("the trusted authority cannot be added: \(takeErrors())")
        }
    }
}
