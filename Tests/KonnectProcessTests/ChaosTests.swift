import Foundation
import KonnectChaos
import KonnectCluster
import KonnectCore
import KonnectScenario
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// Issue 18: chaos finds a planted bug and shrinks it to a scenario that fails. The switch is
    /// read once by each geo at start (`KONNECT_SIM_PLANTED_BUG=geo-skips-outbox-event`: the geo skips
    /// the first `organization.deactivated` event it reads, advancing its cursor as if applied), so
    /// the organization is never decommissioned there (D4).
    @Suite struct Chaos {
        static let bug = "geo-skips-outbox-event"

        /// A work directory for the runs' clusters; every cluster left in it is stopped and the
        /// directory removed, also when the test fails.
        final class WorkDirectory {
            let path: String

            init() throws {
                var template = Array("/tmp/kschaos-XXXXXX".utf8CString)
                guard let made = mkdtemp(&template) else { throw ProcessTestFailure(message: "mkdtemp failed") }
                path = String(cString: made)
            }

            deinit {
                let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                for child in children where child.hasPrefix("kss-") {
                    _ = Cluster(directory: path + "/" + child).down(graceMilliseconds: 1000)
                }
                if getenv("KONNECT_SIM_KEEP_TEST_DIRS") == nil { try? FileManager.default.removeItem(atPath: path) }
            }
        }

        @Test func chaosFindsAPlantedBugAndShrinksItToAFailingScenario() throws {
            TestCluster.locateExecutable()
            let work = try WorkDirectory()
            setenv("KONNECT_SIM_PLANTED_BUG", Self.bug, 1)
            defer { unsetenv("KONNECT_SIM_PLANTED_BUG") }
            var settings = InvariantSettings.standard
            settings.deactivationBoundMilliseconds = 3000
            // Seed 3 deactivates an organization within its first 30 steps (and kills, pauses, partitions).
            let options = ChaosOptions(
                seed: 3, durationMilliseconds: 60_000, maximumSteps: 30, geos: ["us", "eu"], settings: settings,
                workDirectory: work.path)

            let run = ChaosRun.run(options)
            #expect(run.result.error == nil)
            #expect(run.faultCount > 0, "the nemesis injected faults")
            #expect(run.failedInvariants.contains("deactivation"), "\(run.summary)")

            let shrunk = ChaosShrinker(options: options, budgetMilliseconds: 60_000) { _ in }.shrink(run)
            #expect(shrunk.failedInvariants.contains("deactivation"), "\(shrunk.summary)")
            #expect(shrunk.lines.count < run.lines.count / 2, "\(shrunk.lines.joined(separator: "\n"))")
            #expect(shrunk.lines.contains { $0.contains("deactivate") || $0.hasPrefix("delete account") })

            // Written as a scenario file, it fails under `scenario run` with the bug, and passes without it:
            // what chaos found is the planted bug, not a checker's mistake.
            let file = work.path + "/chaos-seed-3.scenario"
            try ScenarioText.write(shrunk, seed: 3, original: run, to: file)
            let scenario = try #require(try ScenarioSuite.parse([file]).first)
            let scenarioOptions = ScenarioOptions(seed: 3, workDirectory: work.path, checks: ChaosChecks())
            let withBug = ScenarioRunner(scenario: scenario, options: scenarioOptions).run()
            #expect(!withBug.passed)
            #expect(withBug.failureText.contains("invariant deactivation broken"), "\(withBug.failureText)")
            unsetenv("KONNECT_SIM_PLANTED_BUG")
            let withoutBug = ScenarioRunner(scenario: scenario, options: scenarioOptions).run()
            #expect(withoutBug.passed, "\(withoutBug.failureText)")
        }

        /// Chaos across hosts (issue 17's `--topology netns`): the nemesis isolates nodes' hosts and rejoins
        /// them, and a run completes with a verdict from every checker; the check rejoins a host the
        /// schedule left isolated.
        @Test(
            .enabled(
                if: NetworkNamespaces.unavailableReason() == nil,
                Comment(rawValue: NetworkNamespaces.unavailableReason() ?? "")))
        func aNetnsRunWithIsolatedHostsEndsWithVerdicts() throws {
            TestCluster.locateExecutable()
            let work = try WorkDirectory()
            var settings = InvariantSettings.standard
            settings.deactivationBoundMilliseconds = 3000
            let options = ChaosOptions(
                seed: 2, durationMilliseconds: 20_000, maximumSteps: 20, geos: ["eu"],
                rates: FaultRates(rate: 0.4, weights: [.isolate: 1]), settings: settings, workDirectory: work.path,
                topology: .netns)

            let run = ChaosRun.run(options)
            #expect(run.result.error == nil)
            #expect(run.lines.contains { $0.hasPrefix("isolate ") }, "\(run.lines.joined(separator: "\n"))")
            #expect(run.outcome?.details.count == InvariantNames.all.count)
            #expect(run.passed, "\(run.summary)")

            // A schedule that ends with the auth node's host off the network: the check rejoins it first.
            var workload = ChaosWorkload(seed: 2, geos: ["eu"])
            let lines = workload.setup() + ["isolate auth", "check within 3s"]
            let replay = ChaosRun.replay(lines, options)
            let heal = try #require(replay.history.firstIndex { $0.action == .mark("heal") })
            #expect(
                replay.history[heal...].contains {
                    $0.action == .fault("rejoin", target: "auth") && $0.outcome == .done
                })
            #expect(replay.passed, "\(replay.summary)")
        }
    }
}
