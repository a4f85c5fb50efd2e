import KonnectCore
import KonnectHTTP

/// The simulated calendar's API (B1): anyone reads it, support moves it.
struct CalendarRoutes: Sendable {
    let clock: CalendarClock
    let support: SupportGate
    let calendar: AuthCalendar

    var routes: [Router.Route] {
        [
            Router.route("GET", "/v3/simulator/clock") { _ in
                HTTPResponse.json(["now": .string(clock.now.iso8601)])
            },
            Router.route("POST", "/v3/simulator/clock/advance") { request in
                try support.require(request)
                var reader = try ObjectReader(request.json())
                let text = reader.string("by", required: true, nullable: false, maxLength: 32)
                try reader.finish()
                guard let text, let duration = SimDuration(text: text), duration.seconds >= 0 else {
                    throw APIError.invalid(
                        field: "by", rule: "invalid", reason: "must be a duration such as 31d, 12h, 90m or 1d12h")
                }
                guard duration <= AuthCalendar.longestMove else {
                    throw APIError.invalid(
                        field: "by", rule: "invalid", reason: "must be at most \(AuthCalendar.longestMove)")
                }
                return HTTPResponse.json(try calendar.advance(to: clock.now + duration, actor: "support"))
            },
            Router.route("PUT", "/v3/simulator/clock") { request in
                try support.require(request)
                var reader = try ObjectReader(request.json())
                let text = reader.string("now", required: true, nullable: false, maxLength: 64)
                try reader.finish()
                guard let text, let moment = SimTime(iso8601: text) else {
                    throw APIError.invalid(
                        field: "now", rule: "is_date_time",
                        reason: "must be an RFC 3339 date-time such as 2026-03-01T00:00:00Z")
                }
                return HTTPResponse.json(try calendar.advance(to: moment, actor: "support"))
            },
        ]
    }
}
