import Foundation
import KonnectCore
import KonnectNodes

/// One place where a JSON value does not satisfy its schema.
struct SchemaViolation: Sendable, CustomStringConvertible {
    /// Where in the document's schemas the failing keyword is (`#/components/schemas/ControlPlane/required`).
    var schemaPath: String
    /// Where in the value (`$.config.cluster_type`).
    var instancePath: String
    var message: String

    var description: String { "\(instancePath): \(message) (schema \(schemaPath))" }
}

/// The subset of JSON Schema (OpenAPI 3.0 flavour) that the nodes' documents use, to check the responses
/// the process tests receive. A keyword outside the subset is itself a violation, so a document cannot
/// use something this validator would silently skip.
///
/// Supported: `$ref` (local), `allOf`, `oneOf`, `anyOf`, `type`, `nullable`, `enum`, `format` (`uuid`,
/// `date-time`), `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`, `items`, `minItems`,
/// `maxItems`, `uniqueItems`, `properties`, `required`, `additionalProperties` (boolean or schema),
/// `writeOnly` (such a property must not appear in a response). Annotations are ignored.
struct SchemaValidator {
    let document: JSON

    static let annotations: Set<String> = [
        "description", "example", "examples", "title", "default", "readOnly", "deprecated", "format",
    ]
    static let keywords: Set<String> = [
        "$ref", "allOf", "oneOf", "anyOf", "type", "nullable", "enum", "minLength", "maxLength", "pattern",
        "minimum", "maximum", "items", "minItems", "maxItems", "uniqueItems", "properties", "required",
        "additionalProperties", "writeOnly",
    ]

    func validate(_ value: JSON, _ schema: JSON, schemaPath: String, instancePath: String = "$") -> [SchemaViolation] {
        func fail(_ keyword: String, _ message: String) -> [SchemaViolation] {
            [SchemaViolation(schemaPath: "\(schemaPath)/\(keyword)", instancePath: instancePath, message: message)]
        }
        guard let object = schema.objectValue else {
            if schema == .bool(true) { return [] }
            return fail("", "the schema is not an object")
        }
        for key in object.keys
        where !SchemaValidator.keywords.contains(key) && !SchemaValidator.annotations.contains(key)
            && !key.hasPrefix("x-")
        {
            return fail(key, "the document uses '\(key)', a keyword the response validator does not support")
        }
        if let reference = object["$ref"]?.stringValue {
            guard let target = resolve(reference) else { return fail("$ref", "cannot resolve \(reference)") }
            return validate(value, target, schemaPath: reference, instancePath: instancePath)
        }
        if value == .null {
            if object["nullable"] == .bool(true) { return [] }
            if object["type"] == nil, object["allOf"] == nil, object["oneOf"] == nil, object["anyOf"] == nil,
                object["enum"] == nil
            {
                return []
            }
            if object["type"] != nil { return fail("nullable", "is null, which the schema does not allow") }
        }
        var violations: [SchemaViolation] = []
        if let all = object["allOf"]?.arrayValue {
            for (index, part) in all.enumerated() {
                violations += validate(
                    value, part, schemaPath: "\(schemaPath)/allOf/\(index)", instancePath: instancePath)
            }
        }
        if let choices = object["oneOf"]?.arrayValue {
            let results = choices.enumerated().map {
                validate(value, $0.element, schemaPath: "\(schemaPath)/oneOf/\($0.offset)", instancePath: instancePath)
            }
            let matching = results.filter(\.isEmpty).count
            if matching != 1 {
                let detail = results.enumerated().map {
                    "  [\($0.offset)] \($0.element.map(\.description).joined(separator: "; "))"
                }
                violations += fail(
                    "oneOf",
                    "matches \(matching) of the \(choices.count) choices (exactly one must match):\n"
                        + detail.joined(separator: "\n"))
            }
        }
        if let choices = object["anyOf"]?.arrayValue {
            let results = choices.enumerated().map {
                validate(value, $0.element, schemaPath: "\(schemaPath)/anyOf/\($0.offset)", instancePath: instancePath)
            }
            if !results.contains(where: \.isEmpty) {
                violations += fail("anyOf", "matches none of the \(choices.count) choices: \(results.flatMap { $0 })")
            }
        }
        if let allowed = object["enum"]?.arrayValue, !allowed.contains(value) {
            violations += fail("enum", "is \(value.text), not one of \(JSON.array(allowed).text)")
        }
        if let type = object["type"]?.stringValue {
            guard SchemaValidator.matches(value, type: type) else {
                return violations + fail("type", "is \(value.typeName), the schema says \(type)")
            }
        }
        switch value {
        case .string(let text):
            violations += validateString(text, object, fail)
        case .int, .double:
            let number: Double =
                switch value {
                case .int(let integer): Double(integer)
                case .double(let double): double
                default: 0
                }
            if let minimum = object["minimum"].flatMap(SchemaValidator.number), number < minimum {
                violations += fail("minimum", "is \(value.text), below the minimum \(minimum)")
            }
            if let maximum = object["maximum"].flatMap(SchemaValidator.number), number > maximum {
                violations += fail("maximum", "is \(value.text), above the maximum \(maximum)")
            }
        case .array(let items):
            if let minimum = object["minItems"]?.intValue, items.count < minimum {
                violations += fail("minItems", "has \(items.count) items, fewer than \(minimum)")
            }
            if let maximum = object["maxItems"]?.intValue, items.count > maximum {
                violations += fail("maxItems", "has \(items.count) items, more than \(maximum)")
            }
            if object["uniqueItems"] == .bool(true), Set(items).count != items.count {
                violations += fail("uniqueItems", "has duplicate items")
            }
            if let itemSchema = object["items"] {
                for (index, item) in items.enumerated() {
                    violations += validate(
                        item, itemSchema, schemaPath: "\(schemaPath)/items", instancePath: "\(instancePath)[\(index)]")
                }
            }
        case .object(let members):
            violations += validateObject(members, object, schemaPath: schemaPath, instancePath: instancePath)
        case .null, .bool:
            break
        }
        return violations
    }

    private func validateString(
        _ text: String, _ schema: JSONObject, _ fail: (String, String) -> [SchemaViolation]
    ) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        let length = text.count
        if let minimum = schema["minLength"]?.intValue, length < minimum {
            violations += fail("minLength", "has \(length) characters, fewer than \(minimum)")
        }
        if let maximum = schema["maxLength"]?.intValue, length > maximum {
            violations += fail("maxLength", "has \(length) characters, more than \(maximum)")
        }
        if let pattern = schema["pattern"]?.stringValue {
            if let expression = try? NSRegularExpression(pattern: pattern) {
                let range = NSRange(text.startIndex..., in: text)
                if expression.firstMatch(in: text, range: range) == nil {
                    violations += fail("pattern", "\"\(text.prefix(80))\" does not match \(pattern)")
                }
            } else {
                violations += fail("pattern", "the pattern \(pattern) is not a valid regular expression")
            }
        }
        switch schema["format"]?.stringValue {
        case "uuid" where !IdentifierSource.isUUID(text):
            violations += fail("format", "\"\(text.prefix(80))\" is not a UUID")
        case "date-time" where SimTime(iso8601: text) == nil:
            violations += fail("format", "\"\(text.prefix(80))\" is not an RFC 3339 date-time")
        default:
            break
        }
        return violations
    }

    private func validateObject(
        _ members: JSONObject, _ schema: JSONObject, schemaPath: String, instancePath: String
    ) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !members.contains(name) {
            violations.append(
                SchemaViolation(
                    schemaPath: "\(schemaPath)/required", instancePath: instancePath,
                    message: "lacks the required property '\(name)'"))
        }
        for (name, value) in members {
            let path = "\(instancePath).\(name)"
            if let property = properties[name] {
                if property["writeOnly"] == .bool(true) {
                    violations.append(
                        SchemaViolation(
                            schemaPath: "\(schemaPath)/properties/\(name)/writeOnly", instancePath: path,
                            message: "is write-only and must not appear in a response"))
                }
                violations += validate(
                    value, property, schemaPath: "\(schemaPath)/properties/\(name)", instancePath: path)
            } else if let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    violations.append(
                        SchemaViolation(
                            schemaPath: "\(schemaPath)/additionalProperties", instancePath: path,
                            message: "is not a property the schema names (\(properties.keys.joined(separator: ", ")))"))
                } else if additional != .bool(true) {
                    violations += validate(
                        value, additional, schemaPath: "\(schemaPath)/additionalProperties", instancePath: path)
                }
            }
        }
        return violations
    }

    /// `#/components/schemas/Name` (or any local JSON pointer) in the document.
    func resolve(_ reference: String) -> JSON? {
        guard reference.hasPrefix("#/") else { return nil }
        var current: JSON? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            current = current?[key]
        }
        return current
    }

    static func matches(_ value: JSON, type: String) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("array", .array), ("object", .object), ("integer", .int),
            ("number", .int), ("number", .double):
            true
        default: false
        }
    }

    static func number(_ value: JSON) -> Double? {
        switch value {
        case .int(let integer): Double(integer)
        case .double(let double): double
        default: nil
        }
    }
}
