import KonnectChaos
import KonnectCluster
import KonnectConsole
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

// konnect-sim's single executable: the CLI, and every node role (`konnect-sim node ...`).
// Scenario runs get the chaos module's invariant checkers, for `check` steps.
ScenarioCommand.handler = { try ScenarioSuite.command($0, checks: ChaosChecks()) }
ChaosCommand.handler = ChaosCommandRunner.run
BenchCommand.handler = Benchmarks.command
ConsoleCommand.handler = ConsoleMain.command
exit(KonnectSimCLI.main(Array(CommandLine.arguments.dropFirst())))
