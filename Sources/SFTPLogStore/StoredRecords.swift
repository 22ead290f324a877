import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Reads a source's records back from the database, in order.
enum StoredRecords {
    static func forEach(_ db: Database, sourceID: Int64, needsFields: (Record, String) -> Bool,
                               _ body: (Record, Int) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT seq, kind, file, line, line_count, layout, ts, event_id, component, account, peer_address, peer_port,
                   CAST(message AS BLOB) AS message, CAST(text AS BLOB) AS text, catalog_status, catalog_variant, fields, extra
            FROM records WHERE \(RecordLineMap.rowsOf("records", source: "?1")) ORDER BY id
            """, arguments: [sourceID])
        while let row = try cursor.next() {
            var r = Record(kind: RecordKind(row["kind"] as String), file: row["file"], line: row["line"], raw: [], rawIsUTF8: true)
            r.lineCount = row["line_count"]
            r.layout = row["layout"]
            if let ts: String = row["ts"] {
                r.timestamp = Array(ts.utf8).withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0)?.0 }
            }
            r.eventID = row["event_id"]
            r.component = row["component"]
            r.account = row["account"]
            if let a: String = row["peer_address"] { r.peer = Peer(address: a, port: row["peer_port"]) }
            // As bytes: text read as a C string would stop at a NUL the log carried.
            r.message = (row["message"] as Data?).map { String(decoding: $0, as: UTF8.self) }
            r.text = (row["text"] as Data?).map { String(decoding: $0, as: UTF8.self) }
            let fieldsText: String? = row["fields"]
            if let status: String = row["catalog_status"] {
                var res = EventResolution(status: EventResolution.Status(rawValue: status) ?? .unresolved, variant: row["catalog_variant"])
                if let ft = fieldsText, needsFields(r, ft), case .object(let pairs)? = JSONValue.parse(Array(ft.utf8)) {
                    res.fields = pairs
                }
                r.resolution = res
            }
            if let ex: String = row["extra"], needsFields(r, ex), case .object(let pairs)? = JSONValue.parse(Array(ex.utf8)) {
                r.extra = pairs
            }
            try body(r, row["seq"])
        }
    }
}
