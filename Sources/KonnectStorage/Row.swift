/// The column names of a result, shared by all its rows.
public final class ColumnIndex: Sendable {
    public let names: [String]
    let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }
}

/// One result row, read by column name.
public struct Row: Sendable {
    let index: ColumnIndex
    public let values: [SQLValue]

    public var columns: [String] { index.names }

    public subscript(name: String) -> SQLValue {
        guard let position = index.positions[name] else { return .null }
        return values[position]
    }

    public func string(_ name: String) -> String? {
        switch self[name] {
        case .text(let text): text
        case .int(let number): String(number)
        default: nil
        }
    }

    public func int(_ name: String) -> Int64? {
        switch self[name] {
        case .int(let number): number
        case .double(let number): Int64(number)
        case .text(let text): Int64(text)
        default: nil
        }
    }

    public func bool(_ name: String) -> Bool { (int(name) ?? 0) != 0 }

    public func blob(_ name: String) -> [UInt8]? {
        switch self[name] {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }
}
