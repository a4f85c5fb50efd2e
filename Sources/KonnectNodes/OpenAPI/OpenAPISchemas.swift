import KonnectCore

/// Schema builders and the schemas both documents use: Konnect's problem documents with Kong's
/// `InvalidParameters`, Kong's `{message, status}` errors, pagination, labels.
extension OpenAPIDocument {
    static let string: JSON = ["type": "string"]
    static let integer: JSON = ["type": "integer"]
    static let boolean: JSON = ["type": "boolean"]
    static let dateTime: JSON = ["type": "string", "format": "date-time"]
    static let uuid: JSON = ["type": "string", "format": "uuid"]
    static let anyObject: JSON = ["type": "object"]

    static func string(min: Int? = nil, max: Int? = nil, format: String? = nil, pattern: String? = nil) -> JSON {
        var schema = JSONObject([("type", "string")])
        if let min { schema["minLength"] = .int(min) }
        if let max { schema["maxLength"] = .int(max) }
        if let format { schema["format"] = .string(format) }
        if let pattern { schema["pattern"] = .string(pattern) }
        return .object(schema)
    }

    static func integer(min: Int64? = nil, max: Int64? = nil) -> JSON {
        var schema = JSONObject([("type", "integer")])
        if let min { schema["minimum"] = .int(min) }
        if let max { schema["maximum"] = .int(max) }
        return .object(schema)
    }

    static func enumeration(_ values: [String]) -> JSON { ["type": "string", "enum": .strings(values)] }

    /// The same schema, also allowing null.
    static func nullable(_ schema: JSON) -> JSON {
        if schema["$ref"] != nil { return ["allOf": [schema], "nullable": true] }
        var copy = schema
        copy["nullable"] = true
        return copy
    }

    static func array(_ items: JSON, max: Int? = nil) -> JSON {
        var schema = JSONObject([("type", "array"), ("items", items)])
        if let max { schema["maxItems"] = .int(max) }
        return .object(schema)
    }

    /// An object with exactly these properties; `required` defaults to all of them.
    static func closed(_ properties: JSONObject, required: [String]? = nil) -> JSON {
        var schema = JSONObject([("type", "object"), ("properties", .object(properties))])
        schema["additionalProperties"] = false
        let names = required ?? properties.keys
        if !names.isEmpty { schema["required"] = .strings(names) }
        return .object(schema)
    }

    /// A request body: these properties, nothing else, `required` the ones a caller must give.
    static func body(_ properties: JSONObject, required: [String] = []) -> JSON {
        closed(properties, required: required)
    }

    /// Konnect's paginated list: `{meta: {page: {number, size, total}}, data: [...]}`.
    static func list(_ item: JSON) -> JSON {
        closed(["meta": ref("PaginatedMeta"), "data": array(item)])
    }

    /// `{data: [...]}` without pagination.
    static func dataList(_ item: JSON) -> JSON { closed(["data": array(item)]) }

    static var sharedSchemas: JSONObject {
        [
            "Problem": closed(
                [
                    "status": integer, "title": string, "type": string, "instance": string, "detail": string,
                    "invalid_parameters": ref("InvalidParameters"),
                    "reason": [
                        "type": "string", "description": "A machine-readable reason, such as auth_node_unavailable",
                    ],
                    "organization_state": string,
                    "organizations": array(closed(["id": uuid, "name": string, "state": string])),
                    "retry_after": ["type": "integer", "description": "Seconds to wait (429)"],
                    "expired_at": [
                        "type": "string", "format": "date-time",
                        "description": "When the token expired, on the simulated calendar (reason token_expired)",
                    ],
                ], required: ["status", "title", "instance", "detail"]),
            "BadRequestError": [
                "allOf": [ref("Problem"), ["type": "object", "required": ["invalid_parameters"]]]
            ],
            // Kong's InvalidParameters (control-planes-v2 and identity-v3).
            "InvalidParameters": [
                "type": "array", "minItems": 1,
                "items": [
                    "oneOf": [
                        ref("InvalidParameterStandard"), ref("InvalidParameterMinimumLength"),
                        ref("InvalidParameterMaximumLength"), ref("InvalidParameterChoiceItem"),
                        ref("InvalidParameterDependentItem"),
                    ]
                ],
            ],
            "InvalidRules": nullable(enumeration(InvalidParameter.standardRules.sorted())),
            "InvalidParameterStandard": closed(
                ["field": string, "rule": ref("InvalidRules"), "source": string, "reason": string],
                required: ["field", "reason"]),
            "InvalidParameterMinimumLength": closed(
                [
                    "field": string, "rule": enumeration(InvalidParameter.minimumRules.sorted()), "minimum": integer,
                    "source": string, "reason": string,
                ], required: ["field", "reason", "rule", "minimum"]),
            "InvalidParameterMaximumLength": closed(
                [
                    "field": string, "rule": enumeration(InvalidParameter.maximumRules.sorted()), "maximum": integer,
                    "source": string, "reason": string,
                ], required: ["field", "reason", "rule", "maximum"]),
            "InvalidParameterChoiceItem": closed(
                [
                    "field": string, "rule": enumeration(["enum"]), "reason": string,
                    "choices": ["type": "array", "items": [:], "minItems": 1, "uniqueItems": true], "source": string,
                ], required: ["field", "reason", "rule", "choices"]),
            "InvalidParameterDependentItem": closed(
                [
                    "field": string, "rule": nullable(enumeration(["dependent_fields"])), "reason": string,
                    "dependents": nullable(["type": "array", "items": [:], "uniqueItems": true]), "source": string,
                ], required: ["field", "rule", "reason", "dependents"]),
            "KongError": closed(
                [
                    "message": string, "status": integer, "name": string,
                    "fields": ["type": "object", "additionalProperties": string],
                    "reason": string,
                ], required: ["message", "status"]),
            "PaginatedMeta": closed(["page": closed(["number": integer, "size": integer, "total": integer])]),
            "Labels": [
                "type": "object",
                "description":
                    "Keys of 1-63 characters that do not start with kong, konnect, mesh, kic or _; values of 1-63 characters.",
                "additionalProperties": [
                    "type": "string", "pattern": "^[a-z0-9A-Z]{1}([a-z0-9A-Z\\-\\.\\_]*[a-z0-9A-Z]+)?$",
                    "minLength": 1, "maxLength": 63,
                ],
            ],
            "Health": closed(
                ["status": enumeration(["ok"]), "role": string, "geo": string, "now": dateTime],
                required: ["status", "role"]),
        ]
    }
}
