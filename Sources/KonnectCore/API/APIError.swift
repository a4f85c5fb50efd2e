/// One field that failed validation, in Konnect's `invalid_parameters` shape (Kong's `InvalidParameters`:
/// a standard rule, or a minimum, maximum, choice or dependency rule with the bound it broke).
public struct InvalidParameter: Sendable, Hashable {
    public var field: String
    /// One of Kong's rule names: `standardRules`, `minimumRules` (with `minimum`), `maximumRules` (with
    /// `maximum`), `enum` (with `choices`) or `dependent_fields` (with `dependents`).
    public var rule: String
    public var reason: String
    public var minimum: Int64?
    public var maximum: Int64?
    public var choices: [String]?
    public var dependents: [String]?

    public init(
        field: String, rule: String, reason: String, minimum: Int64? = nil, maximum: Int64? = nil,
        choices: [String]? = nil, dependents: [String]? = nil
    ) {
        self.field = field
        self.rule = rule
        self.reason = reason
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.dependents = dependents
    }

    /// Kong's `InvalidRules` (control-planes-v2, identity-v3): rules that carry no bound.
    public static let standardRules: Set<String> = [
        "required", "is_array", "is_base64", "is_boolean", "is_date_time", "is_integer", "is_null", "is_number",
        "is_object", "is_string", "is_uuid", "is_fqdn", "is_arn", "unknown_property", "missing_reference", "is_label",
        "matches_regex", "invalid", "is_supported_network_availability_zone_list", "is_supported_network_cidr_block",
        "is_supported_provider_region", "type",
    ]
    /// Kong's `InvalidParameterMinimumLength` rules, which carry `minimum`.
    public static let minimumRules: Set<String> = [
        "min_length", "min_digits", "min_lowercase", "min_uppercase", "min_symbols", "min_items", "min",
    ]
    /// Kong's `InvalidParameterMaximumLength` rules, which carry `maximum`.
    public static let maximumRules: Set<String> = ["max_length", "max_items", "max"]

    /// Whether this parameter has one of the shapes Kong's `InvalidParameters` allows.
    public var isKongShaped: Bool {
        if InvalidParameter.standardRules.contains(rule) {
            return minimum == nil && maximum == nil && choices == nil && dependents == nil
        }
        if InvalidParameter.minimumRules.contains(rule) { return minimum != nil && maximum == nil && choices == nil }
        if InvalidParameter.maximumRules.contains(rule) { return maximum != nil && minimum == nil && choices == nil }
        if rule == "enum" { return choices?.isEmpty == false && minimum == nil && maximum == nil }
        if rule == "dependent_fields" { return dependents != nil && minimum == nil && maximum == nil }
        return false
    }

    public var json: JSON {
        var body = JSONObject([("field", .string(field)), ("rule", .string(rule)), ("reason", .string(reason))])
        if let minimum { body["minimum"] = .int(minimum) }
        if let maximum { body["maximum"] = .int(maximum) }
        if let choices { body["choices"] = .strings(choices) }
        if let dependents { body["dependents"] = .strings(dependents) }
        return .object(body)
    }
}

/// An error an API answers with: the HTTP status plus what the caller needs to fix the request.
///
/// Rendered as Konnect's `application/problem+json` (`status, title, type, instance, detail`, with
/// `invalid_parameters` for 400s) by the global and geo APIs, and as Kong's `{message, status}` by the
/// core-entity API and the data-plane proxy.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var title: String
    public var detail: String
    public var invalidParameters: [InvalidParameter]
    /// Extra members carried into the body (for example `reason` on a decommissioned data plane).
    public var extra: JSONObject

    public init(
        status: Int, title: String? = nil, detail: String, invalidParameters: [InvalidParameter] = [],
        extra: JSONObject = JSONObject()
    ) {
        self.status = status
        self.title = title ?? APIError.defaultTitle(status)
        self.detail = detail
        self.invalidParameters = invalidParameters
        self.extra = extra
    }

    public var description: String { "\(status) \(title): \(detail)" }

    public static func defaultTitle(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Error"
        }
    }

    /// Konnect's problem document.
    public func problem(instance: String) -> JSON {
        var body = JSONObject([
            ("status", .int(Int64(status))),
            ("title", .string(title)),
            ("type", .string("https://httpstatuses.com/\(status)")),
            ("instance", .string(instance)),
            ("detail", .string(detail)),
        ])
        if !invalidParameters.isEmpty { body["invalid_parameters"] = .array(invalidParameters.map(\.json)) }
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }

    /// Kong's Admin API error shape, used under `/core-entities` and by the proxy.
    public var kongBody: JSON {
        var body = JSONObject([("message", .string(detail)), ("status", .int(Int64(status)))])
        if !invalidParameters.isEmpty {
            var fields = JSONObject()
            for parameter in invalidParameters { fields[parameter.field] = .string(parameter.reason) }
            body["fields"] = .object(fields)
            body["name"] = "schema violation"
        }
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }
}

extension APIError {
    public static func badRequest(_ detail: String, _ parameters: [InvalidParameter] = []) -> APIError {
        APIError(status: 400, detail: detail, invalidParameters: parameters)
    }
    public static func invalid(
        field: String, rule: String, reason: String, minimum: Int64? = nil, maximum: Int64? = nil,
        choices: [String]? = nil, dependents: [String]? = nil
    ) -> APIError {
        APIError(
            status: 400, detail: "Invalid request: \(field) \(reason)",
            invalidParameters: [
                InvalidParameter(
                    field: field, rule: rule, reason: reason, minimum: minimum, maximum: maximum, choices: choices,
                    dependents: dependents)
            ])
    }
    public static func unauthorized(_ detail: String) -> APIError { APIError(status: 401, detail: detail) }
    public static func forbidden(_ detail: String) -> APIError { APIError(status: 403, detail: detail) }
    public static func notFound(_ detail: String) -> APIError { APIError(status: 404, detail: detail) }
    public static func conflict(_ detail: String) -> APIError { APIError(status: 409, detail: detail) }
    public static func unavailable(_ detail: String) -> APIError { APIError(status: 503, detail: detail) }
}
