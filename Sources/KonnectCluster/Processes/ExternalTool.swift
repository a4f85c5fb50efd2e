import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// Programs of the machine that konnect-sim runs when they are installed (`ip`, nginx, wrk).
public enum ExternalTool {
    /// The executable's path from PATH (and the sbin directories, where Debian puts nginx and ip).
    public static func find(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"] {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs a program to completion and returns its output (stdout and stderr); a failure's error carries
    /// the exit status and the output.
    public static func run(_ executable: String, _ arguments: [String]) throws(ProcessError) -> String {
        let scratch = try ScratchDirectory(prefix: "ksr")
        let outputPath = scratch.path + "/output"
        let pid = try NodeProcess.spawn(arguments: arguments, logPath: outputPath, executable: executable)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = String(decoding: readWholeFile(outputPath) ?? [], as: UTF8.self)
        guard status == 0 else {
            throw ProcessError(
                "\(executable) \(arguments.joined(separator: " ")) failed (exit status \(status >> 8)):\n\(output)")
        }
        return output
    }
}

/// A temporary directory, removed with everything in it when the value goes away.
public final class ScratchDirectory {
    public let path: String

    public init(prefix: String) throws(ProcessError) {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ProcessError("cannot create a temporary directory") }
        path = String(cString: made)
    }

    deinit { removeTree(path) }
}
