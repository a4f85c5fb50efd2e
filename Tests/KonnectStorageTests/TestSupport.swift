import Foundation
import Synchronization

/// A directory under /tmp for one test, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/konnect-storage-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("cannot create a temporary directory") }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// The names in the directory, sorted.
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body(index)` on `count` threads of their own (really concurrent, unlike a pool sized to the
/// cores) and returns when every one finished.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            body(index)
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    done.wait()
}

/// Polls `condition` until it holds or `seconds` passed; true when it held. For waiting on another
/// thread's progress that has no signal of its own (a write queued behind a batch).
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(1000)
    }
    return try condition()
}

/// Errors collected from several threads.
final class ThreadErrors: Sendable {
    private let errors = Mutex<[String]>([])
    func record(_ error: any Error) { errors.withLock { $0.append("\(error)") } }
    func record(_ message: String) { errors.withLock { $0.append(message) } }
    var all: [String] { errors.withLock { $0 } }
}
