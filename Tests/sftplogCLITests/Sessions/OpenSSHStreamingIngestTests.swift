import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogSessions
@testable import SFTPLogStore
@testable import SFTPLogPipeline

/// Sessions stored while an appended transcript streams in equal a rebuild from the store.
final class OpenSSHStreamingIngestTests: TemporaryDirectoryTestCase {
    /// Ingest hands each closed run to the batch commit; what it stores is what
    /// the after-the-fact rebuild (used when a source resumes) stores.
    func testIngestStoresStreamedSessionsLikeTheRebuild() throws {
        let (path, runs) = try OpenSSHFixtures.concatenatedTranscripts(in: dir)
        let db = dir.appendingPathComponent("s.db").path
        let r = try CLI.run(["ingest", "--db", db, "--batch-size", "40", "-q", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // In one batch every run's records are written with their session
        // (`SourceLoad.join`); in batches of 40 runs straddle batches and their
        // earlier records are marked afterwards. Both store the same.
        let oneBatch = dir.appendingPathComponent("one.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--db", oneBatch, "-q", path]).status, 0)
        func dump(_ path: String? = nil) throws -> [String] {
            try LogStore.openForReading(path ?? db).queue.read { db in
                var out: [String] = []
                for sql in ["SELECT * FROM sessions ORDER BY id", "SELECT * FROM session_operations ORDER BY session_id, position",
                            "SELECT * FROM findings ORDER BY session_id, position",
                            "SELECT * FROM session_algorithms_offered ORDER BY session_id, side, slot, position",
                            "SELECT line, seq, session_id, session_duplicate FROM records ORDER BY line, seq"] {
                    out += try Row.fetchAll(db, sql: sql).map { $0.description }
                }
                return out
            }
        }
        let streamed = try dump()
        XCTAssertEqual(try dump(oneBatch), streamed)
        let sessions = try LogStore.openForReading(db).queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sessions")! }
        XCTAssertEqual(sessions, runs)
        let unassigned = try LogStore.openForReading(db).queue.read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM records WHERE session_id IS NULL AND kind LIKE 'openssh.%'")!
        }
        XCTAssertEqual(unassigned, 0)

        let q = try LogStore.openForWriting(db).queue
        let judge = SessionJudge.Memo(SessionJudge(policy: try AlgorithmPolicy.bundled()))
        let rebuild = SessionRebuild(rules: try SessionRules.bundled(), zone: TimeZone.current, judge: { judge.judge(&$0) })
        try q.write { db in
            try db.execute(sql: "UPDATE record_rows SET session_key = NULL, session_duplicate = 0")
            XCTAssertEqual(try rebuild.rebuild(StoreWriter(db: db), sourceID: 1), runs)
        }
        try q.close()
        XCTAssertEqual(try dump(), streamed)
    }
}
