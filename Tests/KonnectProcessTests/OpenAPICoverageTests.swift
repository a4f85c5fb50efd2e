import Foundation
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

/// Issue 3: the OpenAPI document of each node lists exactly the routes its router serves.
@Suite struct OpenAPICoverageTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "ks-openapi-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The routes a listener answers: every route on the Unix socket, all but `unixOnly` ones on TCP.
    static func routes(_ router: Router, _ listener: ListenerKind) -> Set<String> {
        Set(router.routes.filter { listener == .unix || !$0.unixOnly }.map { "\($0.method) \($0.pattern)" })
    }

    @Test("Every auth-node route is in the global API document, and every documented operation is routed")
    func authDocumentMatchesRouter() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try AuthNode(
            configuration: AuthConfiguration(
                directory: directory, geos: ["eu"], start: .defaultStart, rateCard: .standard, seed: 1,
                supportTokenFile: nil))
        for listener in [ListenerKind.tcp, .unix] {
            let routed = Self.routes(node.router, listener)
            let documented = OpenAPIDocument.operations(OpenAPIDocument.auth(geos: ["eu"], listener: listener))
            #expect(routed.subtracting(documented).sorted() == [], "\(listener): routed but not documented")
            #expect(documented.subtracting(routed).sorted() == [], "\(listener): documented but not routed")
        }
    }

    @Test("Every geo-node route is in the geo API document, and every documented operation is routed")
    func geoDocumentMatchesRouter() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: directory, name: "eu", auth: .unix(path: directory + "/none"), faultsFile: nil, seed: 1))
        for listener in [ListenerKind.tcp, .unix] {
            let routed = Self.routes(node.router, listener)
            let documented = OpenAPIDocument.operations(OpenAPIDocument.geo(listener: listener))
            #expect(routed.subtracting(documented).sorted() == [], "\(listener): routed but not documented")
            #expect(documented.subtracting(routed).sorted() == [], "\(listener): documented but not routed")
        }
    }

    static var documents: [JSON] {
        [ListenerKind.tcp, .unix].flatMap {
            [OpenAPIDocument.auth(geos: ["us", "eu"], listener: $0), OpenAPIDocument.geo(listener: $0)]
        }
    }

    @Test(
        "The documents are OpenAPI 3 with a response, a security requirement and declared path parameters for every operation"
    )
    func documentsAreWellFormed() {
        for document in Self.documents {
            #expect(document["openapi"]?.stringValue == "3.0.3")
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (method, operation) in item.objectValue ?? [:] {
                    #expect(operation["responses"]?.objectValue?.isEmpty == false, "\(method) \(path) has no responses")
                    #expect(
                        operation["operationId"]?.stringValue?.isEmpty == false, "\(method) \(path) has no operationId")
                    #expect(operation["security"]?.arrayValue != nil, "\(method) \(path) declares no security")
                    let declared = Set(
                        operation["parameters"]?.arrayValue?.filter { $0["in"] == "path" }.compactMap {
                            $0["name"]?.stringValue
                        } ?? [])
                    let inPath = Set(
                        path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                            String($0.dropFirst().dropLast())
                        })
                    #expect(declared == inPath, "\(method) \(path) declares path parameters \(declared.sorted())")
                }
            }
        }
    }

    @Test("The shipped rate card file holds the standard prices (B4)")
    func shippedRateCardIsTheStandardOne() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Scenarios/rate-cards/default.json")
        let card = try RateCard(json: try JSONParser.parse(Array(try Data(contentsOf: file))))
        #expect(card == RateCard.standard)
    }
}

/// The copies in docs/openapi/ are what the nodes of the default cluster (us, eu, au) serve on each listener
/// (regenerate with `konnect-sim openapi auth|geo [--listener unix]`).
@Suite struct OpenAPICopiesTests {
    @Test(arguments: ["auth", "geo"], ["tcp", "unix"])
    func committedCopyIsCurrent(_ api: String, _ listener: String) throws {
        let name = listener == "tcp" ? "\(api).json" : "\(api).unix.json"
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/openapi/\(name)")
        let committed = try JSONParser.parse(Array(try Data(contentsOf: file)))
        let kind: ListenerKind = listener == "tcp" ? .tcp : .unix
        let served =
            api == "auth"
            ? OpenAPIDocument.auth(geos: ["us", "eu", "au"], listener: kind) : OpenAPIDocument.geo(listener: kind)
        #expect(
            committed == served,
            "docs/openapi/\(name) is out of date: run 'swift run konnect-sim openapi \(api) --listener \(listener) > docs/openapi/\(name)'"
        )
    }
}
