import Foundation
import GRDB

/// Reads stored sessions back, with the filters `sessions`/`report`/`audit` take.
/// Every filter value is bound, never interpolated into the SQL.
public struct SessionFilter: Sendable {
    public var user: String?
    public var peer: String?
    public var since: String?
    public var until: String?
    public var outcome: String?
    public var weakOnly = false
    public var sessionID: String?
    public var source: String?

    public init() {}
}

public enum SessionQuery {
    /// `withOperations: false` skips file operations (audit does not show them;
    /// they are most of the rows of a busy server's sessions).
    public static func load(_ db: Database, filter: SessionFilter = SessionFilter(), withTimeline: Bool = false,
                            withOperations: Bool = true) throws -> [SessionTimeline] {
        var clauses: [String] = []
        var args: [SQLValue] = []
        if let u = filter.user { clauses.append("user = ?"); args.append(.text(u)) }
        if let p = filter.peer { clauses.append("(peer_address = ? OR peer_address || ':' || peer_port = ?)"); args += [.text(p), .text(p)] }
        if let s = filter.since { clauses.append("start_utc >= ?"); args.append(.text(s)) }
        if let u = filter.until { clauses.append("start_utc < ?"); args.append(.text(u)) }
        if let o = filter.outcome { clauses.append("outcome = ?"); args.append(.text(o)) }
        if let id = filter.sessionID { clauses.append("id LIKE ? || '%'"); args.append(.text(id)) }
        if let src = filter.source { clauses.append("source = ?"); args.append(.text(src)) }
        if filter.weakOnly {
            clauses.append("(EXISTS (SELECT 1 FROM findings f WHERE f.session_id = sessions.id AND f.rating IN ('warn','fail','unknown')) OR terrapin_vulnerable = 1)")
        }
        let sql = "SELECT * FROM sessions" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY coalesce(start_utc, ''), file, first_line"
        var sessions: [SessionTimeline] = []
        let rows = try RawRows(db, sql: sql, arguments: args)
        while try rows.next() {
            var s = session(rows)
            if !withOperations { s.storedTransferTotals = (rows.int("bytes_up") ?? 0, rows.int("bytes_down") ?? 0) }
            sessions.append(s)
        }
        guard !sessions.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: sessions.enumerated().map { ($1.id, $0) })
        // Operations and findings in a few queries, not one per session.
        let idList = sessions.map(\.id)
        func forEachRow(_ table: String, _ body: (RawRows) -> Void) throws {
            if sessions.count > 500 {
                let r = try RawRows(db, sql: "SELECT * FROM \(table) ORDER BY session_id, position")
                while try r.next() { body(r) }
            } else {
                for chunk in stride(from: 0, to: idList.count, by: 500) {
                    let ids = idList[chunk..<min(chunk + 500, idList.count)]
                    let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                    let r = try RawRows(db, sql: "SELECT * FROM \(table) WHERE session_id IN (\(marks)) ORDER BY session_id, position",
                                        arguments: ids.map(SQLValue.text))
                    while try r.next() { body(r) }
                }
            }
        }
        // Column positions looked up once per table, not per row (hashing names was a tenth of the load).
        var opColumns: OperationColumns?, findingColumns: FindingColumns?
        if withOperations { try forEachRow("session_operations") { r in
            let c = opColumns ?? OperationColumns(r)
            opColumns = c
            guard let i = index[r.text(at: c.sessionID)!] else { return }
            var op = SessionOperation(op: r.text(at: c.op) ?? "", path: r.text(at: c.path) ?? "", ok: r.bool(at: c.ok), line: r.int(at: c.line) ?? 0,
                                      ts: r.bytes(at: c.ts).flatMap(parseTimestamp))
            op.bytes = r.int(at: c.bytes); op.seconds = r.double(at: c.seconds); op.bytesPerSecond = r.double(at: c.bytesPerSecond)
            op.to = r.text(at: c.to); op.local = r.text(at: c.local); op.detail = r.text(at: c.detail)
            sessions[i].operations.append(op)
        } }
        try forEachRow("findings") { r in
            let c = findingColumns ?? FindingColumns(r)
            findingColumns = c
            guard let i = index[r.text(at: c.sessionID)!] else { return }
            sessions[i].findings.append(Finding(algorithm: r.text(at: c.algorithm) ?? "", category: r.text(at: c.category) ?? "", direction: r.text(at: c.direction),
                                                rating: r.text(at: c.rating) ?? "", reason: r.text(at: c.reason) ?? "", reference: r.text(at: c.reference) ?? ""))
        }
        try forEachRow("session_algorithms_offered") { r in
            guard let i = index[r.text("session_id")!] else { return }
            sessions[i].serverOffer[r.text("slot") ?? "", default: []].append(r.text("algorithm") ?? "")
        }
        if withTimeline {
            for i in sessions.indices {
                sessions[i].records = try Row.fetchAll(db, sql: "SELECT line, seq, session_duplicate FROM records WHERE session_id = ? ORDER BY line, seq",
                                                       arguments: [sessions[i].id]).map { RecordRef(line: $0["line"], seq: $0["seq"], duplicate: $0["session_duplicate"] != 0) }
            }
        }
        return sessions
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
        bytes.withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0)?.0 }
    }

    static let utcZone = TimeZone(identifier: "UTC")!

    static func epoch(_ utc: [UInt8]?) -> Double? {
        guard let u = utc, let ts = parseTimestamp(u) else { return nil }
        return ts.epoch(in: utcZone)
    }

    static func session(_ r: RawRows) -> SessionTimeline {
        var s = SessionTimeline(source: r.text("source") ?? "", side: r.text("side") ?? "", file: r.text("file") ?? "")
        s.id = r.text("id") ?? ""; s.sourceID = Int64(r.int("source_id") ?? 0)
        if let a = r.text("peer_address") { s.peer = Peer(address: a, port: r.int("peer_port")) }
        s.user = r.text("user"); s.component = r.text("component"); s.location = r.text("location")
        s.start = r.bytes("start").flatMap(parseTimestamp)
        s.end = r.bytes("end").flatMap(parseTimestamp)
        s.startEpoch = epoch(r.bytes("start_utc")); s.endEpoch = epoch(r.bytes("end_utc"))
        s.outcome = r.text("outcome") ?? ""; s.outcomeDetail = r.text("outcome_detail")
        s.clientVersion = r.text("client_version"); s.serverVersion = r.text("server_version")
        s.negotiated = NegotiatedAlgorithms(kex: r.text("kex"), hostkey: r.text("hostkey"), cipherC2S: r.text("cipher_c2s"), cipherS2C: r.text("cipher_s2c"),
                                            macC2S: r.text("mac_c2s"), macS2C: r.text("mac_s2c"), compressionC2S: r.text("compression_c2s"),
                                            compressionS2C: r.text("compression_s2c"))
        s.strictKex = r.bool("strict_kex")
        if let m = r.bytes("auth_methods_tried"), case .array(let a)? = JSONValue.parseStored(m) {
            s.authMethodsTried = a.compactMap(\.stringValue)
        }
        s.authSucceededMethod = r.text("auth_succeeded_method"); s.authFailures = r.int("auth_failures") ?? 0
        s.hostKeyCheck = r.text("host_key_check")
        s.terrapinVulnerable = r.bool("terrapin_vulnerable"); s.terrapinExplanation = r.text("terrapin_explanation")
        s.gexBits = r.int("gex_bits")
        s.eventCount = r.int("event_count") ?? 0; s.firstLine = r.int("first_line") ?? 0; s.lastLine = r.int("last_line") ?? 0
        if let d = r.bytes("details"), case .object(let pairs)? = JSONValue.parseStored(d) { s.details = pairs }
        return s
    }

    /// The timeline's records (for reports of one session).
    public static func timeline(_ db: Database, _ s: SessionTimeline) throws -> [(record: Record, duplicate: Bool)] {
        try Row.fetchAll(db, sql: """
            SELECT r.*, r.session_duplicate AS duplicate FROM records r
            WHERE r.session_id = ? ORDER BY r.line, r.seq
            """, arguments: [s.id]).map { row in
            var r = Record(kind: RecordKind(row["kind"] as String), file: row["file"], line: row["line"], raw: [], rawIsUTF8: true)
            r.timestamp = (row["ts"] as String?).flatMap(parseTimestamp)
            r.eventID = row["event_id"]; r.account = row["account"]; r.message = row["message"]; r.text = row["text"]
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
