import KonnectCore
import KonnectHTTP
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// A data plane's or zone's disk cache (D6): a snapshot of one version (`config-cache.json`,
/// `policies-cache.json`) and the delta files that continue it (`config-cache-deltas/<from>-<to>.json`),
/// each written whole with write, fsync, rename. A file holds JSON lines: `{"received_at": ...}`, then
/// the messages as the geo sends them (the full configuration's header and parts, or the delta with
/// its hash), so loading reads them with the stream's own decoder, one line at a time, and verifies
/// each against its digest. A restart during an outage serves the last version applied and cached.
struct ConfigurationCacheStore: Sendable {
    let snapshotPath: String
    let deltasDirectory: String
    let target: SyncTarget
    let digester: ItemDigester

    init(directory: String, name: String, target: SyncTarget, digester: ItemDigester = .sha256) {
        snapshotPath = directory + "/\(name).json"
        deltasDirectory = directory + "/\(name)-deltas"
        self.target = target
        self.digester = digester
    }

    /// The cached version and the journal that holds it; nil when there is no snapshot or it does not hold
    /// a verified configuration (logged: the node then waits for its control plane). Delta files are
    /// applied in order from the snapshot's version while they verify; the first that does not ends
    /// the chain (logged), and files that are not part of the chain are removed.
    func load() -> (record: ReplicaRecord, journal: ConfigurationJournal)? {
        guard let read = read() else { return nil }
        for path in read.stale { unlink(path) }
        return (read.record, read.journal)
    }

    /// What `load` finds, without changing anything: also the delta files that are not part of the chain
    /// (for `dp status` of a stopped data plane).
    func read() -> (record: ReplicaRecord, journal: ConfigurationJournal, stale: [String])? {
        guard let bytes = readWholeFile(snapshotPath) else { return nil }
        var record: ReplicaRecord
        do {
            let (receivedAt, messages) = try ConfigurationCacheStore.decode(bytes)
            var assembly = ConfigurationAssembly()
            var complete: (configuration: SyncedConfiguration, items: [ConfigurationItem])? = nil
            for message in messages where complete == nil {
                switch message {
                case .configuration(let header): complete = try assembly.onConfiguration(header)
                case .configurationPart(let part): complete = try assembly.onPart(part)
                default: throw ConfigurationError("it holds a \(message.json["type"]?.stringValue ?? "") message")
                }
            }
            guard let (configuration, items) = complete, configuration.target == target else {
                throw ConfigurationError("it holds no complete configuration of \(target.id)")
            }
            let content = try ConfigurationContent(layout: .of(target), items: items)
            let versioned = VersionedConfiguration(version: configuration.version, content: content, digester: digester)
            guard versioned.digest == configuration.digest else {
                throw ConfigurationError(
                    "its items have digest \(versioned.digest.hex), not the \(configuration.digest.hex) it was written with"
                )
            }
            record = ReplicaRecord(
                target: target, configuration: versioned, hash: configuration.hash, license: configuration.license,
                receivedAt: receivedAt)
        } catch {
            Log.error("ignoring the configuration cache \(snapshotPath): \(error)")
            return nil
        }
        var journal = ConfigurationJournal(snapshotVersion: record.version, snapshotBytes: bytes.count)
        var files = deltaFiles()
        while let (name, _) = files.first(where: { $0.value.from == record.version && $0.value.to > record.version }) {
            files[name] = nil
            let path = deltasDirectory + "/" + name
            do {
                guard let bytes = readWholeFile(path) else { throw ConfigurationError("it cannot be read") }
                let (receivedAt, messages) = try ConfigurationCacheStore.decode(bytes)
                guard messages.count == 1, case .delta(let delta) = messages[0], delta.target == target else {
                    throw ConfigurationError("it holds no delta of \(target.id)")
                }
                var configuration = record.configuration
                try configuration.apply(
                    delta.changes, from: delta.fromVersion, to: delta.version, expecting: delta.digest,
                    digester: digester)
                record.configuration = configuration
                record.hash = delta.hash
                record.license = delta.license
                record.receivedAt = receivedAt
                journal.record(.delta(.init(from: delta.fromVersion, to: delta.version, bytes: bytes.count)))
            } catch {
                Log.error("the configuration cache stops at version \(record.version): ignoring \(path): \(error)")
                return (record, journal, [path] + files.keys.map { deltasDirectory + "/" + $0 })
            }
        }
        return (record, journal, files.keys.map { deltasDirectory + "/" + $0 })
    }

    /// Writes a snapshot of `record` (its lines one after another, never assembled), then removes
    /// every delta file; returns its size.
    func writeSnapshot(_ record: ReplicaRecord) throws -> Int {
        var size = 0
        try AtomicFile.write(to: snapshotPath) { (append) throws(AtomicFile.WriteError) in
            let first = ConfigurationCacheStore.receivedLine(record.receivedAt)
            try append(first)
            size += first.count
            for line in record.lines {
                try append(line)
                size += line.count
            }
        }
        for name in deltaFiles().keys { unlink(deltasDirectory + "/" + name) }
        return size
    }

    /// Writes a delta file; returns its size.
    func writeDelta(_ delta: SyncedDelta, receivedAt: String) throws -> Int {
        mkdir(deltasDirectory, 0o755)
        let bytes = ConfigurationCacheStore.deltaFile(delta, receivedAt: receivedAt)
        try AtomicFile.write(bytes, to: deltasDirectory + "/\(delta.fromVersion)-\(delta.version).json")
        return bytes.count
    }

    /// A delta file's bytes.
    static func deltaFile(_ delta: SyncedDelta, receivedAt: String) -> [UInt8] {
        receivedLine(receivedAt) + SyncMessage.delta(delta).line
    }

    /// The first line of a cache file.
    static func receivedLine(_ receivedAt: String) -> [UInt8] {
        JSON.object(JSONObject([("received_at", .string(receivedAt))])).bytes + [0x0A]
    }

    /// The received moment and the messages of a cache file, decoded one line at a time.
    private static func decode(_ bytes: [UInt8]) throws -> (receivedAt: String, messages: [SyncMessage]) {
        let lines = bytes.split(separator: 0x0A)
        guard let first = lines.first else { throw ConfigurationError("it is empty") }
        let receivedAt = try JSONParser.parse(Array(first))["received_at"]?.stringValue ?? ""
        let messages = try lines.dropFirst().map { try SyncMessage(json: JSONParser.parse(Array($0))) }
        return (receivedAt, messages)
    }

    /// The delta files by name, with the versions their names say.
    private func deltaFiles() -> [String: (from: Int64, to: Int64)] {
        guard let directory = opendir(deltasDirectory) else { return [:] }
        defer { closedir(directory) }
        var files: [String: (from: Int64, to: Int64)] = [:]
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name.hasSuffix(".json") else {
                if name.contains(".tmp-") { unlink(deltasDirectory + "/" + name) }
                continue
            }
            let versions = name.dropLast(5).split(separator: "-").compactMap { Int64($0) }
            guard versions.count == 2 else { continue }
            files[name] = (versions[0], versions[1])
        }
        return files
    }
}
