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

    static func routes(_ router: Router) -> Set<String> {
        Set(router.routes.map { "\($0.method) \($0.pattern)" })
    }

    @Test("Every auth-node route is in the global API document, and every documented operation is routed")
    func authDocumentMatchesRouter() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try AuthNode(
            configuration: AuthConfiguration(
                directory: directory, geos: ["eu"], start: .defaultStart, rateCard: .standard, seed: 1,
                supportTokenFile: nil))
        let routed = Self.routes(node.router)
        let documented = OpenAPIDocument.operations(OpenAPIDocument.auth)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
        #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
    }

    @Test("Every geo-node route is in the geo API document, and every documented operation is routed")
    func geoDocumentMatchesRouter() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: directory, name: "eu", authSocket: directory + "/none", faultsFile: nil, seed: 1))
        let routed = Self.routes(node.router)
        let documented = OpenAPIDocument.operations(OpenAPIDocument.geo)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
        #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
    }

    @Test("The documents are OpenAPI 3 with a response for every operation")
    func documentsAreWellFormed() {
        for document in [OpenAPIDocument.auth, OpenAPIDocument.geo] {
            #expect(document["openapi"]?.stringValue == "3.0.3")
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (method, operation) in item.objectValue ?? [:] {
                    #expect(operation["responses"]?.objectValue?.isEmpty == false, "\(method) \(path) has no responses")
                    #expect(
                        operation["operationId"]?.stringValue?.isEmpty == false, "\(method) \(path) has no operationId")
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

/// The copies in docs/openapi/ are what the nodes serve (regenerate with `konnect-sim openapi auth|geo`).
@Suite struct OpenAPICopiesTests {
    @Test(arguments: ["auth", "geo"])
    func committedCopyIsCurrent(_ api: String) throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/openapi/\(api).json")
        let committed = try JSONParser.parse(Array(try Data(contentsOf: file)))
        let served = api == "auth" ? OpenAPIDocument.auth : OpenAPIDocument.geo
        #expect(
            committed == served,
            "docs/openapi/\(api).json is out of date: run 'swift run konnect-sim openapi \(api) > docs/openapi/\(api).json'"
        )
    }
}
