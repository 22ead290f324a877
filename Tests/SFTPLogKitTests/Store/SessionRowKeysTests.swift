import Foundation
import XCTest
import GRDB
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// A session's operations, findings, offers and evidence are keyed by its
/// number in `session_rows` (migration v18), with no index on a session id.
final class SessionRowKeysTests: XCTestCase {
    static let children = ["operation_rows", "finding_rows", "offer_rows", "evidence_rows"]

    /// Every test log, a log rotated in the middle of its sessions (stored
    /// provisionally at the end of a file, then again), and a log that grew
    /// between two runs (its sessions rebuilt whole).
    func database(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("all.db").path
        let lines = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertGreaterThan(lines.count, 90)
        let rotated = dir.appendingPathComponent("rotated")
        try FileManager.default.createDirectory(at: rotated, withIntermediateDirectories: true)
        for (name, part) in [("server.log.2", lines[..<31]), ("server.log.1", lines[31..<67]), ("server.log", lines[67...])] {
            try (part.joined(separator: "\n") + "\n").write(to: rotated.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let grown = dir.appendingPathComponent("grown.log")
        try (lines.prefix(40).joined(separator: "\n") + "\n").write(to: grown, atomically: true, encoding: .utf8)
        for args in [[grown.path], Paths.everyTestLog() + [rotated.path]] {
            let r = try CLI.run(["ingest", "--quiet", "--timezone", "UTC", "--db", path] + args)
            XCTAssertTrue([0, 2].contains(r.status), r.stderr)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: grown, atomically: true, encoding: .utf8)
        let again = try CLI.run(["ingest", "--quiet", "--timezone", "UTC", "--db", path, grown.path])
        XCTAssertEqual(again.status, 0, again.stderr)
        return path
    }

    func testChildRowsAreKeyedByTheirSessionsNumber() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let q = try DatabaseQueue(path: try database(in: dir))
        try q.read { db in
            // The number is declared, so that VACUUM keeps it.
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT pk FROM pragma_table_info('session_rows') WHERE name = 'rowid'"), 1)
            for t in Self.children {
                let key = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('\(t)') WHERE pk > 0 ORDER BY pk")
                XCTAssertEqual(key.first, "session_row", t)
                XCTAssertFalse(try db.columns(in: t).contains { $0.name == "session_id" }, t)
            }
            XCTAssertEqual(try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                  AND tbl_name IN ('\(Self.children.joined(separator: "', '"))')
                """), [])
            // Sessions continued into a later file, and those of the grown log, were stored again
            // under new numbers; none of their old rows is left behind.
            let (count, last) = try Row.fetchOne(db, sql: "SELECT count(*), max(rowid) FROM session_rows").map { ($0[0] as Int, $0[1] as Int) }!
            XCTAssertGreaterThan(count, 150)
            XCTAssertGreaterThan(last, count, "no session was stored again")
            for t in Self.children {
                XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM \(t) WHERE session_row NOT IN (SELECT rowid FROM session_rows)"), 0, t)
            }
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) - count(DISTINCT session_row) FROM evidence_rows"), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM evidence_rows"), count)
            // The views give each session its own rows: as many as the sessions read back hold.
            let sessions = try SessionQuery.load(db)
            XCTAssertEqual(sessions.count, count)
            let ops = sessions.reduce(0) { $0 + $1.operations.count }, findings = sessions.reduce(0) { $0 + $1.findings.count }
            XCTAssertGreaterThan(ops, 100)
            XCTAssertGreaterThan(findings, 50)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM session_operations"), ops)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM findings"), findings)
            for s in sessions where !s.operations.isEmpty {
                XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM session_operations WHERE session_id = ?", arguments: [s.id.rawValue]),
                               s.operations.count, s.id.rawValue)
            }
        }
    }
}
