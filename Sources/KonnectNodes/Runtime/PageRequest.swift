import KonnectCore
import KonnectHTTP

/// Reads a page of a list from `page[size]` and `page[number]` (Konnect's paging), 400 when invalid.
struct PageRequest {
    var size: Int
    var number: Int

    init(_ request: APIRequest, defaultSize: Int = 100, maxSize: Int = 1000) throws(APIError) {
        size = defaultSize
        number = 1
        if let text = request.query("page[size]") {
            guard let value = Int(text), value >= 1, value <= maxSize else {
                throw APIError.invalid(
                    field: "page[size]", rule: "invalid",
                    reason: "must be an integer from 1 to \(maxSize), got \"\(text.prefix(32))\"")
            }
            size = value
        }
        if let text = request.query("page[number]") {
            guard let value = Int(text), value >= 1, value <= 1_000_000 else {
                throw APIError.invalid(
                    field: "page[number]", rule: "invalid",
                    reason: "must be a positive integer, got \"\(text.prefix(32))\"")
            }
            number = value
        }
    }

    var offset: Int { (number - 1) * size }

    func slice<T>(_ items: [T]) -> [T] {
        guard offset < items.count else { return [] }
        return Array(items[offset..<min(items.count, offset + size)])
    }

    func meta(total: Int) -> JSON {
        ["page": ["number": .int(number), "size": .int(size), "total": .int(total)]]
    }

    func response(_ items: [JSON]) -> HTTPResponse {
        HTTPResponse.json(["meta": meta(total: items.count), "data": .array(slice(items))])
    }
}
