/// Every command konnect-sim understands, with its help text.
public enum CommandTree {
    static let dir = OptionSpec.option("dir", "path", "The cluster's run directory.", default: ".konnect-sim")
    static let json = OptionSpec.flag("json", "Print JSON instead of a table.")

    public static let root = CommandSpec(
        "konnect-sim",
        abstract: "Simulates Kong Konnect's multi-geo control plane with real processes on one machine.",
        discussion: """
            An auth node (identity, organizations, billing, the simulated calendar) and one geo node per geo
            (control planes, gateway entities, Dev Portals, data planes) run as separate processes talking
            HTTP/1.1 + JSON over Unix sockets. Data planes proxy real traffic and outlive their control plane.
            """,
        subcommands: [
            CommandSpec(
                "up", abstract: "Start a cluster: the auth node and one geo node per geo.",
                discussion: """
                    Returns once every node answers. Running it again on a running cluster says so and exits 0; after \
                    a `down` or a crash it starts the nodes that are down, keeping their data. A cluster's geos, \
                    calendar start, seed, rate card and topology are fixed when it is created: a later `up` with other \
                    values is refused, naming the difference, and changes nothing; `up` without options starts \
                    exactly what exists. With `--topology netns` every node (and every data plane, zone and \
                    upstream started later) is a host of its own: a Linux network namespace on one bridge, with an \
                    address from 198.18.0.0/15 and no route out, linked to its peers by TLS over TCP with the \
                    cluster's own CA (in `pki/`); it needs root. `down` removes the namespaces.
                    """,
                options: [
                    dir,
                    .option(
                        "geos", "list",
                        "Comma-separated geos (us, eu, au, me, in, sg); a new cluster gets us,eu,au unless given."),
                    .option(
                        "start", "date",
                        "Where the simulated calendar starts (RFC 3339); a new cluster starts at 2026-01-01T00:00:00Z unless given."
                    ),
                    .option(
                        "rate-card", "file",
                        "A rate card JSON file replacing the standard prices (copied into the run directory)."),
                    .option("seed", "n", "Seed for ids and injected-fault randomness, so runs repeat exactly."),
                    .option(
                        "topology", "unix|netns",
                        "unix: one machine, Unix-socket links (the default); netns: a network namespace per node, TLS links."
                    ),
                ]),
            CommandSpec(
                "down", abstract: "Stop every node of the cluster (SIGTERM, then SIGKILL after 10 s).", options: [dir]),
            CommandSpec(
                "status", abstract: "Show every node: role, pid, state, socket and URL.", options: [dir, json]),
            CommandSpec(
                "kill", abstract: "Kill a node with SIGKILL (fault injection).", options: [dir],
                arguments: [ArgumentSpec("node", "auth, a geo, a data plane, a zone or an upstream.")]),
            CommandSpec(
                "restart", abstract: "Start a node again with its original arguments (stopping it first if it runs).",
                options: [dir], arguments: [ArgumentSpec("node", "The node's name.")]),
            CommandSpec(
                "pause", abstract: "Freeze a node with SIGSTOP (fault injection).", options: [dir],
                arguments: [ArgumentSpec("node", "The node's name.")]),
            CommandSpec(
                "resume", abstract: "Thaw a paused node with SIGCONT.", options: [dir],
                arguments: [ArgumentSpec("node", "The node's name.")]),
            CommandSpec(
                "isolate", abstract: "Take a node's host off the network: its link goes down (--topology netns).",
                discussion:
                    "A kernel-level fault: everything the node sends or is sent is lost (no refusal, no reset) until `rejoin`. Only in a cluster started with `up --topology netns`, where every node is a host of its own; on one machine, use `partition`.",
                options: [dir], arguments: [ArgumentSpec("node", "The node's name.")]),
            CommandSpec(
                "rejoin", abstract: "Bring an isolated node's link back up.", options: [dir],
                arguments: [ArgumentSpec("node", "The node's name.")]),
            CommandSpec(
                "partition", abstract: "Cut the link from one node to another: its connections are refused.",
                discussion:
                    "Links are node-to-node connections, named by the connecting side: eu auth (a geo to the auth node), dp1 eu (a data plane to its geo), zone-1 eu.",
                options: [dir],
                arguments: [
                    ArgumentSpec("from", "The connecting node."), ArgumentSpec("to", "The node it connects to."),
                ]),
            CommandSpec(
                "heal", abstract: "Remove every fault on a link (or on all links with --all).",
                options: [dir, .flag("all", "Heal every link.")],
                arguments: [
                    ArgumentSpec("from", "The connecting node.", optional: true),
                    ArgumentSpec("to", "The node it connects to.", optional: true),
                ]),
            CommandSpec(
                "latency", abstract: "Delay every request and streamed message on a link.",
                options: [
                    dir,
                    .option("jitter", "duration", "Extra random delay up to this much (e.g. 20ms).", default: "0ms"),
                ],
                arguments: [
                    ArgumentSpec("from", "The connecting node."), ArgumentSpec("to", "The node it connects to."),
                    ArgumentSpec("delay", "A duration such as 50ms."),
                ]),
            CommandSpec(
                "drop", abstract: "Fail a fraction of the requests on a link as if the connection reset.",
                options: [dir],
                arguments: [
                    ArgumentSpec("from", "The connecting node."), ArgumentSpec("to", "The node it connects to."),
                    ArgumentSpec("fraction", "From 0 to 1, e.g. 0.25."),
                ]),
            CommandSpec("faults", abstract: "Show the faults in force and the fault log.", options: [dir, json]),
            CommandSpec(
                "console", abstract: "Serve a live web console of the cluster on loopback; prints its URL.",
                discussion:
                    "The first line printed is the URL with the console's token (required on every request, as Jupyter does). One page shows the topology, geo isolation per organization, the calendar, faults with a click and a timeline, updated as the cluster changes. Runs in the foreground until Ctrl-C (SIGINT) or SIGTERM.",
                options: [
                    dir, .option("port", "port", "The loopback port (default: one the kernel picks)."),
                ]),
            CommandSpec(
                "clock", abstract: "Show or move the simulated calendar.",
                subcommands: [
                    CommandSpec("show", abstract: "Print the calendar's current moment.", options: [dir]),
                    CommandSpec(
                        "advance", abstract: "Move the calendar forward, running everything that falls due.",
                        options: [dir, json], arguments: [ArgumentSpec("duration", "e.g. 31d, 12h, 1d12h")]),
                    CommandSpec(
                        "set", abstract: "Move the calendar forward to a date.", options: [dir, json],
                        arguments: [ArgumentSpec("date", "RFC 3339, e.g. 2026-03-01T00:00:00Z")]),
                ]),
            CommandSpec(
                "billing", abstract: "The Billing and Usage view.",
                subcommands: [
                    CommandSpec(
                        "show",
                        abstract: "Per cycle: usage by service, Dev Portal and API calls, charges, credits, total.",
                        options: [
                            dir, .option("org", "id", "The organization."),
                            .option("cycle", "which", "current, previous, a number, or all.", default: "all"), json,
                        ])
                ]),
            CommandSpec(
                "support", abstract: "Kong Support's actions, with the run directory's support credential.",
                subcommands: [
                    CommandSpec(
                        "deactivate", abstract: "Deactivate an organization on request.",
                        options: [dir, .option("org", "id", "The organization."), json]),
                    CommandSpec(
                        "reactivate", abstract: "Reactivate a deactivated organization.",
                        options: [dir, .option("org", "id", "The organization."), json]),
                    CommandSpec(
                        "unlock-email", abstract: "Unlock an email so it can be used for a new account.",
                        options: [dir], arguments: [ArgumentSpec("email", "The locked email.")]),
                    CommandSpec(
                        "show", abstract: "An organization's state, history, licenses and subscriptions.",
                        options: [dir, .option("org", "id", "The organization."), json]),
                ]),
            CommandSpec(
                "dp", abstract: "Data-plane nodes: Kong Gateway in hybrid mode, simulated.",
                subcommands: [
                    CommandSpec(
                        "start", abstract: "Start a data plane joined to a control plane; prints its proxy URL.",
                        options: [
                            dir, .option("geo", "geo", "The control plane's geo."),
                            .option("control-plane", "name-or-id", "The control plane to join."),
                            .option("name", "name", "The data plane's node name."),
                            .option("org", "id", "The organization, when two have a control plane of that name."),
                            .option("port", "port", "The proxy's loopback port (default: one the kernel picks)."),
                        ]),
                    CommandSpec(
                        "stop", abstract: "Stop a data plane (the only way one ends).", options: [dir],
                        arguments: [ArgumentSpec("name", "The data plane.")]),
                    CommandSpec(
                        "status", abstract: "State, configuration version and hash, license, last sync.",
                        discussion:
                            "With --until, waits until the data plane reports that state (it hears of a decommission or a recommission within a moment), then prints its status; exits 1 if it does not within --timeout.",
                        options: [
                            dir, json,
                            .option("until", "state", "Wait for this state first: synced, disconnected or orphaned."),
                            .option("timeout", "duration", "How long --until waits (e.g. 10s).", default: "10s"),
                        ], arguments: [ArgumentSpec("name", "The data plane.")]),
                ]),
            CommandSpec(
                "upstream", abstract: "A tiny echo server to proxy to.",
                subcommands: [
                    CommandSpec(
                        "start", abstract: "Start an upstream that echoes method, path, headers and body as JSON.",
                        options: [
                            dir, .option("name", "name", "Its node name.", default: "upstream"),
                            .option("port", "port", "Its loopback port (default: one the kernel picks)."),
                        ]),
                    CommandSpec(
                        "stop", abstract: "Stop an upstream.", options: [dir],
                        arguments: [ArgumentSpec("name", "The upstream.")]),
                ]),
            CommandSpec(
                "zone", abstract: "Kong Mesh zone control planes.",
                subcommands: [
                    CommandSpec(
                        "start", abstract: "Start a zone control plane joined to a Mesh global control plane.",
                        options: [
                            dir, .option("geo", "geo", "The global control plane's geo."),
                            .option("mesh-cp", "name-or-id", "The Mesh global control plane."),
                            .option("name", "name", "The zone's name."),
                            .option("org", "id", "The organization, when ambiguous."),
                        ]),
                    CommandSpec(
                        "stop", abstract: "Stop a zone.", options: [dir], arguments: [ArgumentSpec("name", "The zone.")]
                    ),
                    CommandSpec(
                        "status", abstract: "The zone's state, policies version and license.", options: [dir, json],
                        arguments: [ArgumentSpec("name", "The zone.")]),
                    CommandSpec(
                        "policies", abstract: "The policies the zone serves to its workloads.", options: [dir, json],
                        arguments: [ArgumentSpec("name", "The zone.")]),
                ]),
            CommandSpec(
                "scenario", abstract: "Scenario scripts: the product document as executable stories.",
                subcommands: [
                    CommandSpec(
                        "run", abstract: "Run scenario files, each in a fresh cluster, in parallel.",
                        options: [
                            .option("seed", "n", "Fixes ids, jitter and drop decisions.", default: "1"),
                            .option("report", "dir", "Write report.json and report.html there."),
                            .flag("keep-going", "Continue a scenario after a failed expectation."),
                            .option("jobs", "n", "Scenarios at once (default: the number of cores)."),
                            .option(
                                "shard", "k/n",
                                "Run only the k-th of n parts of the files (sorted, dealt out in turn): for CI job matrices."
                            ),
                            .option(
                                "topology", "unix|netns",
                                "The clusters' topology: unix (default) or netns (a network namespace per node, TLS links; needs root)."
                            ),
                        ],
                        arguments: [ArgumentSpec("paths", "Scenario files or directories.", repeating: true)]),
                    CommandSpec(
                        "check", abstract: "Parse scenario files without running them.",
                        arguments: [ArgumentSpec("paths", "Scenario files or directories.", repeating: true)]),
                    CommandSpec(
                        "merge-reports",
                        abstract:
                            "Merge the report.json of several runs (such as the shards of one set) into one report.",
                        options: [.option("out", "dir", "Write the merged report.json and report.html there.")],
                        arguments: [
                            ArgumentSpec("dirs", "Directories 'scenario run --report' wrote.", repeating: true)
                        ]),
                ]),
            CommandSpec(
                "chaos",
                abstract: "Seeded random faults against a workload, then invariant checkers over the history.",
                discussion: """
                    Runs a seeded workload (organizations signing up, logging in, changing control planes and
                    entities, proxying traffic through data planes, inviting members, paying, moving the calendar,
                    deactivating and reactivating) against a fresh cluster while a seeded nemesis kills, pauses,
                    partitions, slows and drops (and, with --topology netns, isolates nodes' hosts); then heals
                    everything, settles, observes and checks the invariants (writes, usage, isolation, deactivation,
                    availability, calendar). The same seed writes the same schedule. With --shrink a failing run is
                    reduced to a small .scenario file that reproduces it (in the same topology).
                    """,
                options: [
                    .option("seed", "n", "The seed of the schedule.", default: "1"),
                    .option("seeds", "a..b", "Run every seed from a to b (inclusive), one after another."),
                    .option(
                        "duration", "time", "How long the workload runs before the check (e.g. 60s, 2m).",
                        default: "60s"),
                    .option("steps", "n", "At most this many workload and fault steps."),
                    .option("geos", "list", "The cluster's geos.", default: "us,eu,au"),
                    .option("fault-rate", "f", "Share of steps that inject a fault, 0 to 1.", default: "0.1"),
                    .option(
                        "faults", "list",
                        "Fault kinds with weights: kill, pause, partition, slow, drop, isolate (netns only); default kill=2,pause=1,partition=2,slow=1,drop=1, and isolate=2 with --topology netns."
                    ),
                    .option(
                        "topology", "unix|netns",
                        "Where the clusters run: one machine, or every node a host of its own (needs root).",
                        default: "unix"),
                    .option(
                        "bound", "time", "How long deactivation effects may take once a path is healthy.",
                        default: "10s"),
                    .flag("shrink", "On failure, reduce the schedule to a small scenario that still fails."),
                    .option("shrink-time", "time", "Stop shrinking after this long.", default: "10m"),
                    .option("out", "dir", "Where shrunk scenarios are written.", default: "."),
                    .option("report", "dir", "Write report.html, verdicts.json and history.jsonl there."),
                    .option("work-dir", "dir", "Where the runs' cluster directories are made.", default: "/tmp"),
                    .option(
                        "replay", "file",
                        "Run this schedule (a scenario file, e.g. a report's schedule.scenario) instead of one from the seed; with --shrink, shrink it."
                    ),
                    .option(
                        "history", "file",
                        "Judge a recorded history.jsonl again (no run): the verdicts with today's checkers."),
                    .flag("keep", "Keep the runs' cluster directories (node logs, databases)."),
                ]),
            CommandSpec(
                "bench", abstract: "Benchmarks that print numbers (never timed tests).",
                subcommands: [
                    CommandSpec(
                        "sync", abstract: "Config change to applied latency on many data planes.",
                        options: [
                            .option("dps", "n", "Data planes.", default: "50"),
                            .option("changes", "n", "Configuration changes.", default: "200"),
                            .option(
                                "entities", "n",
                                "Entities in the control plane (half services, half routes); each change edits one.",
                                default: "1"),
                            .option(
                                "topology", "unix|netns",
                                "netns: run it on Unix sockets, then with a network namespace per node and TLS links, and compare the p99s."
                            ),
                        ]),
                    CommandSpec(
                        "calendar", abstract: "Advance the calendar for many organizations.",
                        options: [
                            .option("orgs", "n", "Organizations.", default: "1000"),
                            .option("by", "duration", "How far.", default: "365d"),
                        ]),
                    CommandSpec(
                        "http", abstract: "Authenticated geo and auth reads per second, next to a geo's GET /health.",
                        options: [
                            .option("requests", "n", "Requests per client.", default: "2000"),
                            .option("clients", "n", "Concurrent clients.", default: "8"),
                        ]),
                    CommandSpec(
                        "writes", abstract: "Durable acknowledged creates per second on one geo, by thousand.",
                        options: [
                            .option("writers", "n", "Concurrent writers.", default: "8"),
                            .option("entities", "n", "Services to create in one control plane.", default: "2000"),
                        ]),
                    CommandSpec(
                        "proxy", abstract: "A data plane against nginx in front of the same fast upstream.",
                        discussion:
                            "Starts nginx twice in a temporary directory (an upstream answering `return 200`, and a proxy with an upstream keep-alive pool) and a data plane in front of the same upstream, and drives both with wrk (or our own client) at 16 and 64 connections, alternating. Needs nginx and wrk: apt-get install -y nginx wrk.",
                        options: [
                            .option("duration", "seconds", "Length of each measurement.", default: "4"),
                            .option("rounds", "n", "Measurements of each target at each concurrency.", default: "3"),
                            .option(
                                "io-threads", "n",
                                "The data plane's I/O threads (nginx gets as many workers); default: one per core, at most four."
                            ),
                        ]),
                    CommandSpec(
                        "connections", abstract: "Many idle TCP connections held against a geo while it keeps serving.",
                        options: [
                            .option("idle", "n", "Idle connections to hold.", default: "10000"),
                            .option("hold", "seconds", "How long to hold them while measuring.", default: "5"),
                        ]),
                ]),
            CommandSpec(
                "openapi", abstract: "Print the OpenAPI 3 document of the global API (auth) or the geo API.",
                discussion:
                    "The same documents the nodes serve at GET /openapi.json: on TCP the public API, on the Unix socket also the node-to-node routes. docs/openapi/ keeps copies (a test checks they are current).",
                options: [
                    .option("listener", "tcp|unix|link", "Which listener's document.", default: "tcp"),
                    .option("geos", "list", "The cluster's geos (what signup accepts).", default: "us,eu,au"),
                ],
                arguments: [ArgumentSpec("api", "auth or geo")]),
            CommandSpec(
                "pki", abstract: "A cluster's CA and its nodes' TLS directories, for nodes on separate machines.",
                subcommands: [
                    CommandSpec(
                        "init", abstract: "Create a CA: OUT/ca.crt and OUT/ca.key (0600).",
                        options: [
                            .option("out", "dir", "Where to write it."),
                            .option("name", "text", "The CA's common name.", default: "konnect-sim cluster CA"),
                        ]),
                    CommandSpec(
                        "issue",
                        abstract:
                            "Issue a node's TLS directory (ca.crt, node.crt, node.key), the --tls of `konnect-sim node`.",
                        discussion:
                            "Nodes (auth, geos, zones) get a certificate of the CA for the addresses they serve on; only those may call node-to-node routes. A data plane (--data-plane) is known by its certificate's fingerprint once pinned through dp-client-certificates, so it may also be self-signed (--self-signed), as Konnect's pinned mode allows.",
                        options: [
                            .option("ca", "dir", "The CA's directory (pki init)."),
                            .option("name", "name", "The node's name (the certificate's common name)."),
                            .option("ip", "list", "Comma-separated IPv4 addresses the node serves on."),
                            .option("out", "dir", "Where to write the TLS directory."),
                            .flag("data-plane", "A data plane's certificate (pinned, no node routes)."),
                            .flag("self-signed", "With --data-plane: self-signed instead of issued by the CA."),
                        ]),
                ]),
            CommandSpec(
                "node", abstract: "Run one node in the foreground (what `up` starts).",
                subcommands: [
                    CommandSpec(
                        "auth", abstract: "The auth node.",
                        options: [
                            .option("dir", "path", "The node's directory."),
                            .option("netns", "name", "Run in this network namespace (a host of a netns cluster)."),
                            .option("host", "IPv4", "The address of its public listener.", default: "127.0.0.1"),
                            .option("tls", "dir", "Its TLS identity: ca.crt, node.crt, node.key."),
                            .option("port", "port", "Its public port (0: the kernel picks).", default: "0"),
                            .option("listen", "IPv4:port", "Serve node-to-node routes over TLS here (needs --tls)."),
                            .option("geos", "list", "The cluster's geos.", default: "us,eu,au"),
                            .option("start", "date", "Calendar start.", default: "2026-01-01T00:00:00Z"),
                            .option("rate-card", "file", "Rate card file."),
                            .option("seed", "n", "Id seed."),
                            .option("support-token-file", "file", "The support credential."),
                        ]),
                    CommandSpec(
                        "geo", abstract: "A geo node.",
                        options: [
                            .option("dir", "path", "The node's directory."),
                            .option("netns", "name", "Run in this network namespace (a host of a netns cluster)."),
                            .option("host", "IPv4", "The address of its public listener.", default: "127.0.0.1"),
                            .option("tls", "dir", "Its TLS identity: ca.crt, node.crt, node.key."),
                            .option("port", "port", "Its public port (0: the kernel picks).", default: "0"),
                            .option("listen", "IPv4:port", "Serve node-to-node routes over TLS here (needs --tls)."),
                            .option("name", "geo", "The geo."),
                            .option("auth-url", "url", "The auth node's link: unix:PATH or https://IPv4:PORT."),
                            .option("faults", "file", "The cluster's faults.json."),
                            .option("seed", "n", "Id seed."),
                        ]),
                    CommandSpec(
                        "dp", abstract: "A data-plane node.",
                        options: [
                            .option("dir", "path", "The node's directory."),
                            .option("netns", "name", "Run in this network namespace (a host of a netns cluster)."),
                            .option("host", "IPv4", "The address of its public listener.", default: "127.0.0.1"),
                            .option("tls", "dir", "Its TLS identity: ca.crt, node.crt, node.key."),
                            .option("name", "name", "Its name."),
                            .option("geo", "geo", "Its geo."),
                            .option("geo-url", "url", "The geo node's link: unix:PATH or https://IPv4:PORT."),
                            .option(
                                "credential-file", "file",
                                "Its control-plane credential (Unix-socket links; over TLS its certificate is its credential)."
                            ),
                            .option("control-plane", "id", "Its control plane."),
                            .option("port", "port", "Proxy port.", default: "0"),
                            .option("faults", "file", "The cluster's faults.json."),
                            .option("seed", "n", "Jitter seed."),
                        ]),
                    CommandSpec(
                        "upstream", abstract: "An echo upstream.",
                        options: [
                            .option("dir", "path", "The node's directory."),
                            .option("netns", "name", "Run in this network namespace (a host of a netns cluster)."),
                            .option("host", "IPv4", "The address of its public listener.", default: "127.0.0.1"),
                            .option("tls", "dir", "Its TLS identity: ca.crt, node.crt, node.key."),
                            .option("name", "name", "Its name."),
                            .option("port", "port", "Its port.", default: "0"),
                        ]),
                    CommandSpec(
                        "zone", abstract: "A Mesh zone control plane.",
                        options: [
                            .option("dir", "path", "The node's directory."),
                            .option("netns", "name", "Run in this network namespace (a host of a netns cluster)."),
                            .option("host", "IPv4", "The address of its public listener.", default: "127.0.0.1"),
                            .option("tls", "dir", "Its TLS identity: ca.crt, node.crt, node.key."),
                            .option("name", "name", "Its name."),
                            .option("geo", "geo", "Its geo."),
                            .option("geo-url", "url", "The geo node's link: unix:PATH or https://IPv4:PORT."),
                            .option("token-file", "file", "Its zone token."),
                            .option("mesh-cp", "id", "Its Mesh global control plane."),
                            .option("faults", "file", "The cluster's faults.json."),
                            .option("seed", "n", "Jitter seed."),
                        ]),
                ]),
        ])
}
