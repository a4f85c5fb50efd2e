import Foundation
import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim console --dir DIR` running as a user runs it: its standard output goes to a file the
/// test reads the URL from; `stop()` sends SIGTERM and waits for exit 0; deinit kills it if a failing
/// test left it running.
final class ConsoleProcess {
    let process = Process()
    let outputPath: String

    init(directory: String, arguments: [String] = []) throws {
        TestCluster.locateExecutable()
        outputPath = directory + "/console.out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: String(cString: getenv("KONNECT_SIM_EXECUTABLE")))
        process.arguments = ["console", "--dir", directory] + arguments
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// The URL the console printed on its first line.
    func url(timeout: Double = 15) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let first = output.split(separator: "\n").first, first.hasPrefix("http://127.0.0.1:"),
                output.contains("\n")
            {
                return String(first)
            }
            guard process.isRunning else {
                throw ProcessTestFailure(message: "the console exited (\(process.terminationStatus)): \(output)")
            }
            usleep(20_000)
        }
        throw ProcessTestFailure(message: "the console printed no URL within \(timeout) s: \(output)")
    }

    /// SIGTERM, then the exit status (SIGKILL after 10 s).
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The parts of the console's URL.
struct ConsoleURL {
    var port: Int
    var token: String
    var origin: String { "http://127.0.0.1:\(port)" }

    init(_ url: String) throws {
        guard let range = url.range(of: "/?token="),
            let port = Int(url[url.index(url.startIndex, offsetBy: "http://127.0.0.1:".count)..<range.lowerBound])
        else { throw ProcessTestFailure(message: "not a console URL: \(url)") }
        self.port = port
        token = String(url[range.upperBound...])
    }

    func client() -> HTTPClient {
        HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 30_000)
    }
}
