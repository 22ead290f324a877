import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport

/// A session's records are read back by its span of row ids
/// (`sessions.first_record_id` … `last_record_id`, migration v12) instead of
/// an index on `session_key`: the span must hold every record of the session,
/// however its records and its row were written.
final class SessionSpanTests: TemporaryDirectoryTestCase {
    /// Sessions whose span misses one of their records, or that have records and no span.
    func badSpans(_ db: String, file: StaticString = #filePath, line: UInt = #line) throws -> (sessions: Int, bad: [String]) {
        var c = Configuration()
        c.readonly = true
        let q = try DatabaseQueue(path: db, configuration: c)
        defer { try? q.close() }
        return try q.read { db in
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions")!
            let bad = try String.fetchAll(db, sql: """
                SELECT s.id || ' ' || coalesce(s.first_record_id, 'NULL') || '…' || coalesce(s.last_record_id, 'NULL') || ' holds ' || r.a || '…' || r.b
                FROM sessions s JOIN (SELECT session_id AS sid, min(id) AS a, max(id) AS b FROM records WHERE session_id IS NOT NULL GROUP BY 1) r
                  ON r.sid = s.id
                WHERE s.first_record_id IS NULL OR s.last_record_id IS NULL OR s.first_record_id > r.a OR s.last_record_id < r.b
                """)
            return (n, bad)
        }
    }

    func ingest(_ db: String, _ args: [String]) throws {
        let r = try CLI.run(["ingest", "--db", db, "-q"] + args)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
    }

    /// Rotated files read in one run: sessions continue from one file into the next.
    func testRotatedLogInSmallBatches() throws {
        let (logs, _) = try RotatedSample.make(in: dir)
        let db = dir.appendingPathComponent("r.db").path
        try ingest(db, ["--batch-size", "7", "--glob", "server.log*", logs.path])
        let (n, bad) = try badSpans(db)
        XCTAssertGreaterThan(n, 3)
        XCTAssertEqual(bad, [])
    }

    /// OpenSSH runs across batches (their first records marked afterwards), and a
    /// transcript stored again inside a longer file (the session row replaced).
    func testOpenSSHRunsAcrossBatchesAndStoredTwice() throws {
        let (path, runs) = try OpenSSHFixtures.concatenatedTranscripts(in: dir)
        let db = dir.appendingPathComponent("o.db").path
        let one = OpenSSHFixtures.path("ssh-vvv-default-command.log")
        try ingest(db, [one])
        let longer = dir.appendingPathComponent("longer.log").path
        try (try Data(contentsOf: URL(fileURLWithPath: one)) + Data(contentsOf: URL(fileURLWithPath: path))).write(to: URL(fileURLWithPath: longer))
        try ingest(db, ["--batch-size", "40", path, longer])
        let (n, bad) = try badSpans(db)
        XCTAssertGreaterThan(n, runs)
        XCTAssertEqual(bad, [])
    }

    /// A file that grew: the second run re-reads its tail and rebuilds its sessions from the store.
    func testGrownFileResumed() throws {
        let sample = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let lines = sample.split(separator: 0x0A, omittingEmptySubsequences: false)
        let log = dir.appendingPathComponent("grow.log")
        try (lines[0..<50].map { Data($0) + Data([0x0A]) }.reduce(Data(), +)).write(to: log)
        let db = dir.appendingPathComponent("g.db").path
        try ingest(db, ["--batch-size", "9", log.path])
        try sample.write(to: log)
        try ingest(db, ["--batch-size", "9", log.path])
        let (n, bad) = try badSpans(db)
        XCTAssertGreaterThan(n, 3)
        XCTAssertEqual(bad, [])
    }
}
