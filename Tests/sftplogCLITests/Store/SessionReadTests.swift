import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogSessions
@testable import SFTPLogStore
@testable import SFTPLogReport

/// The fast read paths (raw column reads, the stored-JSON parser, the tree-free
/// session JSON writer, judging each distinct negotiation once) must give what
/// the general paths give, on every bundled sample.
final class SessionReadTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("samples.db").path }

    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func generatedLog(lines: Int, seed: Int) throws -> String { try Paths.generatedLog(lines: lines, seed: seed, in: dir) }

    /// The samples plus a generated busy server's log (many sessions share a negotiation).
    func ingestSamplesAndGenerated(lines: Int, seed: Int) throws -> DatabaseQueue {
        let generated = try generatedLog(lines: lines, seed: seed)
        let q = try ingestSamples()
        let r = try CLI.run(["ingest", "--db", db, "-q", generated])
        XCTAssertEqual(r.status, 0, r.stderr)
        return q
    }

    func ingestSamples() throws -> DatabaseQueue {
        let r = try CLI.run(["ingest", "--db", db, "-q", Paths.samples.path])
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)  // 2: the invalid-UTF-8 sample keeps unparsed lines
        return try LogStore.openForReading(db).queue
    }

    func testJSONFromRowsMatchesValueTree() throws {
        let q = try ingestSamples()
        try q.read { db in
            let sessions = try SessionQuery.load(db)
            XCTAssertGreaterThan(sessions.count, 30)
            XCTAssertTrue(sessions.contains { !$0.operations.isEmpty && !$0.findings.isEmpty && !$0.details.isEmpty })
            XCTAssertTrue(sessions.contains { $0.terrapinExplanation != nil })
            for timeline in [false, true] {
                let out = Collected()
                XCTAssertEqual(try SessionExport.write(db, filter: SessionFilter(), framing: .lines, withTimeline: timeline) { out.add($0) },
                               sessions.count)
                let lines = out.bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
                XCTAssertEqual(lines.count, sessions.count)
                for (line, s) in zip(lines, sessions) {
                    var tree = JSONBytes()
                    tree.value(SessionJSON.object(s, timeline: timeline ? try SessionQuery.timeline(db, s) : nil))
                    XCTAssertEqual(String(decoding: line, as: UTF8.self), tree.text, "session \(s.id)")
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
        for t in texts { XCTAssertEqual(JSONValue.parse(Array(t.utf8)), JSONValue.parse(Array(t.utf8)), t) }
        // Shapes the fast path hands to Foundation, and shapes both refuse.
        for t in [#"{"b":1.5,"a":"\u00e9\n","a":2}"#, #"[1e3,-0,"x\"y"]"#, #"{"n":12345678901234567890}"#, "[01]", #"{"a":}"#, "[1,]", #""\u0001""#, "\"a\u{1}\""] {
            XCTAssertEqual(JSONValue.parse(Array(t.utf8)), JSONValue.parse(Array(t.utf8)), t)
        }
    }

    func testJudgingOncePerNegotiationMatchesJudgingEach() throws {
        let q = try ingestSamples()
        var once = try q.read { try SessionQuery.load($0, withOperations: false) }
        var each = once
        let judge = SessionJudge(policy: try AlgorithmPolicy.bundled(overrides: []))
        let memo = SessionJudge.Memo(judge)
        for i in once.indices { memo.judge(&once[i]) }
        for i in each.indices { judge.judge(&each[i]) }
        XCTAssertTrue(once.contains { !$0.findings.isEmpty })
        for (a, b) in zip(once, each) {
            XCTAssertEqual(a.findings, b.findings, a.id.rawValue)
            XCTAssertEqual(a.terrapinVulnerable, b.terrapinVulnerable, a.id.rawValue)
            XCTAssertEqual(a.terrapinExplanation, b.terrapinExplanation, a.id.rawValue)
        }
    }

    func testAuditOfFlaggedNegotiationsEqualsJudgingEverySession() throws {
        // The samples plus a generated server log: many sessions share a negotiation.
        let q = try ingestSamplesAndGenerated(lines: 3000, seed: 1)
        let judge = SessionJudge(policy: try AlgorithmPolicy.bundled(overrides: []))
        var filters = [SessionFilter()]
        var weak = SessionFilter(); weak.weakOnly = true; filters.append(weak)
        var user = SessionFilter(); user.user = "alice"; filters.append(user)
        for filter in filters {
            for minRating in [Rating.info, .warn, .fail] {
                let (fast, full) = try q.read { db -> (AuditResult, AuditResult) in
                    var all = try SessionQuery.load(db, filter: filter, withOperations: false, withFindings: false)
                    for i in all.indices { judge.judge(&all[i]) }
                    // Every session with its evidence (the audit reads it for the flagged ones only).
                    let evidence = try StoreReader(db: db).evidence(all.map(\.id))
                    for i in all.indices { all[i].evidence = evidence[all[i].id] ?? [] }
                    XCTAssertTrue(all.contains { !$0.evidence.isEmpty })
                    return (try AuditLoad.audit(StoreReader(db: db), filter: filter, judge: SessionJudge.Memo(judge), minRating: minRating, policyName: "p"),
                            AuditResult(sessions: all, minRating: minRating, policyName: "p"))
                }
                XCTAssertGreaterThan(full.sessionsTotal, 0)
                XCTAssertEqual(fast.json.json, full.json.json, "min \(minRating)")
                XCTAssertEqual(fast.text(width: 100), full.text(width: 100))
            }
        }
    }

    func testExportInChunksEqualsLoadedSessions() throws {
        // Over 500 sessions, so `load` reads child tables whole while the export reads them by id.
        let q = try ingestSamplesAndGenerated(lines: 12000, seed: 4)
        var filters = [SessionFilter()]
        var weak = SessionFilter(); weak.weakOnly = true; filters.append(weak)
        var user = SessionFilter(); user.user = "alice"; filters.append(user)
        var none = SessionFilter(); none.user = "no-such-user"; filters.append(none)
        var openssh = SessionFilter(); openssh.source = "openssh"; filters.append(openssh)
        var timelinesCompared = 0
        for filter in filters {
            try q.read { db in
                let loaded = try SessionQuery.load(db, filter: filter)
                if filter.user == nil && !filter.weakOnly && filter.source == nil { XCTAssertGreaterThan(loaded.count, 500) }
                // Timelines cost a query per session: compared on the smaller selections.
                for timeline in loaded.count <= 300 ? [false, true] : [false] {
                    if timeline { timelinesCompared += loaded.count }
                    var array = JSONBytes(), lines = JSONBytes()
                    array.bytes.append(0x5B)
                    for (k, s) in loaded.enumerated() {
                        let t = timeline ? try SessionQuery.timeline(db, s) : nil
                        if k > 0 { array.bytes.append(0x2C) }
                        array.value(SessionJSON.object(s, timeline: t))
                        lines.value(SessionJSON.object(s, timeline: t))
                        lines.bytes.append(0x0A)
                    }
                    array.raw("]\n")
                    for (framing, expected) in [(SessionExport.Framing.array, array.bytes), (.lines, lines.bytes)] {
                        for chunk in [1, 7, 1000] {
                            let out = Collected()
                            let n = try SessionExport.write(db, filter: filter, framing: framing, withTimeline: timeline, chunkSize: chunk) { out.add($0) }
                            XCTAssertEqual(n, loaded.count)
                            XCTAssertEqual(out.bytes, expected, "\(framing) timeline \(timeline) chunk \(chunk)")
                        }
                        // Several connections, each rendering every other chunk, handed over in order.
                        for (readers, chunk) in [(2, 7), (3, 5), (2, 1000)] {
                            let out = Collected()
                            let n = try SessionExport.write(path: self.db, filter: filter, framing: framing, withTimeline: timeline,
                                                            readers: readers, chunkSize: chunk) { out.add($0) }
                            XCTAssertEqual(n, loaded.count)
                            XCTAssertEqual(out.bytes, expected, "\(framing) timeline \(timeline) \(readers) readers, chunk \(chunk)")
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(timelinesCompared, 10)
    }

    /// Several readers start on one snapshot only while no writer can commit:
    /// they hold writers off until all have begun, and read alone while one works.
    func testParallelReadersHoldOffWriters() throws {
        let q = try ingestSamples()
        let lockPath = WriterLock.lockPath(databasePath: db)
        let expected = Collected()
        let n = try q.read { try SessionExport.write($0, filter: SessionFilter(), framing: .array, withTimeline: false) { expected.add($0) } }
        XCTAssertGreaterThan(n, 30)

        guard let hold = WriterLock.holdOffWriters(databasePath: db) else { return XCTFail("no writer is at work: the hold must be granted") }
        let writer = open(lockPath, O_RDONLY)
        defer { close(writer) }
        XCTAssertNotEqual(flock(writer, LOCK_EX | LOCK_NB), 0, "a writer must wait while readers start")
        WriterLock.release(hold)
        XCTAssertEqual(flock(writer, LOCK_EX | LOCK_NB), 0, "released: the writer goes on")

        // A writer at work: no hold, and the export reads on one connection, with the same bytes.
        XCTAssertNil(WriterLock.holdOffWriters(databasePath: db))
        let out = Collected()
        XCTAssertEqual(try SessionExport.write(path: db, filter: SessionFilter(), framing: .array, withTimeline: false, readers: 2, chunkSize: 3) { out.add($0) }, n)
        XCTAssertEqual(out.bytes, expected.bytes)
        flock(writer, LOCK_UN)
        XCTAssertNotNil(WriterLock.holdOffWriters(databasePath: db).map { WriterLock.release($0) })
    }

    /// An ingest starting while readers begin waits for them without saying a
    /// writer is at work (they hold the lock file for milliseconds).
    func testWriterWaitsQuietlyForReadersStarting() throws {
        _ = try ingestSamples()
        guard let hold = WriterLock.holdOffWriters(databasePath: db) else { return XCTFail("no writer is at work: the hold must be granted") }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.02) { WriterLock.release(hold) }
        var said = false
        try WriterLock.acquire(databasePath: db, waiting: { said = true })
        XCTAssertFalse(said)
        XCTAssertNil(WriterLock.holdOffWriters(databasePath: db), "this process writes now: readers read on one connection")
    }

    /// Listings come in `outputOrder` (since v13 `sessions` is a view, sorted
    /// when listed: 63k sessions in about 0.1 s), the order `OrderKey` gives
    /// sessions in memory.
    func testSessionsAreListedInTheirOrder() throws {
        let q = try ingestSamples()
        let (listed, loaded) = try q.read { db in
            (try String.fetchAll(db, sql: "SELECT id FROM sessions" + SessionQuery.outputOrder), try SessionQuery.load(db))
        }
        XCTAssertGreaterThan(listed.count, 50)
        XCTAssertEqual(loaded.map(\.id.rawValue), listed)
        XCTAssertEqual(loaded.sorted { SessionQuery.OrderKey($0) < SessionQuery.OrderKey($1) }.map(\.id.rawValue), listed)
        // Not the order they were stored in.
        XCTAssertNotEqual(try q.read { try String.fetchAll($0, sql: "SELECT id FROM session_rows ORDER BY rowid") }, listed)
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var buffer: [UInt8] = []
        func add(_ b: [UInt8]) { lock.lock(); buffer += b; lock.unlock() }
        var bytes: [UInt8] { lock.lock(); defer { lock.unlock() }; return buffer }
    }

    func testReportSummaryFromSQLEqualsSummaryFromLoadedSessions() throws {
        let q = try ingestSamplesAndGenerated(lines: 20000, seed: 9)
        var filters = [SessionFilter()]
        var weak = SessionFilter(); weak.weakOnly = true; filters.append(weak)
        var peer = SessionFilter(); peer.peer = "192.0.2.55"; filters.append(peer)
        for filter in filters {
            var (fromSQL, fromSessions) = try q.read { db in
                (try ReportModel.build(StoreReader(db: db), filter: filter, catalog: Harness.catalog, withOperations: false),
                 try ReportModel.build(StoreReader(db: db), filter: filter, catalog: Harness.catalog, withOperations: true))
            }
            XCTAssertTrue(fromSQL.sessions.isEmpty)
            XCTAssertGreaterThan(fromSQL.sessionCount, 0)
            fromSQL.generatedAt = fromSessions.generatedAt
            XCTAssertEqual(ReportText(width: 100).render(fromSQL), ReportText(width: 100).render(fromSessions))
            XCTAssertEqual(ReportText().markdown(fromSQL), ReportText().markdown(fromSessions))
            XCTAssertEqual(ReportText.json(fromSQL).json, ReportText.json(fromSessions).json)
            // Read on two connections at once: the same summary.
            guard var parallel = try ReportModel.summary(path: db, filter: filter, catalog: Harness.catalog) else {
                return XCTFail("no writer is at work: the summary must be read on two connections")
            }
            parallel.generatedAt = fromSessions.generatedAt
            XCTAssertEqual(ReportText.json(parallel).json, ReportText.json(fromSessions).json)
            XCTAssertEqual(ReportText(width: 100).render(parallel), ReportText(width: 100).render(fromSessions))
        }
    }

    func testWholeTableReadsKeepEachSessionsOrder() throws {
        // Over 500 sessions: operations and findings are read in the order the views
        // give them, falling back to key order when a session's rows do not come in
        // position order.
        let generated = try generatedLog(lines: 20000, seed: 4)
        XCTAssertEqual(try CLI.run(["ingest", "--db", db, "-q", generated]).status, 0)
        func check(_ q: DatabaseQueue) throws {
            try q.read { db in
                let all = try SessionQuery.load(db)
                XCTAssertGreaterThan(all.count, 500)
                for s in all.prefix(40) + all.suffix(40) {
                    var one = SessionFilter(); one.sessionID = s.id.rawValue
                    let keyed = try SessionQuery.load(db, filter: one)
                    XCTAssertEqual(keyed.count, 1)
                    XCTAssertEqual(keyed[0].operations, s.operations, s.id.rawValue)
                    XCTAssertEqual(keyed[0].findings, s.findings, s.id.rawValue)
                }
            }
        }
        try check(try LogStore.openForReading(db).queue)
        // Rows are keyed by session and position, so only a query plan can bring
        // them in another order: SQLite's test switch reverses every unordered read.
        let q = try LogStore.openForReading(db).queue
        let moved = try q.read { db -> String in
            try String.fetchOne(db, sql: "SELECT session_id FROM session_operations GROUP BY session_id HAVING count(*) > 2 LIMIT 1")!
        }
        let unordered = "SELECT session_id, position FROM session_operations"
        let stored = try q.read { try Row.fetchAll($0, sql: unordered) }
        try q.inDatabase { try $0.execute(sql: "PRAGMA reverse_unordered_selects = ON") }
        XCTAssertEqual(try q.read { try Row.fetchOne($0, sql: unordered + " LIMIT 1") }, stored.last)
        try check(q)
        try q.read { db in
            var one = SessionFilter(); one.sessionID = moved
            let keyed = try SessionQuery.load(db, filter: one)[0]
            let fromAll = try SessionQuery.load(db).first { $0.id.rawValue == moved }!
            XCTAssertEqual(fromAll.operations, keyed.operations)
            XCTAssertGreaterThan(keyed.operations.count, 2)
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

/// Session rows are appended (rowid tables, key indexes built after bulk loads).
final class SessionTablesTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testUpgradeFromKeyedTablesKeepsEveryRow() throws {
        // A database as the v3 schema left it, holding the samples' sessions.
        let path = dir.appendingPathComponent("old.db").path
        let r = try CLI.run(["ingest", "--db", path, "-q", "--glob", "*.log", Paths.sample("openssh"), Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let tables = ["session_operations", "findings", "session_algorithms_offered"]
        func dump(_ q: DatabaseQueue) throws -> [String: [String]] {
            try q.read { db in
                var out: [String: [String]] = [:]
                for t in tables {
                    out[t] = try Row.fetchAll(db, sql: "SELECT * FROM \(t) ORDER BY 1, 2, 3, 4").map { $0.description }
                }
                return out
            }
        }
        let expected = try dump(try DatabaseQueue(path: path))
        XCTAssertGreaterThan(expected["session_operations"]!.count, 10)
        XCTAssertGreaterThan(expected["findings"]!.count, 10)
        XCTAssertGreaterThan(expected["session_algorithms_offered"]!.count, 10)
        let old = dir.appendingPathComponent("v3.db").path
        let q3 = try DatabaseQueue(path: old)
        try Schema.migrator.migrate(q3, upTo: "v3-sessions")
        try q3.write { db in
            try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
            try db.execute(sql: "ATTACH ? AS src", arguments: [path])
            for t in tables { try db.execute(sql: "INSERT INTO \(t) SELECT * FROM src.\(t)") }
            // Their sessions and sources, in the columns both have (since v18 a child row is keyed by its session's row).
            for t in ["sources", "sessions"] {
                let now = Set(try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'src')", arguments: [t]))
                let columns = try db.columns(in: t, in: "main").map(\.name).filter(now.contains).map { "\"\($0)\"" }.joined(separator: ", ")
                try db.execute(sql: "INSERT INTO main.\(t)(\(columns)) SELECT \(columns) FROM src.\(t)")
            }
        }
        try q3.close()
        XCTAssertTrue(try DatabaseQueue(path: old).read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_schema WHERE name = 'findings'")! }.contains("WITHOUT ROWID"))
        let upgraded = try LogStore.openForWriting(old).queue
        XCTAssertEqual(try dump(upgraded), expected)
        let (schemaSQL, indexes) = try upgraded.read { db in
            (try String.fetchAll(db, sql: "SELECT sql FROM sqlite_schema WHERE name IN ('session_operations', 'findings', 'session_algorithms_offered')"),
             Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'index'")))
        }
        XCTAssertEqual(schemaSQL.count, 3)
        XCTAssertFalse(schemaSQL.contains { $0.contains("WITHOUT ROWID") })
        for ix in Schema.sessionIndexes { XCTAssertTrue(indexes.contains(ix.name), ix.name) }
    }

    func testStoringASessionAgainReplacesItsRows() throws {
        let path = dir.appendingPathComponent("s.db").path
        let r = try CLI.run(["ingest", "--db", path, "-q", Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let q = try LogStore.openForWriting(path).queue
        func counts() throws -> [Int] {
            try q.read { db in try ["sessions", "session_operations", "findings"].map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)")! } }
        }
        let before = try counts()
        XCTAssertGreaterThan(before[1], 0)
        let sessions = try q.read { try SessionQuery.load($0) }
        try q.write { db in try SessionStore.insert(db, sourceID: sessions[0].sourceID, sessions) }
        XCTAssertEqual(try counts(), before)
        XCTAssertEqual(try q.read { try SessionQuery.load($0) }.map(\.operations), sessions.map(\.operations))
    }
}
