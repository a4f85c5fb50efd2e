import KonnectCluster
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

// konnect-sim's single executable: the CLI, and every node role (`konnect-sim node ...`).
ScenarioCommand.handler = ScenarioSuite.command
BenchCommand.handler = Benchmarks.command
exit(KonnectSimCLI.main(Array(CommandLine.arguments.dropFirst())))
