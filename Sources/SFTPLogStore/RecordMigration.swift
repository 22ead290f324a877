import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog

/// Migration v8: the rows of the `records` table, as a release before it
/// wrote them, copied into `record_rows` under the same ids. Each row goes
/// through `RecordWriter.prepare` with its stored texts, so the compact forms
/// are checked against exactly what the table held.
enum RecordMigration {
    static func copyTable(_ db: Database, terms: TermDictionary) throws {
        let writer = try RecordWriter(db, indexesMessages: false)
        var used = Set<Int64>()
        // The wordings the rows resolved to, from the catalogue copy the database holds.
        var templates: [String: EventTemplate] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT event_id, variant, template FROM catalog_variants") {
            let id: String = row["event_id"], variant: Int = row["variant"]
            templates["\(id)#\(variant)"] = EventTemplate(eventID: id, variant: variant, template: row["template"], fields: [], groups: [],
                                                          fromVersion: nil, toVersion: nil, documentedIn: [], seenIn: [], inferred: false,
                                                          description: nil)
        }
        let rows = try RawRows(db, sql: """
            SELECT id, source_id, line, seq, line_count, kind, file, layout, ts, ts_utc, ts_note, event_id, component, account,
                   peer_address, peer_port, message, text, catalog_status, catalog_variant, fields, extra, diagnostic, raw_bytes,
                   session_id, session_duplicate
            FROM records ORDER BY id
            """)
        while try rows.next() {
            var r = Record(kind: RecordKind(rows.text("kind") ?? "unparsed"), file: rows.text("file") ?? "", line: rows.int("line") ?? 0,
                           raw: [], rawIsUTF8: true)
            r.lineCount = rows.int("line_count") ?? 1
            r.layout = rows.text("layout")
            let ts = rows.text("ts"), utc = rows.text("ts_utc")
            // Stored compact only where the compact form renders back to this text (`CompactRecords.time`).
            r.timestamp = ts.flatMap(SessionQuery.parseTimestamp)
            r.timestampNote = rows.text("ts_note")
            r.eventID = rows.text("event_id")
            r.component = rows.text("component")
            r.account = rows.text("account")
            if let a = rows.text("peer_address") { r.peer = Peer(address: a, port: rows.int("peer_port")) }
            r.message = rows.text("message")
            r.text = rows.text("text")
            let fields = rows.bytes("fields")
            if let status = rows.text("catalog_status").flatMap(EventResolution.Status.init(rawValue:)) {
                let variant = rows.int("catalog_variant")
                var res = EventResolution(status: status, variant: variant)
                if status == .resolved, let id = r.eventID, let v = variant, let t = templates["\(id)#\(v)"] {
                    res.wording = t
                    // In the wording's order (the parser does not keep the text's); the check
                    // against the stored text catches any difference.
                    if let fields, case .object(let pairs)? = JSONValue.parse(fields) {
                        let byName = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
                        let ordered = t.fieldOrder.compactMap { name in byName[name].map { (name, $0) } }
                        res.fields = ordered.count == pairs.count ? ordered : pairs
                    }
                }
                r.resolution = res
            }
            r.diagnostic = rows.text("diagnostic")
            r.sessionID = rows.text("session_id").map { SessionID(rawValue: $0) }
            r.sessionDuplicate = rows.bool("session_duplicate") ?? false
            let p = RecordWriter.prepare(r, seq: rows.int("seq") ?? 0, ts: ts, utc: utc, fields: fields, extra: rows.bytes("extra"),
                                         rawBytes: rows.bytes("raw_bytes"), id: rows.int("id").map(Int64.init), terms: terms, used: &used)
            try writer.write(p, sourceID: Int64(rows.int("source_id") ?? 0), db: db)
        }
        try writer.storeTerms(terms.terms(used))
    }
}
