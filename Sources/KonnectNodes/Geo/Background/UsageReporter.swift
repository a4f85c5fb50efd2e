import KonnectCore
import KonnectHTTP

/// Delivers queued usage records to the auth node in order, each with its outbox number, and deletes
/// them once acknowledged (B3). Nothing is lost while the auth node is down: the records wait on disk.
struct UsageReporter: Sendable {
    let geo: String
    let client: HTTPClient
    let outbox: UsageOutboxStore
    let queued: Signal
    let stop: StopFlag
    let seed: UInt64

    /// At most this many records per batch.
    static let batchSize = 500

    func run() {
        let log = LoopLog(loop: "geo \(geo) usage reporter")
        var backoff = Backoff(seed: seed)
        while !stop.isStopping {
            let generation = queued.current
            do {
                let records = try outbox.oldest(UsageReporter.batchSize)
                guard let last = records.last else {
                    queued.wait(after: generation, timeoutMilliseconds: 1000)
                    continue
                }
                let response = try client.json(
                    "POST", "/internal/v1/usage", UsageBatch(geo: geo, records: records).json,
                    timeoutMilliseconds: 5000)
                _ = try response.decode("POST /internal/v1/usage", UsageBatchReceipt.init(json:))
                try outbox.acknowledge(through: last.seq)
                backoff.reset()
                log.succeeded()
            } catch {
                let delay = backoff.next()
                log.failed(error, next: "keeping the records queued, retrying in \(delay) ms")
                stop.pause(delay)
            }
        }
    }
}
