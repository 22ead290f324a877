import Foundation
import GRDB
import XCTest
@testable import SFTPLogKit

/// A bulk load checkpoints on a thread of its own (`WALCheckpointer`) while the
/// writer goes on; the database must come out as with SQLite's own checkpoints.
final class WALCheckpointerTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testCheckpointsOnTheirOwnThreadLeaveTheSameDatabase() throws {
        let log = try Harness.generatedLog(lines: 12_000, seed: 5, in: dir)
        func load(_ name: String, _ env: [String: String]) throws -> (path: String, stderr: String) {
            let db = dir.appendingPathComponent(name).path
            let r = try CLI.run(["ingest", "--db", db, "-q", log], env: env.merging(["SFTPLOG_TIMINGS": "1"]) { $1 })
            XCTAssertEqual(r.status, 0, r.stderr)
            return (db, r.stderr)
        }
        // Checkpoints every 5 ms on the thread; the other load has SQLite's, every 64 pages.
        let own = try load("own.db", ["SFTPLOG_CHECKPOINT_INTERVAL": "0.005"])
        let auto = try load("auto.db", ["SFTPLOG_CHECKPOINTER": "0", "SFTPLOG_WAL_PAGES": "64"])

        let count = own.stderr.split(separator: "\n").first { $0.hasSuffix("checkpoints on their own thread") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
        XCTAssertGreaterThanOrEqual(count ?? 0, 2, own.stderr)
        XCTAssertFalse(auto.stderr.contains("on their own thread"), auto.stderr)

        func dump(_ path: String) throws -> [String] {
            let q = try DatabaseQueue(path: path)
            defer { try? q.close() }
            return try q.read { db in
                XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok")
                var out: [String] = []
                for sql in ["SELECT * FROM records ORDER BY id", "SELECT * FROM sessions ORDER BY rowid",
                            "SELECT * FROM session_operations ORDER BY rowid", "SELECT * FROM findings ORDER BY rowid",
                            "SELECT name, bytes, content_hash, records, sftpplus_versions FROM sources",
                            "SELECT rowid FROM records_fts WHERE records_fts MATCH 'opened OR denied' ORDER BY rowid"] {
                    out += try Row.fetchAll(db, sql: sql).map(\.description)
                }
                return out
            }
        }
        let a = try dump(own.path), b = try dump(auto.path)
        XCTAssertGreaterThan(a.count, 12_000)
        XCTAssertEqual(a, b)
        // The run ends with the WAL folded into the file, as before.
        for p in [own.path, auto.path] {
            let wal = (try? FileManager.default.attributesOfItem(atPath: p + "-wal")[.size] as? Int) ?? 0
            XCTAssertEqual(wal, 0, p)
        }
    }
}
