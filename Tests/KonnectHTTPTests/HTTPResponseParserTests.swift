import KonnectCore
import Testing

@testable import KonnectHTTP

/// A response reduced to comparable parts.
struct ParsedResponse: Equatable {
    var status: Int
    var headers: [String]
    var body: [UInt8]

    init(_ response: ClientResponse) {
        status = response.status
        headers = response.headers.map { "\($0.name): \($0.value)" }
        body = response.body
    }
}

enum ResponseOutcome: Equatable {
    case response(ParsedResponse)
    case failure(String)
}

/// Feeds `stream` in pieces and collects what the parser produces; with `close`, ends with `finish()`.
func parseResponses(
    _ stream: [UInt8], method: String = "GET", pieces: [Int], close: Bool = false, maxBodyBytes: Int = 32 * 1024 * 1024
)
    -> [ResponseOutcome]
{
    var parser = HTTPResponseParser(method: method, maxBodyBytes: maxBodyBytes)
    var outcomes: [ResponseOutcome] = []
    var offset = 0
    var pieces = pieces[...]
    while offset < stream.count {
        let size = min(max(1, pieces.popFirst() ?? stream.count), stream.count - offset)
        parser.feed(stream[offset..<offset + size])
        offset += size
        loop: while true {
            switch parser.next() {
            case .response(let response): outcomes.append(.response(ParsedResponse(response)))
            case .needMoreData: break loop
            case .failure(let reason):
                outcomes.append(.failure(reason))
                return outcomes
            }
        }
    }
    if close {
        switch parser.finish() {
        case .response(let response): outcomes.append(.response(ParsedResponse(response)))
        case .failure(let reason): outcomes.append(.failure(reason))
        case .needMoreData: outcomes.append(.failure("finish() asked for more data"))
        }
    }
    return outcomes
}

/// The outcomes fed whole; expects the same one byte at a time and in random splits.
func parseResponsesEverySplit(
    _ text: String, method: String = "GET", close: Bool = false, maxBodyBytes: Int = 32 * 1024 * 1024,
    sourceLocation: SourceLocation = #_sourceLocation
) -> [ResponseOutcome] {
    let stream = Array(text.utf8)
    let whole = parseResponses(stream, method: method, pieces: [stream.count], close: close, maxBodyBytes: maxBodyBytes)
    let byByte = parseResponses(
        stream, method: method, pieces: Array(repeating: 1, count: stream.count), close: close,
        maxBodyBytes: maxBodyBytes)
    #expect(byByte == whole, "one byte at a time", sourceLocation: sourceLocation)
    for seed: UInt64 in [1, 2, 3] {
        let pieces = randomPieces(count: stream.count, seed: seed)
        #expect(
            parseResponses(stream, method: method, pieces: pieces, close: close, maxBodyBytes: maxBodyBytes) == whole,
            sourceLocation: sourceLocation)
    }
    return whole
}

private func response(_ status: Int, _ headers: [String], _ body: String) -> ResponseOutcome {
    var parsed = ParsedResponse(ClientResponse(status: status, headers: HTTPHeaders(), body: Array(body.utf8)))
    parsed.headers = headers
    return .response(parsed)
}

@Suite struct HTTPResponseParserTests {
    @Test func contentLengthBody() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
        #expect(outcomes == [response(200, ["Content-Type: text/plain", "Content-Length: 5"], "hello")])
    }

    @Test func statusLineWithoutReasonPhrase() {
        #expect(
            parseResponsesEverySplit("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n") == [
                response(404, ["Content-Length: 0"], "")
            ])
    }

    @Test func http10StatusLineIsAccepted() {
        #expect(
            parseResponsesEverySplit("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == [
                response(200, ["Content-Length: 2"], "ok")
            ])
    }

    @Test func consecutiveResponsesOnOneConnection() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        )
        #expect(
            outcomes == [
                response(201, ["Content-Length: 2"], "{}"), response(204, [], ""),
                response(200, ["Content-Length: 3"], "abc"),
            ])
    }

    @Test func chunkedBody() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n"
        )
        #expect(outcomes == [response(200, ["Transfer-Encoding: chunked"], "Wikipedia in\r\n\r\nchunks.")])
    }

    @Test func malformedChunkIsAFailure() {
        let outcomes = parseResponsesEverySplit("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        #expect(outcomes == [.failure("Malformed HTTP request: invalid chunk size")])
    }

    @Test func bodyUntilCloseCompletesOnFinish() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\n\r\nuntil close", close: true)
        #expect(outcomes == [response(200, ["Content-Type: text/plain"], "all of this\r\n\r\nuntil close")])
    }

    @Test func bodyUntilCloseWaitsForTheClose() {
        #expect(parseResponsesEverySplit("HTTP/1.1 200 OK\r\n\r\npartial", close: false) == [])
    }

    @Test func emptyBodyUntilClose() {
        #expect(parseResponsesEverySplit("HTTP/1.1 200 OK\r\n\r\n", close: true) == [response(200, [], "")])
    }

    @Test func invalidContentLengthReadsUntilClose() {
        #expect(
            parseResponsesEverySplit("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nxyz", close: true) == [
                response(200, ["Content-Length: -1"], "xyz")
            ])
    }

    @Test func closeBeforeTheBodyIsCompleteIsAFailure() {
        let outcomes = parseResponsesEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close: true)
        #expect(outcomes == [.failure("connection closed before the response was complete")])
    }

    @Test func closeBeforeAnyResponseIsAFailure() {
        var parser = HTTPResponseParser(method: "GET")
        guard case .failure(let reason) = parser.finish() else {
            Issue.record("expected a failure")
            return
        }
        #expect(reason == "connection closed before the response was complete")
    }

    @Test func interimContinueResponsesAreSkipped() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        #expect(outcomes == [response(200, ["Content-Length: 2"], "ok")])
    }

    @Test func headResponseHasNoBodyWhateverItsLength() {
        let outcomes = parseResponsesEverySplit(
            "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
            method: "HEAD")
        #expect(outcomes == [response(200, ["Content-Length: 1234"], ""), response(200, ["Content-Length: 99"], "")])
    }

    @Test(arguments: [204, 304])
    func noContentStatusesHaveNoBody(status: Int) {
        let outcomes = parseResponsesEverySplit("HTTP/1.1 \(status) X\r\nContent-Length: 5\r\n\r\n")
        #expect(outcomes == [response(status, ["Content-Length: 5"], "")])
    }

    @Test(arguments: [
        ("HTTP/2 200 OK\r\n\r\n", "invalid status line"),
        ("HTTP/1.1 abc OK\r\n\r\n", "invalid status line"),
        ("HTTP/1.1 600 Nope\r\n\r\n", "invalid status line"),
        ("HTTP/1.1 99 Low\r\n\r\n", "invalid status line"),
        ("HTTP/1.1\r\n\r\n", "invalid status line"),
        ("garbage\r\n\r\n", "invalid status line"),
        ("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "invalid header line"),
    ])
    func malformedHeadsAreFailures(stream: String, reason: String) {
        #expect(parseResponsesEverySplit(stream) == [.failure(reason)])
    }

    @Test func bodyLargerThanTheLimitIsAFailure() {
        #expect(
            parseResponsesEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10) == [
                .failure("response body larger than 10 bytes")
            ])
        #expect(
            parseResponsesEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", maxBodyBytes: 10).count
                == 1)
        #expect(
            parseResponsesEverySplit("HTTP/1.1 200 OK\r\n\r\n0123456789X", maxBodyBytes: 10)
                == [.failure("response body larger than 10 bytes")])
    }

    @Test func oversizedHeadIsAFailure() {
        let stream = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 70 * 1024)
        #expect(
            parseResponses(Array(stream.utf8), pieces: [stream.utf8.count]) == [.failure("response head too large")])
    }

    @Test func headerValuesAreTrimmed() {
        #expect(
            parseResponsesEverySplit("HTTP/1.1 200 OK\r\nX-A:   padded \t\r\nContent-Length: 0\r\n\r\n") == [
                response(200, ["X-A: padded", "Content-Length: 0"], "")
            ])
    }

    @Test func idleUntilBytesArrive() {
        var parser = HTTPResponseParser(method: "GET")
        #expect(parser.isIdle)
        parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(!parser.isIdle)
        _ = parser.next()
        #expect(parser.responseHead?.status == 200)
        parser.feed(Array("ok".utf8))
        guard case .response = parser.next() else {
            Issue.record("expected a response")
            return
        }
        #expect(parser.isIdle)
        #expect(parser.responseHead == nil)
    }
}

@Suite struct HTTPResponseParserStreamTests {
    @Test func streamDataArrivesChunkByChunk() throws {
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(
            Array(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-ndjson\r\n\r\n3\r\nabc\r\n"
                    .utf8))
        guard case .needMoreData = parser.next() else {
            Issue.record("a stream is never complete before its last chunk")
            return
        }
        let head = try #require(parser.responseHead)
        #expect(head.status == 200)
        #expect(head.headers["content-type"] == "application/x-ndjson")
        #expect(parser.isChunked)

        var taken = parser.takeStreamData()
        #expect(taken.data == Array("abc".utf8))
        #expect(!taken.finished)
        #expect(taken.error == nil)

        taken = parser.takeStreamData()
        #expect(taken.data.isEmpty)
        #expect(!taken.finished)

        parser.feed(Array("4\r\nde".utf8))
        taken = parser.takeStreamData()
        #expect(taken.data == Array("de".utf8))  // partial chunk data is delivered at once
        parser.feed(Array("fg\r\n0\r\n\r\n".utf8))
        taken = parser.takeStreamData()
        #expect(taken.data == Array("fg".utf8))
        #expect(taken.finished)
    }

    @Test func brokenStreamReportsAnError() {
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnope\r\n".utf8))
        _ = parser.next()
        let taken = parser.takeStreamData()
        #expect(taken.finished)
        #expect(taken.error == "Malformed HTTP request: invalid chunk size")
    }

    @Test func nonChunkedResponseIsNotAStream() {
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".utf8))
        _ = parser.next()
        #expect(!parser.isChunked)
        let taken = parser.takeStreamData()
        #expect(taken.error == "stream is not chunked")
        #expect(taken.data.isEmpty)
    }
}

@Suite struct ClientResponseTests {
    @Test func jsonTextAndSuccess() {
        let ok = ClientResponse(status: 200, headers: HTTPHeaders(), body: Array(#"{"a":1}"#.utf8))
        #expect(ok.json == ["a": 1])
        #expect(ok.text == #"{"a":1}"#)
        #expect(ok.isSuccess)
        let empty = ClientResponse(status: 204, headers: HTTPHeaders(), body: [])
        #expect(empty.json == nil)
        #expect(empty.isSuccess)
        #expect(!ClientResponse(status: 302, headers: HTTPHeaders(), body: []).isSuccess)
        #expect(ClientResponse(status: 500, headers: HTTPHeaders(), body: Array("oops".utf8)).json == nil)
    }
}

/// Review regression: interim responses are skipped iteratively and only up to a bound.
@Suite struct HTTPResponseParserInterimTests {
    @Test func manyInterimResponsesFailInsteadOfRecursing() {
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(Array(String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 5000).utf8))
        guard case .failure(let why) = parser.next() else {
            Issue.record("expected a failure")
            return
        }
        #expect(why.contains("interim"))
    }

    @Test func aFewInterimResponsesAreSkipped() {
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(
            Array(
                (String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 3)
                    + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").utf8))
        guard case .response(let response) = parser.next() else {
            Issue.record("expected a response")
            return
        }
        #expect(response.status == 200)
        #expect(response.text == "ok")
    }
}
