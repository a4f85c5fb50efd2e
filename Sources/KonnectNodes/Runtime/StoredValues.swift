import KonnectCore
import KonnectStorage

/// Calendar moments as stored (seconds in an INTEGER column) and as answered (ISO 8601).
extension SimTime {
    var json: JSON { .string(iso8601) }
    static func from(_ value: Int64?) -> SimTime? { value.map { SimTime(seconds: $0) } }
}

extension SQLValue {
    static func time(_ moment: SimTime) -> SQLValue { .int(moment.seconds) }
    static func time(_ moment: SimTime?) -> SQLValue { moment.map { .int($0.seconds) } ?? .null }
}

extension Row {
    func time(_ name: String) -> SimTime? { int(name).map { SimTime(seconds: $0) } }
    func json(_ name: String) -> JSON { (try? JSONParser.parse(blob(name) ?? [])) ?? .null }
}
