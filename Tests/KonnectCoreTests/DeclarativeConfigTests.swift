import Testing

@testable import KonnectCore

/// A digest that keeps its input readable, so a test sees exactly which bytes a hash covers.
private func readable(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Rule C1: a configuration's version is identified by a hash of its content.
@Suite struct DeclarativeConfigTests {
    static let service: JSON = ["id": "b-service", "name": "orders", "host": "orders.internal", "port": 80]
    static let otherService: JSON = ["host": "users.internal", "id": "a-service", "name": "users"]
    static let route: JSON = ["id": "r1", "paths": ["/orders"], "service": ["id": "b-service"]]

    @Test func theSameContentHasTheSameHashWhateverTheOrder() {
        let first = DeclarativeConfig(services: [Self.service, Self.otherService], routes: [Self.route])
        let second = DeclarativeConfig(services: [Self.otherService, Self.service], routes: [Self.route])
        // Members in another order too: the canonical encoding sorts them.
        let reordered: JSON = ["port": 80, "host": "orders.internal", "name": "orders", "id": "b-service"]
        let third = DeclarativeConfig(services: [Self.otherService, reordered], routes: [Self.route])
        #expect(first.hash(digest: readable) == second.hash(digest: readable))
        #expect(first.hash(digest: readable) == third.hash(digest: readable))
        #expect(first == second)
    }

    @Test func entitiesAreSortedById() {
        let config = DeclarativeConfig(services: [Self.service, Self.otherService])
        #expect(config.services.map { $0["id"] } == ["a-service", "b-service"])
    }

    @Test func anyChangeChangesTheHash() {
        let base = DeclarativeConfig(services: [Self.service], routes: [Self.route])
        let changed: JSON = ["id": "b-service", "name": "orders", "host": "orders.internal", "port": 81]
        #expect(
            base.hash(digest: readable)
                != DeclarativeConfig(services: [changed], routes: [Self.route]).hash(digest: readable))
        #expect(base.hash(digest: readable) != DeclarativeConfig(services: [Self.service]).hash(digest: readable))
    }

    @Test func anEmptyConfigurationHashesToThirtyTwoZerosWithoutDigesting() {
        var digested = false
        let hash = DeclarativeConfig().hash { _ in
            digested = true
            return "never"
        }
        #expect(hash == "00000000000000000000000000000000")
        #expect(hash == DeclarativeConfig.emptyHash)
        #expect(!digested)
        #expect(DeclarativeConfig(json: ["_format_version": "3.0"]).isEmpty)
    }

    @Test func theHashCoversTheCanonicalDeclarativeFormat() {
        let config = DeclarativeConfig(services: [["id": "s", "host": "h"]])
        #expect(
            config.hash(digest: readable)
                == #"{"_format_version":"3.0","consumers":[],"plugins":[],"routes":[],"services":[{"host":"h","id":"s"}]}"#
        )
    }

    @Test func theDeclarativeFormatRoundTrips() {
        let config = DeclarativeConfig(
            services: [Self.service], routes: [Self.route], consumers: [["id": "c", "username": "ana"]],
            plugins: [["id": "p", "name": "cors"]])
        #expect(DeclarativeConfig(json: config.json) == config)
        #expect(config.json["_format_version"] == "3.0")
    }
}
