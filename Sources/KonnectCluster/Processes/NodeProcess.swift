import KonnectCore
import KonnectHTTP
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// Why a node process could not be started or stopped.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Observed state of a node's process.
public enum ProcessState: String, Sendable {
    case running, paused, down
}

/// Starting, signalling and observing node processes. Each node runs in its own session (so a
/// terminal's Ctrl-C or the CLI exiting does not take it down), with output appended to its log.
public enum NodeProcess {
    /// The running executable, used to start nodes as `konnect-sim node ...`.
    public static var executablePath: String {
        if let override = getenv("KONNECT_SIM_EXECUTABLE") { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `konnect-sim <arguments>` (or another `executable`) detached, in its own session (so its
    /// process group can be signalled as a whole), stdout and stderr appended to `logPath`; `descriptors`
    /// maps the caller's descriptors to the child's (a pipe as the child's fd 3).
    public static func spawn(
        arguments: [String], logPath: String, executable: String = executablePath,
        descriptors: [(parent: Int32, child: Int32)] = []
    ) throws(ProcessError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeOnExec(except: Set(descriptors.map(\.parent)))
        for (parent, child) in descriptors { posix_spawn_file_actions_adddup2(&actions, parent, child) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaultSignals, signal) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        // 0x80 is POSIX_SPAWN_SETSID, which Glibc's Swift overlay does not export.
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw ProcessError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Kills (SIGKILL) every process started with `--dir` inside `directory` (found through /proc): nodes
    /// whose files went missing, or that started while their cluster was being stopped.
    public static func killAll(under directory: String) {
        guard let entries = opendir("/proc") else { return }
        var pids: [Int32] = []
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let pid = Int32(name), pid != getpid() { pids.append(pid) }
        }
        closedir(entries)
        for pid in pids {
            guard let bytes = readWholeFile("/proc/\(pid)/cmdline") else { continue }
            let arguments = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let dir = arguments.firstIndex(of: "--dir"), dir + 1 < arguments.count,
                arguments[dir + 1] == directory || arguments[dir + 1].hasPrefix(directory + "/")
            else { continue }
            kill(pid, SIGKILL)
        }
    }

    /// Marks every descriptor above stderr close-on-exec, so that nothing else the caller holds reaches a
    /// node: one inherited without FD_CLOEXEC (a pipe or socket of whoever ran the CLI) would otherwise
    /// stay open for the node's whole life, and whoever waits for it to close (a shell's `$(...)`, a test
    /// waiting for the CLI to exit) would hang. (Glibc's `posix_spawn_file_actions_addclosefrom_np` is
    /// not visible to Swift.)
    static func closeOnExec(except kept: Set<Int32> = []) {
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let fd = Int32(name), fd > 2, fd != own, !kept.contains(fd) else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Whether the process exists, is stopped (SIGSTOP) or is gone. Zombies count as gone.
    public static func state(_ pid: Int32) -> ProcessState {
        guard pid > 0 else { return .down }
        reap(pid)
        guard kill(pid, 0) == 0 || errno == EPERM else { return .down }
        guard let stat = readWholeFile("/proc/\(pid)/stat") else { return .down }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return .running }
        let after = text[text.index(after: close)...].trimmingPrefix(" ")
        switch after.first {
        case "Z", "X": return .down
        case "T", "t": return .paused
        default: return .running
        }
    }

    /// Collects the exit status of our own child, if it has exited, so it does not linger as a zombie.
    public static func reap(_ pid: Int32) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// Whether `pid` is a konnect-sim process working in `directory` (guards against recycled pids).
    public static func isNode(_ pid: Int32, directory: String) -> Bool {
        guard let bytes = readWholeFile("/proc/\(pid)/cmdline") else { return false }
        let parts = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return parts.contains("node") && parts.contains(directory)
    }

    public static func signal(_ pid: Int32, _ signal: Int32) {
        guard pid > 0 else { return }
        kill(pid, signal)
    }

    /// SIGTERM, wait up to `graceMilliseconds`, then SIGKILL. Returns whether the graceful stop worked.
    @discardableResult
    public static func stop(_ pid: Int32, graceMilliseconds: Int = 10_000) -> Bool {
        guard state(pid) != .down else { return true }
        kill(pid, SIGTERM)
        kill(pid, SIGCONT)  // a paused node must run to handle SIGTERM
        if waitUntilGone(pid, milliseconds: graceMilliseconds) { return true }
        kill(pid, SIGKILL)
        _ = waitUntilGone(pid, milliseconds: 5000)
        return false
    }

    /// Waits for a process to exit, checking every 10 ms.
    public static func waitUntilGone(_ pid: Int32, milliseconds: Int) -> Bool {
        let deadline = Monotonic.now + milliseconds
        while Monotonic.now < deadline {
            if state(pid) == .down { return true }
            usleep(10_000)
        }
        return state(pid) == .down
    }
}
