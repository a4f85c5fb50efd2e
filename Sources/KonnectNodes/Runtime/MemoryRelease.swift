#if canImport(Glibc)
    import Glibc
#endif

/// Returns memory freed after a large transient (a full configuration parsed, sent or cached) to the
/// system. glibc keeps freed memory in its per-thread arenas, where it still counts in the node's
/// resident memory; `malloc_trim(0)` releases the free pages of every arena. Glibc's Swift overlay
/// does not export it (malloc.h), so it is looked up once by name.
enum MemoryRelease {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    /// A transient this large or larger is worth returning.
    static let threshold = 1 << 20

    static func returnFreedMemory() { _ = trim?(0) }
}
