import Foundation
import GRDB
import XCTest
@testable import SFTPLogKit

/// OpenSSH sessions are built while a transcript streams in: a run's session is
/// handed out when the next run begins, and only the open run's record places
/// are held (holding every record until the end grew with the file: 490 MB for
/// an 18 MB transcript).
final class OpenSSHStreamingSessionTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// Every bundled real transcript, one after another in one file (as `ssh -E` appends).
    func concatenatedTranscripts() throws -> (path: String, runs: Int) {
        let names = OpenSSHFixtures.truthCases()
        XCTAssertGreaterThan(names.count, 10)
        var bytes: [UInt8] = []
        for n in names {
            var t = [UInt8](try Data(contentsOf: URL(fileURLWithPath: OpenSSHFixtures.path(n + ".log"))))
            if t.last != 0x0A { t.append(0x0A) }
            bytes += t
        }
        let path = dir.appendingPathComponent("appended.log").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, names.count)
    }

    func testRunsAreHandedOutWhenTheNextBeginsAndMatchTheWholeFileFold() throws {
        let (path, runs) = try concatenatedTranscripts()
        let records = try OpenSSHFixtures.records(file: path)
        // Reference: the whole-file fold, each run given the records within its lines.
        let whole = OpenSSHSessionBuilder.sessions(from: records, file: path)
        XCTAssertEqual(whole.count, runs)
        let expected: [SessionTimeline] = whole.map { run in
            var s = OpenSSHSessions.timeline(run, file: path)
            s.sourceID = 7
            s.records = records.filter { $0.line >= run.firstLine && $0.line <= run.lastLine }.map { RecordRef(line: $0.line, seq: 0) }
            s.id = SessionIdentity.make(s)
            return s
        }

        var b = OpenSSHTimelineBuilder(file: path, sourceID: 7)
        var streamed: [SessionTimeline] = []
        var handedAt: [Int] = []
        var maxHeld = 0
        for (i, r) in records.enumerated() {
            b.add(r, seq: 0)
            maxHeld = max(maxHeld, b.heldPlaces)
            let closed = b.takeClosed()
            streamed += closed
            handedAt += Array(repeating: i, count: closed.count)
        }
        let rest = b.finish()
        XCTAssertEqual(rest.count, 1, "only the last run waits for the end")
        streamed += rest
        XCTAssertEqual(b.heldPlaces, 0)

        XCTAssertEqual(streamed.map(\.id), expected.map(\.id))
        XCTAssertEqual(streamed.map(\.records), expected.map(\.records))
        XCTAssertEqual(streamed.map { SessionJSON.object($0).json }, expected.map { SessionJSON.object($0).json })
        // Run k is handed out at the record that starts run k+1, never later.
        XCTAssertEqual(handedAt.count, runs - 1)
        for k in 0..<min(runs - 1, handedAt.count) {
            let next = expected[k + 1]
            XCTAssertEqual(records[handedAt[k]].line, next.firstLine, "run \(k)")
        }
        // Memory: never more places than the largest run's records, plus the one that closed it.
        let largest = expected.map(\.records.count).max()!
        XCTAssertLessThanOrEqual(maxHeld, largest + 1)
        XCTAssertLessThan(maxHeld, records.count / 3)
    }

    /// Ingest hands each closed run to the batch commit; what it stores is what
    /// the after-the-fact rebuild (used when a source resumes) stores.
    func testIngestStoresStreamedSessionsLikeTheRebuild() throws {
        let (path, runs) = try concatenatedTranscripts()
        let db = dir.appendingPathComponent("s.db").path
        let r = try CLI.run(["ingest", "--db", db, "--batch-size", "40", "-q", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        func dump() throws -> [String] {
            try LogStore.openForReading(db).queue.read { db in
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
            try db.execute(sql: "UPDATE records SET session_id = NULL, session_duplicate = 0")
            XCTAssertEqual(try rebuild.rebuild(StoreWriter(db: db), sourceID: 1), runs)
        }
        try q.close()
        XCTAssertEqual(try dump(), streamed)
    }
}
