/// A node-to-node message that does not decode: which message, and every field at fault.
///
/// Both sides of a link share the message types in this folder, so a field renamed on one side is a
/// compile error, and a peer that sends something else gets this error instead of a default value
/// (an empty organization id would quietly scope every query to nobody).
public struct ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message type, as a reader would name it ("introspection answer").
    public var message: String
    public var problems: [InvalidParameter]

    public init(message: String, problems: [InvalidParameter]) {
        self.message = message
        self.problems = problems
    }

    public var description: String {
        let fields = problems.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        return "malformed \(message): \(fields)"
    }

    /// The 400 a node answers when a peer sends a malformed message.
    public var apiError: APIError {
        APIError.badRequest("Invalid \(message): check \(problems.map(\.field).joined(separator: ", "))", problems)
    }
}

/// Reads a message with `ObjectReader` (the same reader that validates API bodies) and turns its 400
/// into a `ContractError`. Members a decoder does not read are ignored, so a newer peer may add fields.
func decodeContract<T>(_ message: String, _ json: JSON, _ body: (inout ObjectReader) throws -> T?)
    throws(ContractError) -> T
{
    do {
        var reader = try ObjectReader(json)
        let value = try body(&reader)
        try reader.finish(strict: false)
        guard let value else {
            throw ContractError(
                message: message, problems: [InvalidParameter(field: "body", rule: "invalid", reason: "is incomplete")])
        }
        return value
    } catch let error as ContractError {
        throw error
    } catch let error as APIError {
        throw ContractError(message: message, problems: error.invalidParameters)
    } catch {
        throw ContractError(
            message: message, problems: [InvalidParameter(field: "body", rule: "invalid", reason: "\(error)")])
    }
}

extension ObjectReader {
    /// A required calendar moment in ISO 8601 (`2026-01-01T00:00:00Z`).
    mutating func moment(_ key: String, required: Bool = true) -> SimTime? {
        guard let text = string(key, required: required, nullable: !required, maxLength: 64) else { return nil }
        guard let moment = SimTime(iso8601: text) else {
            fail(key, "is_date_time", "must be an ISO 8601 moment, got \"\(text.prefix(64))\"")
            return nil
        }
        return moment
    }

    /// A required non-empty identifier or name.
    mutating func text(_ key: String, maxLength: Int = 1024) -> String? {
        string(key, required: true, nullable: false, minLength: 1, maxLength: maxLength)
    }

    /// A member that must be present; any JSON value (licenses, configurations) is accepted.
    mutating func any(_ key: String) -> JSON? {
        guard let value = raw(key) else {
            fail(key, "required", "is required")
            return nil
        }
        return value
    }
}
