import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Writes and reads reconstructed sessions. A source's sessions are replaced
/// as a whole when the source changes (grown file), so ids stay stable.
public enum SessionStore {
    static func replace(_ db: Database, sourceID: Int64, with sessions: [SessionTimeline], zone: TimeZone) throws {
        try deleteAll(db, sourceID: sourceID)
        try insert(db, sourceID: sourceID, sessions)
    }

    /// The tables holding sessions' child rows, keyed by `session_row` (`SessionRowKeys`).
    static let childTables = ["operation_rows", "finding_rows", "offer_rows", "evidence_rows"]

    static func deleteAll(_ db: Database, sourceID: Int64) throws {
        try db.execute(sql: "UPDATE record_rows SET session_key = NULL, session_duplicate = 0 WHERE \(RecordLineMap.rowsOf("record_rows", source: "?1")) AND session_key IS NOT NULL",
                       arguments: [sourceID])
        for table in childTables {
            try db.execute(sql: "DELETE FROM \(table) WHERE session_row IN (SELECT rowid FROM session_rows WHERE source_id = ?)", arguments: [sourceID])
        }
        try db.execute(sql: "DELETE FROM session_rows WHERE source_id = ?", arguments: [sourceID])
    }

    /// Marks the records of sessions built after their records were stored
    /// (OpenSSH runs, resumed sources) with their session.
    static func assignRecords(_ db: Database, sourceID: Int64, _ sessions: [SessionTimeline]) throws {
        let one = try db.cachedStatement(sql: "UPDATE record_rows SET session_key = ?1, session_duplicate = ?2 WHERE \(RecordLineMap.rowAt("record_rows", source: "?3", line: "?4", seq: "?5"))")
        // Runs of consecutive lines (one record each, same duplicate flag) in one
        // statement: an OpenSSH transcript is mostly one run, not one UPDATE per line.
        let range = try db.cachedStatement(sql: "UPDATE record_rows SET session_key = ?1, session_duplicate = ?2 "
            + "WHERE \(RecordLineMap.rowsOn("record_rows", source: "?3", from: "?4", to: "?5")) AND seq = 0")
        // The session's span of record ids grows by the rows just marked.
        let widen = try db.cachedStatement(sql: """
            UPDATE session_rows SET first_record_id = min(coalesce(first_record_id, m.a), m.a), last_record_id = max(coalesce(last_record_id, m.b), m.b)
            FROM (SELECT min(id) AS a, max(id) AS b FROM record_rows r WHERE \(RecordLineMap.rowsOn("r", source: "?1", from: "?2", to: "?3")) AND session_key = ?4) m
            WHERE session_rows.id = ?5 AND m.a IS NOT NULL
            """)
        for s in sessions {
            let key = CompactRecords.sessionKey(s.id.rawValue)
            var i = 0
            // A session continued across a rotation has records in several sources.
            let refs = s.records.filter { $0.sourceID == 0 || $0.sourceID == sourceID }
            while i < refs.count {
                let first = refs[i]
                var j = i
                while first.seq == 0, j + 1 < refs.count, refs[j + 1].seq == 0, refs[j + 1].line == refs[j].line + 1,
                      refs[j + 1].duplicate == first.duplicate { j += 1 }
                if j > i {
                    try range.run([key, .int(first.duplicate ? 1 : 0), .int(sourceID), .int(Int64(first.line)), .int(Int64(refs[j].line))], db)
                } else {
                    try one.run([key, .int(first.duplicate ? 1 : 0), .int(sourceID), .int(Int64(first.line)), .int(Int64(first.seq))], db)
                }
                i = j + 1
            }
            if let lo = refs.first?.line, let hi = refs.last?.line {
                try widen.run([.int(sourceID), .int(Int64(lo)), .int(Int64(hi)), key, .text(s.id.rawValue)], db)
            }
        }
    }

    /// A session's rows with every value rendered, so that the ingest's parsing
    /// thread does the formatting and the writer thread only binds.
    package struct PreparedSession: Sendable {
        /// `session_rows` row (`CompactSessions`); the source id (column 2) is filled in at insert.
        var session: [SQLValue]
        /// The source the session began in, when not the one its batch stores (a rotated log's earlier file).
        package mutating func began(inSource id: Int64) { session[1] = .int(id) }
        /// Child rows; the first value, the session's row number, is known at insert.
        var operations: [[SQLValue]]
        var findings: [[SQLValue]]
        var offered: [[SQLValue]]
        /// The session's evidence links: encoded at insert, where the source of a
        /// link into a later file of a rotated log is known by its name.
        var evidence: [EvidenceLink]
    }

    /// The session as storing and loading it gives it back, for answers made
    /// without a database (they must equal the same answer on one): `details`
    /// is stored as JSON, whose objects come back with their keys sorted, and
    /// times as text, read back into timestamps and instants.
    public static func storedForm(_ s: SessionTimeline) -> SessionTimeline {
        var out = storedTimes(s)
        if !s.details.isEmpty, case .object(let pairs)? = JSONValue.parse(Array(JSONValue.object(s.details).json.utf8)) {
            out.details = pairs
        }
        return out
    }

    /// `storedForm` but for `details`, left as they are: for answers that never
    /// read them (a report's summary, a trend), which spent a tenth of their
    /// time writing the details as JSON and reading them back.
    public static func storedTimes(_ s: SessionTimeline) -> SessionTimeline {
        var out = s
        // Rendered and read back as the store writes and reads them, in stack buffers
        // (the Strings and arrays of each round trip were most of this).
        let utc = { (e: Double?, ts: LogTimestamp?) -> Double? in
            e.flatMap { LogTimestamp.withUTCISO($0, fractionDigits: ts?.fractionCount ?? 0, SessionQuery.epoch) }
        }
        out.start = s.start.flatMap { $0.withISO(SessionQuery.parseTimestamp) }
        out.end = s.end.flatMap { $0.withISO(SessionQuery.parseTimestamp) }
        out.startEpoch = utc(s.startEpoch, s.start)
        out.endEpoch = utc(s.endEpoch, s.end)
        return out
    }

    /// Sessions as rows to insert; with `terms`, texts seen before become term
    /// ids (`CompactSessions`), and `used` gets the ids the rows use.
    package static func prepare(_ sessions: [SessionTimeline], terms: TermDictionary, used: inout Set<Int64>) -> [PreparedSession] {
        sessions.map { s in
            var p = prepare(s) { row in
                terms.withTerms { t in
                    CompactSessions.row(row, start: s.start, end: s.end) { text in
                        let id = t.whole(text)
                        if let id { used.insert(id) }
                        return id
                    }
                }
            }
            // Paths, details and algorithm names repeat from session to session.
            if !p.operations.isEmpty || !p.findings.isEmpty {
                terms.withTerms { t in
                    func compact(_ rows: inout [[SQLValue]], _ columns: [Int]) {
                        for r in rows.indices {
                            for c in columns {
                                guard case .text(let text) = rows[r][c], let id = t.whole(text) else { continue }
                                rows[r][c] = .int(id)
                                used.insert(id)
                            }
                        }
                    }
                    compact(&p.operations, CompactSessionRows.operationTerms)
                    compact(&p.findings, CompactSessionRows.findingTerms)
                }
            }
            return p
        }
    }

    package static func prepare(_ sessions: [SessionTimeline]) -> [PreparedSession] {
        sessions.map { s in prepare(s) { CompactSessions.row($0, start: s.start, end: s.end) } }
    }

    /// `compact` makes the `session_rows` row of the session's `sessions` row.
    private static func prepare(_ s: SessionTimeline, compact: ([SQLValue]) -> [SQLValue]) -> PreparedSession {
        let n = s.negotiated
        let utc = { (e: Double?, ts: LogTimestamp?) in e.map { LogTimestamp.utcISO($0, fractionDigits: ts?.fractionCount ?? 0) } }
        let session: [SQLValue] = [
            .text(s.id.rawValue), .null, .text(s.source), .text(s.side), .text(s.file), SQLValue(s.peer?.address), SQLValue(s.peer?.port),
            SQLValue(s.user), SQLValue(s.component), SQLValue(s.location), SQLValue(s.start?.iso), SQLValue(s.end?.iso),
            SQLValue(utc(s.startEpoch, s.start)), SQLValue(utc(s.endEpoch, s.end)), SQLValue(s.duration), .text(s.outcome.rawValue),
            SQLValue(s.outcomeDetail), SQLValue(s.clientVersion), SQLValue(s.serverVersion), SQLValue(n.kex), SQLValue(n.hostkey),
            SQLValue(n.cipherC2S), SQLValue(n.cipherS2C), SQLValue(n.macC2S), SQLValue(n.macS2C), SQLValue(n.compressionC2S),
            SQLValue(n.compressionS2C), SQLValue(s.strictKex), .text(JSONValue.array(s.authMethodsTried.map(JSONValue.string)).json),
            SQLValue(s.authSucceededMethod), .int(Int64(s.authFailures)), SQLValue(s.hostKeyCheck), SQLValue(s.terrapinVulnerable),
            SQLValue(s.terrapinExplanation), SQLValue(s.gexBits), .int(Int64(s.eventCount)),
            .int(Int64(s.operations.filter { $0.op.isFileTransfer }.count)), .int(Int64(s.bytesUp)), .int(Int64(s.bytesDown)),
            .int(Int64(s.firstLine)), .int(Int64(s.lastLine)), SQLValue(s.details.isEmpty ? nil : JSONValue.object(s.details).json),
            SQLValue(s.closed), .null, .null,  // the span of its records' ids, known at insert (`SessionSpans`)
        ]
        let operations = s.operations.enumerated().map { (k, o) -> [SQLValue] in
            [.null, .int(Int64(k)), .text(o.op.rawValue), .text(o.path), SQLValue(o.ok), SQLValue(o.bytes), SQLValue(o.seconds),
             SQLValue(o.bytesPerSecond), SQLValue(o.to), SQLValue(o.local), SQLValue(o.detail), .int(Int64(o.line))] + CompactSessionRows.time(o.ts)
        }
        let findings = s.findings.enumerated().map { (k, f) -> [SQLValue] in
            [.null, .int(Int64(k)), .text(f.algorithm), .text(f.category.rawValue), SQLValue(f.direction), .text(f.rating.rawValue),
             .text(f.reason), .text(f.reference)]
        }
        // A row per slot with a list (`offer_rows`), in slot order.
        let offered = s.serverOffer.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { slot, names -> [SQLValue] in
            [.null, .text("server"), .text(slot), .text(JSONValue.array(names.map(JSONValue.string)).json)]
        }
        return PreparedSession(session: compact(session), operations: operations, findings: findings, offered: offered, evidence: s.evidence)
    }

    /// Adds sessions (closed ones are stored with each ingest batch).
    static func insert(_ db: Database, sourceID: Int64, _ sessions: [SessionTimeline]) throws {
        try insert(db, sourceID: sourceID, prepare(sessions))
    }

    /// `provisionalFrom`: the index of the first session stored provisionally
    /// (as it stood at the end of a rotated log's file; stored again, whole,
    /// when it ends in a later file).
    static func insert(_ db: Database, sourceID: Int64, _ sessions: [PreparedSession], provisionalFrom: Int = .max,
                       spans: SessionSpans? = nil) throws {
        guard !sessions.isEmpty else { return }
        // `rowid` is left out: a session stored again gets a new number (`watch` finds it after its mark).
        let insert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO session_rows(\(CompactSessions.quotedColumns))
            VALUES (\(Array(repeating: "?", count: CompactSessions.columns.count).joined(separator: ",")))
            """)
        let sourceName = try db.cachedStatement(sql: "SELECT name FROM sources WHERE id = ?")
        let sourceNamed = try db.cachedStatement(sql: "SELECT max(id) FROM sources WHERE name = ?")
        var ids: [String: Int64] = [:]
        var names: [Int64: String] = [:]
        let children = try [
            db.cachedStatement(sql: "INSERT INTO operation_rows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
            // A finding's reason and reference are stored once, as their explanation's id.
            db.cachedStatement(sql: "INSERT INTO finding_rows VALUES (?,?,?,?,?,?,?)"),
            // A list of offered algorithms is stored once, as its id.
            db.cachedStatement(sql: "INSERT INTO offer_rows VALUES (?,?,?,?)"),
            db.cachedStatement(sql: "INSERT INTO evidence_rows VALUES (?, ?)"),
        ]
        // The ids of explanations and lists by their texts, found or added once
        // per call (a row per finding and an INSERT…SELECT, which opens a
        // statement journal, cost the writer a third of its session time). They
        // are never deleted, and a failure throws out of this call, so no id
        // kept here can name a row rolled back.
        var shared: [[String]: Int64] = [:]
        let explanation = try db.cachedStatement(sql: "INSERT INTO finding_explanations(reason, reference) VALUES (?, ?) ON CONFLICT DO NOTHING")
        let explanationID = try db.cachedStatement(sql: "SELECT id FROM finding_explanations WHERE reason = ? AND reference = ?")
        let offerList = try db.cachedStatement(sql: "INSERT INTO offer_lists(algorithms) VALUES (?) ON CONFLICT DO NOTHING")
        let offerListID = try db.cachedStatement(sql: "SELECT id FROM offer_lists WHERE algorithms = ?")
        func sharedID(_ values: ArraySlice<SQLValue>, add: Statement, find: Statement) throws -> SQLValue {
            let texts = values.map { v -> String in if case .text(let t) = v { return t }; return "" }
            if let id = shared[texts] { return .int(id) }
            try add.run(Array(values), db)
            guard let id = try find.firstRow(Array(values), db, { Statement.int64($0, 0) }) ?? nil else {
                throw DatabaseError(message: "\(texts) was not stored")
            }
            shared[texts] = id
            return .int(id)
        }
        let deleteRows = try childTables.map { try db.cachedStatement(sql: "DELETE FROM \($0) WHERE session_row = ?") }
        let stored = try db.cachedStatement(sql: "SELECT first_record_id, last_record_id, rowid FROM session_rows WHERE id = ?")
        for (k, s) in sessions.enumerated() {
            var row = s.session
            // Unless the session began in an earlier file of a rotated log.
            if case .null = row[CompactSessions.sourceID] { row[CompactSessions.sourceID] = .int(sourceID) }
            try CompactSessions.dropFile(&row) { source in
                if let n = names[source] { return n }
                let n = try String.fetchOne(sourceName, arguments: [source]) ?? ""
                names[source] = n
                return n
            }
            guard case .text(let id) = s.session[0] else { continue }
            // The ids of its records written in this run, and of those already stored.
            var span = spans?.take(CompactRecords.sessionKey(id), keeping: k >= provisionalFrom)
            let old = try stored.firstRow([.text(id)], db) { s in (first: Statement.int64(s, 0), last: Statement.int64(s, 1), row: sqlite3_column_int64(s, 2)) }
            if let old { span = SessionSpans.union(span, (old.first, old.last)) }
            if let span { row[CompactSessions.firstRecordID] = .int(span.first); row[CompactSessions.lastRecordID] = .int(span.last) }
            // A session stored again replaces the old one whole.
            if let old {
                for d in deleteRows { try d.execute(arguments: [old.row]) }
            }
            try insert.run(row, db)
            let key = SQLValue.int(db.lastInsertedRowID)
            // A link into another file (the sessions streamed while a rotated log is read
            // know it by name) names that file's source: the latest stored under the name.
            var links = s.evidence
            for k in links.indices where links[k].sourceID == 0 {
                guard let file = links[k].file else { continue }
                if ids[file] == nil { ids[file] = try Int64.fetchOne(sourceNamed, arguments: [file]) ?? 0 }
                links[k].sourceID = ids[file] ?? 0
            }
            let evidence: [[SQLValue]] = [[key, .text(EvidenceRows.encode(links))]]
            for (t, list) in [s.operations, s.findings, s.offered, evidence].enumerated() {
                for var values in list {
                    if t == 1 { values = Array(values[..<6]) + [try sharedID(values[6...7], add: explanation, find: explanationID)] }
                    if t == 2 { values[3] = try sharedID(values[3...3], add: offerList, find: offerListID) }
                    values[0] = key
                    try children[t].run(values, db)
                }
            }
        }
    }
}

/// The first and last `record_rows` id of each session's records written in
/// this run, for its row (`first_record_id`, `last_record_id`): a session's
/// records are read back by that range of ids, with no index on `session_key`
/// (16 MB for the 1M-line log, 27 MB for 10,000 transcripts). A session's
/// span is kept until the session is stored for good.
// Not Sendable: used only on the thread that writes its connection.
package final class SessionSpans {
    private var numbers: [Int64: Span] = [:]
    private var texts: [String: Span] = [:]
    package typealias Span = (first: Int64, last: Int64)
    package init() {}

    /// A record of the session was written under row id `id`.
    func note(number: Int64, id: Int64) { SessionSpans.widen(&numbers, number, id) }

    func note(text: String, id: Int64) { SessionSpans.widen(&texts, text, id) }

    private static func widen<K: Hashable>(_ spans: inout [K: Span], _ key: K, _ id: Int64) {
        spans[key] = spans[key].map { (min($0.first, id), max($0.last, id)) } ?? (id, id)
    }

    /// The span of the session stored as `key`; kept when the session is stored
    /// again later (provisionally stored, its log going on).
    func take(_ key: SQLValue, keeping: Bool) -> Span? {
        switch key {
        case .int(let n): return keeping ? numbers[n] : numbers.removeValue(forKey: n)
        case .text(let t): return keeping ? texts[t] : texts.removeValue(forKey: t)
        default: return nil
        }
    }

    static func union(_ a: Span?, _ b: (Int64?, Int64?)) -> Span? {
        guard let bf = b.0, let bl = b.1 else { return a }
        guard let a else { return (bf, bl) }
        return (min(a.first, bf), max(a.last, bl))
    }
}
