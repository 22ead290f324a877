import Foundation
import XCTest
import SFTPLogKit

/// The HTML report keeps only the sessions (and their records) that come first
/// in its list; whatever order sessions close in, those kept are the first ones.
final class FirstTimelinesTests: XCTestCase {
    func testKeepsTheFirstSessionsInListOrder() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<200 {
            let count = Int.random(in: 0...40, using: &rng), limit = Int.random(in: 0...10, using: &rng)
            var sessions: [SessionTimeline] = []
            for k in 0..<count {
                var s = SessionTimeline(source: "sftpplus", side: "server", file: ["a.log", "b.log"].randomElement(using: &rng)!)
                s.id = SessionID("s\(round)-\(k)")
                s.firstLine = Int.random(in: 1...50, using: &rng)
                // Some without a start: those come first, as coalesce(start_utc, '') puts them.
                if Bool.random(using: &rng) { s.startEpoch = Double(Int.random(in: 1_700_000_000...1_700_000_100, using: &rng)) }
                sessions.append(s)
            }
            var first = FirstTimelines(limit: limit)
            let r = Record(kind: RecordKind("sftpplus.event"), file: "a.log", line: 1, raw: [], rawIsUTF8: true)
            for s in sessions.shuffled(using: &rng) { first.offer(s, key: SessionQuery.OrderKey(s), records: [(r, false)]) }
            let expected = Set(sessions.sorted { SessionQuery.OrderKey($0) < SessionQuery.OrderKey($1) }.prefix(limit).map(\.id))
            // Ties in the order may keep either of the tied sessions; their number is what counts then.
            let keys = sessions.map { SessionQuery.OrderKey($0) }.sorted()
            let tied = zip(keys, keys.dropFirst()).contains { !($0 < $1) }
            if tied {
                XCTAssertEqual(first.timelines.count, min(limit, count))
                XCTAssertEqual(first.sessions.count, min(limit, count))
            } else {
                XCTAssertEqual(Set(first.timelines.keys), expected, "round \(round)")
                // The sessions kept, in list order.
                XCTAssertEqual(first.sessions.map(\.id), sessions.sorted { SessionQuery.OrderKey($0) < SessionQuery.OrderKey($1) }.prefix(limit).map(\.id))
            }
        }
    }
}
