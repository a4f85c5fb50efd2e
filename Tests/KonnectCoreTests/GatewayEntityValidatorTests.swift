import Testing

@testable import KonnectCore

/// The fields a 400 names, for a body that does not validate.
private func rejectedFields(_ kind: GatewayEntityKind, _ input: JSON) -> [String] {
    do {
        _ = try GatewayEntityValidator.validate(kind, input)
        return []
    } catch {
        #expect(error.status == 400)
        return error.invalidParameters.map(\.field)
    }
}

/// Rule C1: Kong Admin API entities: required fields, Kong's defaults, bad values, references.
@Suite struct GatewayEntityValidatorTests {
    // MARK: - Services

    @Test func aServiceGetsKongsDefaults() throws {
        let service = try GatewayEntityValidator.validate(.service, ["host": "orders.internal"])
        #expect(service.kind == .service)
        #expect(service.references.isEmpty)
        let body = JSON.object(service.body)
        #expect(body["protocol"] == "http")
        #expect(body["host"] == "orders.internal")
        #expect(body["port"] == 80)
        #expect(body["path"] == .null)
        #expect(body["name"] == .null)
        #expect(body["retries"] == 5)
        for field in ["connect_timeout", "write_timeout", "read_timeout"] { #expect(body[field] == 60000) }
        #expect(body["enabled"] == true)
        #expect(body["tags"] == .null)
        #expect(service.uniqueValue == nil)
    }

    @Test func aServiceURLIsSplitIntoProtocolHostPortAndPath() throws {
        let service = try GatewayEntityValidator.validate(
            .service, ["name": "orders", "url": "https://orders.internal:8443/api/v1"])
        let body = JSON.object(service.body)
        #expect(body["protocol"] == "https")
        #expect(body["host"] == "orders.internal")
        #expect(body["port"] == 8443)
        #expect(body["path"] == "/api/v1")
        #expect(service.uniqueValue == "orders")
        #expect(
            JSON.object(try GatewayEntityValidator.validate(.service, ["url": "https://secure.internal"]).body)["port"]
                == 443)
    }

    static let badServices: [(JSON, String)] = [
        (["name": "x"], "host"),
        (["url": "orders.internal"], "url"),
        (["url": "http://a.internal", "host": "b.internal"], "host"),
        (["host": "a.internal", "port": 70000], "port"),
        (["host": "a.internal", "protocol": "gopher"], "protocol"),
        (["host": "a.internal:80"], "host"),
        (["host": "a.internal", "path": "no-slash"], "path"),
        (["host": "a.internal", "name": "has space"], "name"),
        (["host": "a.internal", "retries": -1], "retries"),
        (["host": "a.internal", "read_timeout": 0], "read_timeout"),
        (["host": "a.internal", "enabled": "yes"], "enabled"),
        (["host": "a.internal", "tags": ["a,b"]], "tags"),
        (["host": "a.internal", "colour": "blue"], "colour"),
    ]

    @Test(arguments: badServices)
    func aBadServiceIsRejectedNamingTheField(input: JSON, field: String) {
        #expect(rejectedFields(.service, input).contains { $0 == field || $0.hasPrefix(field + "[") }, "\(input.text)")
    }

    @Test func idAndTimestampsAreAcceptedButLeftToTheStore() throws {
        let service = try GatewayEntityValidator.validate(
            .service, ["host": "a.internal", "id": "x", "created_at": 1, "updated_at": 2])
        #expect(service.body["id"] == nil)
        #expect(service.body["created_at"] == nil)
    }

    @Test func aPartialUpdateKeepsWhatItDoesNotChange() throws {
        let existing = try GatewayEntityValidator.validate(.service, ["name": "orders", "host": "a.internal"]).body
        let patched = try GatewayEntityValidator.validate(
            .service, ["retries": 9], existing: existing, partial: true)
        #expect(patched.body["retries"] == 9)
        #expect(patched.body["host"] == "a.internal")
        #expect(patched.body["name"] == "orders")
        #expect(patched.body["port"] == 80)
    }

    // MARK: - Routes

    @Test func aRouteGetsKongsDefaultsAndReferencesItsService() throws {
        let route = try GatewayEntityValidator.validate(.route, ["paths": ["/orders"], "service": ["name": "orders"]])
        let body = JSON.object(route.body)
        #expect(body["protocols"] == ["http", "https"])
        #expect(body["strip_path"] == true)
        #expect(body["preserve_host"] == false)
        #expect(body["regex_priority"] == 0)
        #expect(body["https_redirect_status_code"] == 426)
        #expect(body["path_handling"] == "v0")
        for field in ["hosts", "methods", "headers", "snis", "name", "sources", "destinations"] {
            #expect(body[field] == .null, "\(field)")
        }
        #expect(route.references == [EntityReference(kind: .service, field: "service", key: "orders")])
        #expect(body["service"] == ["id": "orders"], "the store resolves the name to the id")
    }

    @Test func aRouteWithoutAServiceReferencesNothing() throws {
        let route = try GatewayEntityValidator.validate(.route, ["hosts": ["shop.example.com"]])
        #expect(route.references.isEmpty)
        #expect(route.body["service"] == .null)
    }

    static let badRoutes: [(JSON, String)] = [
        (["name": "r"], "paths"),
        (["paths": []], "paths"),
        (["paths": ["orders"]], "paths"),
        (["paths": ["/a"], "methods": ["get"]], "methods"),
        (["paths": ["/a"], "protocols": []], "protocols"),
        (["paths": ["/a"], "protocols": ["smtp"]], "protocols"),
        (["paths": ["/a"], "headers": ["Host": ["x"]]], "headers"),
        (["paths": ["/a"], "headers": ["X-A": "x"]], "headers"),
        (["paths": ["/a"], "https_redirect_status_code": 303], "https_redirect_status_code"),
        (["paths": ["/a"], "path_handling": "v2"], "path_handling"),
        (["paths": ["/a"], "service": "orders"], "service"),
        (["paths": ["/a"], "service": ["id": "a", "name": "b"]], "service"),
        (["paths": ["/a"], "strip_path": "no"], "strip_path"),
        // Issue 15: hosts with Kong's wildcard rules, headers without CR/LF.
        (["hosts": ["a\r\nb"]], "hosts"),
        (["hosts": ["a b"]], "hosts"),
        (["hosts": ["*.*.example.com"]], "hosts"),
        (["hosts": ["shop.*.com"]], "hosts"),
        (["hosts": ["*example.com"]], "hosts"),
        (["hosts": ["example..com"]], "hosts"),
        (["hosts": ["-example.com"]], "hosts"),
        (["hosts": ["example.com:0"]], "hosts"),
        (["hosts": ["example.com:70000"]], "hosts"),
        (["snis": ["sni.example.com:443"]], "snis"),
        (["paths": ["/a\r\nX-Forged: 1"]], "paths"),
        (["paths": ["/a"], "headers": ["X-A": ["ok\r\nX-Forged: 1"]]], "headers.X-A"),
        (["paths": ["/a"], "headers": ["X-A": ["tab\u{0}"]]], "headers.X-A"),
        (["paths": ["/a"], "headers": ["X A": ["x"]]], "headers"),
        (["paths": ["/a"], "headers": ["X-\r\nB": ["x"]]], "headers"),
        (["paths": ["/a"], "headers": ["X-A": []]], "headers"),
    ]

    @Test("issue 15: Kong's host rules: one wildcard, leftmost or rightmost, an optional port on hosts")
    func hostsFollowKongsWildcardRules() throws {
        let route = try GatewayEntityValidator.validate(
            .route,
            [
                "hosts": [
                    "shop.example.com", "*.example.com", "example.*", "example.com:8080", "10.0.0.1",
                    "[::1]:8443", "under_score.internal",
                ],
                "snis": ["*.example.com"],
            ])
        #expect(route.body["hosts"]?.arrayValue?.count == 7)
        #expect(
            KongHost.problem("shop.*.com", wildcard: true, port: true)
                == "wildcard must be leftmost or rightmost character")
        #expect(KongHost.problem("*.a.*", wildcard: true, port: true) == "only one wildcard must be specified")
        #expect(KongHost.problem("*.example.com", wildcard: false, port: false) != nil)
        let service = try GatewayEntityValidator.validate(.service, ["host": "orders.internal"])
        #expect(service.body["host"] == "orders.internal")
        #expect(rejectedFields(.service, ["host": "a\r\nb"]) == ["host"])
        #expect(rejectedFields(.service, ["host": "*.example.com"]) == ["host"])
    }

    @Test(arguments: badRoutes)
    func aBadRouteIsRejectedNamingTheField(input: JSON, field: String) {
        #expect(rejectedFields(.route, input).contains { $0 == field || $0.hasPrefix(field + "[") }, "\(input.text)")
    }

    @Test func aRegexPathIsAPath() throws {
        let route = try GatewayEntityValidator.validate(.route, ["paths": [#"~/items/\d+"#]])
        #expect(route.body["paths"] == [#"~/items/\d+"#])
    }

    // MARK: - Consumers

    @Test func aConsumerNeedsAUsernameOrACustomID() throws {
        #expect(try GatewayEntityValidator.validate(.consumer, ["username": "ana"]).uniqueValue == "ana")
        let byCustomID = try GatewayEntityValidator.validate(.consumer, ["custom_id": "c-1"])
        #expect(byCustomID.body["username"] == .null)
        #expect(byCustomID.body["custom_id"] == "c-1")
        #expect(rejectedFields(.consumer, [:]) == ["username"])
        #expect(rejectedFields(.consumer, ["username": ""]).contains("username"))
    }

    // MARK: - Plugins

    @Test func aPluginGetsKongsDefaultsAndReferencesWhatItIsScopedTo() throws {
        let plugin = try GatewayEntityValidator.validate(
            .plugin,
            [
                "name": "rate-limiting", "service": ["id": "s1"], "route": ["name": "r1"],
                "consumer": ["username": "ana"],
            ])
        let body = JSON.object(plugin.body)
        #expect(body["config"] == [:])
        #expect(body["enabled"] == true)
        #expect(body["protocols"] == ["grpc", "grpcs", "http", "https"])
        #expect(body["instance_name"] == .null)
        #expect(
            plugin.references == [
                EntityReference(kind: .service, field: "service", key: "s1"),
                EntityReference(kind: .route, field: "route", key: "r1"),
                EntityReference(kind: .consumer, field: "consumer", key: "ana"),
            ])
    }

    static let badPlugins: [(JSON, String)] = [
        (["config": [:]], "name"),
        (["name": "bad name"], "name"),
        // Issue 15: only Kong Gateway's bundled plugins.
        (["name": "stcp"], "name"),
        (["name": "my-custom-plugin"], "name"),
        (["name": "Rate-Limiting"], "name"),
        (["name": "cors", "config": "x"], "config"),
        (["name": "cors", "enabled": 1], "enabled"),
        (["name": "cors", "protocols": ["ftp"]], "protocols"),
        (["name": "cors", "consumer": ["id": ""]], "consumer"),
    ]

    @Test("issue 15: every plugin Kong Gateway bundles is accepted, by its exact name")
    func everyBundledPluginIsAccepted() throws {
        #expect(KongPlugins.bundled.count == Set(KongPlugins.bundled).count)
        for name in KongPlugins.bundled {
            #expect(try GatewayEntityValidator.validate(.plugin, ["name": .string(name)]).body["name"] == .string(name))
        }
        let error = #expect(throws: APIError.self) { try GatewayEntityValidator.validate(.plugin, ["name": "stcp"]) }
        #expect(error?.invalidParameters.first?.reason.hasPrefix("plugin 'stcp' not enabled") == true)
    }

    @Test(arguments: badPlugins)
    func aBadPluginIsRejectedNamingTheField(input: JSON, field: String) {
        #expect(rejectedFields(.plugin, input).contains { $0 == field || $0.hasPrefix(field + "[") }, "\(input.text)")
    }

    @Test func everyKindHasItsCollectionAndUniqueField() {
        #expect(GatewayEntityKind.allCases.map(\.collection) == ["services", "routes", "consumers", "plugins"])
        #expect(GatewayEntityKind.allCases.map(\.uniqueField) == ["name", "name", "username", "instance_name"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let fields = rejectedFields(.service, ["host": "a b", "port": -1, "retries": "x"])
        #expect(Set(fields).isSuperset(of: ["host", "port", "retries"]))
    }
}
