import Foundation
import GRDB
import GRDBSQLite

/// The ingest hot path: one prepared INSERT reused for every record, values
/// bound straight onto the SQLite statement (GRDB owns the connection and
/// transaction; binding through its argument arrays measured 2× slower here).
/// The FTS5 index is filled by a second INSERT per row, never by a trigger.
final class RecordWriter {
    private let insert: Statement
    private let insertFTS: Statement
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static let columns = ["source_id", "line", "seq", "line_count", "kind", "file", "layout", "ts", "ts_utc", "ts_note",
                          "event_id", "component", "account", "peer_address", "peer_port", "message", "text",
                          "catalog_status", "catalog_variant", "fields", "extra", "diagnostic", "raw_bytes", "session_id", "session_duplicate"]

    init(_ db: Database) throws {
        let cols = RecordWriter.columns
        insert = try db.makeStatement(sql: "INSERT INTO records(\(cols.joined(separator: ","))) VALUES(\(Array(repeating: "?", count: cols.count).joined(separator: ",")))")
        insertFTS = try db.makeStatement(sql: "INSERT INTO records_fts(rowid, message) VALUES(?, ?)")
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, _ v: String?) {
        guard var v else { sqlite3_bind_null(s, i); return }
        v.withUTF8 { p in
            if let base = p.baseAddress, p.count > 0 {
                _ = sqlite3_bind_text(s, i, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(p.count), RecordWriter.transient)
            } else {
                _ = sqlite3_bind_text(s, i, "", 0, RecordWriter.transient)
            }
        }
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, _ v: Int?) {
        if let v { sqlite3_bind_int64(s, i, Int64(v)) } else { sqlite3_bind_null(s, i) }
    }

    /// A record with its derived column values already rendered: done on the
    /// parsing thread so the writer thread only binds.
    struct Prepared {
        var record: Record
        var seq: Int
        var ts: String?
        var tsUTC: String?
        var fields: [UInt8]?
        var extra: [UInt8]?
        /// The schema rebuilds `raw` from the columns (see Schema), so the bytes are not stored.
        var rawRebuilt = false
    }

    /// Whether `raw` is exactly what the schema's `raw` expression rebuilds for
    /// this layout from the values about to be bound.
    static func rebuildsRaw(_ r: Record, ts: String?) -> Bool {
        guard r.layout == "ts-first", r.rawIsUTF8, r.lineCount == 1, let ts, let id = r.eventID, let comp = r.component,
              let account = r.account, let peer = r.peer, let port = peer.port, let message = r.message else { return false }
        return r.raw.withUnsafeBufferPointer { raw -> Bool in
            var i = 0
            func take(_ s: String) -> Bool {
                var s = s
                return s.withUTF8 { u in
                    guard i + u.count <= raw.count else { return false }
                    for b in u { if raw[i] != b { return false }; i += 1 }
                    return true
                }
            }
            func space() -> Bool { guard i < raw.count, raw[i] == 0x20 else { return false }; i += 1; return true }
            guard take(ts), space(), take(id), space(), take(comp), space(), take(account), space(),
                  take(peer.address), i < raw.count, raw[i] == 0x3A else { return false }
            i += 1
            guard take(String(port)), space(), take(message) else { return false }
            return i == raw.count
        }
    }

    static func prepare(_ r: Record, seq: Int, zone: TimeZone) -> Prepared {
        var p = Prepared(record: r, seq: seq, ts: r.timestamp?.iso, tsUTC: utc(r.timestamp, zone))
        if rebuildsRaw(r, ts: p.ts) {
            p.rawRebuilt = true
            p.record.raw = []
        }
        if let f = r.resolution?.fields, !f.isEmpty {
            var j = JSONBytes(capacity: 256); j.object(f); p.fields = j.bytes
            p.record.resolution?.fields = []  // rendered: free the values early
        }
        if !r.extra.isEmpty {
            var j = JSONBytes(capacity: 128); j.object(r.extra); p.extra = j.bytes
            p.record.extra = []
        }
        return p
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, bytes: [UInt8]?) {
        guard let bytes else { sqlite3_bind_null(s, i); return }
        bytes.withUnsafeBufferPointer { p in
            _ = sqlite3_bind_text(s, i, UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(p.count), RecordWriter.transient)
        }
    }

    /// UTC rendering of the record's instant (zone-less stamps read in `zone`).
    static func utc(_ ts: LogTimestamp?, _ zone: TimeZone) -> String? {
        guard let ts else { return nil }
        return LogTimestamp.utcISO(ts.epoch(in: zone), fractionDigits: ts.fraction.count)
    }

    func write(_ p: Prepared, sourceID: Int64, db: Database) throws {
        let r = p.record
        let s = insert.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, sourceID)
        sqlite3_bind_int64(s, 2, Int64(r.line))
        sqlite3_bind_int64(s, 3, Int64(p.seq))
        sqlite3_bind_int64(s, 4, Int64(r.lineCount))
        bind(s, 5, r.kind.rawValue)
        bind(s, 6, r.file)
        bind(s, 7, r.layout)
        bind(s, 8, p.ts)
        bind(s, 9, p.tsUTC)
        bind(s, 10, r.timestampNote)
        bind(s, 11, r.eventID)
        bind(s, 12, r.component)
        bind(s, 13, r.account)
        bind(s, 14, r.peer?.address)
        bind(s, 15, r.peer?.port)
        bind(s, 16, r.message)
        bind(s, 17, r.text)
        bind(s, 18, r.resolution?.status.rawValue)
        bind(s, 19, r.resolution?.variant)
        bind(s, 20, bytes: p.fields)
        bind(s, 21, bytes: p.extra)
        bind(s, 22, r.diagnostic)
        if p.rawRebuilt {
            sqlite3_bind_null(s, 23)
        } else {
            _ = r.raw.withUnsafeBytes { p in
                sqlite3_bind_blob(s, 23, p.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(p.count), RecordWriter.transient)
            }
        }
        bind(s, 24, r.sessionID)
        sqlite3_bind_int64(s, 25, r.sessionDuplicate ? 1 : 0)
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        if let m = r.message {
            let f = insertFTS.sqliteStatement
            sqlite3_reset(f)
            sqlite3_bind_int64(f, 1, sqlite3_last_insert_rowid(db.sqliteConnection))
            bind(f, 2, m)
            let rc2 = sqlite3_step(f)
            guard rc2 == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc2), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// Removes a source's records from `line` on (the tail re-read on resume),
    /// keeping the external-content FTS index consistent.
    static func deleteTail(_ db: Database, sourceID: Int64, fromLine line: Int) throws {
        try db.execute(sql: """
            INSERT INTO records_fts(records_fts, rowid, message)
              SELECT 'delete', id, message FROM records WHERE source_id = ? AND line >= ? AND message IS NOT NULL
            """, arguments: [sourceID, line])
        try db.execute(sql: "DELETE FROM records WHERE source_id = ? AND line >= ?", arguments: [sourceID, line])
    }
}
