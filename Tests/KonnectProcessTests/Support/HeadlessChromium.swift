import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A headless Chromium from the system, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands go to its fd 3, answers and events come from its fd 4, each a
/// JSON message ending with a NUL byte), so no websocket client and no package is needed. It runs in
/// its own process group, which `close()` (also on deinit) kills as a whole: the browser and every
/// renderer it started (it runs in its own session, as nodes do).
final class HeadlessChromium: @unchecked Sendable {
    /// The browser to run: `KONNECT_SIM_CHROMIUM`, or Debian's `chromium` (`.ci/run` installs it).
    static var executable: String? {
        if let path = getenv("KONNECT_SIM_CHROMIUM").map({ String(cString: $0) }), access(path, X_OK) == 0 {
            return path
        }
        return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            access($0, X_OK) == 0
        }
    }

    static let missing =
        "Chromium is not installed (looked for KONNECT_SIM_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome); .ci/run installs Debian's chromium"

    let pid: pid_t
    private let commands: Int32
    private let replies: Int32
    private let profile: String
    let logPath: String
    /// Messages from the browser, filled by the reader thread (which does not hold the browser, so
    /// deinit can end it).
    private final class Inbox: Sendable {
        let messages = Mutex<[JSON]>([])
        let arrived = Signal()
        /// Set when the reader saw the browser's end of the pipe close.
        let ended = Mutex(false)
    }
    private let inbox = Inbox()
    private let nextID = Mutex(0)
    private let closed = Mutex(false)
    private var session = ""

    init(directory: String) throws {
        guard let executable = HeadlessChromium.executable else {
            throw ProcessTestFailure(message: HeadlessChromium.missing)
        }
        let log = directory + "/chromium.log"
        profile = directory + "/chromium-profile"
        logPath = log
        mkdir(profile, 0o700)
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else {
            throw ProcessTestFailure(message: "pipe failed: \(String(cString: strerror(errno)))")
        }
        for fd in toBrowser + fromBrowser { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
            "--user-data-dir=\(profile)", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--disable-component-update", "--mute-audio",
            "--window-size=1280,1000", "about:blank",
        ]
        let started = Result { () throws(ProcessError) -> pid_t in
            try NodeProcess.spawn(
                arguments: arguments, logPath: log, executable: executable,
                descriptors: [(toBrowser[0], 3), (fromBrowser[1], 4)])
        }
        Glibc.close(toBrowser[0])
        Glibc.close(fromBrowser[1])
        switch started {
        case .success(let child): pid = child
        case .failure(let error):
            Glibc.close(toBrowser[1])
            Glibc.close(fromBrowser[0])
            throw ProcessTestFailure(message: error.message)
        }
        commands = toBrowser[1]
        replies = fromBrowser[0]
        let replies = self.replies
        let inbox = self.inbox
        spawnThread(name: "chromium-reader") {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = read(replies, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending += buffer[0..<count]
                while let end = pending.firstIndex(of: 0) {
                    if let message = try? JSONParser.parse(Array(pending[..<end])) {
                        inbox.messages.withLock { $0.append(message) }
                    }
                    pending.removeSubrange(...end)
                }
                inbox.arrived.fire()
            }
            inbox.ended.withLock { $0 = true }
            inbox.arrived.fire()
        }
        do {
            let target = try call("Target.createTarget", ["url": "about:blank"])
            let attached = try call(
                "Target.attachToTarget", ["targetId": target["targetId"] ?? .null, "flatten": true])
            session = attached["sessionId"]?.stringValue ?? ""
            for domain in ["Page", "Runtime", "Log"] { _ = try call("\(domain).enable") }
        } catch {
            self.close()
            throw error
        }
    }

    deinit { close() }

    /// Ends the browser: its whole process group, then the pipes and profile.
    func close() {
        guard
            closed.withLock({ value in
                defer { value = true }
                return !value
            })
        else { return }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        Glibc.close(commands)
        // The reader ends once every browser process has let go of the pipe; only then is its
        // descriptor closed (closing it under a blocked read could hand the number to another file).
        let deadline = Monotonic.now + 10_000
        while !inbox.ended.withLock({ $0 }) && Monotonic.now < deadline {
            let seen = inbox.arrived.current
            inbox.arrived.wait(after: seen, timeoutMilliseconds: 100)
        }
        if inbox.ended.withLock({ $0 }) { Glibc.close(replies) }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Sends a DevTools command (to the page once attached) and waits for its answer.
    @discardableResult
    func call(_ method: String, _ parameters: JSON = .object(JSONObject()), timeout: Double = 15) throws -> JSON {
        let id = nextID.withLock { value -> Int in
            value += 1
            return value
        }
        var message: JSON = ["id": .int(Int64(id)), "method": .string(method), "params": parameters]
        if !session.isEmpty { message["sessionId"] = .string(session) }
        let bytes = message.bytes + [0]
        let written = bytes.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw ProcessTestFailure(message: "Chromium's pipe is closed (\(method)); its log:\n\(logTail)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let seen = inbox.arrived.current
            let answer = inbox.messages.withLock { inbox -> JSON? in
                guard let index = inbox.firstIndex(where: { $0["id"]?.intValue == Int64(id) }) else { return nil }
                return inbox.remove(at: index)
            }
            if let answer {
                if let error = answer["error"] {
                    throw ProcessTestFailure(message: "Chromium answered \(method) with \(error.text)")
                }
                return answer["result"] ?? .null
            }
            guard Date() < deadline, NodeProcessProbe.isAlive(pid) else {
                throw ProcessTestFailure(
                    message: "Chromium did not answer \(method) within \(timeout) s; its log:\n\(logTail)")
            }
            inbox.arrived.wait(after: seen, timeoutMilliseconds: 100)
        }
    }

    /// Evaluates JavaScript in the page and returns its value.
    func evaluate(_ expression: String) throws -> JSON {
        let result = try call(
            "Runtime.evaluate", ["expression": .string(expression), "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] {
            throw ProcessTestFailure(message: "the page threw evaluating \(expression): \(exception.text)")
        }
        return result["result"]?["value"] ?? .null
    }

    func navigate(_ url: String) throws { try call("Page.navigate", ["url": .string(url)]) }

    /// Polls the page until `expression` is true; returns the milliseconds it took. Fails after
    /// `timeout` seconds with `describe`'s value (what the page shows instead).
    @discardableResult
    func waitUntil(_ what: String, _ expression: String, timeout: Double, describe: String = "document.title")
        throws -> Int
    {
        let started = Monotonic.now
        let deadline = started + Int(timeout * 1000)
        var lastError: Error? = nil
        while Monotonic.now < deadline {
            // While the page loads, the expression may throw (an element not there yet): not yet true.
            do {
                if try evaluate("Boolean(\(expression))") == .bool(true) { return Monotonic.now - started }
            } catch {
                lastError = error
            }
            usleep(25_000)
        }
        throw ProcessTestFailure(
            message:
                "the page did not show \(what) within \(timeout) s; it shows: \((try? evaluate(describe))?.text ?? "?")\(lastError.map { " (last error: \($0))" } ?? "")"
        )
    }

    /// Clicks the element `selector` finds as a user would: scrolled into view, then a mouse press and
    /// release at its centre (hit-tested by the browser).
    func click(_ selector: String) throws {
        let quoted = JSON.string(selector).text
        let point = try evaluate(
            "(() => { const e = document.querySelector(\(quoted)); if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()"
        )
        guard let x = point["x"], let y = point["y"] else {
            throw ProcessTestFailure(message: "nothing on the page matches \(selector)")
        }
        for type in ["mouseMoved", "mousePressed", "mouseReleased"] {
            try call(
                "Input.dispatchMouseEvent",
                ["type": .string(type), "x": x, "y": y, "button": "left", "clickCount": 1])
        }
    }

    /// Console messages and errors the page logged (CSP violations, failed loads, exceptions).
    var pageErrors: [String] {
        inbox.messages.withLock { $0 }.compactMap { message -> String? in
            switch message["method"]?.stringValue {
            case "Log.entryAdded":
                guard let entry = message["params"]?["entry"], entry["level"]?.stringValue == "error" else {
                    return nil
                }
                return "\(entry["source"]?.stringValue ?? ""): \(entry["text"]?.stringValue ?? "")"
            case "Runtime.exceptionThrown": return "exception: \(message["params"]?["exceptionDetails"]?.text ?? "")"
            default: return nil
            }
        }
    }

    var logTail: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(3000)) } ?? "(no log)"
    }
}

/// Whether a child process is still there (reaping it when it has exited).
enum NodeProcessProbe {
    static func isAlive(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }
}
