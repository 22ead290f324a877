import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// The ingest hot path: one prepared INSERT reused for every record, values
/// bound straight onto the SQLite statement (GRDB owns the connection and
/// transaction; binding through its argument arrays measured 2× slower here).
/// The FTS5 index is filled by one INSERT … SELECT per batch (`indexMessages`),
/// never by a trigger.
package final class RecordWriter {
    private let insert: Statement
    private let insertFTS: Statement
    /// Row ids written since the last `indexMessages` (a single writer: they are consecutive).
    private var unindexed: ClosedRange<Int64>?

    static let columns = ["source_id", "line", "seq", "line_count", "kind", "file", "layout", "ts", "ts_utc", "ts_note",
                          "event_id", "component", "account", "peer_address", "peer_port", "message", "text",
                          "catalog_status", "catalog_variant", "fields", "extra", "diagnostic", "raw_bytes", "session_id", "session_duplicate"]

    init(_ db: Database) throws {
        let cols = RecordWriter.columns
        insert = try db.cachedStatement(sql: "INSERT INTO records(\(cols.joined(separator: ","))) VALUES(\(Array(repeating: "?", count: cols.count).joined(separator: ",")))")
        insertFTS = try db.cachedStatement(sql: """
            INSERT INTO records_fts(rowid, message) SELECT id, message FROM records WHERE id BETWEEN ? AND ? AND message IS NOT NULL
            """)
    }

    /// A record with every column value rendered on the parsing thread, so the
    /// writer thread only binds. Text and blob values sit back to back in one
    /// buffer bound in place (SQLITE_STATIC): binding each String as a transient
    /// copy cost SQLite a malloc and memcpy per column and the writer a String
    /// release per column.
    package struct Prepared: Sendable {
        var line: Int
        var seq: Int
        var lineCount: Int
        var peerPort: Int?
        var catalogVariant: Int?
        var sessionDuplicate: Bool
        /// A header of `(offset, length)` Int32 pairs, one per `textColumns` entry
        /// (length -1: NULL), then the values.
        var arena: [UInt8]
    }

    /// The text/blob columns in `Prepared.arena`, by their 1-based parameter position.
    static let textColumns: [Int32] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 21, 22, 23, 24]
    static let rawBytesParameter: Int32 = 23

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

    package static func prepare(_ r: SFTPLogRecords.Record, seq: Int, zone: TimeZone) -> Prepared {
        let ts = r.timestamp?.iso
        let rebuilt = rebuildsRaw(r, ts: ts)
        var fields: [UInt8]?, extra: [UInt8]?
        if let f = r.resolution?.fields, !f.isEmpty { var j = JSONBytes(capacity: 256); j.object(f); fields = j.bytes }
        if !r.extra.isEmpty { var j = JSONBytes(capacity: 128); j.object(r.extra); extra = j.bytes }
        let header = textColumns.count * 8
        var a = [UInt8](repeating: 0, count: header)
        a.reserveCapacity(header + 160 + (r.message?.utf8.count ?? 0) + (fields?.count ?? 0) + (rebuilt ? 0 : r.raw.count))
        var slot = 0
        func span(_ offset: Int, _ length: Int) {
            a.withUnsafeMutableBytes {
                $0.storeBytes(of: Int32(offset), toByteOffset: slot * 8, as: Int32.self)
                $0.storeBytes(of: Int32(length), toByteOffset: slot * 8 + 4, as: Int32.self)
            }
            slot += 1
        }
        func put(_ v: String?) {
            guard var v else { span(0, -1); return }
            let start = a.count
            v.withUTF8 { a.append(contentsOf: $0) }
            span(start, a.count - start)
        }
        func put(bytes v: [UInt8]?) {
            guard let v else { span(0, -1); return }
            let start = a.count
            a.append(contentsOf: v)
            span(start, v.count)
        }
        // In `textColumns` order.
        put(r.kind.rawValue); put(r.file); put(r.layout); put(ts); put(utc(r.timestamp, zone)); put(r.timestampNote)
        put(r.eventID); put(r.component); put(r.account); put(r.peer?.address); put(r.message); put(r.text)
        put(r.resolution?.status.rawValue); put(bytes: fields); put(bytes: extra); put(r.diagnostic)
        put(bytes: rebuilt ? nil : r.raw); put(r.sessionID?.rawValue)
        return Prepared(line: r.line, seq: seq, lineCount: r.lineCount, peerPort: r.peer?.port, catalogVariant: r.resolution?.variant,
                        sessionDuplicate: r.sessionDuplicate, arena: a)
    }

    /// UTC rendering of the record's instant (zone-less stamps read in `zone`).
    static func utc(_ ts: LogTimestamp?, _ zone: TimeZone) -> String? {
        guard let ts else { return nil }
        return LogTimestamp.utcISO(ts.epoch(in: zone), fractionDigits: ts.fraction.count)
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, _ v: Int?) {
        if let v { sqlite3_bind_int64(s, i, Int64(v)) } else { sqlite3_bind_null(s, i) }
    }

    func write(_ p: Prepared, sourceID: Int64, db: Database) throws {
        let s = insert.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, sourceID)
        sqlite3_bind_int64(s, 2, Int64(p.line))
        sqlite3_bind_int64(s, 3, Int64(p.seq))
        sqlite3_bind_int64(s, 4, Int64(p.lineCount))
        bind(s, 15, p.peerPort)
        bind(s, 19, p.catalogVariant)
        sqlite3_bind_int64(s, 25, p.sessionDuplicate ? 1 : 0)
        // Static bindings: SQLite reads them only while stepping, which happens inside this closure.
        try p.arena.withUnsafeBytes { a in
            let base = a.baseAddress!
            for (k, column) in RecordWriter.textColumns.enumerated() {
                let offset = Int(a.load(fromByteOffset: k * 8, as: Int32.self)), length = a.load(fromByteOffset: k * 8 + 4, as: Int32.self)
                if length < 0 { sqlite3_bind_null(s, column); continue }
                let value = base + offset
                if column == RecordWriter.rawBytesParameter {
                    sqlite3_bind_blob(s, column, value, length, nil)
                } else {
                    sqlite3_bind_text(s, column, value.assumingMemoryBound(to: CChar.self), length, nil)
                }
            }
            let rc = sqlite3_step(s)
            guard rc == SQLITE_DONE else {
                throw db.stepError(rc)
            }
        }
        let id = sqlite3_last_insert_rowid(db.sqliteConnection)
        unindexed = unindexed.map { $0.lowerBound...id } ?? id...id
    }

    /// Adds the messages of the rows written since the last call to the FTS5
    /// index, in one statement: one INSERT per row cost a statement step and
    /// reset per record (1M lines: writer busy 14.8 s instead of 15.4 s, means
    /// of 3 alternating runs; the ingest's wall time did not move, the parsing
    /// thread now being as busy as the writer).
    func indexMessages(_ db: Database) throws {
        guard let r = unindexed else { return }
        let f = insertFTS.sqliteStatement
        sqlite3_reset(f)
        sqlite3_bind_int64(f, 1, r.lowerBound)
        sqlite3_bind_int64(f, 2, r.upperBound)
        let rc = sqlite3_step(f)
        guard rc == SQLITE_DONE else {
            throw db.stepError(rc)
        }
        unindexed = nil
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
