/// A JSON document as a value.
///
/// konnect-sim reads and writes JSON itself rather than through `Codable` so that every API can reject
/// bad input precisely (duplicate keys, wrong types, nesting bombs, invalid UTF-8) and name the field at
/// fault, and so that configuration hashes are computed over one canonical byte form.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The JSON type name used in error messages ("string", "integer", ...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.0e15: return Int64(value)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Member lookup on objects; `nil` for other types and missing keys.
    public subscript(key: String) -> JSON? {
        get { objectValue?[key] }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }

    /// Element lookup on arrays; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// Follows a dotted path such as `data.0.name` (numbers index arrays).
    public func value(atPath path: String) -> JSON? {
        var current: JSON? = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let node = current else { return nil }
            if let index = Int(part), case .array = node {
                current = node[index]
            } else {
                current = node[String(part)]
            }
        }
        return current
    }
}

/// A JSON object that keeps its members in insertion order (so responses read like the specs) while
/// comparing and hashing like a dictionary.
///
/// Members live in one array; an object finds a member by scanning it while it is small (most API
/// objects: no hashing, no second allocation) and through a key index once it has more than
/// `scannedMembers`, so lookups stay constant-time in large (and hostile) objects.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    static let scannedMembers = 16

    public private(set) var members: [(key: String, value: JSON)] = []
    /// Each key's position in `members`; only for objects with more than `scannedMembers` members.
    private var index: [String: Int]?

    public init() {}

    public init(_ members: [(String, JSON)]) {
        self.members.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSON)...) {
        members.reserveCapacity(elements.count)
        for (key, value) in elements { self[key] = value }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    public subscript(key: String) -> JSON? {
        get { position(of: key).map { members[$0].value } }
        set {
            let found = position(of: key)
            switch (found, newValue) {
            case (let found?, let newValue?):
                members[found].value = newValue
            case (nil, let newValue?):
                members.append((key, newValue))
                if index != nil {
                    index?[key] = members.count - 1
                } else if members.count > JSONObject.scannedMembers {
                    index = Dictionary(
                        uniqueKeysWithValues: members.enumerated().map { ($0.element.key, $0.offset) })
                }
            case (let found?, nil):
                members.remove(at: found)
                if index != nil {
                    index = Dictionary(
                        uniqueKeysWithValues: members.enumerated().map { ($0.element.key, $0.offset) })
                }
            case (nil, nil):
                break
            }
        }
    }

    public func contains(_ key: String) -> Bool { position(of: key) != nil }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { members.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    /// Independent of member order, like a dictionary's.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for (key, value) in members {
            var member = Hasher()
            member.combine(key)
            member.combine(value)
            combined ^= member.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

extension JSON {
    /// `.string` for a value, `.null` for `nil`.
    public static func optional(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
    /// `.int` for a value, `.null` for `nil`.
    public static func optional(_ value: Int64?) -> JSON { value.map(JSON.int) ?? .null }
    public static func int(_ value: Int) -> JSON { .int(Int64(value)) }
    public static func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
}
