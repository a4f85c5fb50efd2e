#if canImport(Glibc)
    import Glibc
#endif

/// Which databases have a `read` or `write` body running on the current thread.
///
/// A body that calls `read` or `write` on its own database would wait for itself (the group commit
/// it runs in cannot finish before it returns, and nested reads can exhaust the reader pool), so
/// `Database` asks here first and fails with a clear error instead of deadlocking. The frames live on
/// the stack of the thread running the bodies; a thread-specific pointer links them.
enum RunningBodies {
    private struct Frame {
        var database: ObjectIdentifier
        var outer: UnsafeMutableRawPointer?
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed with \(status): too many thread-specific keys")
        return key
    }()

    /// True when the current thread is inside a body of `database`.
    static func contains(_ database: ObjectIdentifier) -> Bool {
        var next = pthread_getspecific(key)
        while let pointer = next {
            let frame = pointer.assumingMemoryBound(to: Frame.self).pointee
            if frame.database == database { return true }
            next = frame.outer
        }
        return false
    }

    /// Runs `work` with the current thread marked as running bodies of `database`.
    static func marking<T>(_ database: ObjectIdentifier, _ work: () throws -> T) rethrows -> T {
        var frame = Frame(database: database, outer: pthread_getspecific(key))
        return try withUnsafeMutablePointer(to: &frame) { pointer in
            pthread_setspecific(key, pointer)
            defer { pthread_setspecific(key, pointer.pointee.outer) }
            return try work()
        }
    }
}
