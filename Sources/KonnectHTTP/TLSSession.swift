import CSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One TLS connection over a socket descriptor, for one thread at a time: the server's event loop, or
/// the thread of a blocking client. Never blocks: every call says whether it needs the socket to become
/// readable or writable first. The descriptor stays the caller's to close.
final class TLSSession {
    enum Outcome: Equatable {
        /// Done; for a read or a write, how many bytes.
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer ended the TLS stream (close_notify, or the socket's end).
        case closed
        case failed(String)
    }

    private let ssl: OpaquePointer
    /// The server's context, for a server's side (it counts handshakes).
    private let server: TLSServerContext?

    /// A server's side of an accepted connection.
    init(server: TLSServerContext, fd: Int32) throws(TLSError) {
        ssl = try TLSSession.make(server.context, fd: fd)
        self.server = server
        SSL_set_accept_state(ssl)
    }

    /// A client's side, verifying that the server's certificate names `host` (an IPv4 address is matched
    /// against the IP SANs, a name against the DNS SANs). If this throws, `deinit` frees the session.
    init(client: TLSClientContext, fd: Int32, host: String) throws(TLSError) {
        ssl = try TLSSession.make(client.context, fd: fd)
        server = nil
        SSL_set_connect_state(ssl)
        var address = in_addr()
        if inet_pton(AF_INET, host, &address) == 1 {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw TLSError("cannot verify the server's address \(host): \(OpenSSL.takeErrors())")
            }
        } else {
            guard SSL_set1_host(ssl, host) == 1, konnect_SSL_set_tlsext_host_name(ssl, host) == 1 else {
                throw TLSError("cannot verify the server's name \(host): \(OpenSSL.takeErrors())")
            }
        }
    }

    private static func make(_ context: OpaquePointer, fd: Int32) throws(TLSError) -> OpaquePointer {
        guard let ssl = SSL_new(context) else { throw TLSError("cannot start TLS: \(OpenSSL.takeErrors())") }
        guard let bio = BIO_new(SocketBIO.method) else {
            SSL_free(ssl)
            throw TLSError("cannot start TLS: \(OpenSSL.takeErrors())")
        }
        BIO_set_data(bio, UnsafeMutableRawPointer(bitPattern: Int(fd) + 1))
        SSL_set_bio(ssl, bio, bio)
        return ssl
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Outcome {
        ERR_clear_error()
        let result = outcome(SSL_do_handshake(ssl), bytes: false)
        if result == .done(0), let server { server.handshakes.add(1, ordering: .relaxed) }
        return result
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        ERR_clear_error()
        return outcome(SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count)), bytes: true)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard bytes.count > 0 else { return .done(0) }
        ERR_clear_error()
        return outcome(SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count)), bytes: true)
    }

    /// Whether decrypted (or received, not yet decrypted) bytes wait inside OpenSSL, which the socket's
    /// readiness does not show.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// Sends close_notify, once, best effort (the socket is shut or closed right after).
    func sendCloseNotify() {
        ERR_clear_error()
        if SSL_is_init_finished(ssl) == 1 { _ = SSL_shutdown(ssl) }
        ERR_clear_error()
    }

    /// Why the peer's certificate chain did not verify, in OpenSSL's words; nil when it did.
    var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    /// The certificate the peer presented (after the handshake).
    var peerCertificate: PeerCertificate? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return nil }
        let hex = Array("0123456789abcdef".utf8)
        var fingerprint: [UInt8] = []
        for byte in digest[0..<Int(length)] {
            fingerprint.append(hex[Int(byte >> 4)])
            fingerprint.append(hex[Int(byte & 0x0F)])
        }
        let subject = X509_get_subject_name(certificate)
        return PeerCertificate(
            fingerprint: String(decoding: fingerprint, as: UTF8.self),
            commonName: TLSSession.entry(subject, NID_commonName),
            organizationalUnit: TLSSession.entry(subject, NID_organizationalUnitName),
            issuedByTrustedAuthority: SSL_get_verify_result(ssl) == X509_V_OK)
    }

    private static func entry(_ name: OpaquePointer?, _ nid: Int32) -> String? {
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { konnect_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    private func outcome(_ result: Int32, bytes: Bool) -> Outcome {
        if result > 0 { return .done(bytes ? Int(result) : 0) }
        let code = errno
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let detail = OpenSSL.takeErrors()
            if code == 0 || code == EPIPE || code == ECONNRESET { return .closed }
            return .failed("\(String(cString: strerror(code))) (\(detail))")
        default:
            return .failed(OpenSSL.takeErrors())
        }
    }
}

/// The socket under a TLS session: `send` with MSG_NOSIGNAL (OpenSSL's own socket BIO uses `write`, which
/// raises SIGPIPE when the peer is gone) and MSG_DONTWAIT, so a session never blocks, whether its
/// descriptor is blocking (clients) or not (the server's loops). The BIO's data is the descriptor + 1.
private enum SocketBIO {
    nonisolated(unsafe) static let method: OpaquePointer = {
        let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "konnect socket")!
        BIO_meth_set_write(method) { bio, data, length -> Int32 in
            konnect_BIO_clear_retry_flags(bio)
            let fd = Int32(Int(bitPattern: BIO_get_data(bio)) - 1)
            while true {
                let sent = send(fd, data, Int(length), Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if sent >= 0 { return Int32(sent) }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { konnect_BIO_set_retry_write(bio) }
                return -1
            }
        }
        BIO_meth_set_read(method) { bio, data, length -> Int32 in
            konnect_BIO_clear_retry_flags(bio)
            let fd = Int32(Int(bitPattern: BIO_get_data(bio)) - 1)
            while true {
                let received = recv(fd, data, Int(length), Int32(MSG_DONTWAIT))
                if received >= 0 { return Int32(received) }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { konnect_BIO_set_retry_read(bio) }
                return -1
            }
        }
        BIO_meth_set_ctrl(method) { _, command, _, _ -> Int in command == BIO_CTRL_FLUSH ? 1 : 0 }
        BIO_meth_set_create(method) { bio -> Int32 in
            BIO_set_init(bio, 1)
            return 1
        }
        return method
    }()
}
