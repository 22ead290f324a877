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

/// Column positions looked up once per query: GRDB's by-name lookup is
/// case-insensitive (it lowercases), which cost a third of loading 60k sessions.
final class ColumnMap {
    private var positions: [String: Int] = [:]
    init(_ row: Row) { for (i, n) in row.columnNames.enumerated() { positions[n] = i } }
    func position(_ name: String) -> Int {
        guard let p = positions[name] else { preconditionFailure("no column \(name)") }
        return p
    }
}

/// A row read by column name through a `ColumnMap`.
struct FastRow {
    let row: Row
    let columns: ColumnMap
    @_disfavoredOverload
    subscript<V: DatabaseValueConvertible>(_ name: String) -> V { row[columns.position(name)] }
    subscript<V: DatabaseValueConvertible>(_ name: String) -> V? { row[columns.position(name)] }
}

public enum SessionQuery {
    /// `withOperations: false` skips file operations (audit does not show them;
    /// they are most of the rows of a busy server's sessions).
    public static func load(_ db: Database, filter: SessionFilter = SessionFilter(), withTimeline: Bool = false,
                            withOperations: Bool = true) throws -> [SessionTimeline] {
        var clauses: [String] = []
        var args: [DatabaseValueConvertible?] = []
        if let u = filter.user { clauses.append("user = ?"); args.append(u) }
        if let p = filter.peer { clauses.append("(peer_address = ? OR peer_address || ':' || peer_port = ?)"); args += [p, p] }
        if let s = filter.since { clauses.append("start_utc >= ?"); args.append(s) }
        if let u = filter.until { clauses.append("start_utc < ?"); args.append(u) }
        if let o = filter.outcome { clauses.append("outcome = ?"); args.append(o) }
        if let id = filter.sessionID { clauses.append("id LIKE ? || '%'"); args.append(id) }
        if let src = filter.source { clauses.append("source = ?"); args.append(src) }
        if filter.weakOnly {
            clauses.append("(EXISTS (SELECT 1 FROM findings f WHERE f.session_id = sessions.id AND f.rating IN ('warn','fail','unknown')) OR terrapin_vulnerable = 1)")
        }
        let sql = "SELECT * FROM sessions" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY coalesce(start_utc, ''), file, first_line"
        let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
        let sessionColumns = rows.first.map(ColumnMap.init)
        var sessions = rows.map { session(FastRow(row: $0, columns: sessionColumns!)) }
        guard !sessions.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: sessions.enumerated().map { ($1.id, $0) })
        let all = sessions.count > 500 || filter.sessionID == nil
        // Operations and findings in two queries, not one per session.
        let idList = sessions.map(\.id)
        func forEachRow(_ table: String, _ body: (FastRow) -> Void) throws {
            var columns: ColumnMap?
            func visit(_ r: Row) {
                if columns == nil { columns = ColumnMap(r) }
                body(FastRow(row: r, columns: columns!))
            }
            if all && sessions.count > 500 {
                let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY session_id, position")
                while let r = try cursor.next() { visit(r) }
            } else {
                for chunk in stride(from: 0, to: idList.count, by: 500) {
                    let ids = Array(idList[chunk..<min(chunk + 500, idList.count)])
                    let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                    for r in try Row.fetchAll(db, sql: "SELECT * FROM \(table) WHERE session_id IN (\(marks)) ORDER BY session_id, position",
                                              arguments: StatementArguments(ids)) { visit(r) }
                }
            }
        }
        if withOperations { try forEachRow("session_operations") { r in
            guard let i = index[r["session_id"]] else { return }
            var op = SessionOperation(op: r["op"], path: r["path"], ok: r["ok"], line: r["line"] ?? 0,
                                      ts: (r["ts"] as String?).flatMap(parseTimestamp))
            op.bytes = r["bytes"]; op.seconds = r["seconds"]; op.bytesPerSecond = r["bytes_per_second"]
            op.to = r["to_path"]; op.local = r["local_path"]; op.detail = r["detail"]
            sessions[i].operations.append(op)
        } }
        try forEachRow("findings") { r in
            guard let i = index[r["session_id"]] else { return }
            sessions[i].findings.append(Finding(algorithm: r["algorithm"], category: r["category"], direction: r["direction"],
                                                rating: r["rating"], reason: r["reason"], reference: r["reference"]))
        }
        try forEachRow("session_algorithms_offered") { r in
            guard let i = index[r["session_id"]] else { return }
            sessions[i].serverOffer[r["slot"], default: []].append(r["algorithm"])
        }
        if withTimeline {
            for i in sessions.indices {
                sessions[i].records = try Row.fetchAll(db, sql: "SELECT line, seq, session_duplicate FROM records WHERE session_id = ? ORDER BY line, seq",
                                                       arguments: [sessions[i].id]).map { RecordRef(line: $0["line"], seq: $0["seq"], duplicate: $0["session_duplicate"] != 0) }
            }
        }
        return sessions
    }

    static func parseTimestamp(_ s: String) -> LogTimestamp? {
        Array(s.utf8).withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0)?.0 }
    }

    static func epoch(_ utc: String?) -> Double? {
        guard let u = utc, let ts = parseTimestamp(u) else { return nil }
        return ts.epoch(in: TimeZone(identifier: "UTC")!)
    }

    static func session(_ r: FastRow) -> SessionTimeline {
        var s = SessionTimeline(source: r["source"], side: r["side"], file: r["file"])
        s.id = r["id"]; s.sourceID = r["source_id"]
        if let a: String = r["peer_address"] { s.peer = Peer(address: a, port: r["peer_port"]) }
        s.user = r["user"]; s.component = r["component"]; s.location = r["location"]
        s.start = (r["start"] as String?).flatMap(parseTimestamp)
        s.end = (r["end"] as String?).flatMap(parseTimestamp)
        s.startEpoch = epoch(r["start_utc"]); s.endEpoch = epoch(r["end_utc"])
        s.outcome = r["outcome"]; s.outcomeDetail = r["outcome_detail"]
        s.clientVersion = r["client_version"]; s.serverVersion = r["server_version"]
        s.negotiated = NegotiatedAlgorithms(kex: r["kex"], hostkey: r["hostkey"], cipherC2S: r["cipher_c2s"], cipherS2C: r["cipher_s2c"],
                                            macC2S: r["mac_c2s"], macS2C: r["mac_s2c"], compressionC2S: r["compression_c2s"],
                                            compressionS2C: r["compression_s2c"])
        s.strictKex = r["strict_kex"]
        if let m: String = r["auth_methods_tried"], case .array(let a)? = JSONValue.parse(Array(m.utf8)) {
            s.authMethodsTried = a.compactMap(\.stringValue)
        }
        s.authSucceededMethod = r["auth_succeeded_method"]; s.authFailures = r["auth_failures"]
        s.hostKeyCheck = r["host_key_check"]
        s.terrapinVulnerable = r["terrapin_vulnerable"]; s.terrapinExplanation = r["terrapin_explanation"]
        s.gexBits = r["gex_bits"]
        s.eventCount = r["event_count"]; s.firstLine = r["first_line"] ?? 0; s.lastLine = r["last_line"] ?? 0
        if let d: String = r["details"], case .object(let pairs)? = JSONValue.parse(Array(d.utf8)) { s.details = pairs }
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
