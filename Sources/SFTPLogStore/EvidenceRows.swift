import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogSessions

/// How a session's evidence links are stored (since migration v15): one row per
/// session in `evidence_rows(session_id, links)`, `links` a JSON array with an
/// array per link, `[fact code, item, line, seq, source id or null (the
/// session's own), byte offset or null]`. A row per link cost three times the
/// bytes. The `evidence` view gives a row per link with its fact's name, file
/// and record id; `evidence_facts(code, fact)` names the codes.
package enum EvidenceRows {
    static let tableSQL = """
        CREATE TABLE IF NOT EXISTS evidence_facts (code INTEGER PRIMARY KEY, fact TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS evidence_rows (session_id TEXT NOT NULL, links TEXT NOT NULL);
        """

    static let viewSQL = """
        CREATE VIEW IF NOT EXISTS evidence AS SELECT
          e.session_id, CAST(j.key AS INTEGER) AS position, f.fact, j.value ->> 1 AS item, src.id AS source_id, src.name AS file,
          j.value ->> 2 AS line,
          j.value ->> 3 AS seq, r.id AS record_id, j.value ->> 5 AS byte_offset
        FROM evidence_rows e JOIN session_rows s ON s.id = e.session_id JOIN json_each(e.links) j
          JOIN evidence_facts f ON f.code = j.value ->> 0
          JOIN sources src ON src.id = coalesce(j.value ->> 4, s.source_id)
          LEFT JOIN record_rows r ON r.source_id = src.id AND r.line = j.value ->> 2 AND r.seq = j.value ->> 3
        """

    /// Names every fact this version knows (codes only ever grow at the end).
    static func nameFacts(_ db: Database) throws {
        let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO evidence_facts(code, fact) VALUES (?, ?)")
        for f in EvidenceFact.allCases { try insert.execute(arguments: [f.code, f.rawValue]) }
    }

    static func migrate(_ db: Database) throws {
        try db.execute(sql: tableSQL)
        try nameFacts(db)
        try db.execute(sql: viewSQL)
    }

    /// Stores sessions' links read from elsewhere (a PostgreSQL store's
    /// `evidence_links`), each with its source id.
    package static func insert(_ db: Database, sessionID: String, links: [EvidenceLink]) throws {
        try db.execute(sql: "INSERT INTO evidence_rows VALUES (?, ?)", arguments: [sessionID, encode(links)])
    }

    /// Where the records that the stored links of these sources' sessions point
    /// at begin, by source and line: a rebuild from stored records (which keep
    /// no offsets) gives its links the offsets the first reading found.
    static func offsets(_ db: Database, sessionsOf sources: [Int64]) throws -> [Int64: [Int: Int64]] {
        var out: [Int64: [Int: Int64]] = [:]
        let list = "[" + sources.map(String.init).joined(separator: ",") + "]"
        let r = try RawRows(db, sql: """
            SELECT source_id, line, byte_offset FROM evidence
            WHERE byte_offset IS NOT NULL AND session_id IN (SELECT id FROM session_rows WHERE source_id IN (SELECT value FROM json_each(?)))
            """, arguments: [.text(list)])
        while try r.next() {
            guard let s = r.int(at: 0), let line = r.int(at: 1), let o = r.int(at: 2) else { continue }
            out[Int64(s), default: [:]][line] = Int64(o)
        }
        return out
    }

    /// The `links` text of a session's links.
    static func encode(_ links: [EvidenceLink]) -> String {
        var j = JSONBytes(capacity: links.count * 24)
        j.raw("[")
        for (k, l) in links.enumerated() {
            if k > 0 { j.raw(",") }
            j.raw("["); j.int(l.fact.code); j.raw(","); j.int(l.item); j.raw(","); j.int(l.line); j.raw(","); j.int(l.seq); j.raw(",")
            if l.sourceID != 0 { j.int(Int(l.sourceID)) } else { j.raw("null") }
            j.raw(",")
            if let o = l.offset { j.int(Int(o)) } else { j.raw("null") }
            j.raw("]")
        }
        j.raw("]")
        return j.text
    }

    /// The links of these sessions, from the `evidence` view (file and record id
    /// filled in), by session id; a session without a row (stored before v15) has none.
    static func links(_ db: Database, ids: [String]) throws -> [String: [EvidenceLink]] {
        var out: [String: [EvidenceLink]] = [:]
        guard !ids.isEmpty else { return out }
        let r = try RawRows(db, sql: """
            SELECT e.session_id, f.code, e.item, e.file, e.line, e.seq, e.record_id, e.byte_offset
            FROM evidence e JOIN evidence_facts f ON f.fact = e.fact
            WHERE e.session_id IN (SELECT value FROM json_each(?)) ORDER BY e.session_id, e.position
            """, arguments: [.text(SessionQuery.idsJSON(ids))])
        while try r.next() {
            guard let id = r.text(at: 0), let fact = r.int(at: 1).flatMap({ EvidenceFact(code: $0) }) else { continue }
            var l = EvidenceLink(fact, item: r.int(at: 2) ?? 0, line: r.int(at: 4) ?? 0, seq: r.int(at: 5) ?? 0, file: r.text(at: 3),
                                 offset: r.int(at: 7).map(Int64.init))
            l.recordID = r.int(at: 6).map(Int64.init)
            out[id, default: []].append(l)
        }
        for id in try String.fetchAll(db, sql: "SELECT session_id FROM evidence_rows WHERE session_id IN (SELECT value FROM json_each(?))",
                                      arguments: [SessionQuery.idsJSON(ids)]) where out[id] == nil {
            out[id] = []
        }
        return out
    }
}
