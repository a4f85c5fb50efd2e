import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// Ctrl-C on a command that starts throwaway clusters (scenario runs, benchmarks, chaos) stops them:
    /// their nodes run in sessions of their own, so nothing else would.
    @Suite struct Interrupt {
        /// The live node processes `parent` started, with the directory each runs in.
        static func nodes(of parent: Int32) -> [(pid: Int32, directory: String)] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { entry -> (Int32, String)? in
                guard let pid = Int32(entry),
                    let status = readWholeFile("/proc/\(entry)/status").map({ String(decoding: $0, as: UTF8.self) }),
                    status.contains("\nPPid:\t\(parent)\n"),
                    let command = readWholeFile("/proc/\(entry)/cmdline")
                else { return nil }
                let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                guard arguments.count > 1, arguments[1] == "node", let dir = arguments.firstIndex(of: "--dir"),
                    dir + 1 < arguments.count
                else { return nil }
                return (pid, arguments[dir + 1])
            }
        }

        /// Whether `pid` is a live process (not gone, not a zombie).
        static func alive(_ pid: Int32) -> Bool {
            guard let command = readWholeFile("/proc/\(pid)/cmdline") else { return false }
            return !command.isEmpty
        }

        @Test("Ctrl-C on scenario run stops every node its clusters started and removes their directories")
        func scenarioRunInterrupted() throws {
            TestCluster.locateExecutable()
            let directory = NSTemporaryDirectory() + "interrupt-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try """
            # A cluster that waits long enough to be interrupted.
            cluster geos eu start 2026-01-01
            wait 60s
            """.write(toFile: directory + "/long.scenario", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: String(cString: getenv("KONNECT_SIM_EXECUTABLE")))
            process.arguments = ["scenario", "run", directory + "/long.scenario"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let cli = process.processIdentifier
            var started: [(pid: Int32, directory: String)] = []
            defer {
                if process.isRunning { kill(cli, SIGKILL) }
                for node in started where Self.alive(node.pid) { kill(node.pid, SIGKILL) }
            }
            // The auth node and the geo.
            let deadline = Monotonic.now + 60_000
            while started.count < 2 && Monotonic.now < deadline {
                started = Self.nodes(of: cli)
                if started.count < 2 { usleep(50_000) }
            }
            try #require(started.count == 2, "the scenario's cluster did not start: \(started)")
            let clusterDirectory = (started[0].directory as NSString).deletingLastPathComponent
            #expect(FileManager.default.fileExists(atPath: clusterDirectory))

            kill(cli, SIGINT)
            let exitDeadline = Monotonic.now + 30_000
            while process.isRunning && Monotonic.now < exitDeadline { usleep(50_000) }
            try #require(!process.isRunning, "scenario run did not exit after SIGINT")
            #expect(process.terminationStatus == 130)
            for node in started {
                #expect(!Self.alive(node.pid), "node \(node.pid) in \(node.directory) still runs after Ctrl-C")
            }
            #expect(!FileManager.default.fileExists(atPath: clusterDirectory), "\(clusterDirectory) was left behind")
        }
    }
}
