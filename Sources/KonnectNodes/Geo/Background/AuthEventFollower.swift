import KonnectCore
import KonnectHTTP

/// Follows the auth node's event outbox (D4): long-polls for the events after the durable cursor and
/// applies each in one transaction with the cursor, so a crash re-reads at most what was not applied.
/// Retries with backoff while the auth node is unreachable, so a geo that was down or cut off catches
/// up when it comes back. An event this geo does not understand stops the follower at that event (it
/// is never skipped): the follower logs it and retries slowly, so an upgrade of the geo resumes it.
struct AuthEventFollower: Sendable {
    let geo: String
    let client: HTTPClient
    let meta: GeoMetaStore
    let events: OrganizationEvents
    let calendar: GeoCalendar
    let stop: StopFlag
    let seed: UInt64

    /// How long a follower stopped at an event it does not understand waits before asking again.
    var stalledRetryMilliseconds = 30_000

    func run() {
        let log = LoopLog(loop: "geo \(geo) event follower")
        var backoff = Backoff(seed: seed)
        var stalledAt: Int64? = nil
        while !stop.isStopping {
            var cursor: Int64 = 0
            do {
                cursor = try meta.eventCursor()
                let request = "GET /internal/v1/events"
                let response = try client.send("GET", "/internal/v1/events?geo=\(geo)&after=\(cursor)&wait_ms=20000")
                let (feed, unreadable) = try response.decode(request, EventFeed.readable(json:))
                calendar.note(feed.now)
                try events.apply(feed.events)
                cursor = feed.events.last?.seq ?? cursor
                if let unreadable {
                    if stalledAt != cursor {
                        stalledAt = cursor
                        Log.error(
                            "geo \(geo) stopped following the auth node's events after event \(cursor): the next one is one this geo does not understand (\(unreadable)); it is not skipped: upgrade this geo"
                        )
                    }
                    log.failed(
                        unreadable,
                        next:
                            "staying at event \(cursor), asking again in \(stalledRetryMilliseconds / 1000) s"
                    )
                    stop.pause(stalledRetryMilliseconds)
                    continue
                }
                stalledAt = nil
                backoff.reset()
                log.succeeded()
            } catch {
                let delay = backoff.next()
                log.failed(error, next: "staying at event \(cursor), retrying in \(delay) ms")
                stop.pause(delay)
            }
        }
    }
}
