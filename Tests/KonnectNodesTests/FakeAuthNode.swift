import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization

/// An auth node played by the test, in process, on a Unix socket: it answers what the test tells it
/// to and records what it was asked. Stopped (and its directory removed) when the test ends.
final class FakeAuthNode: Sendable {
    let directory: String
    var socket: String { directory + "/auth.sock" }
    private let server: HTTPServer
    private let state = State()

    private final class State: Sendable {
        let requests = Mutex<[String]>([])
        let answer = Mutex<@Sendable (HTTPRequest) -> HTTPResponse>({ _ in HTTPResponse(status: 404) })
    }

    init() throws {
        directory = NSTemporaryDirectory() + "ks-fake-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let state = self.state
        server = HTTPServer { request, _ in
            state.requests.withLock { $0.append("\(request.method) \(request.target)") }
            return state.answer.withLock { $0 }(request)
        }
        try server.listen(unixPath: directory + "/auth.sock")
        server.start()
    }

    deinit {
        server.shutdown(drainMilliseconds: 500)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What the fake answers from now on.
    func answer(_ respond: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        state.answer.withLock { $0 = respond }
    }

    /// Every request so far, as "METHOD target".
    var received: [String] { state.requests.withLock { $0 } }

    /// A directory for the geo under test, removed with the fake.
    var geoDirectory: String {
        let path = directory + "/geo"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Polls `condition` every 10 ms until it holds; false after `seconds`.
    static func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }
}
