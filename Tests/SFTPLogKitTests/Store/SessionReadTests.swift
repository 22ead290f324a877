import Foundation
import GRDB
import XCTest
@testable import SFTPLogKit

/// The fast read paths (raw column reads, the stored-JSON parser, the tree-free
/// session JSON writer, judging each distinct negotiation once) must give what
/// the general paths give, on every bundled sample.
final class SessionReadTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("samples.db").path }

    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func ingestSamples() throws -> DatabaseQueue {
        let r = try CLI.run(["ingest", "--db", db, "-q", Paths.samples.path])
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)  // 2: the invalid-UTF-8 sample keeps unparsed lines
        return try LogStore.openForReading(db)
    }

    func testSessionJSONWriterMatchesValueTree() throws {
        let q = try ingestSamples()
        try q.read { db in
            let sessions = try SessionQuery.load(db)
            XCTAssertGreaterThan(sessions.count, 30)
            XCTAssertTrue(sessions.contains { !$0.operations.isEmpty && !$0.findings.isEmpty && !$0.details.isEmpty })
            for s in sessions {
                let timeline = try SessionQuery.timeline(db, s)
                for t in [nil, timeline] {
                    var direct = JSONBytes()
                    SessionJSON.write(s, timeline: t, to: &direct)
                    var tree = JSONBytes()
                    tree.value(SessionJSON.object(s, timeline: t))
                    XCTAssertEqual(direct.text, tree.text, "session \(s.id)")
                }
            }
        }
    }

    func testStoredJSONParsesLikeFoundation() throws {
        let q = try ingestSamples()
        let texts = try q.read { db in
            try String.fetchAll(db, sql: """
                SELECT details FROM sessions WHERE details IS NOT NULL UNION ALL SELECT auth_methods_tried FROM sessions
                UNION ALL SELECT fields FROM records WHERE fields IS NOT NULL UNION ALL SELECT extra FROM records WHERE extra IS NOT NULL
                """)
        }
        XCTAssertGreaterThan(texts.count, 500)
        for t in texts { XCTAssertEqual(JSONValue.parseStored(Array(t.utf8)), JSONValue.parse(Array(t.utf8)), t) }
        // Shapes the fast path hands to Foundation, and shapes both refuse.
        for t in [#"{"b":1.5,"a":"\u00e9\n","a":2}"#, #"[1e3,-0,"x\"y"]"#, #"{"n":12345678901234567890}"#, "[01]", #"{"a":}"#, "[1,]", #""\u0001""#, "\"a\u{1}\""] {
            XCTAssertEqual(JSONValue.parseStored(Array(t.utf8)), JSONValue.parse(Array(t.utf8)), t)
        }
    }

    func testJudgingOncePerNegotiationMatchesJudgingEach() throws {
        let q = try ingestSamples()
        var once = try q.read { try SessionQuery.load($0, withOperations: false) }
        var each = once
        let judge = SessionJudge(policy: try AlgorithmPolicy.bundled(overrides: []))
        judge.judgeAll(&once)
        for i in each.indices { judge.judge(&each[i]) }
        XCTAssertTrue(once.contains { !$0.findings.isEmpty })
        for (a, b) in zip(once, each) {
            XCTAssertEqual(a.findings, b.findings, a.id)
            XCTAssertEqual(a.terrapinVulnerable, b.terrapinVulnerable, a.id)
            XCTAssertEqual(a.terrapinExplanation, b.terrapinExplanation, a.id)
        }
    }

    func testSummaryTotalsWithoutOperationsMatchOperations() throws {
        let q = try ingestSamples()
        let (full, light) = try q.read { db in (try SessionQuery.load(db), try SessionQuery.load(db, withOperations: false)) }
        XCTAssertTrue(full.contains { $0.bytesUp + $0.bytesDown > 0 })
        XCTAssertEqual(full.map(\.bytesUp), light.map(\.bytesUp))
        XCTAssertEqual(full.map(\.bytesDown), light.map(\.bytesDown))
        XCTAssertTrue(light.allSatisfy(\.operations.isEmpty))
    }
}
