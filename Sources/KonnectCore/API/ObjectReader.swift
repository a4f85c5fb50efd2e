/// Reads a JSON request body field by field, collecting every problem instead of stopping at the first,
/// so one 400 answer names all the fields a caller must fix.
///
/// Typical use: read each field (a failed read returns `nil` and records why), then call `finish()`,
/// which throws an ``APIError`` listing every invalid parameter, including members the endpoint does
/// not know when it is strict.
public struct ObjectReader {
    public let object: JSONObject
    private let prefix: String
    private var consumed: Set<String> = []
    public private(set) var problems: [InvalidParameter] = []

    /// Starts reading `body`, which must be a JSON object.
    public init(_ body: JSON, prefix: String = "") throws(APIError) {
        guard case .object(let object) = body else {
            throw APIError.invalid(
                field: prefix.isEmpty ? "body" : prefix, rule: "is_object",
                reason: "must be a JSON object, got \(body.typeName)")
        }
        self.object = object
        self.prefix = prefix
    }

    private func name(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    /// Records a problem; rules with a bound (Kong's minimum, maximum and choice rules) carry it.
    public mutating func fail(
        _ key: String, _ rule: String, _ reason: String, minimum: Int64? = nil, maximum: Int64? = nil,
        choices: [String]? = nil
    ) {
        problems.append(
            InvalidParameter(
                field: name(key), rule: rule, reason: reason, minimum: minimum, maximum: maximum, choices: choices))
    }

    /// The raw member; `nil` when absent. Marks the member as known.
    public mutating func raw(_ key: String) -> JSON? {
        consumed.insert(key)
        return object[key]
    }

    public func has(_ key: String) -> Bool { object.contains(key) }

    private mutating func present(_ key: String, required: Bool, nullable: Bool) -> JSON? {
        guard let value = raw(key) else {
            if required { fail(key, "required", "is required") }
            return nil
        }
        if value == .null {
            if required || !nullable { fail(key, "is_null", "must not be null") }
            return nil
        }
        return value
    }

    public mutating func string(
        _ key: String, required: Bool = false, nullable: Bool = true, minLength: Int = 0, maxLength: Int = 255,
        allowed: [String]? = nil, validate: ((String) -> String?)? = nil
    ) -> String? {
        guard let value = present(key, required: required, nullable: nullable) else { return nil }
        guard case .string(let text) = value else {
            fail(key, "is_string", "must be a string, got \(value.typeName)")
            return nil
        }
        let length = text.count
        if length < minLength {
            fail(
                key, "min_length", minLength == 1 ? "must not be empty" : "must have at least \(minLength) characters",
                minimum: Int64(minLength))
            return nil
        }
        if length > maxLength {
            fail(key, "max_length", "must have at most \(maxLength) characters", maximum: Int64(maxLength))
            return nil
        }
        if let allowed, !allowed.contains(text) {
            fail(
                key, "enum", "must be one of \(allowed.joined(separator: ", ")), got \"\(text.prefix(64))\"",
                choices: allowed)
            return nil
        }
        if let validate, let reason = validate(text) {
            fail(key, "invalid", reason)
            return nil
        }
        return text
    }

    public mutating func int(
        _ key: String, required: Bool = false, nullable: Bool = true, min: Int64 = .min, max: Int64 = .max
    ) -> Int64? {
        guard let value = present(key, required: required, nullable: nullable) else { return nil }
        guard case .int(let number) = value else {
            fail(key, "is_integer", "must be an integer, got \(value.typeName)")
            return nil
        }
        if number < min {
            fail(key, "min", "must be at least \(min)", minimum: min)
            return nil
        }
        if number > max {
            fail(key, "max", "must be at most \(max)", maximum: max)
            return nil
        }
        return number
    }

    public mutating func bool(_ key: String, required: Bool = false, nullable: Bool = true) -> Bool? {
        guard let value = present(key, required: required, nullable: nullable) else { return nil }
        guard case .bool(let flag) = value else {
            fail(key, "is_boolean", "must be a boolean, got \(value.typeName)")
            return nil
        }
        return flag
    }

    public mutating func stringArray(
        _ key: String, required: Bool = false, nullable: Bool = true, maxItems: Int = 1000, maxLength: Int = 255,
        validate: ((String) -> String?)? = nil
    ) -> [String]? {
        guard let value = present(key, required: required, nullable: nullable) else { return nil }
        guard case .array(let items) = value else {
            fail(key, "is_array", "must be an array, got \(value.typeName)")
            return nil
        }
        if items.count > maxItems {
            fail(key, "max_items", "must have at most \(maxItems) items", maximum: Int64(maxItems))
            return nil
        }
        var result: [String] = []
        for (position, item) in items.enumerated() {
            guard case .string(let text) = item else {
                fail("\(key)[\(position)]", "is_string", "must be a string, got \(item.typeName)")
                return nil
            }
            if text.count > maxLength {
                fail(
                    "\(key)[\(position)]", "max_length", "must have at most \(maxLength) characters",
                    maximum: Int64(maxLength))
                return nil
            }
            if let validate, let reason = validate(text) {
                fail("\(key)[\(position)]", "invalid", reason)
                return nil
            }
            result.append(text)
        }
        return result
    }

    public mutating func object(_ key: String, required: Bool = false, nullable: Bool = true) -> JSONObject? {
        guard let value = present(key, required: required, nullable: nullable) else { return nil }
        guard case .object(let object) = value else {
            fail(key, "is_object", "must be an object, got \(value.typeName)")
            return nil
        }
        return object
    }

    /// A nested reader whose problems carry this reader's field path; merge it back with `absorb`.
    public mutating func nested(_ key: String, required: Bool = false) -> ObjectReader? {
        guard let value = present(key, required: required, nullable: true) else { return nil }
        do {
            return try ObjectReader(value, prefix: name(key))
        } catch {
            problems.append(contentsOf: error.invalidParameters)
            return nil
        }
    }

    public mutating func absorb(_ nested: ObjectReader, strict: Bool) {
        problems.append(contentsOf: nested.remainingProblems(strict: strict))
    }

    private func remainingProblems(strict: Bool) -> [InvalidParameter] {
        var all = problems
        if strict {
            for key in object.keys where !consumed.contains(key) {
                all.append(
                    InvalidParameter(field: name(key), rule: "unknown_property", reason: "is not a known property"))
            }
        }
        return all
    }

    /// The most invalid parameters one answer lists (the detail says how many more there were).
    public static let maximumProblems = 50

    /// Throws a 400 naming every invalid parameter (the first `maximumProblems`); with `strict`, members
    /// nobody read count as unknown.
    public func finish(strict: Bool = true) throws(APIError) {
        let all = remainingProblems(strict: strict)
        guard !all.isEmpty else { return }
        let listed = Array(all.prefix(ObjectReader.maximumProblems))
        let more = all.count > listed.count ? " (and \(all.count - listed.count) more)" : ""
        let fields = listed.map(\.field).joined(separator: ", ")
        throw APIError.badRequest("Invalid request: check \(fields)\(more)", listed)
    }
}
