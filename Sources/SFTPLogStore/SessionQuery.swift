import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Reads stored sessions back, with the filters `sessions`/`report`/`audit` take.
/// Every filter value is bound, never interpolated into the SQL.
public struct SessionFilter: Sendable {
    public var user: String?
    public var peer: String?
    public var since: String?
    public var until: String?
    public var outcome: SessionOutcome?
    public var weakOnly = false
    public var sessionID: String?
    public var source: String?
    /// A further condition from inside the library (audit's negotiation sets).
    var extra: (sql: String, arguments: [SQLValue])?

    public init() {}
}

extension SessionFilter {
    /// Whether the filter selects a session that was never stored: `whereClause`
    /// for one session in memory (keep the two the same).
    public func matches(_ s: SessionTimeline) -> Bool {
        if let u = user, s.user != u { return false }
        if let p = peer {
            guard let a = s.peer?.address else { return false }
            if a != p && s.peer?.port.map({ "\(a):\($0)" }) != p { return false }
        }
        if since != nil || until != nil {
            guard let t = SessionQuery.startUTC(s).map({ Array($0.utf8) }) else { return false }
            if let since, t.lexicographicallyPrecedes(Array(since.utf8)) { return false }
            if let until, !t.lexicographicallyPrecedes(Array(until.utf8)) { return false }
        }
        if let o = outcome, s.outcome != o { return false }
        if let id = sessionID, !s.id.rawValue.hasPrefix(id) { return false }
        if let src = source, s.source != src { return false }
        if weakOnly, !SessionFilter.isWeak(s) { return false }
        return true
    }

    /// What `weakOnly` selects: a weak finding, or Terrapin.
    public static func isWeak(_ s: SessionTimeline) -> Bool {
        s.findings.contains { $0.rating.isWeak } || s.terrapinVulnerable == true
    }
}

public enum SessionQuery {
    /// The filter as a WHERE clause (empty when it selects everything), values bound.
    static func whereClause(_ filter: SessionFilter) -> (String, [SQLValue]) {
        var clauses: [String] = []
        var args: [SQLValue] = []
        if let u = filter.user { clauses.append("user = ?"); args.append(.text(u)) }
        if let p = filter.peer { clauses.append("(peer_address = ? OR peer_address || ':' || peer_port = ?)"); args += [.text(p), .text(p)] }
        if let s = filter.since { clauses.append("start_utc >= ?"); args.append(.text(s)) }
        if let u = filter.until { clauses.append("start_utc < ?"); args.append(.text(u)) }
        if let o = filter.outcome { clauses.append("outcome = ?"); args.append(.text(o.rawValue)) }
        // A prefix of the id, compared as text: `%` and `_` are no wildcards here.
        if let id = filter.sessionID { clauses.append("substr(id, 1, length(?)) = ?"); args += [.text(id), .text(id)] }
        if let src = filter.source { clauses.append("source = ?"); args.append(.text(src)) }
        if filter.weakOnly {
            clauses.append("(EXISTS (SELECT 1 FROM findings f WHERE f.session_id = sessions.id AND f.rating IN ('warn','fail','unknown')) OR terrapin_vulnerable = 1)")
        }
        if let extra = filter.extra { clauses.append("(\(extra.sql))"); args += extra.arguments }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), args)
    }

    /// `withOperations: false` skips file operations (audit does not show them;
    /// they are most of the rows of a busy server's sessions); `withFindings: false`
    /// skips stored findings (audit judges again with the effective policy);
    /// `withDetails: false` leaves `details` empty (summaries never show it).
    static func load(_ db: Database, filter: SessionFilter = SessionFilter(), withTimeline: Bool = false,
                            withOperations: Bool = true, withFindings: Bool = true, withDetails: Bool = true) throws -> [SessionTimeline] {
        let (whereSQL, args) = whereClause(filter)
        let sql = "SELECT \(SessionColumn.selectList), bytes_up, bytes_down FROM sessions" + whereSQL + outputOrder
        var sessions: [SessionTimeline] = []
        let rows = try RawRows(db, sql: sql, arguments: args)
        while try rows.next() {
            var s = session(rows, withDetails: withDetails)
            if !withOperations { s.storedTransferTotals = (rows.int("bytes_up") ?? 0, rows.int("bytes_down") ?? 0) }
            sessions.append(s)
        }
        guard !sessions.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: sessions.enumerated().map { ($1.id, $0) })
        // Operations and findings in a few queries, not one per session.
        let idList = sessions.map(\.id.rawValue)
        /// `body` adds a row to its session and returns that session's index. With
        /// `reset`, a whole-table read first goes in stored order (sequential pages; a
        /// session's rows are appended in position order), and only if some row says
        /// otherwise is the table read again by key (reading by key cost random page reads).
        func forEachRow(_ table: String, reset: (() -> Void)? = nil, _ body: (RawRows) -> Int?) throws {
            if sessions.count > 500 {
                if let reset {
                    var last = [Int](repeating: -1, count: sessions.count)
                    var ordered = true
                    // In stored order: the views scan their table's rows in rowid order.
                    let r = try RawRows(db, sql: "SELECT * FROM \(table)")
                    let position = r.position("position")
                    while try r.next() {
                        guard let i = body(r) else { continue }
                        let p = r.int(at: position) ?? -1
                        if p <= last[i] { ordered = false; break }
                        last[i] = p
                    }
                    if ordered { return }
                    reset()
                }
                let r = try RawRows(db, sql: "SELECT * FROM \(table) ORDER BY session_id, position")
                while try r.next() { _ = body(r) }
            } else {
                let r = try childRows(db, "SELECT * FROM \(table)", ids: idList)
                while try r.next() { _ = body(r) }
            }
        }
        // Column positions looked up once per table, not per row (hashing names was a tenth of the load).
        var opColumns: OperationColumns?, findingColumns: FindingColumns?
        if withOperations { try forEachRow("session_operations", reset: { for i in sessions.indices { sessions[i].operations = [] } }) { r in
            let c = opColumns ?? OperationColumns(r)
            opColumns = c
            guard let id = r.text(at: c.sessionID), let i = index[SessionID(id)] else { return nil }
            var op = SessionOperation(op: FileOperation(r.text(at: c.op) ?? ""), path: r.text(at: c.path) ?? "", ok: r.bool(at: c.ok), line: r.int(at: c.line) ?? 0,
                                      ts: r.bytes(at: c.ts).flatMap(parseTimestamp))
            op.bytes = r.int(at: c.bytes); op.seconds = r.double(at: c.seconds); op.bytesPerSecond = r.double(at: c.bytesPerSecond)
            op.to = r.text(at: c.to); op.local = r.text(at: c.local); op.detail = r.text(at: c.detail)
            sessions[i].operations.append(op)
            return i
        } }
        if withFindings { try forEachRow("findings", reset: { for i in sessions.indices { sessions[i].findings = [] } }) { r in
            let c = findingColumns ?? FindingColumns(r)
            findingColumns = c
            guard let id = r.text(at: c.sessionID), let i = index[SessionID(id)] else { return nil }
            // A category this build does not know (none is ever written) leaves the finding out.
            guard let category = r.text(at: c.category).flatMap(AlgorithmCategory.init(rawValue:)) else { return i }
            sessions[i].findings.append(Finding(algorithm: r.text(at: c.algorithm) ?? "", category: category, direction: r.text(at: c.direction),
                                                rating: r.text(at: c.rating).flatMap(Rating.init(rawValue:)) ?? .unknown, reason: r.text(at: c.reason) ?? "", reference: r.text(at: c.reference) ?? ""))
            return i
        } }
        // The lists behind `session_algorithms_offered`, each parsed once.
        var lists: [Int: [String]] = [:]
        let select = """
            SELECT s.id, o.slot, o.list_id, l.algorithms FROM offer_rows o JOIN session_rows s ON s.rowid = o.session_row
            JOIN offer_lists l ON l.id = o.list_id
            """
        let offers = sessions.count > 500 ? try RawRows(db, sql: select)
            : try RawRows(db, sql: select + " WHERE s.id IN (SELECT value FROM json_each(?))", arguments: [.text(SessionQuery.idsJSON(idList))])
        while try offers.next() {
            guard let id = offers.text(at: 0), let i = index[SessionID(id)], let listID = offers.int(at: 2) else { continue }
            let names: [String]
            if let known = lists[listID] {
                names = known
            } else {
                guard let text = offers.bytes(at: 3), case .array(let items)? = JSONValue.parse(text) else { continue }
                names = items.map { $0.textValue ?? "" }
                lists[listID] = names
            }
            sessions[i].serverOffer[offers.text(at: 1) ?? "", default: []] += names
        }
        if withTimeline {
            for i in sessions.indices {
                let r = try RawRows(db, sql: "SELECT line, seq, session_duplicate FROM record_rows WHERE \(recordsOfSession) ORDER BY line, seq",
                                    arguments: [.text(sessions[i].id.rawValue), CompactRecords.sessionKey(sessions[i].id.rawValue)])
                var refs: [RecordRef] = []
                while try r.next() {
                    refs.append(RecordRef(line: r.int(at: 0) ?? 0, seq: r.int(at: 1) ?? 0, duplicate: r.bool(at: 2) ?? false))
                }
                sessions[i].records = refs
            }
        }
        return sessions
    }

    /// The order sessions are listed in (`load`, `sessions --json`, the report
    /// summary); index `sessions_order` holds it (keep the two the same, and
    /// `OrderKey` for sessions that were never stored).
    static let outputOrder = " ORDER BY coalesce(start_utc, ''), file, first_line"

    /// `outputOrder` for a session in memory: the columns it would be stored with,
    /// compared as SQLite compares them (text byte by byte).
    public struct OrderKey: Comparable, Sendable {
        let startUTC: [UInt8], firstLine: Int
        /// Settable so that the keys of one file's sessions can share its bytes.
        package var file: [UInt8]

        /// Shares `last`'s bytes when the file is the same (keys held by the
        /// thousand for one file then hold one copy of its name); else becomes `last`.
        package mutating func shareFile(_ last: inout [UInt8]) {
            if file == last { file = last } else { last = file }
        }

        public init(_ s: SessionTimeline) {
            startUTC = Array((SessionQuery.startUTC(s) ?? "").utf8)
            file = Array(s.file.utf8)
            firstLine = s.firstLine
        }

        /// The key as bytes that `memcmp` (then length) orders as `<` orders keys,
        /// for keys set aside on disk: the time and the file each with bytes 0 and
        /// 1 escaped (as 1 1 and 1 2) and ended by 0, then the line big-endian.
        package var orderBytes: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(startUTC.count + file.count + 12)
            for part in [startUTC, file] { Self.appendOrdered(part, to: &out) }
            withUnsafeBytes(of: (UInt64(bitPattern: Int64(firstLine)) ^ (1 << 63)).bigEndian) { out += $0 }
            return out
        }

        /// `part` appended so that what follows it cannot change its order: bytes
        /// 0 and 1 escaped (as 1 1 and 1 2), then 0.
        package static func appendOrdered(_ part: [UInt8], to out: inout [UInt8]) {
            for b in part {
                if b < 2 { out.append(1); out.append(b + 1) } else { out.append(b) }
            }
            out.append(0)
        }

        public static func < (a: OrderKey, b: OrderKey) -> Bool {
            let t = order(a.startUTC, b.startUTC)
            if t != 0 { return t < 0 }
            let f = order(a.file, b.file)
            if f != 0 { return f < 0 }
            return a.firstLine < b.firstLine
        }

        /// Bytes in lexicographic order (a prefix first), one memcmp: comparing for
        /// equality and then for order walked both arrays twice, generically (most of
        /// sorting a report's sessions). Also the order of `orderBytes` keys set aside.
        @inline(__always) package static func order(_ a: [UInt8], _ b: [UInt8]) -> Int {
            let n = min(a.count, b.count)
            let c = n == 0 ? 0 : a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) } }
            if c != 0 { return Int(c) }
            return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
        }
    }

    /// The `start_utc` column a session is stored with.
    public static func startUTC(_ s: SessionTimeline) -> String? {
        s.startEpoch.map { LogTimestamp.utcISO($0, fractionDigits: s.start?.fractionCount ?? 0) }
    }

    /// The rowids of the sessions `filter` selects, in `load`'s order.
    static func orderedRowids(_ db: Database, filter: SessionFilter) throws -> [Int64] {
        let (whereSQL, args) = whereClause(filter)
        var order: [Int64] = []
        let keys = try RawRows(db, sql: "SELECT rowid FROM \(CompactSessions.withRowidSQL)" + whereSQL + outputOrder, arguments: args)
        while try keys.next() { order.append(Int64(keys.int(at: 0)!)) }
        return order
    }

    /// Rows of a session child table (`select` is "SELECT … FROM table") for these
    /// sessions, grouped by session in position order. The ids are bound as one JSON
    /// array: statements with 500 placeholders cost more to prepare than their rows
    /// cost to read.
    static func childRows(_ db: Database, _ select: String, ids: [String]) throws -> RawRows {
        try RawRows(db, sql: select + " WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY session_id, position",
                    arguments: [.text(idsJSON(ids))])
    }

    /// Session ids as a JSON array, for `json_each`.
    static func idsJSON(_ ids: [String]) -> String {
        var list = JSONBytes(capacity: ids.count * 16)
        list.raw("[")
        for (k, id) in ids.enumerated() { if k > 0 { list.raw(",") }; list.string(id) }
        list.raw("]")
        return list.text
    }

    private struct OperationColumns {
        let sessionID, op, path, ok, line, ts, bytes, seconds, bytesPerSecond, to, local, detail: Int32
        init(_ r: RawRows) {
            sessionID = r.position("session_id"); op = r.position("op"); path = r.position("path"); ok = r.position("ok")
            line = r.position("line"); ts = r.position("ts"); bytes = r.position("bytes"); seconds = r.position("seconds")
            bytesPerSecond = r.position("bytes_per_second"); to = r.position("to_path"); local = r.position("local_path"); detail = r.position("detail")
        }
    }

    private struct FindingColumns {
        let sessionID, algorithm, category, direction, rating, reason, reference: Int32
        init(_ r: RawRows) {
            sessionID = r.position("session_id"); algorithm = r.position("algorithm"); category = r.position("category")
            direction = r.position("direction"); rating = r.position("rating"); reason = r.position("reason"); reference = r.position("reference")
        }
    }

    static func parseTimestamp(_ s: String) -> LogTimestamp? { parseTimestamp(Array(s.utf8)) }

    static func parseTimestamp(_ bytes: [UInt8]) -> LogTimestamp? {
        bytes.withUnsafeBufferPointer(parseTimestamp)
    }

    static func parseTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> LogTimestamp? {
        TimestampScanner.iso(bytes, at: 0)?.0
    }

    static let utcZone = TimeZone(identifier: "UTC")!

    static func epoch(_ utc: [UInt8]?) -> Double? {
        utc.flatMap { $0.withUnsafeBufferPointer(epoch) }
    }

    /// The instant of a `start_utc`/`end_utc` text.
    static func epoch(_ utc: UnsafeBufferPointer<UInt8>) -> Double? {
        parseTimestamp(utc)?.epoch(in: utcZone)
    }

    /// The `sessions` columns `load` reads, selected in this order so each is read
    /// by position (looking names up per row was a tenth of `audit`).
    enum SessionColumn: Int32, CaseIterable {
        case source, side, file, id, source_id, peer_address, peer_port, user, component, location, start, end, start_utc, end_utc, outcome, outcome_detail, client_version, server_version, kex, hostkey, cipher_c2s, cipher_s2c, mac_c2s, mac_s2c, compression_c2s, compression_s2c, strict_kex, auth_methods_tried, auth_succeeded_method, auth_failures, host_key_check, terrapin_vulnerable, terrapin_explanation, gex_bits, event_count, first_line, last_line, details, closed
        static let selectList = allCases.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    static func session(_ r: RawRows, withDetails: Bool = true) -> SessionTimeline {
        typealias C = SessionColumn
        var s = SessionTimeline(source: r.text(at: C.source.rawValue) ?? "", side: r.text(at: C.side.rawValue) ?? "", file: r.text(at: C.file.rawValue) ?? "")
        s.id = SessionID(r.text(at: C.id.rawValue) ?? ""); s.sourceID = Int64(r.int(at: C.source_id.rawValue) ?? 0)
        if let a = r.text(at: C.peer_address.rawValue) { s.peer = Peer(address: a, port: r.int(at: C.peer_port.rawValue)) }
        s.user = r.text(at: C.user.rawValue); s.component = r.text(at: C.component.rawValue); s.location = r.text(at: C.location.rawValue)
        s.start = r.bytes(at: C.start.rawValue).flatMap(parseTimestamp)
        s.end = r.bytes(at: C.end.rawValue).flatMap(parseTimestamp)
        s.startEpoch = epoch(r.bytes(at: C.start_utc.rawValue)); s.endEpoch = epoch(r.bytes(at: C.end_utc.rawValue))
        s.outcome = r.text(at: C.outcome.rawValue).flatMap(SessionOutcome.init(rawValue:)) ?? .incomplete; s.outcomeDetail = r.text(at: C.outcome_detail.rawValue)
        s.closed = r.bool(at: C.closed.rawValue)
        s.clientVersion = r.text(at: C.client_version.rawValue); s.serverVersion = r.text(at: C.server_version.rawValue)
        s.negotiated = NegotiatedAlgorithms(kex: r.text(at: C.kex.rawValue), hostkey: r.text(at: C.hostkey.rawValue), cipherC2S: r.text(at: C.cipher_c2s.rawValue), cipherS2C: r.text(at: C.cipher_s2c.rawValue),
                                            macC2S: r.text(at: C.mac_c2s.rawValue), macS2C: r.text(at: C.mac_s2c.rawValue), compressionC2S: r.text(at: C.compression_c2s.rawValue),
                                            compressionS2C: r.text(at: C.compression_s2c.rawValue))
        s.strictKex = r.bool(at: C.strict_kex.rawValue)
        if let m = r.bytes(at: C.auth_methods_tried.rawValue), case .array(let a)? = JSONValue.parse(m) {
            s.authMethodsTried = a.compactMap(\.stringValue)
        }
        s.authSucceededMethod = r.text(at: C.auth_succeeded_method.rawValue); s.authFailures = r.int(at: C.auth_failures.rawValue) ?? 0
        s.hostKeyCheck = r.text(at: C.host_key_check.rawValue)
        s.terrapinVulnerable = r.bool(at: C.terrapin_vulnerable.rawValue); s.terrapinExplanation = r.text(at: C.terrapin_explanation.rawValue)
        s.gexBits = r.int(at: C.gex_bits.rawValue)
        s.eventCount = r.int(at: C.event_count.rawValue) ?? 0; s.firstLine = r.int(at: C.first_line.rawValue) ?? 0; s.lastLine = r.int(at: C.last_line.rawValue) ?? 0
        if withDetails, let d = r.bytes(at: C.details.rawValue), case .object(let pairs)? = JSONValue.parse(d) { s.details = pairs }
        return s
    }

    /// The timeline's records (for reports of one session).
    static func timeline(_ db: Database, _ s: SessionTimeline) throws -> [(record: Record, duplicate: Bool)] {
        try timeline(db, sessionID: s.id.rawValue)
    }

    /// `record_rows` of the session `?1` (its id), whose `session_key` is `?2`:
    /// a range of row ids (`sessions.first_record_id`…`last_record_id`); every
    /// row when the session has none.
    static let recordsOfSession = """
        id BETWEEN coalesce((SELECT first_record_id FROM sessions WHERE id = ?1), -9223372036854775808) \
        AND coalesce((SELECT last_record_id FROM sessions WHERE id = ?1), 9223372036854775807) AND session_key = ?2
        """

    static func timeline(_ db: Database, sessionID: String) throws -> [(record: Record, duplicate: Bool)] {
        // Cached: preparing this query over the `records` view (a subquery per
        // column) was most of the time of a timeline, one per session listed.
        let statement = try db.cachedStatement(sql: """
            SELECT r.*, r.session_duplicate AS duplicate, CAST(r.message AS BLOB) AS message_bytes, CAST(r.text AS BLOB) AS text_bytes
            FROM records r
            WHERE r.id IN (SELECT id FROM record_rows WHERE \(recordsOfSession)) ORDER BY r.source_id, r.line, r.seq
            """)
        return try Row.fetchAll(statement, arguments: StatementArguments([sessionID.databaseValue, CompactRecords.sessionKey(sessionID).databaseValue])).map { row in
            var r = Record(kind: RecordKind(row["kind"] as String), file: row["file"], line: row["line"], raw: [], rawIsUTF8: true)
            r.timestamp = (row["ts"] as String?).flatMap(parseTimestamp)
            r.eventID = row["event_id"]; r.account = row["account"]
            // As bytes: text read as a C string would stop at a NUL the log carried.
            r.message = (row["message_bytes"] as Data?).map { String(decoding: $0, as: UTF8.self) }
            r.text = (row["text_bytes"] as Data?).map { String(decoding: $0, as: UTF8.self) }
            r.component = row["component"]
            if let a: String = row["peer_address"] { r.peer = Peer(address: a, port: row["peer_port"]) }
            if let st: String = row["catalog_status"] {
                r.resolution = EventResolution(status: EventResolution.Status(rawValue: st) ?? .unresolved, variant: row["catalog_variant"])
            }
            if let ex: String = row["extra"], case .object(let pairs)? = JSONValue.parse(Array(ex.utf8)) { r.extra = pairs }
            return (r, row["duplicate"] != 0)
        }
    }
}
