import KonnectCluster
import KonnectConsole
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

// konnect-sim's single executable: the CLI, and every node role (`konnect-sim node ...`).
ScenarioCommand.handler = ScenarioSuite.command
BenchCommand.handler = Benchmarks.command
ConsoleCommand.handler = ConsoleMain.command
exit(KonnectSimCLI.main(Array(CommandLine.arguments.dropFirst())))
