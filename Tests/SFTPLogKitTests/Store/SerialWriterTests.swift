import Foundation
import GRDB
import XCTest
import SFTPLogKit
@testable import SFTPLogStore

/// The shared writer merges waiting jobs of several sources into one
/// transaction: one source's failure must not cost another source its rows.
final class SerialWriterTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("serial-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// Lanes "hold", "a", "b", "c": the hold job blocks the writer until the
    /// others are queued, so they run in the transaction the hold job opened.
    private func runMerged(failing: @escaping (Database) throws -> Void) throws -> (db: DatabaseQueue, outcomes: [String: Error?], transactions: Int) {
        let q = try DatabaseQueue(path: dir.appendingPathComponent("w.db").path)
        try q.write { try $0.execute(sql: "CREATE TABLE t(lane TEXT)") }
        var commits = 0
        let counter = CommitCounter { commits += 1 }
        q.add(transactionObserver: counter)  // held weakly by GRDB
        defer { withExtendedLifetime(counter) {} }
        let writer = SerialWriter(store: LogStore(q), capacity: 100)
        let release = DispatchSemaphore(value: 0)
        let lanes = ["hold", "a", "b", "c"].map { ($0, SerialWriter.Lane()) }
        func insert(_ name: String) -> SerialWriter.Job { { try $0.db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [name]) } }
        try writer.submit(on: lanes[0].1, weight: 1) { db in
            try insert("hold")(db)
            release.wait()
        }
        try writer.submit(on: lanes[1].1, weight: 1, insert("a"))
        try writer.submit(on: lanes[2].1, weight: 1) { db in
            try insert("b")(db)
            try failing(db.db)
        }
        try writer.submit(on: lanes[2].1, weight: 1, insert("b-later"))
        try writer.submit(on: lanes[3].1, weight: 1, insert("c"))
        release.signal()
        var outcomes: [String: Error?] = [:]
        for (name, lane) in lanes {
            do { try writer.finish(lane); outcomes[name] = .some(nil) } catch { outcomes[name] = error }
        }
        writer.close()
        return (q, outcomes, commits)
    }

    func testAFailingJobRollsBackOnlyItselfAndStopsOnlyItsSource() throws {
        let (q, outcomes, commits) = try runMerged { db in
            try db.execute(sql: "INSERT INTO no_such_table VALUES (1)")
        }
        XCTAssertEqual(commits, 1, "the queued jobs were meant to share the hold job's transaction")
        XCTAssertNil(outcomes["hold"]!)
        XCTAssertNil(outcomes["a"]!)
        XCTAssertNil(outcomes["c"]!)
        XCTAssertTrue("\(outcomes["b"]!!)".contains("no_such_table"), "\(String(describing: outcomes["b"]))")
        // b's own insert rolled back with it; its later job never ran.
        XCTAssertEqual(try q.read { try String.fetchAll($0, sql: "SELECT lane FROM t ORDER BY rowid") }, ["hold", "a", "c"])
    }

    func testATransactionLostWholeFailsEverySourceInIt() throws {
        // What SQLite does on a full disk or an I/O error: the whole transaction is gone.
        let (q, outcomes, _) = try runMerged { db in
            try db.execute(sql: "ROLLBACK")
            throw DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
        }
        for name in ["hold", "a", "b"] {
            XCTAssertNotNil(outcomes[name]!, "\(name) was reported stored though its transaction was lost")
        }
        // c was still queued when it happened: it runs in a transaction of its own.
        XCTAssertNil(outcomes["c"]!)
        XCTAssertEqual(try q.read { try String.fetchAll($0, sql: "SELECT lane FROM t") }, ["c"])
    }
}

private final class CommitCounter: TransactionObserver {
    let onCommit: () -> Void
    init(_ onCommit: @escaping () -> Void) { self.onCommit = onCommit }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { onCommit() }
    func databaseDidRollback(_ db: Database) {}
}
