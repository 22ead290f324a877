import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogSessions

/// How a session is stored since migration v13: `sessions` is a view over
/// `session_rows`, with the columns and values of the table it replaced.
///
/// - Texts that sessions repeat (algorithms, client software, outcomes, the
///   Terrapin explanation, `details`…) are ids of `record_terms` when seen
///   before: those columns have no type, and hold a term id (an integer) or
///   the text itself.
/// - `start`/`end` and their UTC forms are `*_us`/`*_form` as in `record_rows`
///   (the text only when those cannot give it back).
/// - `file` is stored only when it is not the source's name.
///
/// As for records, the writer keeps a value as written wherever the view's SQL
/// would not give it back byte for byte.
enum CompactSessions {
    /// `session_rows`' columns, in order.
    static let columns = ["id", "source_id", "source", "side", "file", "peer_address", "peer_port", "user", "component", "location",
                          "start_us", "start_form", "end_us", "end_form", "start", "end", "start_utc", "end_utc", "duration", "outcome",
                          "outcome_detail", "client_version", "server_version", "kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s",
                          "mac_s2c", "compression_c2s", "compression_s2c", "strict_kex", "auth_methods_tried", "auth_succeeded_method",
                          "auth_failures", "host_key_check", "terrapin_vulnerable", "terrapin_explanation", "gex_bits", "event_count",
                          "files", "bytes_up", "bytes_down", "first_line", "last_line", "details", "closed", "first_record_id",
                          "last_record_id", "details_proposals", "details_tail"]
    static let sourceID = 1, file = 4, firstRecordID = 47, lastRecordID = 48

    /// Columns holding a term id or their text (`details_proposals`: an
    /// OpenSSH session's KEXINIT proposals, most of its `details` and the same
    /// for every connection a client makes to a server).
    static let termColumns: Set<String> = ["details_proposals", "source", "side", "peer_address", "user", "component", "location", "outcome", "outcome_detail",
                                           "client_version", "server_version", "kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s",
                                           "mac_s2c", "compression_c2s", "compression_s2c", "auth_methods_tried", "auth_succeeded_method",
                                           "host_key_check", "terrapin_explanation", "details"]

    /// `columns`, quoted, for an INSERT's or SELECT's column list.
    static let quotedColumns = columns.map { "\"\($0)\"" }.joined(separator: ", ")

    /// The table as v13 made it.
    static let createTableSQL = tableSQL(keyed: false)

    /// `keyed`: as v18 makes it, with its rowid declared, so that `VACUUM`
    /// keeps the numbers its sessions' child rows are keyed by (`SessionRowKeys`).
    static func tableSQL(keyed: Bool) -> String {
        let typed: [String: String] = ["id": keyed ? "TEXT UNIQUE" : "TEXT PRIMARY KEY", "source_id": "INTEGER NOT NULL", "file": "TEXT", "peer_port": "INTEGER",
                                       "duration": "REAL", "strict_kex": "INTEGER", "auth_failures": "INTEGER NOT NULL DEFAULT 0",
                                       "terrapin_vulnerable": "INTEGER", "gex_bits": "INTEGER", "event_count": "INTEGER NOT NULL",
                                       "files": "INTEGER NOT NULL", "bytes_up": "INTEGER NOT NULL", "bytes_down": "INTEGER NOT NULL",
                                       "start": "TEXT", "end": "TEXT", "start_utc": "TEXT", "end_utc": "TEXT"]
        let defs = columns.map { c in "\"\(c)\"" + (typed[c].map { " " + $0 } ?? (termColumns.contains(c) ? "" : " INTEGER")) }
            + (keyed ? ["rowid INTEGER PRIMARY KEY"] : [])
        return "CREATE TABLE session_rows (\(defs.joined(separator: ", ")))"
    }

    /// The columns of `sessions` (as the table before v13 had them), from `session_rows s`.
    /// The text of a term column's value `expr`: itself, or the term its id names.
    static func resolved(_ expr: String) -> String {
        "CASE typeof(\(expr)) WHEN 'integer' THEN (SELECT term FROM record_terms WHERE id = \(expr)) ELSE \(expr) END"
    }

    /// Sets `file` to NULL when it is the name of the session's source (`name` of a source id).
    static func dropFile(_ row: inout [SQLValue], name: (Int64) throws -> String?) rethrows {
        if case .int(let source) = row[sourceID], case .text(let f) = row[file], try name(source) == f { row[file] = .null }
    }

    static var selectSQL: String {
        func term(_ c: String) -> String { resolved("s.\"\(c)\"") + " AS \"\(c)\"" }
        func time(_ c: String, local: Bool) -> String {
            let base = c.hasPrefix("start") ? "start" : "end"
            return "coalesce(s.\"\(c)\", CASE WHEN s.\(base)_us IS NOT NULL THEN "
                + CompactRecords.timeSQL(local: local, us: "s.\(base)_us", form: "s.\(base)_form") + " END) AS \"\(c)\""
        }
        let out: [String] = sessionsColumns.map { c in
            switch c {
            case "file": return "coalesce(s.file, (SELECT name FROM sources WHERE id = s.source_id)) AS file"
            case "details":
                // Split around its proposals: the text before, the proposals, the text after.
                func part(_ c: String) -> String { resolved("s.\(c)") }
                return "CASE WHEN s.details_tail IS NULL THEN \(part("details")) ELSE \(part("details")) || \(part("details_proposals")) "
                    + "|| s.details_tail END AS details"
            case "start", "end": return time(c, local: true)
            case "start_utc", "end_utc": return time(c, local: false)
            default: return termColumns.contains(c) ? term(c) : "s.\"\(c)\""
            }
        }
        return "SELECT " + out.joined(separator: ", ") + " FROM session_rows s"
    }

    static var viewSQL: String { "CREATE VIEW sessions AS " + selectSQL }

    /// `sessions` with each row's `rowid` in `session_rows` (for the commands that page by it).
    static var withRowidSQL: String {
        "(" + selectSQL.replacingOccurrences(of: "SELECT ", with: "SELECT s.rowid AS rowid, ", options: .anchored) + ") AS sessions"
    }

    /// The `session_rows` row of a session whose `sessions` row is `row` (in
    /// the table's column order, as `SessionStore.prepare` renders it), with the
    /// texts `whole` gives a term id for as that id.
    static func row(_ row: [SQLValue], start: LogTimestamp?, end: LogTimestamp?, whole: (String) -> Int64? = { _ in nil }) -> [SQLValue] {
        // By position, not by name: a dictionary of the row's 45 values cost an
        // ingest's parsing thread a twentieth of its time in String hashing.
        let p = Place.self
        var out = p.fromSessions.map { k -> SQLValue in k >= 0 && k < row.count ? row[k] : .null }
        func text(_ k: Int) -> String? { if case .text(let t) = out[k] { return t }; return nil }
        for (ts, at) in [(start, p.start), (end, p.end)] {
            if let ts, let local = text(at.local), let utc = text(at.utc), let t = CompactRecords.time(ts, ts: local, utc: utc) {
                out[at.us] = .int(t.us); out[at.form] = .int(t.form)
                out[at.local] = .null; out[at.utc] = .null
            }
        }
        // An OpenSSH session's proposals apart from the rest of `details`.
        if let d = text(p.details) {
            let bytes = Array(d.utf8)
            if let r = valueRange(of: "proposals", in: bytes), r.count >= 256 {
                out[p.details] = .text(String(decoding: bytes[..<r.lowerBound], as: UTF8.self))
                out[p.detailsProposals] = .text(String(decoding: bytes[r], as: UTF8.self))
                out[p.detailsTail] = .text(String(decoding: bytes[r.upperBound...], as: UTF8.self))
            }
        }
        // In the order of their names, as the term ids they get depend on it.
        for k in p.terms {
            if let t = text(k), let id = whole(t) { out[k] = .int(id) }
        }
        return out
    }

    /// Positions in `columns` of the values `row` sets.
    private enum Place {
        static func of(_ c: String) -> Int { columns.firstIndex(of: c)! }
        /// For each of `columns`, its position in `sessionsColumns` (-1: none).
        static let fromSessions = columns.map { sessionsColumns.firstIndex(of: $0) ?? -1 }
        static let start = (local: of("start"), utc: of("start_utc"), us: of("start_us"), form: of("start_form"))
        static let end = (local: of("end"), utc: of("end_utc"), us: of("end_us"), form: of("end_form"))
        static let details = of("details"), detailsProposals = of("details_proposals"), detailsTail = of("details_tail")
        static let terms = termColumns.sorted().map(of)
    }

    /// Copies the pre-v13 table into `session_rows` (same rowids), then makes the view.
    static func migrate(_ db: Database, terms: TermDictionary) throws {
        try db.execute(sql: createTableSQL)
        var used = Set<Int64>()
        let insert = try db.makeStatement(sql: "INSERT INTO session_rows(rowid, \(quotedColumns)) "
            + "VALUES (?, \(Array(repeating: "?", count: columns.count).joined(separator: ",")))")
        let names = Dictionary(try Row.fetchAll(db, sql: "SELECT id, name FROM sources").map { ($0[0] as Int64, $0[1] as String) }, uniquingKeysWith: { a, _ in a })
        // Read with their lengths: GRDB's rows cut a text at a NUL, which a log's user name can hold.
        let r = try RawRows(db, sql: "SELECT rowid AS row_id, * FROM sessions ORDER BY rowid")
        let positions = sessionsColumns.map { r.has($0) ? r.position($0) : -1 }
        while try r.next() {
            let values: [SQLValue] = positions.map { $0 < 0 ? .null : r.value(at: $0) }
            let start = r.text("start").flatMap(SessionQuery.parseTimestamp)
            let end = r.text("end").flatMap(SessionQuery.parseTimestamp)
            var row = terms.withTerms { t in
                CompactSessions.row(values, start: start, end: end) { text in
                    let id = t.whole(text)
                    if let id { used.insert(id) }
                    return id
                }
            }
            dropFile(&row) { names[$0] }
            try insert.run([.int(Int64(r.int("row_id") ?? 0))] + row, db)
        }
        try RecordWriter.storeTerms(db, terms.terms(used))
        try db.execute(sql: "DROP TABLE sessions")
        try db.execute(sql: viewSQL)
    }

    /// Where the value of the top-level key `key` lies in the JSON object `json`.
    static func valueRange(of key: String, in json: [UInt8]) -> Range<Int>? {
        guard json.first == 0x7B else { return nil }
        let quoted = Array("\"\(key)\":".utf8)
        var i = 1, depth = 1
        while i < json.count {
            let c = json[i]
            if c == 0x22 {
                let start = i
                i += 1
                while i < json.count, json[i] != 0x22 { if json[i] == 0x5C { i += 1 }; i += 1 }
                i += 1
                // A key of the object itself, followed by its colon.
                guard depth == 1, i < json.count, json[i] == 0x3A, json[start...i].elementsEqual(quoted) else { continue }
                var j = i + 1, d = 0, inString = false
                while j < json.count {
                    let b = json[j]
                    if inString {
                        if b == 0x5C { j += 1 } else if b == 0x22 { inString = false }
                    } else if b == 0x22 {
                        inString = true
                    } else if b == 0x7B || b == 0x5B {
                        d += 1
                    } else if b == 0x7D || b == 0x5D {
                        if d == 0 { return (i + 1)..<j }
                        d -= 1
                    } else if b == 0x2C, d == 0 {
                        return (i + 1)..<j
                    }
                    j += 1
                }
                return nil
            }
            if c == 0x7B || c == 0x5B { depth += 1 } else if c == 0x7D || c == 0x5D { depth -= 1 }
            i += 1
        }
        return nil
    }

    /// The columns of `sessions`, in order.
    static let sessionsColumns = ["id", "source_id", "source", "side", "file", "peer_address", "peer_port", "user", "component", "location",
                                  "start", "end", "start_utc", "end_utc", "duration", "outcome", "outcome_detail", "client_version",
                                  "server_version", "kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c", "compression_c2s",
                                  "compression_s2c", "strict_kex", "auth_methods_tried", "auth_succeeded_method", "auth_failures",
                                  "host_key_check", "terrapin_vulnerable", "terrapin_explanation", "gex_bits", "event_count", "files",
                                  "bytes_up", "bytes_down", "first_line", "last_line", "details", "closed", "first_record_id",
                                  "last_record_id"]
}
