import KonnectChaos
import KonnectCluster
import KonnectConsole
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

// konnect-sim's single executable: the CLI, and every node role (`konnect-sim node ...`).
// Scenario runs get the chaos module's invariant checkers, for `check` steps.
// Commands that start throwaway clusters stop them when interrupted (Ctrl-C).
ScenarioCommand.handler = {
    ThrowawayClusters.stopOnInterrupt()
    try ScenarioSuite.command($0, checks: ChaosChecks())
}
ChaosCommand.handler = {
    ThrowawayClusters.stopOnInterrupt()
    try ChaosCommandRunner.run($0)
}
BenchCommand.handler = {
    ThrowawayClusters.stopOnInterrupt()
    try Benchmarks.command($0)
}
ConsoleCommand.handler = ConsoleMain.command
// An interrupted command exits with 130 once its clusters are stopped, whatever the command itself returned.
ThrowawayClusters.exit(KonnectSimCLI.main(Array(CommandLine.arguments.dropFirst())))
