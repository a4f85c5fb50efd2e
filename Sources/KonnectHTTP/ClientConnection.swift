#if canImport(Glibc)
    import Glibc
#endif

/// A blocking client's connection: a socket, plain or with a TLS session over it. The client's exchange
/// and `HTTPStream` read and write through it without knowing which. Used by one thread at a time (handed
/// between threads through the client's pool); `interrupt` alone may come from another thread.
final class ClientConnection: @unchecked Sendable {
    let fd: Int32
    private let tls: TLSSession?
    private var isClosed = false

    private init(fd: Int32, tls: TLSSession?) {
        self.fd = fd
        self.tls = tls
    }

    deinit { close() }

    /// Connects, and with `tls` completes the handshake, all within `timeoutMilliseconds`. A server whose
    /// certificate fails verification is unreachable, with the reason.
    static func open(to endpoint: Endpoint, tls: TLSClientContext?, timeoutMilliseconds: Int) throws(HTTPClientError)
        -> ClientConnection
    {
        let deadline = Monotonic.now + timeoutMilliseconds
        let fd: Int32
        do {
            fd = try Socket.connect(to: endpoint, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            throw HTTPClientError(
                kind: error.kind == .timedOut ? .timedOut : .unreachable, endpoint: endpoint, message: error.description
            )
        }
        guard let tls else { return ClientConnection(fd: fd, tls: nil) }
        let host: String
        switch endpoint {
        case .tcp(let name, _), .tcpInNamespace(_, let name, _): host = name
        case .unix: host = "localhost"
        }
        let session: TLSSession
        do {
            session = try TLSSession(client: tls, fd: fd, host: host)
        } catch {
            Glibc.close(fd)
            throw HTTPClientError(kind: .unreachable, endpoint: endpoint, message: error.description)
        }
        let connection = ClientConnection(fd: fd, tls: session)
        while true {
            let waitFor: Int16
            let outcome = session.handshake()
            switch outcome {
            case .done: return connection
            case .wantRead: waitFor = Int16(POLLIN)
            case .wantWrite: waitFor = Int16(POLLOUT)
            case .closed, .failed:
                var reason = "the server closed the connection"
                if case .failed(let why) = outcome { reason = why }
                if let refused = session.verificationFailure {
                    reason = "the server's certificate was refused: \(refused)"
                }
                throw HTTPClientError(
                    kind: .unreachable, endpoint: endpoint, message: "TLS handshake with \(endpoint) failed: \(reason)")
            }
            let remaining = deadline - Monotonic.now
            guard remaining > 0, Socket.waitFor(fd, events: waitFor, timeoutMilliseconds: remaining) else {
                throw HTTPClientError(
                    kind: .timedOut, endpoint: endpoint,
                    message: "TLS handshake with \(endpoint) did not complete within \(timeoutMilliseconds) ms")
            }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    /// Wakes and ends a read in progress on another thread.
    func interrupt() {
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Reads what is available within the timeout.
    func read(into buffer: inout [UInt8], timeoutMilliseconds: Int) -> Socket.ReadResult {
        guard let tls else { return Socket.read(fd, into: &buffer, timeoutMilliseconds: timeoutMilliseconds) }
        let deadline = Monotonic.now + timeoutMilliseconds
        var waitFor = tls.hasBufferedInput ? 0 : Int16(POLLIN)
        while true {
            if waitFor != 0 {
                let remaining = deadline - Monotonic.now
                guard remaining > 0, Socket.waitFor(fd, events: waitFor, timeoutMilliseconds: remaining) else {
                    return .timeout
                }
            }
            switch buffer.withUnsafeMutableBytes({ tls.read(into: $0) }) {
            case .done(let count): return .data(count)
            case .wantRead: waitFor = Int16(POLLIN)
            case .wantWrite: waitFor = Int16(POLLOUT)
            case .closed: return .eof
            case .failed(let why): return .failed(SocketError(kind: .closed, operation: "TLS read", message: why))
            }
        }
    }

    /// Why the peer closed, if it said so in an alert before leaving (a TLS 1.3 server checks the client's
    /// certificate after the client's side of the handshake is over, so its refusal shows up here).
    private func alert(from tls: TLSSession) -> String? {
        var scratch = [UInt8](repeating: 0, count: 512)
        if case .failed(let why) = scratch.withUnsafeMutableBytes({ tls.read(into: $0) }) { return why }
        return nil
    }

    /// Writes everything or throws; each wait for buffer space is bounded by the timeout.
    func writeAll(_ bytes: [UInt8], timeoutMilliseconds: Int) throws(SocketError) {
        guard let tls else { return try Socket.writeAll(fd, bytes, timeoutMilliseconds: timeoutMilliseconds) }
        var offset = 0
        while offset < bytes.count {
            let waitFor: Int16
            switch bytes.withUnsafeBytes({ tls.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
            case .done(let count):
                offset += count
                continue
            case .wantWrite: waitFor = Int16(POLLOUT)
            case .wantRead: waitFor = Int16(POLLIN)
            case .closed, .failed:
                throw SocketError(
                    kind: .closed, operation: "TLS write", message: alert(from: tls) ?? "the peer closed the link")
            }
            guard Socket.waitFor(fd, events: waitFor, timeoutMilliseconds: timeoutMilliseconds) else {
                throw SocketError(
                    kind: .timedOut, operation: "TLS write", message: "peer did not read for \(timeoutMilliseconds) ms")
            }
        }
    }
}
