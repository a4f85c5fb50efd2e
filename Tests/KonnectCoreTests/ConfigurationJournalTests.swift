import Testing

@testable import KonnectCore

/// Rule D6: a subscriber's disk cache follows deltas: a change costs a delta file, and the delta files
/// are compacted into a new snapshot once they outgrow the snapshot.
@Suite struct ConfigurationJournalTests {
    typealias Entry = ConfigurationJournal.Entry

    @Test func anEmptyCacheStartsWithASnapshot() {
        let journal = ConfigurationJournal()
        #expect(journal.version == nil)
        #expect(
            journal.plan(to: 3, delta: (2, 10), snapshotBytes: 500) == .snapshot(version: 3, bytes: 500, removing: []))
        #expect(journal.plan(to: 3, delta: nil, snapshotBytes: 500) == .snapshot(version: 3, bytes: 500, removing: []))
    }

    @Test func aChangeFromTheCachedVersionIsADeltaFileWhileTheJournalIsSmallerThanTheSnapshot() {
        var journal = ConfigurationJournal(snapshotVersion: 3, snapshotBytes: 100)
        var expectedEntries: [Entry] = []
        for (from, to) in [(3, 4), (4, 6), (6, 7)] as [(Int64, Int64)] {
            let plan = journal.plan(to: to, delta: (from, 30), snapshotBytes: 100)
            #expect(plan == .delta(Entry(from: from, to: to, bytes: 30)))
            journal.record(plan)
            expectedEntries.append(Entry(from: from, to: to, bytes: 30))
        }
        #expect(journal.entries == expectedEntries)
        #expect(journal.version == 7)
        #expect(journal.journalBytes == 90)
        // A fourth file would make the journal (120 bytes) larger than the snapshot (100): compact.
        let plan = journal.plan(to: 8, delta: (7, 30), snapshotBytes: 110)
        #expect(plan == .snapshot(version: 8, bytes: 110, removing: expectedEntries))
        journal.record(plan)
        #expect(journal == ConfigurationJournal(snapshotVersion: 8, snapshotBytes: 110))
    }

    @Test func aFullConfigurationAGapOrTheSameVersionIsASnapshot() {
        let journal = ConfigurationJournal(
            snapshotVersion: 3, snapshotBytes: 100, entries: [Entry(from: 3, to: 5, bytes: 10)])
        let removing = [Entry(from: 3, to: 5, bytes: 10)]
        #expect(
            journal.plan(to: 9, delta: nil, snapshotBytes: 80) == .snapshot(version: 9, bytes: 80, removing: removing))
        #expect(
            journal.plan(to: 9, delta: (4, 10), snapshotBytes: 80)
                == .snapshot(version: 9, bytes: 80, removing: removing))
        #expect(
            journal.plan(to: 5, delta: (5, 10), snapshotBytes: 80)
                == .snapshot(version: 5, bytes: 80, removing: removing))
        #expect(journal.plan(to: 6, delta: (5, 10), snapshotBytes: 80) == .delta(Entry(from: 5, to: 6, bytes: 10)))
    }

    @Test func aJournalExactlyTheSnapshotsSizeStillTakesADelta() {
        let journal = ConfigurationJournal(
            snapshotVersion: 1, snapshotBytes: 100, entries: [Entry(from: 1, to: 2, bytes: 60)])
        #expect(journal.plan(to: 3, delta: (2, 40), snapshotBytes: 100) == .delta(Entry(from: 2, to: 3, bytes: 40)))
        #expect(journal.plan(to: 3, delta: (2, 41), snapshotBytes: 100).isSnapshot)
    }
}

extension ConfigurationJournal.Write {
    var isSnapshot: Bool {
        if case .snapshot = self { return true }
        return false
    }
}
