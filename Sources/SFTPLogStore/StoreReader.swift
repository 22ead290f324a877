import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// What the answering commands read, inside one read transaction of a
/// `LogStore`: every call sees the same snapshot. The SQL stays here; callers
/// get sessions, records and counts.
public struct StoreReader {
    let db: Database

    // MARK: Sessions

    /// Stored sessions matching `filter`, in output order. `withOperations: false`
    /// skips file operations, `withFindings: false` stored findings, and
    /// `withDetails: false` leaves `details` empty.
    public func sessions(_ filter: SessionFilter = SessionFilter(), withTimeline: Bool = false, withOperations: Bool = true,
                         withFindings: Bool = true, withDetails: Bool = true) throws -> [SessionTimeline] {
        try SessionQuery.load(db, filter: filter, withTimeline: withTimeline, withOperations: withOperations,
                              withFindings: withFindings, withDetails: withDetails)
    }

    /// These sessions, whole (operations too), in output order: one read of the
    /// sessions table, not one per session.
    public func sessions(ids: [SessionID]) throws -> [SessionTimeline] {
        guard !ids.isEmpty else { return [] }
        var filter = SessionFilter()
        filter.extra = ("id IN (SELECT value FROM json_each(?))", [.text(SessionQuery.idsJSON(ids.map(\.rawValue)))])
        return try sessions(filter)
    }

    /// `sessions --json` from this connection (an in-memory store too), as `SessionExport.write(path:)` writes it.
    @discardableResult
    public func exportSessions(filter: SessionFilter, framing: SessionExport.Framing, withTimeline: Bool, withEvidence: Bool = false,
                               to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        try SessionExport.write(db, filter: filter, framing: framing, withTimeline: withTimeline, withEvidence: withEvidence, to: sink)
    }

    /// The evidence links of these sessions (file and record id filled in); a
    /// session stored before links were kept (v15) is missing from the answer.
    /// `facts`: only those (nil: all).
    public func evidence(_ ids: [SessionID], facts: Set<EvidenceFact>? = nil) throws -> [SessionID: [EvidenceLink]] {
        var out: [SessionID: [EvidenceLink]] = [:]
        for (id, links) in try EvidenceRows.links(db, ids: ids.map(\.rawValue), facts: facts) { out[SessionID(id)] = links }
        return out
    }

    /// Byte offsets of the records the stored evidence of these sources' sessions
    /// links, by source and line (`EvidenceRows.offsets`).
    public func evidenceOffsets(sessionsOf sources: [Int64]) throws -> [Int64: [Int: Int64]] {
        try EvidenceRows.offsets(db, sessionsOf: sources)
    }

    /// Every source's id, in the order they were stored.
    public func sourceIDs() throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM sources ORDER BY id")
    }

    /// The ids of the sources stored after this id, in order.
    public func sourceIDs(after id: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM sources WHERE id > ? ORDER BY id", arguments: [id])
    }

    /// The sessions written after `mark` (a `session_rows` rowid: a session
    /// written again, `INSERT OR REPLACE`, gets a new one), by source, and the
    /// mark for the next call.
    public func sessionsWritten(after mark: Int64) throws -> (bySource: [Int64: [String]], mark: Int64) {
        var out: [Int64: [String]] = [:]
        var last = mark
        for row in try Row.fetchAll(db, sql: "SELECT rowid, source_id, id FROM session_rows WHERE rowid > ? ORDER BY rowid", arguments: [mark]) {
            last = row[0]
            out[row[1], default: []].append(row[2])
        }
        return (out, last)
    }

    /// The id of the latest source stored under this name.
    public func sourceID(named name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT max(id) FROM sources WHERE name = ?", arguments: [name])
    }

    /// The exact bytes of these records (`records.raw`), by id.
    public func rawRecords(_ ids: [Int64]) throws -> [Int64: [UInt8]] {
        var out: [Int64: [UInt8]] = [:]
        for id in Set(ids) {
            if let raw = try Data.fetchOne(db, sql: "SELECT raw FROM records WHERE id = ?", arguments: [id]) { out[id] = [UInt8](raw) }
        }
        return out
    }

    /// A session's records in log order; `duplicate` marks a record another session also claims.
    public func timeline(_ s: SessionTimeline) throws -> [(record: SFTPLogRecords.Record, duplicate: Bool)] {
        try SessionQuery.timeline(db, s)
    }

    /// What `watch` learns from the past, one stored session at a time: who
    /// logged in when and with which client, and which host keys servers showed.
    public struct SessionHistoryRow {
        public var side: String, user: String?, authenticated: Bool, clientVersion: String?, startEpoch: Double?
        public var host: String?, hostPort: Int?, hostKeyType: String?, hostKeyFingerprint: String?
    }

    public func forEachSessionHistory(_ body: (SessionHistoryRow) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT side, "user", auth_succeeded_method IS NOT NULL, client_version, start_utc,
                   CASE WHEN source = 'openssh' THEN coalesce(json_extract(details, '$.peer.host'), peer_address) END,
                   CASE WHEN source = 'openssh' THEN coalesce(json_extract(details, '$.peer.port'), peer_port) END,
                   CASE WHEN source = 'openssh' THEN json_extract(details, '$.hostkey.type') END,
                   CASE WHEN source = 'openssh' THEN json_extract(details, '$.hostkey.fingerprint') END
            FROM sessions
            """)
        while let r = try rows.next() {
            let start: String? = r[4]
            try body(SessionHistoryRow(side: r[0], user: r[1], authenticated: r[2], clientVersion: r[3],
                                       startEpoch: start.flatMap(StoreReader.utcEpoch), host: r[5], hostPort: r[6], hostKeyType: r[7],
                                       hostKeyFingerprint: r[8]))
        }
    }

    /// `start_utc` as stored (`YYYY-MM-DDTHH:MM:SS[.fff]Z`) to seconds since 1970.
    static func utcEpoch(_ s: String) -> Double? {
        let b = Array(s.utf8)
        return b.withUnsafeBufferPointer { p in TimestampScanner.iso(p, at: 0)?.0.epoch(in: TimeZone(identifier: "UTC")!) }
    }

    /// The few columns a summary counts, one session at a time in output order.
    public struct SessionSummaryRow {
        public var user: String?, peerAddress: String?, outcome: SessionOutcome, clientVersion: String?
        public var authFailures: Int, bytesUp: Int, bytesDown: Int
        public var start: LogTimestamp?, startEpoch: Double?, end: LogTimestamp?, endEpoch: Double?

        /// The row of a session that was never stored (give it `SessionStore.storedForm`'s times).
        public init(_ s: SessionTimeline) {
            self.init(user: s.user, peerAddress: s.peer?.address, outcome: s.outcome, clientVersion: s.clientVersion,
                      authFailures: s.authFailures, bytesUp: s.bytesUp, bytesDown: s.bytesDown,
                      start: s.start, startEpoch: s.startEpoch, end: s.end, endEpoch: s.endEpoch)
        }

        init(user: String?, peerAddress: String?, outcome: SessionOutcome, clientVersion: String?, authFailures: Int, bytesUp: Int,
             bytesDown: Int, start: LogTimestamp?, startEpoch: Double?, end: LogTimestamp?, endEpoch: Double?) {
            self.user = user; self.peerAddress = peerAddress; self.outcome = outcome; self.clientVersion = clientVersion
            self.authFailures = authFailures; self.bytesUp = bytesUp; self.bytesDown = bytesDown
            self.start = start; self.startEpoch = startEpoch; self.end = end; self.endEpoch = endEpoch
        }
    }

    public func forEachSessionSummary(_ filter: SessionFilter, _ body: (SessionSummaryRow) -> Void) throws {
        let (whereSQL, args) = SessionQuery.whereClause(filter)
        let r = try RawRows(db, sql: """
            SELECT start, start_utc, "end", end_utc, client_version, user, peer_address, outcome, auth_failures, bytes_up, bytes_down
            FROM sessions\(whereSQL)\(SessionQuery.outputOrder)
            """, arguments: args)
        while try r.next() {
            body(SessionSummaryRow(user: r.text("user"), peerAddress: r.text("peer_address"), outcome: r.text("outcome").flatMap(SessionOutcome.init(rawValue:)) ?? .incomplete,
                                   clientVersion: r.text("client_version"), authFailures: r.int("auth_failures") ?? 0,
                                   bytesUp: r.int("bytes_up") ?? 0, bytesDown: r.int("bytes_down") ?? 0,
                                   start: r.bytes("start").flatMap(SessionQuery.parseTimestamp), startEpoch: SessionQuery.epoch(r.bytes("start_utc")),
                                   end: r.bytes("end").flatMap(SessionQuery.parseTimestamp), endEpoch: SessionQuery.epoch(r.bytes("end_utc"))))
        }
    }

    // MARK: Negotiations (audit)

    static let negotiationColumns = ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c",
                                     "compression_c2s", "compression_s2c", "gex_bits", "strict_kex", "source"]
    static let hasServerOffer = "id IN (SELECT s.id FROM offer_rows o JOIN session_rows s ON s.rowid = o.session_row)"

    /// Each distinct negotiation (algorithms, group size, strict KEX, source) of
    /// the matching sessions whose server offer is not stored, as a session
    /// holding just those, with the number of sessions that share it.
    public func negotiations(_ filter: SessionFilter) throws -> [(negotiation: SessionTimeline, sessions: Int)] {
        let (whereSQL, args) = SessionQuery.whereClause(filter)
        let columns = StoreReader.negotiationColumns.joined(separator: ", ")
        // Grouped on the stored values first, then on their texts: the view looked
        // up every session's terms (0.44 s instead of 0.25 s for 63k sessions).
        // A text stored once as itself and then as a term makes two inner groups, one outer.
        let resolved = StoreReader.negotiationColumns.map { c in
            CompactSessions.termColumns.contains(c)
                ? CompactSessions.resolved("g.\(c)") + " AS \(c)" : "g.\(c)"
        }
        let matching = whereSQL.isEmpty ? "" : "id IN (SELECT id FROM sessions\(whereSQL)) AND "
        let groups = try RawRows(db, sql: """
            SELECT \(resolved.joined(separator: ", ")), sum(g.n) AS n FROM (
              SELECT \(columns), count(*) AS n FROM session_rows WHERE \(matching)NOT \(StoreReader.hasServerOffer) GROUP BY \(columns)
            ) g GROUP BY \(StoreReader.negotiationColumns.indices.map { String($0 + 1) }.joined(separator: ", "))
            """, arguments: args)
        var out: [(SessionTimeline, Int)] = []
        while try groups.next() {
            var s = SessionTimeline(source: groups.text("source") ?? "", side: "", file: "")
            s.negotiated = NegotiatedAlgorithms(kex: groups.text("kex"), hostkey: groups.text("hostkey"),
                                                cipherC2S: groups.text("cipher_c2s"), cipherS2C: groups.text("cipher_s2c"),
                                                macC2S: groups.text("mac_c2s"), macS2C: groups.text("mac_s2c"),
                                                compressionC2S: groups.text("compression_c2s"), compressionS2C: groups.text("compression_s2c"))
            s.gexBits = groups.int("gex_bits")
            s.strictKex = groups.bool("strict_kex")
            out.append((s, groups.int("n") ?? 0))
        }
        return out
    }

    /// The matching sessions that negotiated one of `negotiations` (as
    /// `negotiations(_:)` gave them) or whose server offer is stored, without
    /// operations, stored findings or `details` (an OpenSSH session's parsed
    /// proposals took 17 KB of memory each: 1.8 GB for 100,000 transcripts).
    public func sessions(_ filter: SessionFilter, negotiatedAsAnyOf negotiations: [SessionTimeline]) throws -> [SessionTimeline] {
        // `IS` matches NULL to NULL, as GROUP BY grouped them.
        let term = "(" + StoreReader.negotiationColumns.map { "\"\($0)\" IS ?" }.joined(separator: " AND ") + ")"
        var args: [SQLValue] = []
        for s in negotiations {
            args += [SQLValue(s.negotiated.kex), SQLValue(s.negotiated.hostkey), SQLValue(s.negotiated.cipherC2S),
                     SQLValue(s.negotiated.cipherS2C), SQLValue(s.negotiated.macC2S), SQLValue(s.negotiated.macS2C),
                     SQLValue(s.negotiated.compressionC2S), SQLValue(s.negotiated.compressionS2C), SQLValue(s.gexBits),
                     SQLValue(s.strictKex), .text(s.source)]
        }
        var f = filter
        f.extra = ((Array(repeating: term, count: negotiations.count) + [StoreReader.hasServerOffer]).joined(separator: " OR "), args)
        return try SessionQuery.load(db, filter: f, withOperations: false, withFindings: false, withDetails: false)
    }

    // MARK: Sources, records and the catalogue

    /// Every source in ingest order: its name, record count and inferred SFTPPlus versions.
    public func sources() throws -> [(name: String, records: Int, versions: String?)] {
        try Row.fetchAll(db, sql: "SELECT name, records, sftpplus_versions FROM sources ORDER BY id")
            .map { ($0["name"], $0["records"], $0["sftpplus_versions"]) }
    }

    public func recordCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM record_rows") ?? 0
    }

    /// Catalogue wordings in a failure group, as "id#variant".
    public func failureVariants() throws -> Set<String> {
        Set(try Row.fetchAll(db, sql: "SELECT event_id, variant FROM catalog_variants WHERE groups LIKE '%\"failure%'")
            .map { "\($0["event_id"] as String)#\($0["variant"] as Int)" })
    }

    /// The most frequent records of failure wordings: event ID, wording, count and one message.
    public func failureEventCounts(limit: Int) throws -> [(eventID: String, variant: Int?, count: Int, example: String?)] {
        // Only the records of failure wordings' IDs are read (through the event index), not every record.
        try Row.fetchAll(db, sql: """
            SELECT r.event_id, r.catalog_variant, count(*) AS n, CAST(min(r.message) AS BLOB) AS example FROM records r
            JOIN catalog_variants c ON c.event_id = r.event_id AND c.variant = r.catalog_variant
            WHERE c.groups LIKE '%"failure%'
              AND r.id IN (SELECT id FROM record_rows WHERE wording_id IN (
                SELECT w.id FROM record_wordings w JOIN catalog_variants f ON f.event_id = w.event_id AND f.variant = w.variant
                WHERE f.groups LIKE '%"failure%'))
            GROUP BY r.event_id, r.catalog_variant ORDER BY n DESC LIMIT ?
            """, arguments: [limit]).map { ($0["event_id"], $0["catalog_variant"], $0["n"], ($0["example"] as Data?).map { String(decoding: $0, as: UTF8.self) }) }
    }

    /// How the stored SFTPPlus records resolved against the catalogue.
    public func catalogStats() throws -> CatalogTable.Stats { try CatalogTable.stats(db) }

    /// The OpenSSH messages the stored transcripts hold, with their counts.
    public func opensshMessages() throws -> [(message: String, level: Int?, records: Int)] { try CatalogTable.opensshMessages(db) }

    // MARK: SQL from the user

    /// Runs one read-only statement (`sftplog query`): a statement that would
    /// change the database is refused before it runs.
    public func query(_ sql: String) throws -> QueryResult {
        let stmt: Statement
        do {
            stmt = try db.makeStatement(sql: sql)
        } catch let e as DatabaseError {
            // A write into `records` (a view) fails to compile rather than being refused as a write.
            if e.message?.hasSuffix("because it is a view") == true {
                throw StoreError.readOnlyViolation("the database is opened read-only; statements that change it are refused")
            }
            throw QueryError.invalid(e.message ?? "\(e)")
        }
        guard stmt.isReadonly else {
            throw StoreError.readOnlyViolation("the database is opened read-only; statements that change it are refused")
        }
        // Stepped by hand: GRDB's rows cut a text at a NUL, and log text can hold one.
        let s = stmt.sqliteStatement
        let n = sqlite3_column_count(s)
        var rows: [[QueryValue]] = []
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw QueryError.invalid(String(cString: sqlite3_errmsg(db.sqliteConnection))) }
            rows.append((0..<n).map { i in
                switch sqlite3_column_type(s, i) {
                case SQLITE_NULL: return .null
                case SQLITE_INTEGER: return .integer(sqlite3_column_int64(s, i))
                case SQLITE_FLOAT: return .real(sqlite3_column_double(s, i))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(s, i))
                    guard count > 0, let p = sqlite3_column_blob(s, i) else { return .blob([]) }
                    return .blob(Array(UnsafeRawBufferPointer(start: p, count: count)))
                default:
                    guard let p = sqlite3_column_text(s, i) else { return .text("") }
                    return .text(String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))), as: UTF8.self))
                }
            })
        }
        return QueryResult(columns: stmt.columnNames, rows: rows)
    }
}

/// The rows of a user's SQL statement.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[QueryValue]]

    package init(columns: [String], rows: [[QueryValue]]) { self.columns = columns; self.rows = rows }
}

/// One value of a query's row, as SQLite stored it.
public enum QueryValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

}

public enum QueryError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let m): return "SQL error: \(m)" }
    }
}
