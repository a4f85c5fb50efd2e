import CCrypto

/// Why a certificate or key could not be made or read: the step that failed, the value involved, and
/// libcrypto's own error messages when it gave any.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }

    init(_ message: String) { self.message = message }

    /// A libcrypto call that failed: names the step, says what it means when known, and appends (and
    /// drains) the thread's error queue.
    static func libcrypto(_ step: String, _ meaning: String? = nil) -> CertificateError {
        let reasons = drainErrorQueue()
        let detail = reasons.isEmpty ? "" : " (libcrypto: \(reasons.joined(separator: "; ")))"
        return CertificateError("\(step) failed\(meaning.map { ": \($0)" } ?? "")\(detail)")
    }

    /// libcrypto's queued errors, oldest first, as ERR_error_string_n writes them; empties the queue.
    static func drainErrorQueue() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons
    }
}
