import Testing

@testable import KonnectCore

/// The APIError `finish` throws, or nil.
private func finishError(_ reader: ObjectReader, strict: Bool = true) -> APIError? {
    do {
        try reader.finish(strict: strict)
        return nil
    } catch {
        return error
    }
}

@Suite struct ObjectReaderTests {
    @Test(arguments: [JSON.null, true, 1, 1.5, "text", [1]] as [JSON])
    func bodyThatIsNotAnObjectIsRejected(body: JSON) {
        let error = #expect(throws: APIError.self) { try ObjectReader(body) }
        #expect(error?.status == 400)
        #expect(
            error?.invalidParameters == [
                InvalidParameter(
                    field: "body", rule: "is_object", reason: "must be a JSON object, got \(body.typeName)")
            ])
    }

    @Test func nonObjectUnderAPrefixIsNamedByThePrefix() {
        let error = #expect(throws: APIError.self) { try ObjectReader("x", prefix: "config") }
        #expect(error?.invalidParameters.map(\.field) == ["config"])
    }

    @Test func wellFormedBodyReadsEveryTypeAndFinishes() throws {
        var reader = try ObjectReader([
            "name": "cp", "count": 3, "enabled": true, "tags": ["a", "b"], "labels": ["env": "prod"],
        ])
        #expect(reader.string("name", required: true) == "cp")
        #expect(reader.int("count", min: 1, max: 5) == 3)
        #expect(reader.bool("enabled") == true)
        #expect(reader.stringArray("tags") == ["a", "b"])
        #expect(reader.object("labels") == JSONObject([("env", "prod")]))
        #expect(reader.problems.isEmpty)
        #expect(finishError(reader) == nil)
    }

    @Test func missingOptionalFieldsReadAsNilWithoutProblems() throws {
        var reader = try ObjectReader(JSON.object(JSONObject()))
        #expect(reader.string("a") == nil)
        #expect(reader.int("b") == nil)
        #expect(reader.bool("c") == nil)
        #expect(reader.stringArray("d") == nil)
        #expect(reader.object("e") == nil)
        #expect(reader.problems.isEmpty)
    }

    @Test func requiredMissingFieldIsReported() throws {
        var reader = try ObjectReader(JSON.object(JSONObject()))
        #expect(reader.string("name", required: true) == nil)
        #expect(reader.problems == [InvalidParameter(field: "name", rule: "required", reason: "is required")])
    }

    @Test func nullIsAcceptedAsAbsentWhenNullable() throws {
        var reader = try ObjectReader(["description": nil])
        #expect(reader.string("description") == nil)
        #expect(reader.problems.isEmpty)
        #expect(finishError(reader) == nil)
    }

    @Test func nullIsRejectedWhenNotNullableOrRequired() throws {
        var reader = try ObjectReader(["a": nil, "b": nil])
        _ = reader.string("a", nullable: false)
        _ = reader.int("b", required: true)
        #expect(reader.problems.map(\.rule) == ["is_null", "is_null"])
        #expect(reader.problems.map(\.field) == ["a", "b"])
        #expect(reader.problems.allSatisfy { $0.reason == "must not be null" })
    }

    @Test(arguments: [
        ("string", JSON.int(1), "is_string", "must be a string, got integer"),
        ("int", JSON.string("1"), "is_integer", "must be an integer, got string"),
        ("int", JSON.double(1.5), "is_integer", "must be an integer, got number"),
        ("bool", JSON.string("true"), "is_boolean", "must be a boolean, got string"),
        ("array", JSON.object(JSONObject()), "is_array", "must be an array, got object"),
        ("object", JSON.array([]), "is_object", "must be an object, got array"),
    ])
    func wrongTypesNameTheRuleAndTheTypeGiven(kind: String, value: JSON, rule: String, reason: String) throws {
        var reader = try ObjectReader(["field": value])
        switch kind {
        case "string": #expect(reader.string("field") == nil)
        case "int": #expect(reader.int("field") == nil)
        case "bool": #expect(reader.bool("field") == nil)
        case "array": #expect(reader.stringArray("field") == nil)
        default: #expect(reader.object("field") == nil)
        }
        #expect(reader.problems == [InvalidParameter(field: "field", rule: rule, reason: reason)])
    }

    @Test("issue 15: every problem the reader records has one of the shapes of Kong's InvalidParameters")
    func problemsHaveKongShapes() throws {
        var reader = try ObjectReader([
            "s": 1, "short": "", "long": "abcdef", "plan": "gold", "n": "x", "low": 0, "high": 11, "b": 1,
            "items": ["1", "2", "3"], "o": 1, "nul": .null, "extra": 1,
        ])
        _ = reader.string("s")
        _ = reader.string("short", minLength: 1)
        _ = reader.string("long", maxLength: 5)
        _ = reader.string("plan", allowed: ["plus", "enterprise"])
        _ = reader.int("n")
        _ = reader.int("low", min: 1)
        _ = reader.int("high", max: 10)
        _ = reader.bool("b")
        _ = reader.stringArray("items", maxItems: 2)
        _ = reader.object("o")
        _ = reader.string("nul", nullable: false)
        _ = reader.string("missing", required: true)
        do {
            try reader.finish()
            Issue.record("finish() accepted a body with problems")
        } catch {
            #expect(error.invalidParameters.count == 13)
            for parameter in error.invalidParameters {
                #expect(parameter.isKongShaped, "\(parameter) has no shape of Kong's InvalidParameters")
            }
        }
        #expect(!InvalidParameter(field: "x", rule: "max_items", reason: "too many").isKongShaped)
        #expect(!InvalidParameter(field: "x", rule: "enum", reason: "not one of them").isKongShaped)
        #expect(!InvalidParameter(field: "x", rule: "max_repeated", reason: "repeats").isKongShaped)
    }

    @Test("issue 15: an answer lists at most 50 invalid parameters and says how many more there were")
    func problemsAreCapped() throws {
        var members = JSONObject()
        for index in 0..<120 { members["k\(index)"] = 1 }
        let reader = try ObjectReader(.object(members))
        do {
            try reader.finish()
            Issue.record("finish() accepted unknown members")
        } catch {
            #expect(error.invalidParameters.count == ObjectReader.maximumProblems)
            #expect(error.detail.hasSuffix("(and 70 more)"), "\(error.detail)")
        }
    }

    @Test func stringLengthRulesCountCharacters() throws {
        var reader = try ObjectReader(["empty": "", "short": "ab", "long": "abcdef", "accents": "ééé"])
        #expect(reader.string("empty", minLength: 1) == nil)
        #expect(reader.string("short", minLength: 3) == nil)
        #expect(reader.string("long", maxLength: 5) == nil)
        #expect(reader.string("accents", maxLength: 3) == "ééé")
        #expect(
            reader.problems == [
                InvalidParameter(field: "empty", rule: "min_length", reason: "must not be empty", minimum: 1),
                InvalidParameter(
                    field: "short", rule: "min_length", reason: "must have at least 3 characters", minimum: 3),
                InvalidParameter(
                    field: "long", rule: "max_length", reason: "must have at most 5 characters", maximum: 5),
            ])
    }

    @Test func stringDefaultMaximumIs255() throws {
        var reader = try ObjectReader([
            "ok": .string(String(repeating: "x", count: 255)), "bad": .string(String(repeating: "x", count: 256)),
        ])
        #expect(reader.string("ok") != nil)
        #expect(reader.string("bad") == nil)
        #expect(reader.problems.map(\.rule) == ["max_length"])
    }

    @Test func enumAndCustomValidation() throws {
        var reader = try ObjectReader(["plan": "gold", "region": "us", "email": "nope"])
        #expect(reader.string("plan", allowed: ["plus", "enterprise"]) == nil)
        #expect(reader.string("region", allowed: ["us", "eu"]) == "us")
        #expect(reader.string("email", validate: { $0.contains("@") ? nil : "must be an email" }) == nil)
        #expect(
            reader.problems == [
                InvalidParameter(
                    field: "plan", rule: "enum", reason: "must be one of plus, enterprise, got \"gold\"",
                    choices: ["plus", "enterprise"]),
                InvalidParameter(field: "email", rule: "invalid", reason: "must be an email"),
            ])
    }

    @Test func integerBounds() throws {
        var reader = try ObjectReader(["low": 0, "high": 11, "edge": 10])
        #expect(reader.int("low", min: 1) == nil)
        #expect(reader.int("high", max: 10) == nil)
        #expect(reader.int("edge", min: 1, max: 10) == 10)
        #expect(
            reader.problems == [
                InvalidParameter(field: "low", rule: "min", reason: "must be at least 1", minimum: 1),
                InvalidParameter(field: "high", rule: "max", reason: "must be at most 10", maximum: 10),
            ])
    }

    @Test func stringArrayNamesTheFaultyElement() throws {
        var reader = try ObjectReader([
            "a": ["x", 2], "b": ["ok", "toolong"], "c": ["x", "bad"], "d": ["1", "2", "3"],
        ])
        #expect(reader.stringArray("a") == nil)
        #expect(reader.stringArray("b", maxLength: 3) == nil)
        #expect(reader.stringArray("c", validate: { $0 == "bad" ? "is bad" : nil }) == nil)
        #expect(reader.stringArray("d", maxItems: 2) == nil)
        #expect(
            reader.problems == [
                InvalidParameter(field: "a[1]", rule: "is_string", reason: "must be a string, got integer"),
                InvalidParameter(
                    field: "b[1]", rule: "max_length", reason: "must have at most 3 characters", maximum: 3),
                InvalidParameter(field: "c[1]", rule: "invalid", reason: "is bad"),
                InvalidParameter(field: "d", rule: "max_items", reason: "must have at most 2 items", maximum: 2),
            ])
    }

    @Test func finishCollectsEveryProblemInOneError() throws {
        var reader = try ObjectReader(["name": 5, "count": "x", "extra": true])
        _ = reader.string("name")
        _ = reader.int("count")
        _ = reader.bool("enabled", required: true)
        let error = try #require(finishError(reader))
        #expect(error.status == 400)
        #expect(error.invalidParameters.map(\.field) == ["name", "count", "enabled", "extra"])
        #expect(error.invalidParameters.map(\.rule) == ["is_string", "is_integer", "required", "unknown_property"])
        #expect(error.detail == "Invalid request: check name, count, enabled, extra")
    }

    @Test func strictFinishReportsUnreadMembersAsUnknownInBodyOrder() throws {
        var reader = try ObjectReader(["z": 1, "known": 2, "a": 3])
        _ = reader.int("known")
        let error = try #require(finishError(reader, strict: true))
        #expect(
            error.invalidParameters == [
                InvalidParameter(field: "z", rule: "unknown_property", reason: "is not a known property"),
                InvalidParameter(field: "a", rule: "unknown_property", reason: "is not a known property"),
            ])
    }

    @Test func lenientFinishIgnoresUnreadMembers() throws {
        var reader = try ObjectReader(["known": 1, "other": 2])
        _ = reader.int("known")
        #expect(finishError(reader, strict: false) == nil)
    }

    @Test func rawAndFailedReadsCountAsKnown() throws {
        var reader = try ObjectReader(["raw": 1, "bad": "x"])
        #expect(reader.raw("raw") == 1)
        _ = reader.int("bad")
        let error = try #require(finishError(reader))
        #expect(error.invalidParameters.map(\.rule) == ["is_integer"])
    }

    @Test func hasDoesNotMarkAMemberAsKnown() throws {
        let reader = try ObjectReader(["x": 1])
        #expect(reader.has("x"))
        #expect(!reader.has("y"))
        #expect(finishError(reader)?.invalidParameters.map(\.rule) == ["unknown_property"])
    }

    @Test func failRecordsACustomProblem() throws {
        var reader = try ObjectReader(["a": 1])
        _ = reader.raw("a")
        reader.fail("a", "custom", "is wrong")
        #expect(
            finishError(reader)?.invalidParameters == [InvalidParameter(field: "a", rule: "custom", reason: "is wrong")]
        )
    }

    @Test func nestedReaderPrefixesFieldPaths() throws {
        var reader = try ObjectReader(["config": ["port": "80", "extra": 1, "inner": ["deep": 1]]])
        let configReader = reader.nested("config")
        var config = try #require(configReader)
        _ = config.int("port")
        let innerReader = config.nested("inner")
        var inner = try #require(innerReader)
        _ = inner.string("deep")
        config.absorb(inner, strict: true)
        reader.absorb(config, strict: true)
        let error = try #require(finishError(reader))
        #expect(
            error.invalidParameters == [
                InvalidParameter(field: "config.port", rule: "is_integer", reason: "must be an integer, got string"),
                InvalidParameter(
                    field: "config.inner.deep", rule: "is_string", reason: "must be a string, got integer"),
                InvalidParameter(field: "config.extra", rule: "unknown_property", reason: "is not a known property"),
            ])
    }

    @Test func nestedReaderOnNonObjectRecordsIsObject() throws {
        var reader = try ObjectReader(["config": [1]])
        #expect(reader.nested("config") == nil)
        #expect(
            reader.problems == [
                InvalidParameter(field: "config", rule: "is_object", reason: "must be a JSON object, got array")
            ])
    }

    @Test func nestedRequiredMissingIsReported() throws {
        var reader = try ObjectReader(JSON.object(JSONObject()))
        #expect(reader.nested("config", required: true) == nil)
        #expect(reader.problems.map(\.rule) == ["required"])
    }

    @Test func nestedStringArrayElementCarriesPrefix() throws {
        var reader = try ObjectReader(["outer": ["list": [1]]])
        let outerReader = reader.nested("outer")
        var outer = try #require(outerReader)
        _ = outer.stringArray("list")
        #expect(outer.problems.map(\.field) == ["outer.list[0]"])
    }
}

@Suite struct APIErrorTests {
    @Test(arguments: [
        (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
        (405, "Method Not Allowed"),
        (408, "Request Timeout"), (409, "Conflict"), (413, "Content Too Large"), (415, "Unsupported Media Type"),
        (422, "Unprocessable Content"), (429, "Too Many Requests"), (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"), (504, "Gateway Timeout"),
        (418, "Error"),
    ])
    func defaultTitles(status: Int, title: String) {
        #expect(APIError.defaultTitle(status) == title)
        #expect(APIError(status: status, detail: "d").title == title)
    }

    @Test func explicitTitleOverridesDefault() {
        #expect(APIError(status: 400, title: "Custom", detail: "d").title == "Custom")
    }

    @Test func problemDocumentShapeWithoutParameters() {
        let error = APIError.notFound("No such control plane")
        #expect(
            error.problem(instance: "konnect:trace:1") == [
                "status": 404, "title": "Not Found", "type": "https://httpstatuses.com/404",
                "instance": "konnect:trace:1",
                "detail": "No such control plane",
            ])
        #expect(error.problem(instance: "x").objectValue?.keys == ["status", "title", "type", "instance", "detail"])
    }

    @Test func problemDocumentListsInvalidParameters() {
        let error = APIError.invalid(field: "name", rule: "required", reason: "is required")
        #expect(error.detail == "Invalid request: name is required")
        #expect(
            error.problem(instance: "i")["invalid_parameters"] == [
                ["field": "name", "rule": "required", "reason": "is required"]
            ])
    }

    @Test func extraMembersAreCarriedIntoBothShapes() {
        let error = APIError(
            status: 503, detail: "gone", extra: JSONObject([("reason", "control_plane_decommissioned")]))
        #expect(error.problem(instance: "i")["reason"] == "control_plane_decommissioned")
        #expect(error.kongBody["reason"] == "control_plane_decommissioned")
    }

    @Test func kongBodyShapeWithoutParameters() {
        #expect(APIError.conflict("UNIQUE violation").kongBody == ["message": "UNIQUE violation", "status": 409])
    }

    @Test func kongBodyShapeForSchemaViolation() {
        let error = APIError.badRequest(
            "schema violation",
            [
                InvalidParameter(field: "host", rule: "required", reason: "required field missing"),
                InvalidParameter(field: "port", rule: "max", reason: "value should be between 0 and 65535"),
            ])
        #expect(
            error.kongBody == [
                "message": "schema violation", "status": 400, "name": "schema violation",
                "fields": ["host": "required field missing", "port": "value should be between 0 and 65535"],
            ])
    }

    @Test func factoriesSetStatus() {
        #expect(APIError.badRequest("x").status == 400)
        #expect(APIError.unauthorized("x").status == 401)
        #expect(APIError.forbidden("x").status == 403)
        #expect(APIError.notFound("x").status == 404)
        #expect(APIError.conflict("x").status == 409)
        #expect(APIError.unavailable("x").status == 503)
    }

    @Test func descriptionJoinsStatusTitleAndDetail() {
        #expect(APIError.forbidden("Not allowed").description == "403 Forbidden: Not allowed")
    }
}
