import Foundation
import GRDB
import XCTest
import SFTPLogKit
import SFTPLogTestSupport
@testable import SFTPLogStore

/// A following run's dictionary keeps few terms in memory and looks the rest
/// up in `record_terms`: a term keeps its id whether it was in memory, let go,
/// or stored before the run, while the writer commits on its own thread.
final class TermDictionaryTests: TemporaryDirectoryTestCase {
    func testAFollowingDictionaryLetsGoOfCommittedTermsAndKeepsEachTermsID() throws {
        let store = try LogStore.openForWriting(dir.appendingPathComponent("terms.db").path)
        try store.queue.write { try $0.execute(sql: "INSERT INTO record_terms(id, term) VALUES (7, 'stored before the run')") }
        let dict = try TermDictionary.following(store, keeping: 100)
        let writer = SerialWriter(store: store, capacity: 400)
        writer.reportCommits(to: dict)
        let lane = SerialWriter.Lane()

        XCTAssertEqual(dict.withTerms { $0.id("stored before the run") }, 7)
        var given: [String: Int64] = ["stored before the run": 7]
        var batch: Set<Int64> = []
        var most = 0
        for i in 0..<3000 {
            var met = ["2001:db8::\(String(i, radix: 16))"]
            // Terms met again: recent ones (in memory or pending) and old ones (let go, stored).
            if i % 3 == 0 { met.append("2001:db8::\(String(i / 2, radix: 16))") }
            if i % 7 == 0 { met.append("2001:db8::\(String(max(0, i - 5), radix: 16))") }
            for term in met {
                let id = dict.withTerms { $0.id(term) }
                if let first = given[term] { XCTAssertEqual(id, first, term) } else { given[term] = id }
                batch.insert(id)
            }
            if i % 50 == 49 {
                let terms = dict.terms(batch)
                batch.removeAll()
                try writer.submit(on: lane, weight: 50) { try $0.writeRecords([], terms: terms, sourceID: 0) }
            }
            most = max(most, dict.count)
        }
        try writer.finish(lane)
        writer.close()

        XCTAssertEqual(Set(given.values).count, given.count, "two terms got one id")
        // 100 kept, plus what was handed out and not yet committed: at most the
        // writer's queue (400 records' worth, 8 batches) and the batch being made.
        XCTAssertLessThanOrEqual(most, 100 + 10 * 75, "terms were not let go")
        XCTAssertLessThan(dict.count, given.count)
        let stored = try store.queue.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT term, id FROM record_terms").map { ($0[0] as String, $0[1] as Int64) })
        }
        XCTAssertEqual(stored, given)
    }
}
