import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

/// The checks every process test's responses go through catch what they are meant to catch (issue 15).
@Suite struct ResponseConformanceTests {
    static let document: JSON = [
        "paths": [
            "/things/{id}": [
                "get": [
                    "operationId": "get-thing",
                    "responses": [
                        "200": ["content": ["application/json": ["schema": ["$ref": "#/components/schemas/Thing"]]]],
                        "404": ["content": ["application/problem+json": ["schema": ["type": "object"]]]],
                    ],
                ],
                "delete": ["operationId": "delete-thing", "responses": ["204": ["description": "No Content"]]],
            ],
            "/things/special": [
                "get": [
                    "operationId": "get-special",
                    "responses": ["200": ["content": ["application/json": ["schema": ["type": "array"]]]]],
                ]
            ],
        ],
        "components": [
            "schemas": [
                "Thing": [
                    "type": "object", "additionalProperties": false, "required": ["id", "name"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"], "name": ["type": "string", "maxLength": 5],
                        "note": ["type": "string", "nullable": true], "secret": ["type": "string", "writeOnly": true],
                        "kind": ["type": "string", "enum": ["a", "b"]],
                        "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2],
                        "rule": ["oneOf": [["type": "string", "enum": ["x"]], ["type": "string", "maxLength": 1]]],
                    ],
                ]
            ]
        ],
    ]

    func problems(_ status: Int, _ body: JSON?, type: String = "application/json", path: String = "/things/7")
        -> [String]
    {
        var headers = HTTPHeaders()
        headers.set("Content-Type", type)
        let response = ClientResponse(status: status, headers: headers, body: body?.bytes ?? [])
        return ServedDocument(ResponseConformanceTests.document).problems("GET", path, response)
    }

    let id = "3fd1eea1-885a-4011-b986-289943ff8177"

    @Test func aConformingResponsePasses() {
        #expect(problems(200, ["id": .string(id), "name": "abc", "note": nil, "tags": ["x"]]) == [])
        #expect(problems(404, ["anything": 1], type: "application/problem+json; charset=utf-8") == [])
        #expect(problems(200, [1, 2], path: "/things/special") == [], "a literal path wins over a parameter")
        #expect(problems(408, nil, type: "") == [], "a transport status")
        #expect(problems(200, nil, path: "/elsewhere") == [], "no operation, nothing to check")
    }

    static let violations: [(String, JSON, String)] = [
        (
            "extra property", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "other": 1],
            "additionalProperties"
        ),
        ("missing required", ["id": "3fd1eea1-885a-4011-b986-289943ff8177"], "required"),
        ("forbidden null", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": nil], "nullable"),
        ("wrong type", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": 5], "type"),
        ("bad format", ["id": "7", "name": "a"], "format"),
        ("too long", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "abcdef"], "maxLength"),
        ("not in enum", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "kind": "c"], "enum"),
        (
            "too many items", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "tags": ["1", "2", "3"]],
            "maxItems"
        ),
        ("write-only", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "secret": "s"], "writeOnly"),
        ("two oneOf choices", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "rule": "x"], "oneOf"),
        ("no oneOf choice", ["id": "3fd1eea1-885a-4011-b986-289943ff8177", "name": "a", "rule": "yy"], "oneOf"),
    ]

    @Test(arguments: violations)
    func aViolationIsNamedWithItsSchemaPath(label: String, body: JSON, keyword: String) {
        let found = problems(200, body)
        #expect(found.count >= 1, "\(label)")
        #expect(found.allSatisfy { $0.hasPrefix("GET /things/{id} (get-thing) answered 200") }, "\(found)")
        #expect(found.contains { $0.contains("#/components/schemas/Thing") && $0.contains("/\(keyword)") }, "\(found)")
    }

    @Test func anUndocumentedStatusOrMediaTypeOrBodyIsAProblem() {
        #expect(problems(500, ["x": 1]).first?.contains("a status its document does not list") == true)
        #expect(
            problems(200, ["id": .string(id), "name": "a"], type: "text/plain").first?.contains("'text/plain'") == true)
        #expect(problems(404, ["x": 1]).first?.contains("the document says application/problem+json") == true)
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/json")
        let body = ClientResponse(status: 204, headers: headers, body: Array("{}".utf8))
        #expect(
            ServedDocument(ResponseConformanceTests.document).problems("DELETE", "/things/7", body).first?.contains(
                "a body the document does not describe") == true)
        let notJSON = ClientResponse(status: 200, headers: headers, body: Array("{".utf8))
        #expect(
            ServedDocument(ResponseConformanceTests.document).problems("GET", "/things/7", notJSON).first?.contains(
                "not JSON") == true)
    }

    @Test func aKeywordOutsideTheSubsetIsItselfAProblem() {
        let validator = SchemaValidator(document: [:])
        let violations = validator.validate(["a": 1], ["type": "object", "patternProperties": [:]], schemaPath: "#")
        #expect(violations.first?.message.contains("'patternProperties'") == true)
    }

    @Test(
        "The served documents themselves use only the subset, and Kong's InvalidParameters accept what the reader produces"
    )
    func theServedDocumentsAreInTheSubset() throws {
        for document in [
            OpenAPIDocument.auth(geos: ["eu"], listener: .unix), OpenAPIDocument.geo(listener: .unix),
        ] {
            let validator = SchemaValidator(document: document)
            var unsupported: [String] = []
            func walk(_ schema: JSON, _ path: String) {
                guard let object = schema.objectValue else { return }
                for key in object.keys
                where !SchemaValidator.keywords.contains(key) && !SchemaValidator.annotations.contains(key)
                    && !key.hasPrefix("x-")
                {
                    unsupported.append("\(path)/\(key)")
                }
                for (name, property) in object["properties"]?.objectValue ?? [:] { walk(property, "\(path)/\(name)") }
                for key in ["items", "additionalProperties"] {
                    if let nested = object[key] { walk(nested, path + "/" + key) }
                }
                for key in ["allOf", "oneOf", "anyOf"] {
                    for (index, nested) in (object[key]?.arrayValue ?? []).enumerated() {
                        walk(nested, "\(path)/\(key)/\(index)")
                    }
                }
            }
            for (name, schema) in document["components"]?["schemas"]?.objectValue ?? [:] {
                walk(schema, "#/components/schemas/\(name)")
            }
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (method, operation) in item.objectValue ?? [:] {
                    for (status, response) in operation["responses"]?.objectValue ?? [:] {
                        for (type, media) in response["content"]?.objectValue ?? [:] {
                            walk(media["schema"] ?? [:], "\(method) \(path) \(status) \(type)")
                        }
                    }
                }
            }
            #expect(unsupported == [], "keywords the response checks do not support")
            let parameters = ref("InvalidParameters")
            let good: JSON = [
                ["field": "name", "rule": "min_length", "reason": "too short", "minimum": 2],
                ["field": "kind", "rule": "enum", "reason": "not one of them", "choices": ["a", "b"]],
                ["field": "labels", "rule": "is_label", "reason": "bad key"],
            ]
            #expect(validator.validate(good, parameters, schemaPath: "#").isEmpty)
            let bad: JSON = [["field": "name", "rule": "max_items", "reason": "too many"]]
            #expect(!validator.validate(bad, parameters, schemaPath: "#").isEmpty, "max_items needs its maximum")
        }
    }

    func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
}
