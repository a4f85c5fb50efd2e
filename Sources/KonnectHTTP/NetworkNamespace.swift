import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Linux network namespaces made by `ip netns add` (`/run/netns/NAME`): a node joins its own at start,
/// and the operator's clients open their sockets inside the operator's namespace (a socket belongs to the
/// namespace of the thread that created it, wherever it is used afterwards).
public enum NetworkNamespace {
    static let cloneNewNet: Int32 = 0x4000_0000

    public static func path(_ name: String) -> String { "/run/netns/" + name }

    /// Moves the whole process into `name`. Call first thing in a node, before any thread exists: a
    /// namespace change applies to the calling thread, and threads created afterwards inherit it.
    public static func enterForGood(_ name: String) throws(SocketError) {
        let threads = (try? countThreads()) ?? 1
        guard threads == 1 else {
            throw SocketError(
                kind: .other, operation: "setns \(name)",
                message:
                    "the process already runs \(threads) threads; a node must join its namespace before starting any")
        }
        try join(name)
    }

    /// Runs `body` with the calling thread in namespace `name`, then moves the thread back.
    static func within<T>(_ name: String, _ body: () throws(SocketError) -> T) throws(SocketError) -> T {
        let own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { throw .errno("open /proc/thread-self/ns/net") }
        defer { close(own) }
        try join(name)
        defer {
            // Moving back to the namespace the thread came from cannot fail for a root process that left it.
            if setns(own, cloneNewNet) != 0 { fatalError("cannot return to the thread's network namespace: \(errno)") }
        }
        return try body()
    }

    private static func join(_ name: String) throws(SocketError) {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SocketError(
                kind: .refused, operation: "open \(path(name))",
                message:
                    "no network namespace '\(name)' (\(String(cString: strerror(errno)))); was the cluster's network removed?"
            )
        }
        defer { close(fd) }
        guard setns(fd, cloneNewNet) == 0 else {
            throw SocketError(
                kind: .other, operation: "setns \(name)",
                message:
                    "cannot join network namespace '\(name)': \(String(cString: strerror(errno))) (this needs root)")
        }
    }

    private static func countThreads() throws -> Int {
        guard let directory = opendir("/proc/self/task") else { return 1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 46 { count += 1 }  // not "." or ".."
        }
        return count
    }
}
