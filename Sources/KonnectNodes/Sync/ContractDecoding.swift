import KonnectCore
import KonnectHTTP

/// A peer node answered, but not as the contract says: another status, a body that is not JSON, or a
/// message that does not decode. Loops log it and retry; nothing is guessed from it.
struct UnexpectedAnswer: Error, CustomStringConvertible {
    var request: String
    var status: Int
    var problem: String

    var description: String { "\(request) answered \(status): \(problem)" }
}

extension ClientResponse {
    /// Checks the status is `expected` (an error naming the status and the start of the body otherwise).
    func expect(_ expected: Int, _ request: String) throws(UnexpectedAnswer) {
        guard status == expected else {
            throw UnexpectedAnswer(request: request, status: status, problem: String(text.prefix(300)))
        }
    }

    /// The body of a 200 decoded as a contract message.
    func decode<Message>(_ request: String, _ decode: (JSON) throws(ContractError) -> Message)
        throws(UnexpectedAnswer) -> Message
    {
        try expect(200, request)
        do {
            return try decode(try JSONParser.parse(body))
        } catch let error as ContractError {
            throw UnexpectedAnswer(request: request, status: status, problem: error.description)
        } catch {
            throw UnexpectedAnswer(request: request, status: status, problem: "the body is not JSON (\(error))")
        }
    }
}

extension APIRequest {
    /// The body decoded as a contract message; a 400 naming the fields at fault when it does not decode.
    func contract<Message>(_ decode: (JSON) throws(ContractError) -> Message) throws(APIError) -> Message {
        let body = try json()
        do {
            return try decode(body)
        } catch {
            throw error.apiError
        }
    }
}
