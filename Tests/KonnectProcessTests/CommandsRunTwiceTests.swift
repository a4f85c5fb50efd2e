import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// Issue 14: commands run twice, with other options, on the wrong node or on no cluster at all.
    @Suite struct CommandsRunTwice {
        /// A temporary directory without a cluster, removed afterwards.
        final class EmptyDirectory {
            let path: String
            init() throws {
                var template = Array("/tmp/kse-XXXXXX".utf8CString)
                guard let made = mkdtemp(&template) else { throw ProcessTestFailure(message: "mkdtemp failed") }
                path = String(cString: made)
            }
            deinit { try? FileManager.default.removeItem(atPath: path) }
        }

        @Test("issue 14: commands on a directory with no cluster say how to start one and exit 1")
        func noClusterSaysHowToStartOne() throws {
            let empty = try EmptyDirectory()
            let runner = try TestCluster.commandRunner()
            let org = "00000000-0000-4000-8000-000000000000"
            for arguments in [
                ["status"], ["status", "--json"], ["clock", "show"], ["billing", "show", "--org", org],
                ["support", "show", "--org", org], ["down"], ["dp", "status", "dp1"], ["kill", "eu"], ["faults"],
            ] {
                let result = try runner(arguments + ["--dir", empty.path])
                #expect(result.status == 1, "\(arguments): \(result.status) \(result.stderr)")
                #expect(
                    result.stderr.contains("no cluster in \(empty.path) (run `konnect-sim up --dir \(empty.path)`)"),
                    "\(arguments): \(result.stderr)")
                #expect(!result.stderr.contains("support credential"), "\(arguments): \(result.stderr)")
            }
            // Nothing was created by asking.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: empty.path))?.isEmpty == true)
        }

        @Test("issue 14: a cluster's geos, start, seed and rate card are fixed; a later up with others is refused")
        func upWithOtherSettingsIsRefused() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let before = try cluster.runtimePids()
            let configuration = try #require(readWholeFile(cluster.cluster.configurationPath))
            let rateCard = cluster.directory + "/other-rates.json"
            try #"{"trial_credits":"1.00"}"#.write(toFile: rateCard, atomically: true, encoding: .utf8)

            for (options, named) in [
                (["--rate-card", rateCard], "rate card"), (["--geos", "eu,us"], "geos: the cluster has eu"),
                (["--start", "2027-01-01"], "calendar start"), (["--seed", "8"], "seed"),
            ] {
                let result = try cluster.runCLI(["up", "--dir", cluster.directory] + options)
                #expect(result.status == 1, "\(options): \(result.stdout)")
                #expect(result.stderr.contains(named), "\(options): \(result.stderr)")
                #expect(result.stderr.contains("nothing was changed"), "\(options): \(result.stderr)")
                #expect(readWholeFile(cluster.cluster.configurationPath) == configuration, "\(options) changed it")
                #expect(try cluster.runtimePids() == before)
            }
            // The same values again are fine (idempotent).
            let same = try cluster.runCLI(["up", "--dir", cluster.directory, "--geos", "eu", "--seed", "7"])
            #expect(same.status == 0, "\(same.stderr)")
            #expect(same.stdout.contains("already running"), "\(same.stdout)")

            // New signups still get the standard trial credits.
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plan = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/plan", token: token)
            #expect(plan["credits"]?["granted"]?.stringValue == "500.00")
        }

        @Test("issue 14: up without options after down starts exactly what exists, without talking of stale state")
        func upAfterDownStartsExactlyWhatExists() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let down = try cluster.runCLI(["down", "--dir", cluster.directory])
            #expect(down.stdout.contains("stopped 2 nodes"), "\(down.stdout)")

            let up = try cluster.runCLI(["up", "--dir", cluster.directory])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(!up.stdout.contains("stale"), "\(up.stdout)")
            #expect(up.stdout.contains("started auth, eu again"), "\(up.stdout)")
            #expect(cluster.cluster.records.map(\.name) == ["auth", "eu"])
            #expect(cluster.cluster.configuration?.geos == ["eu"])
            #expect(cluster.cluster.status().map(\.state) == ["up", "up"])
        }

        @Test("issue 14: down and dp stop twice say what was already stopped")
        func stoppingTwiceSaysSo() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)

            let first = try cluster.runCLI(["dp", "stop", "--dir", cluster.directory, "dp1"])
            #expect(first.stdout == "stopped data plane dp1\n", "\(first.stdout)")
            let second = try cluster.runCLI(["dp", "stop", "--dir", cluster.directory, "dp1"])
            #expect(second.status == 0)
            #expect(second.stdout == "data plane dp1 was already stopped\n", "\(second.stdout)")

            let down = try cluster.runCLI(["down", "--dir", cluster.directory])
            #expect(down.stdout.contains("stopped 3 nodes: up1, eu, auth; already stopped: dp1"), "\(down.stdout)")
            let again = try cluster.runCLI(["down", "--dir", cluster.directory])
            #expect(again.status == 0)
            #expect(!again.stdout.contains("stopped 4"), "\(again.stdout)")
            #expect(again.stdout.contains("nothing was running"), "\(again.stdout)")
            #expect(again.stdout.contains("already stopped"), "\(again.stdout)")
        }

        @Test("issue 14: dp start with the same name is idempotent for the same target and an error for another")
        func dataPlaneTargetIsFixed() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop()
            let other = try cluster.createControlPlane("other", token: shop.token)
            try cluster.createControlPlane("cp-us", geo: "us", token: shop.token)
            let start = ["dp", "start", "--dir", cluster.directory, "--name", "dpeu"]
            let first = try cluster.runCLI(start + ["--geo", "eu", "--control-plane", "shop"])
            #expect(first.status == 0, "\(first.stderr)")
            let pid = try #require(try cluster.runtimePids()["dpeu"])

            // The same target, by name or by id: nothing changes.
            for target in ["shop", shop.controlPlane] {
                let again = try cluster.runCLI(start + ["--geo", "eu", "--control-plane", target])
                #expect(again.status == 0, "\(again.stderr)")
                #expect(again.stdout.contains("already running"), "\(again.stdout)")
                #expect(try cluster.runtimePids()["dpeu"] == pid)
            }
            // Another target: refused, naming what it joined.
            for (geo, target) in [("us", "cp-us"), ("eu", "other"), ("eu", other)] {
                let refused = try cluster.runCLI(start + ["--geo", geo, "--control-plane", target])
                #expect(refused.status == 1, "\(geo) \(target): \(refused.stdout)")
                #expect(
                    refused.stderr.contains("already exists, joined to control plane shop"), "\(refused.stderr)")
                #expect(!refused.stdout.contains("proxying"), "\(refused.stdout)")
                #expect(try cluster.runtimePids()["dpeu"] == pid)
            }
            let status = try cluster.dataPlaneStatus("dpeu")
            #expect(status["control_plane_id"]?.stringValue == shop.controlPlane)
            #expect(status["geo"]?.stringValue == "eu")
        }

        @Test("issue 14: dp status of a stopped data plane shows what its disk cache holds")
        func stoppedDataPlaneShowsItsCache() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.waitUntil("dp1 cached version 3") {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }
            let hash = try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue
            cluster.cluster.stop(try cluster.record("dp1"))

            let text = try cluster.runCLI(["dp", "status", "--dir", cluster.directory, "dp1"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("data plane dp1: stopped"), "\(text.stdout)")
            #expect(text.stdout.contains("disk cache: config version 3 hash \(hash ?? "?")"), "\(text.stdout)")
            #expect(!text.stdout.contains("license: none"), "\(text.stdout)")
            let json = try JSONParser.parse(
                try cluster.runCLI(["dp", "status", "--dir", cluster.directory, "dp1", "--json"]).stdout)
            #expect(json["state"]?.stringValue == "down")
            #expect(json["config"]?["version"]?.intValue == 3)
            #expect(json["license"]?["state"] != nil)
        }

        @Test("issue 14: dp status of a geo says it is a geo; dp start while the geo is down says so")
        func wrongNodeAndGeoDown() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let status = try cluster.runCLI(["dp", "status", "--dir", cluster.directory, "eu"])
            #expect(status.status == 64)
            #expect(status.stderr.contains("eu is a geo, not a data plane"), "\(status.stderr)")
            let stop = try cluster.runCLI(["dp", "stop", "--dir", cluster.directory, "up1"])
            #expect(stop.stderr.contains("up1 is an upstream, not a data plane"), "\(stop.stderr)")

            try cluster.cluster.kill("eu")
            let start = try cluster.runCLI([
                "dp", "start", "--dir", cluster.directory, "--geo", "eu", "--control-plane", shop.controlPlane,
                "--name", "dp1",
            ])
            #expect(start.status == 1)
            #expect(start.stderr.contains("geo eu is down"), "\(start.stderr)")
            #expect(start.stderr.contains("konnect-sim restart eu"), "\(start.stderr)")
            #expect(!start.stderr.contains("Connection refused"), "\(start.stderr)")
            #expect(cluster.cluster.record(named: "dp1") == nil, "a data plane that never started was recorded")
        }
    }
}

extension TestCluster {
    /// Runs the `konnect-sim` executable without a cluster (for commands on an empty directory).
    static func commandRunner() throws -> ([String]) throws -> RuntimeCLIResult {
        locateExecutable()
        return { arguments in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: String(cString: getenv("KONNECT_SIM_EXECUTABLE")))
            process.arguments = arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return RuntimeCLIResult(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self))
        }
    }
}
