import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
@testable import SFTPLogStore

/// Every connection of a store lets SQLite sort on helper threads, and a
/// GROUP BY too large for one in-memory sort (it spills into several sorted
/// runs, merged) still answers as one thread does.
final class SortThreadsTests: TemporaryDirectoryTestCase {
    func testLargeGroupByAnswersTheSameOnSortThreads() throws {
        let path = dir.appendingPathComponent("sort.db").path
        let expected = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let store = try LogStore.openForWriting(path)
        var counts: [[String]: Int] = [:]
        try store.queue.write { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA threads"), expected)
            try db.execute(sql: "CREATE TABLE t (account TEXT, hour TEXT)")
            let insert = try db.makeStatement(sql: "INSERT INTO t VALUES (?, ?)")
            var seed: UInt64 = 7
            for _ in 0..<300_000 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let account = "account-\(seed >> 58)", hour = "2026-12-07T\(String(format: "%02d", Int(seed >> 40 & 0xFFFF) % 24))"
                counts[[account, hour], default: 0] += 1
                try insert.execute(arguments: [account, hour])
            }
        }
        let query = "SELECT account, hour, count(*) FROM t GROUP BY account, hour ORDER BY account, hour"
        let reader = try LogStore.openForReading(path)
        let threaded = try reader.queue.read { db -> [Row] in
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA threads"), expected)
            return try Row.fetchAll(db, sql: query)
        }
        let single = try reader.queue.read { db -> [Row] in
            try db.execute(sql: "PRAGMA threads = 0")
            defer { try? db.execute(sql: "PRAGMA threads = \(expected)") }
            return try Row.fetchAll(db, sql: query)
        }
        // Keys of ASCII compare the same in Swift as in SQLite's BINARY collation.
        let keys = counts.keys.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        XCTAssertEqual(keys.count, 64 * 24)
        XCTAssertTrue(threaded == single, "two sorting threads and none disagree")
        XCTAssertTrue(threaded.map { [$0[0] as String, $0[1] as String] } == keys, "the groups are not in key order")
        XCTAssertTrue(threaded.map { $0[2] as Int } == keys.map { counts[$0]! }, "a group's count is wrong")
    }
}
