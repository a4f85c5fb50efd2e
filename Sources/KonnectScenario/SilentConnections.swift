import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// TCP connections to a loopback port that send nothing (an idle browser, or an attacker holding
/// descriptors), for `bench connections` and the connection-capacity tests.
public enum SilentConnections {
    /// Opens `count` connections without blocking on each: connects are issued, then awaited together.
    public static func open(_ count: Int, port: Int) -> (connected: [Int32], failed: Int) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var connected: [Int32] = []
        var waiting: [Int32] = []
        var failed = 0
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else {
                failed += 1
                continue
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result == 0 {
                connected.append(fd)
            } else if errno == EINPROGRESS {
                waiting.append(fd)
            } else {
                close(fd)
                failed += 1
            }
        }
        let deadline = Monotonic.now + 10_000
        while !waiting.isEmpty && Monotonic.now < deadline {
            var descriptors = waiting.map { pollfd(fd: $0, events: Int16(POLLOUT), revents: 0) }
            _ = poll(&descriptors, nfds_t(descriptors.count), 100)
            var still: [Int32] = []
            for descriptor in descriptors {
                guard descriptor.revents != 0 else {
                    still.append(descriptor.fd)
                    continue
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor.fd, SOL_SOCKET, SO_ERROR, &code, &length)
                if code == 0 {
                    connected.append(descriptor.fd)
                } else {
                    close(descriptor.fd)
                    failed += 1
                }
            }
            waiting = still
        }
        for fd in waiting { close(fd) }
        return (connected, failed + waiting.count)
    }
}
