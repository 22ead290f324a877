import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// A source read on a thread of its own (`IngestReading`) is stored exactly
/// as when the ingest's thread reads it: every table, and the progress each
/// batch commits (where a killed run resumes), for every test log, with
/// batches small enough that most sources commit many times.
final class IngestReadingTests: XCTestCase {
    let rebuild = PipelineFixtures.rebuild()
    var stream: RecordStream { PipelineFixtures.stream }

    struct Run {
        var tables: [String: [[QueryValue]]] = [:]
        /// Per commit: the source, its bytes read and lines, and whether it was the last.
        var commits: [String] = []
        var threads = 0
    }

    /// Ingests `files` one run each into a new database, read on a thread of
    /// their own or not, and reads every table back.
    func ingest(_ files: [String], ownThread: Bool, batchSize: Int, into path: String) throws -> Run {
        var run = Run()
        let store = try LogStore.openForWriting(path)
        for f in files {
            let ingestor = Ingestor(store: store, stream: stream)
            ingestor.sessions = rebuild
            ingestor.batchSize = batchSize
            ingestor.readThreadBytes = ownThread ? 0 : .max
            ingestor.onProgress = { p in run.commits.append("\(p.name) \(p.bytesRead) \(p.lines) \(p.final)") }
            ingestor.ingest([f]) { _, _ in }
            try ingestor.finish()
        }
        let tables = try store.read { try $0.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }.rows
        for case .text(let t) in tables.map({ $0[0] }) {
            // The times of ingest differ.
            let columns = t == "sources" ? "id, name, format, format_explanation, reader_state, bytes, content_hash, head_hash, head_len, "
                + "resume_offset, resume_line, complete, lines, records, unparsed, sftpplus_versions" : "*"
            run.tables[t] = try store.read { try $0.query("SELECT \(columns) FROM \"\(t)\"") }.rows
        }
        store.finishWriting()
        return run
    }

    func testEveryLogIsStoredAlikeReadOnItsOwnThread() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = Paths.everyTestLog()
        XCTAssertGreaterThan(files.count, 40)
        let alone = try ingest(files, ownThread: false, batchSize: 50, into: dir.appendingPathComponent("alone.db").path)
        let threaded = try ingest(files, ownThread: true, batchSize: 50, into: dir.appendingPathComponent("threaded.db").path)
        XCTAssertGreaterThan(alone.commits.count, 2 * files.count, "most sources commit more than once")
        XCTAssertEqual(threaded.commits, alone.commits, "the same progress at the same places")
        XCTAssertEqual(Set(threaded.tables.keys), Set(alone.tables.keys))
        XCTAssertGreaterThan(alone.tables["record_rows"]?.count ?? 0, 5000)
        for (t, rows) in alone.tables {
            XCTAssertEqual(threaded.tables[t]?.count, rows.count, t)
            guard threaded.tables[t] != rows else { continue }
            let k = zip(threaded.tables[t] ?? [], rows).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            XCTFail("\(t): row \(k) differs")
        }
    }

    /// A grown file is resumed after what its last batch committed, alike.
    func testAGrownFileResumesAlike() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let cut = sample[..<(sample.count / 2)].lastIndex(of: 0x0A)! + 1
        var runs: [Run] = []
        let log = dir.appendingPathComponent("server.log").path
        for ownThread in [false, true] {
            try sample[..<cut].write(to: URL(fileURLWithPath: log))
            let db = dir.appendingPathComponent("grown-\(ownThread).db").path
            _ = try ingest([log], ownThread: ownThread, batchSize: 7, into: db)
            try sample.write(to: URL(fileURLWithPath: log))
            runs.append(try ingest([log], ownThread: ownThread, batchSize: 7, into: db))
        }
        XCTAssertGreaterThan(runs[0].commits.count, 3)
        XCTAssertEqual(runs[1].commits, runs[0].commits)
        XCTAssertGreaterThan(runs[0].tables["record_rows"]?.count ?? 0, 100)
        for (t, rows) in runs[0].tables where runs[1].tables[t] != rows { XCTFail("\(t) differs") }
    }
}
