import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Keeps the `catalog_variants` table equal to the catalogue in use (refreshed
/// when its fingerprint changes, e.g. after `catalog import` or an upgrade).
public enum CatalogTable {
    static func fingerprint(_ c: EventCatalog) -> String {
        var h = ContentHash()
        for id in c.events.keys.sorted() {
            for t in c.events[id]!.variants { h.update(Array("\(id)|\(t.variant)|\(t.template)|\(t.versions ?? "")\n".utf8)) }
        }
        return h.digest
    }

    static func refresh(_ db: Database, catalog c: EventCatalog) throws {
        let fp = fingerprint(c)
        if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'catalog_fingerprint'") == fp { return }
        try db.execute(sql: "DELETE FROM catalog_variants")
        let stmt = try db.makeStatement(sql: "INSERT INTO catalog_variants VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
        // In ID order: a dictionary's order changes from run to run, and so did the rows'.
        for id in c.events.keys.sorted() {
            let e = c.events[id]!
            for t in e.variants {
                try stmt.execute(arguments: [
                    e.id, t.variant, e.area, t.template, JSONValue.array(t.fields.map(JSONValue.string)).json,
                    JSONValue.array(t.groups.map(JSONValue.string)).json, t.versions, t.fromVersion, t.toVersion,
                    JSONValue.array(t.documentedIn.map(JSONValue.string)).json, t.inferred, t.description ?? e.description,
                ])
            }
        }
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('catalog_fingerprint', ?)", arguments: [fp])
    }

    /// `catalog stats`: how the records of a database resolved.
    public struct Stats: Sendable {
        public var resolved = 0, unresolved = 0, unknown = 0
        public var unresolvedByID: [(String, Int)] = []
        public var unknownIDs: [(String, Int)] = []
    }

    static func stats(_ db: Database) throws -> Stats {
        var s = Stats()
        // On the compact rows (docs/schema.md): the view would look up every row's kind.
        let status = "CASE WHEN wording_id > 0 THEN 'resolved' WHEN wording_id = 0 THEN 'unresolved' WHEN wording_id = -1 THEN 'unknown-id' END"
        for row in try Row.fetchAll(db, sql: """
            SELECT \(status) AS catalog_status, count(*) AS n FROM record_rows
            WHERE kind_id IN (SELECT id FROM record_terms WHERE term = 'sftpplus.event') GROUP BY 1
            """) {
            let n: Int = row["n"]
            switch row["catalog_status"] as String? {
            case "resolved": s.resolved = n
            case "unresolved": s.unresolved = n
            case "unknown-id": s.unknown = n
            default: break
            }
        }
        s.unresolvedByID = try Row.fetchAll(db, sql: """
            SELECT CAST(event_id AS TEXT) AS event_id, count(*) AS n FROM record_rows WHERE wording_id = 0 GROUP BY 1 ORDER BY n DESC, 1
            """).map { ($0["event_id"], $0["n"]) }
        s.unknownIDs = try Row.fetchAll(db, sql: """
            SELECT CAST(event_id AS TEXT) AS event_id, count(*) AS n FROM record_rows WHERE wording_id = -1 GROUP BY 1 ORDER BY n DESC, 1
            """).map { ($0["event_id"], $0["n"]) }
        return s
    }

    /// `catalog stats`: the distinct messages of the stored OpenSSH records, each with
    /// its `debugN` level (nil for an unprefixed line: a continuation line carries the
    /// level of the line it continues, with `continuation` set) and its record count.
    static func opensshMessages(_ db: Database) throws -> [(message: String, level: Int?, records: Int)] {
        // On the compact rows: the view would rebuild every row's `extra` object to
        // read two of its keys (12.8 s for 10,000 transcripts); a shaped row's keys
        // are read from its values array, at paths found once per shape. OpenSSH
        // messages are stored as written.
        // An `extra` stored as a term is read once per term.
        func key(_ name: String) -> String {
            """
            CASE WHEN r.extra_shape_id IS NOT NULL THEN (r.aux ->> '$.extra') ->> p.\(name) WHEN r.aux ->> '$.extra' IS NOT NULL \
            THEN json_extract(r.aux ->> '$.extra', '$.\(name)') \
            ELSE t.\(name) END
            """
        }
        return try Row.fetchAll(db, sql: """
            WITH p AS (
              SELECT shape_id, max(CASE name WHEN 'level' THEN path END) AS level,
                     max(CASE name WHEN 'continuation' THEN path END) AS continuation
              FROM record_extra_keys GROUP BY shape_id
            ), t AS (
              SELECT id, json_extract(term, '$.level') AS level, json_extract(term, '$.continuation') AS continuation
              FROM record_terms WHERE json_valid(term)
            )
            SELECT m.message, l.level, count(*) AS n FROM (
              SELECT r.id, CASE WHEN \(key("continuation")) THEN NULL ELSE \(key("level")) END AS level
              FROM record_rows r LEFT JOIN p ON p.shape_id = r.extra_shape_id LEFT JOIN t ON t.id = r.extra_term_id
              WHERE r.kind_id IN (SELECT id FROM record_terms WHERE term >= 'openssh.' AND term < 'openssh/')
            ) l JOIN records m ON m.id = l.id
            WHERE m.message IS NOT NULL GROUP BY 1, 2
            """).map { ($0["message"], $0["level"], $0["n"]) }
    }
}

/// `catalog stats` over records that were never stored (a streaming pass):
/// what `CatalogTable.stats` and `opensshMessages` give for a database holding
/// them (keep the two the same).
public struct CatalogTally {
    private var byStatus: [EventResolution.Status: Int] = [:]
    private var unresolved: [String: Int] = [:], unknown: [String: Int] = [:]
    private var messages: [MessageKey: Int] = [:]

    private struct MessageKey: Hashable { var message: String; var level: Int? }

    public init() {}

    public mutating func add(_ r: SFTPLogRecords.Record) {
        if r.kind == .sftpplusEvent, let status = r.resolution?.status {
            byStatus[status, default: 0] += 1
            if let id = r.eventID {
                if status == .unresolved { unresolved[id, default: 0] += 1 }
                if status == .unknownID { unknown[id, default: 0] += 1 }
            }
        }
        if r.kind.rawValue.hasPrefix("openssh."), let m = r.message {
            // SQL's json_extract: a continuation line's level is NULL; a level is a JSON integer.
            let continuation: Bool
            switch r.extraValue("continuation") {
            case .bool(let b)?: continuation = b
            case .int(let i)?: continuation = i != 0
            default: continuation = false
            }
            var level: Int?
            if !continuation, case .int(let l)? = r.extraValue("level") { level = l }
            messages[MessageKey(message: m, level: level), default: 0] += 1
        }
    }

    public var stats: CatalogTable.Stats {
        var s = CatalogTable.Stats()
        s.resolved = byStatus[.resolved] ?? 0
        s.unresolved = byStatus[.unresolved] ?? 0
        s.unknown = byStatus[.unknownID] ?? 0
        // ORDER BY n DESC, event_id: IDs compared as SQLite compares text, byte by byte.
        func ordered(_ c: [String: Int]) -> [(String, Int)] {
            c.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
        }
        s.unresolvedByID = ordered(unresolved)
        s.unknownIDs = ordered(unknown)
        return s
    }

    /// In GROUP BY order: by message (byte by byte), then level (none first).
    public var opensshMessages: [(message: String, level: Int?, records: Int)] {
        messages.sorted { a, b in
            if a.key.message != b.key.message { return a.key.message.utf8.lexicographicallyPrecedes(b.key.message.utf8) }
            return (a.key.level ?? Int.min) < (b.key.level ?? Int.min)
        }.map { ($0.key.message, $0.key.level, $0.value) }
    }
}
