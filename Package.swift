// swift-tools-version:6.0
import PackageDescription

// konnect-sim uses no Swift packages: only the toolchain and four C libraries found on a fresh
// Debian machine (SQLite, OpenSSL's libcrypto and libssl, libcrypt), each behind one system-library target, plus
// glibc's epoll headers (CLinux), which the toolchain's Glibc module leaves out.
let package = Package(
    name: "konnect-sim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "konnect-sim", targets: ["konnect-sim"])
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),
        // OpenSSL's libssl for TLS links between nodes (used by KonnectHTTP's TLS files only).
        .systemLibrary(name: "CSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        // epoll, eventfd and accept4: part of glibc, but not exported by the toolchain's Glibc module.
        .systemLibrary(name: "CLinux"),

        // Pure core: values, rules and state machines. No I/O, no C libraries.
        .target(name: "KonnectCore"),
        // Thin shells around the C libraries.
        .target(name: "KonnectStorage", dependencies: ["CSQLite"]),
        .target(name: "KonnectSecurity", dependencies: ["CCrypto", "CCrypt"]),
        // HTTP/1.1 over Unix and TCP sockets (TLS for links between nodes): pure parsers, an epoll event loop, a server and clients.
        .target(name: "KonnectHTTP", dependencies: ["KonnectCore", "CLinux", "CSSL"]),
        // The node processes: auth, geo, data plane, zone, upstream.
        .target(
            name: "KonnectNodes",
            dependencies: ["KonnectCore", "KonnectHTTP", "KonnectStorage", "KonnectSecurity"]
        ),
        // Run directories, process supervision, faults and the command line's commands.
        .target(
            name: "KonnectCluster", dependencies: ["KonnectCore", "KonnectHTTP", "KonnectNodes", "KonnectSecurity"]),
        // The scenario language and its runner.
        .target(
            name: "KonnectScenario", dependencies: ["KonnectCore", "KonnectHTTP", "KonnectCluster", "KonnectStorage"]),
        // The live console: a loopback web page over a running cluster.
        .target(
            name: "KonnectConsole",
            dependencies: ["KonnectCore", "KonnectHTTP", "KonnectSecurity", "KonnectCluster", "KonnectScenario"]),
        // Chaos runs: a seeded workload and nemesis, invariant checkers over the history, shrinking.
        .target(
            name: "KonnectChaos",
            dependencies: ["KonnectCore", "KonnectHTTP", "KonnectStorage", "KonnectCluster", "KonnectScenario"]),
        .executableTarget(
            name: "konnect-sim",
            dependencies: [
                "KonnectCore", "KonnectCluster", "KonnectNodes", "KonnectScenario", "KonnectConsole", "KonnectChaos",
            ]
        ),

        // The configuration tests hash with the real SHA-256 and MD5 (KonnectSecurity), as nodes do.
        .testTarget(name: "KonnectCoreTests", dependencies: ["KonnectCore", "KonnectSecurity"]),
        .testTarget(name: "KonnectHTTPTests", dependencies: ["KonnectHTTP", "KonnectCore", "KonnectSecurity"]),
        .testTarget(name: "KonnectStorageTests", dependencies: ["KonnectStorage", "KonnectSecurity"]),
        .testTarget(
            name: "KonnectNodesTests",
            dependencies: ["KonnectNodes", "KonnectCore", "KonnectStorage", "KonnectHTTP", "KonnectSecurity"]),
        .testTarget(name: "KonnectConsoleTests", dependencies: ["KonnectConsole", "KonnectCluster", "KonnectCore"]),
        .testTarget(
            name: "KonnectChaosTests", dependencies: ["KonnectChaos", "KonnectScenario", "KonnectCluster", "KonnectCore"]),
        .testTarget(
            name: "KonnectProcessTests",
            dependencies: [
                "konnect-sim", "KonnectCore", "KonnectHTTP", "KonnectCluster", "KonnectScenario", "KonnectConsole",
                "KonnectChaos",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
