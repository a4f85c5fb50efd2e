import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a `NetworkPlan`'s commands with iproute2's `ip`, and tells whether this machine can.
public enum NetworkNamespaces {
    /// Why network namespaces cannot be made here, or nil when they can: `--topology netns` needs root
    /// (CAP_SYS_ADMIN), iproute2's `ip`, and a kernel with network namespaces, veth and bridges.
    public static func unavailableReason() -> String? { probed }

    /// Asked once per process (clusters of a parallel scenario run would otherwise probe at once).
    private static let probed: String? = probe()

    private static func probe() -> String? {
        guard geteuid() == 0 else {
            return "network namespaces need root (CAP_SYS_ADMIN), and this process runs as uid \(geteuid())"
        }
        guard let ip = ExternalTool.find("ip") else {
            return "iproute2's `ip` is not installed (apt-get install iproute2)"
        }
        let probe = "ks-probe-\(getpid())"
        do {
            _ = try ExternalTool.run(ip, ["netns", "add", probe])
            defer { _ = try? ExternalTool.run(ip, ["netns", "delete", probe]) }
            _ = try ExternalTool.run(ip, ["-n", probe, "link", "add", "b0", "type", "bridge"])
            _ = try ExternalTool.run(ip, ["-n", probe, "link", "add", "a0", "type", "veth", "peer", "name", "a1"])
        } catch {
            return "this kernel or sandbox does not let us create network namespaces, bridges and veth links: \(error)"
        }
        return nil
    }

    public static func exists(_ namespace: String) -> Bool {
        access(NetworkNamespace.path(namespace), F_OK) == 0
    }

    /// Runs commands in order; the first failure stops them, with what `ip` said.
    public static func run(_ commands: [[String]]) throws(ProcessError) {
        guard !commands.isEmpty else { return }
        guard let ip = ExternalTool.find("ip") else {
            throw ProcessError("iproute2's `ip` is not installed (apt-get install iproute2)")
        }
        for command in commands { _ = try ExternalTool.run(ip, command) }
    }

    /// Runs commands in order, ignoring failures (removing what may already be gone).
    public static func runIgnoringFailures(_ commands: [[String]]) {
        guard let ip = ExternalTool.find("ip") else { return }
        for command in commands { _ = try? ExternalTool.run(ip, command) }
    }
}
