import Foundation
import Synchronization
import Testing

@testable import KonnectStorage

@Suite struct AtomicFileTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func contents(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TestFailure("cannot read \(path)") }
        return [UInt8](data)
    }

    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    @Test("writing replaces the content and leaves no temporary file")
    func replaces() throws {
        let path = directory.file("config.json")
        try AtomicFile.write("first version, rather long\n", to: path)
        try AtomicFile.write("second\n", to: path)
        #expect(String(decoding: try contents(path), as: UTF8.self) == "second\n")
        #expect(try directory.names() == ["config.json"])
    }

    @Test("the mode given is the file's mode, also when replacing a file that had another")
    func mode() throws {
        let path = directory.file("credential")
        try AtomicFile.write("secret", to: path, mode: 0o600)
        #expect(try mode(path) == 0o600)
        try AtomicFile.write("readable", to: path, mode: 0o400)
        #expect(try mode(path) == 0o400)
        #expect(String(decoding: try contents(path), as: UTF8.self) == "readable")
    }

    @Test("a write into a missing directory fails with the path in the error and leaves nothing")
    func missingDirectory() throws {
        let path = directory.file("missing/file")
        let error = try #require(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: path) }
        #expect(error.description.contains(path))
        #expect(try directory.names() == [])
    }

    @Test("concurrent writers from many threads never leave a mix, and readers never see one")
    func concurrentWriters() throws {
        let path = directory.file("state.json")
        let size = 64 * 1024
        try AtomicFile.write([UInt8](repeating: UInt8(ascii: "a"), count: size), to: path)
        let writersDone = Atomic<Int>(0)
        let writers = 8
        let problems = ThreadErrors()
        onThreads(writers + 1) { index in
            if index == writers {
                // A reader, until every writer finished: each read is one writer's whole content.
                var reads = 0
                while writersDone.load(ordering: .acquiring) < writers || reads == 0 {
                    reads += 1
                    guard let data = FileManager.default.contents(atPath: path) else {
                        problems.record("the file was missing during a write")
                        continue
                    }
                    let bytes = [UInt8](data)
                    if bytes.count != size || Set(bytes).count != 1 {
                        problems.record("read a mix: \(bytes.count) bytes, \(Set(bytes).count) distinct")
                    }
                }
                return
            }
            let content = [UInt8](repeating: UInt8(ascii: "b") + UInt8(index), count: size)
            for _ in 0..<25 {
                do {
                    try AtomicFile.write(content, to: path)
                } catch {
                    problems.record(error)
                }
            }
            writersDone.add(1, ordering: .releasing)
        }
        #expect(problems.all == [])
        let final = try contents(path)
        #expect(final.count == size)
        #expect(Set(final).count == 1)
        #expect(try directory.names() == ["state.json"])
    }
}
