import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files so that a crash leaves either the old or the new content, never a mix: write to a
/// temporary file, fsync, rename over the target, fsync the directory. Used for data-plane config
/// caches, node descriptors and the run directory's files.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "cannot write \(path): \(message)" }
    }

    /// Makes temporary names unique per write, also between threads of one process.
    private static let writes = Atomic<Int>(0)

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws(WriteError) {
        try write(to: path, mode: mode) { (append) throws(WriteError) in try append(bytes) }
    }

    /// Writes a file made of pieces handed over one after another (a large file is never assembled in
    /// memory), with the same guarantee: a crash leaves the old or the new content.
    public static func write(
        to path: String, mode: mode_t = 0o600,
        _ produce: (_ append: ([UInt8]) throws(WriteError) -> Void) throws(WriteError) -> Void
    ) throws(WriteError) {
        let temporary = path + ".tmp-\(getpid())-\(writes.add(1, ordering: .relaxed).newValue)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: path, message: String(cString: strerror(errno))) }
        do throws(WriteError) {
            try produce { (bytes) throws(WriteError) in
                var offset = 0
                while offset < bytes.count {
                    let written = bytes.withUnsafeBytes {
                        Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset)
                    }
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw WriteError(path: path, message: String(cString: strerror(errno))) }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw WriteError(path: path, message: String(cString: strerror(errno))) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, message: message)
        }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let directoryFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o600) throws(WriteError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}
