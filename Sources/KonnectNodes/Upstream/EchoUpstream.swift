import KonnectCore
import KonnectHTTP

/// A tiny upstream for demos and tests: answers every request with a JSON echo of its method, path,
/// query, headers and body. Request headers steer it: `X-Echo-Status` sets the status,
/// `X-Echo-Delay-Ms` delays the answer (to provoke 504s), `X-Echo-Chunked: true` answers chunked.
public enum EchoUpstream {
    public static func handle(_ request: HTTPRequest, name: String) -> HTTPResponse {
        if request.path == "/health" && request.headers["x-echo-status"] == nil {
            return HTTPResponse.json(["status": "ok", "role": "upstream", "name": .string(name)])
        }
        if let delay = request.headers["x-echo-delay-ms"].flatMap(Int.init), delay > 0 {
            sleepMilliseconds(min(delay, 60_000))
        }
        var headers = JSONObject()
        for (field, value) in request.headers {
            if let existing = headers[field.lowercased()]?.stringValue {
                headers[field.lowercased()] = .string(existing + ", " + value)
            } else {
                headers[field.lowercased()] = .string(value)
            }
        }
        let body: JSON = [
            "upstream": .string(name), "method": .string(request.method), "path": .string(request.path),
            "query": .optional(request.rawQuery), "headers": .object(headers),
            "body": .string(String(decoding: request.body, as: UTF8.self)), "body_bytes": .int(request.body.count),
        ]
        let status =
            request.headers["x-echo-status"].flatMap(Int.init).flatMap { (200...599).contains($0) ? $0 : nil } ?? 200
        var response = HTTPResponse.json(body, status: status)
        response.headers.set("X-Echo-Upstream", name)
        if request.headers["x-echo-chunked"]?.lowercased() == "true" {
            let bytes = response.bodyBytes
            let half = bytes.count / 2
            response.body = .push { writer in
                writer.write(Array(bytes[0..<half]))
                writer.write(Array(bytes[half...]))
                writer.finish()
            }
        }
        return response
    }
}
