#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A transport failure, with the operation and errno text a user needs to understand it.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case refused, timedOut, closed, pathTooLong, other }
    public var kind: Kind
    public var operation: String
    public var message: String

    public init(kind: Kind, operation: String, message: String) {
        self.kind = kind
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }

    static func errno(_ operation: String, _ code: Int32 = Glibc.errno) -> SocketError {
        let kind: Kind
        switch code {
        case ECONNREFUSED, ENOENT: kind = .refused
        case ETIMEDOUT, EAGAIN: kind = .timedOut
        case EPIPE, ECONNRESET: kind = .closed
        default: kind = .other
        }
        return SocketError(kind: kind, operation: operation, message: String(cString: strerror(code)))
    }
}

/// Where a node listens or a client connects.
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    case unix(String)
    case tcp(host: String, port: Int)
    /// A TCP address as seen from a network namespace (`ip netns`): the socket is opened inside it.
    case tcpInNamespace(namespace: String, host: String, port: Int)

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "http://\(host):\(port)"
        case .tcpInNamespace(let namespace, let host, let port): "http://\(host):\(port) (from \(namespace))"
        }
    }

    /// The `Host` header a request to this endpoint carries.
    var hostHeader: String {
        switch self {
        case .unix: "localhost"
        case .tcp(let host, let port), .tcpInNamespace(_, let host, let port): "\(host):\(port)"
        }
    }
}

/// Raw socket calls, each retried on EINTR, every descriptor close-on-exec, SIGPIPE never raised.
enum Socket {
    static let maxUnixPathBytes = 107
    /// Pending connections the kernel queues per listener (capped by net.core.somaxconn), so a burst of
    /// thousands of connects is absorbed while the loops accept.
    static let backlog: Int32 = 4096

    static func setCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    static func setNonBlocking(_ fd: Int32, _ on: Bool) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
    }

    static func makeUnixAddress(_ path: String) throws(SocketError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= maxUnixPathBytes else {
            throw SocketError(
                kind: .pathTooLong, operation: "unix socket \(path)",
                message:
                    "path is \(bytes.count) bytes; Unix sockets allow at most \(maxUnixPathBytes). Use a shorter --dir."
            )
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        return address
    }

    static func listenUnix(path: String) throws(SocketError) -> Int32 {
        var address = try makeUnixAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        setCloseOnExec(fd)
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let error = SocketError.errno("bind \(path)")
            close(fd)
            throw error
        }
        chmod(path, 0o600)
        guard listen(fd, backlog) == 0 else {
            let error = SocketError.errno("listen \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    /// Listens on an IPv4 address; port 0 asks the kernel for a free one. Returns the descriptor and the port.
    static func listenTCP(host: String, port: Int) throws(SocketError) -> (Int32, Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SocketError(
                kind: .other, operation: "listen \(host):\(port)", message: "not an IPv4 address (such as 0.0.0.0)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        setCloseOnExec(fd)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let error = SocketError.errno("bind \(host):\(port)")
            close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SocketError.errno("listen \(host):\(port)")
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// The IPv4 address of a TCP socket's peer (`198.18.0.2`), nil if it has none.
    static func peerAddress(_ fd: Int32) -> String? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard result == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func setNoDelay(_ fd: Int32) {
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects with a deadline; a Unix path that does not exist is reported as refused.
    static func connect(to endpoint: Endpoint, timeoutMilliseconds: Int) throws(SocketError) -> Int32 {
        let fd: Int32
        var result: Int32
        switch endpoint {
        case .unix(let path):
            var address = try makeUnixAddress(path)
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw .errno("socket") }
            setCloseOnExec(fd)
            setNonBlocking(fd, true)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        case .tcp(let host, let port):
            (fd, result) = try connectTCP(host: host, port: port)
        case .tcpInNamespace(let namespace, let host, let port):
            // Only the socket's creation needs the namespace; connecting and everything after work from here.
            (fd, result) = try NetworkNamespace.within(namespace) { () throws(SocketError) in
                try connectTCP(host: host, port: port)
            }
        }
        if result != 0 {
            let code = errno
            if code == EINPROGRESS || code == EAGAIN {
                // A Unix socket whose backlog is full answers EAGAIN; wait for writability like TCP.
                guard waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds: timeoutMilliseconds) else {
                    close(fd)
                    throw SocketError(
                        kind: .timedOut, operation: "connect \(endpoint)",
                        message: "timed out after \(timeoutMilliseconds) ms")
                }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError != 0 {
                    close(fd)
                    throw .errno("connect \(endpoint)", soError)
                }
            } else {
                close(fd)
                throw .errno("connect \(endpoint)", code)
            }
        }
        setNonBlocking(fd, false)
        return fd
    }

    /// A non-blocking TCP socket with a connect started: the descriptor and `connect`'s result.
    private static func connectTCP(host: String, port: Int) throws(SocketError) -> (Int32, Int32) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw SocketError(kind: .other, operation: "connect \(host):\(port)", message: "not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        setCloseOnExec(fd)
        setNonBlocking(fd, true)
        setNoDelay(fd)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return (fd, result)
    }

    /// Waits until `fd` is ready; false on timeout. A negative timeout waits forever.
    static func waitFor(_ fd: Int32, events: Int16, timeoutMilliseconds: Int) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        let deadline = Monotonic.now + max(0, timeoutMilliseconds)
        while true {
            let remaining = timeoutMilliseconds < 0 ? -1 : max(0, deadline - Monotonic.now)
            let ready = poll(&descriptor, 1, Int32(clamping: remaining))
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return true }  // let the following read or write report the error
        }
    }

    enum ReadResult {
        case data(Int)
        case eof
        case timeout
        case failed(SocketError)
    }

    /// Reads what is available within the timeout.
    static func read(_ fd: Int32, into buffer: inout [UInt8], timeoutMilliseconds: Int) -> ReadResult {
        guard waitFor(fd, events: Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds) else { return .timeout }
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .data(count) }
            if count == 0 { return .eof }
            if errno == EINTR { continue }
            if errno == EAGAIN { return .timeout }
            return .failed(.errno("recv"))
        }
    }

    /// Writes everything or throws; each wait for buffer space is bounded by the timeout.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeoutMilliseconds: Int) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard waitFor(fd, events: Int16(POLLOUT), timeoutMilliseconds: timeoutMilliseconds) else {
                    throw SocketError(
                        kind: .timedOut, operation: "send", message: "peer did not read for \(timeoutMilliseconds) ms")
                }
                continue
            }
            throw .errno("send")
        }
    }
}

/// Milliseconds from a monotonic clock, for deadlines and latency measurements (never for business time).
public enum Monotonic {
    public static var now: Int {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int(spec.tv_sec) * 1000 + Int(spec.tv_nsec) / 1_000_000
    }

    public static var nanoseconds: UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
