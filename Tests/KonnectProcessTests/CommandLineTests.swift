import KonnectCluster
import Testing

/// The command line's parser (issue 2): swift-argument-parser's conventions without the package.
@Suite struct CommandLineTests {
    let root = CommandTree.root

    func parse(_ line: String) -> CommandLineParse {
        CommandLineParser.parse(line.split(separator: " ").map(String.init), root: root)
    }

    @Test func optionsAndDefaults() {
        guard case .run(let command) = parse("up --geos us,eu --seed 3") else {
            Issue.record("expected a command")
            return
        }
        #expect(command.path == ["up"])
        #expect(command.option("geos") == "us,eu")
        #expect(command.option("seed") == "3")
        #expect(command.option("dir") == ".konnect-sim")
        // Issue 14: `up` fills no --start (or --geos) default: options not given keep what an existing
        // cluster was created with.
        #expect(command.option("start") == nil)
        guard case .run(let billing) = parse("billing show --org x") else {
            Issue.record("expected a command")
            return
        }
        #expect(billing.option("cycle") == "all")
    }

    @Test func inlineValuesAndFlags() {
        guard case .run(let command) = parse("status --dir=demo --json") else {
            Issue.record("expected a command")
            return
        }
        #expect(command.option("dir") == "demo")
        #expect(command.flag("json"))
    }

    @Test func subcommandsAndArguments() {
        guard case .run(let command) = parse("dp status dp1 --json") else {
            Issue.record("expected a command")
            return
        }
        #expect(command.path == ["dp", "status"])
        #expect(command.arguments == ["dp1"])
    }

    @Test(arguments: [
        "--help", "help", "help dp", "help dp start", "dp --help", "dp start --help", "dp start -h",
        "clock advance --help",
    ])
    func helpOnEveryLevel(_ line: String) {
        guard case .help(let path) = parse(line) else {
            Issue.record("expected help for '\(line)'")
            return
        }
        #expect(CommandLineParser.help(path, root: root).hasPrefix("OVERVIEW:"))
    }

    @Test func helpCommandEqualsHelpFlag() {
        #expect(parse("help dp start") == parse("dp start --help"))
        #expect(parse("help clock") == parse("clock --help"))
    }

    @Test(arguments: [
        ("frob", "unknown command 'frob'"),
        ("dp", "missing subcommand"),
        ("dp start --bogus 1", "unknown option '--bogus'"),
        ("up --geos", "missing value for '--geos"),
        ("kill", "missing argument <node>"),
        ("kill a b", "unexpected argument 'b'"),
        ("status --json=yes", "is a flag and takes no value"),
        ("up --seed 1 --seed 2", "given twice"),
    ])
    func usageErrorsNameTheProblem(_ line: String, _ message: String) {
        guard case .usageError(_, let text) = parse(line) else {
            Issue.record("expected a usage error for '\(line)'")
            return
        }
        #expect(text.contains(message), "\(text)")
    }

    @Test func usageErrorsExit64() {
        #expect(KonnectSimCLI.main(["frob"]) == 64)
        #expect(KonnectSimCLI.main(["up", "--geos", "us,xx", "--dir", "/nonexistent/never"]) == 64)
        #expect(KonnectSimCLI.main(["clock", "advance", "soon", "--dir", "/nonexistent/never"]) == 64)
        // One duration parser (issue 14): huge values are usage errors, never an overflow.
        #expect(
            KonnectSimCLI.main(["latency", "eu", "auth", "9999999999999999m", "--dir", "/nonexistent/never"]) == 64)
        #expect(
            KonnectSimCLI.main([
                "latency", "eu", "auth", "5ms", "--jitter", "99999999999999999s", "--dir", "/nonexistent/never",
            ]) == 64)
    }

    @Test func geosAreValidated() {
        #expect((try? ClusterConfiguration.parseGeos("us,eu,au").get()) == ["us", "eu", "au"])
        #expect((try? ClusterConfiguration.parseGeos("us,us").get()) == nil)
        #expect((try? ClusterConfiguration.parseGeos("mars").get()) == nil)
        #expect((try? ClusterConfiguration.parseGeos("").get()) == nil)
    }
}
