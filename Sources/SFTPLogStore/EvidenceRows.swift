import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogSessions

/// How a session's evidence links are stored (since migration v15): one row per
/// session in `evidence_rows(session_row, links)`. `links` is a JSON array with
/// an array per record the session's facts came from, in the canonical order
/// (`EvidenceLink.canonical`): `[facts, line step, offset step, item, seq,
/// source id]`, where `facts` has bit `code` set for each fact the record
/// showed (`evidence_facts(code, fact)`), the line and the byte offset are
/// steps from the entry before (the offset from the last one known; NULL when
/// unknown), and the last three are left out when 0, 0 and the session's own
/// source. A row per link, or an array per link with whole offsets, cost five
/// times the bytes (36 MB for the 1M-line log). The `evidence` view gives a row
/// per link with its fact's name, file and record id.
///
/// Since v18 the row is keyed by `session_row`, the session's number in
/// `session_rows` (`SessionRowKeys`); the `V17` SQL is the form v15 made.
package enum EvidenceRows {
    static let tableV17SQL = """
        CREATE TABLE IF NOT EXISTS evidence_facts (code INTEGER PRIMARY KEY, fact TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS evidence_rows (session_id TEXT NOT NULL, links TEXT NOT NULL);
        """

    static let viewV17SQL = viewSQL(session: "e.session_id", join: "s.id = e.session_id")

    /// The `evidence` view: rows `e` of `evidence_rows` joined to their
    /// sessions `s` (`session_rows`) on `join`; `session` is the session id.
    static func viewSQL(session: String, join: String) -> String {
        """
        CREATE VIEW IF NOT EXISTS evidence AS
        WITH entries AS (
          SELECT \(session) AS session_id, CAST(j.key AS INTEGER) AS k, j.value ->> 0 AS facts, sum(j.value ->> 1) OVER w AS line,
                 CASE WHEN j.value ->> 2 IS NULL THEN NULL ELSE sum(j.value ->> 2) OVER w END AS byte_offset,
                 coalesce(j.value ->> 3, 0) AS item, coalesce(j.value ->> 4, 0) AS seq, coalesce(j.value ->> 5, s.source_id) AS source_id
          FROM evidence_rows e JOIN session_rows s ON \(join) JOIN json_each(e.links) j
          WINDOW w AS (PARTITION BY \(session) ORDER BY j.key)
        )
        SELECT x.session_id, row_number() OVER (PARTITION BY x.session_id ORDER BY x.k, f.code) - 1 AS position, f.fact,
          CASE WHEN f.fact = 'operation' THEN x.item ELSE 0 END AS item, x.source_id, src.name AS file, x.line, x.seq,
          r.id AS record_id, x.byte_offset
        FROM entries x JOIN evidence_facts f ON (x.facts >> f.code) & 1
          JOIN sources src ON src.id = x.source_id
          LEFT JOIN record_rows r ON \(RecordLineMap.rowAt("r", source: "x.source_id", line: "x.line", seq: "x.seq"))
        """
    }

    /// Names every fact this version knows (codes only ever grow at the end).
    static func nameFacts(_ db: Database) throws {
        let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO evidence_facts(code, fact) VALUES (?, ?)")
        for f in EvidenceFact.allCases { try insert.execute(arguments: [f.code, f.rawValue]) }
    }

    static func migrate(_ db: Database) throws {
        try db.execute(sql: tableV17SQL)
        try nameFacts(db)
        try db.execute(sql: viewV17SQL)
    }

    /// Stores sessions' links read from elsewhere (a PostgreSQL store's
    /// `evidence_links`), each with its source id.
    package static func insert(_ db: Database, sessionID: String, links: [EvidenceLink]) throws {
        try db.execute(sql: "INSERT INTO evidence_rows SELECT rowid, ? FROM session_rows WHERE id = ?", arguments: [encode(links), sessionID])
    }

    /// The `links` text of a session's links (in canonical order; a link's
    /// source is 0 when it is the session's own).
    static func encode(_ links: [EvidenceLink]) -> String {
        // Read in place: each link copied out of the array retained and released its file name.
        links.withUnsafeBufferPointer(encode)
    }

    private static func encode(_ links: UnsafeBufferPointer<EvidenceLink>) -> String {
        var j = JSONBytes(capacity: links.count * 12)
        j.raw("[")
        var line = 0, offset: Int64 = 0, k = 0, first = true
        while k < links.count {
            // One entry per record (and operation): the facts it showed.
            let l = links[k]
            var facts = 0
            var item = 0
            var n = k
            while n < links.count, links[n].sameRecord(l), links[n].offset == l.offset {
                if links[n].fact == .operation {
                    if facts & (1 << EvidenceFact.operation.code) != 0, links[n].item != item { break }
                    item = links[n].item
                }
                facts |= 1 << links[n].fact.code
                n += 1
            }
            if !first { j.raw(",") }
            first = false
            j.raw("["); j.int(facts); j.raw(","); j.int(l.line - line); j.raw(",")
            if let o = l.offset { j.int(Int(o - offset)); offset = o } else { j.raw("null") }
            line = l.line
            if item != 0 || l.seq != 0 || l.sourceID != 0 {
                j.raw(","); j.int(item)
                if l.seq != 0 || l.sourceID != 0 {
                    j.raw(","); j.int(l.seq)
                    if l.sourceID != 0 { j.raw(","); j.int(Int(l.sourceID)) }
                }
            }
            j.raw("]")
            k = n
        }
        j.raw("]")
        return j.text
    }

    /// The links `encode` wrote, in order; a link's source is 0 when it is the session's own.
    static func decode(_ text: [UInt8]) -> [EvidenceLink] {
        guard case .array(let entries)? = JSONValue.parse(text) else { return [] }
        var out: [EvidenceLink] = []
        var line = 0, offset: Int64 = 0
        func int(_ a: [JSONValue], _ i: Int) -> Int? {
            guard i < a.count, case .int(let v) = a[i] else { return nil }
            return v
        }
        for case .array(let e) in entries {
            guard let facts = int(e, 0) else { continue }
            line += int(e, 1) ?? 0
            var at: Int64?
            if let d = int(e, 2) { offset += Int64(d); at = offset }
            let item = int(e, 3) ?? 0, seq = int(e, 4) ?? 0, source = Int64(int(e, 5) ?? 0)
            for f in EvidenceFact.allCases where facts & (1 << f.code) != 0 {
                out.append(EvidenceLink(f, item: f == .operation ? item : 0, line: line, seq: seq, sourceID: source, offset: at))
            }
        }
        return out
    }

    /// The links of these sessions, with file and record id filled in, by
    /// session id; a session without a row (stored before v15) has none.
    /// `facts` keeps only those (an audit needs the cryptography's).
    static func links(_ db: Database, ids: [String], facts: Set<EvidenceFact>? = nil) throws -> [String: [EvidenceLink]] {
        var out: [String: [EvidenceLink]] = [:]
        guard !ids.isEmpty else { return out }
        let rows = try RawRows(db, sql: """
            SELECT s.id, e.links, s.source_id FROM evidence_rows e JOIN session_rows s ON s.rowid = e.session_row
            WHERE s.id IN (SELECT value FROM json_each(?))
            """, arguments: [.text(SessionQuery.idsJSON(ids))])
        let record = try db.cachedStatement(sql: "SELECT id FROM record_rows r WHERE \(RecordLineMap.rowAt("r", source: "?1", line: "?2", seq: "?3"))")
        var names: [Int64: String] = [:]
        while try rows.next() {
            guard let id = rows.text(at: 0), let text = rows.bytes(at: 1) else { continue }
            let own = Int64(rows.int(at: 2) ?? 0)
            var links = decode(text)
            if let facts { links.removeAll { !facts.contains($0.fact) } }
            var last: (EvidenceLink, Int64?)?
            for k in links.indices {
                if links[k].sourceID == 0 { links[k].sourceID = own }
                let source = links[k].sourceID
                if names[source] == nil { names[source] = try String.fetchOne(db, sql: "SELECT name FROM sources WHERE id = ?", arguments: [source]) ?? "" }
                links[k].file = names[source]
                // Facts of one record follow each other: one lookup for them.
                if let (l, rid) = last, l.sameRecord(links[k]) { links[k].recordID = rid; continue }
                links[k].recordID = try Int64.fetchOne(record, arguments: [source, links[k].line, links[k].seq])
                last = (links[k], links[k].recordID)
            }
            out[id] = links
        }
        return out
    }

    /// Every link of a source's sessions, as the `evidence` view gives them
    /// (sessions in `ORDER BY session_id` order, then by position), decoded
    /// here: the view's window functions were most of reading them back. As
    /// in the view, a link to a source that is not stored is left out:
    /// `stored` holds the ids in `sources` (read once by a caller that reads
    /// the links of every source).
    package static func forEachLink(_ db: Database, sessionsOf sourceID: Int64, stored: Set<Int64>,
                                   _ body: (_ session: String, _ position: Int, EvidenceLink) throws -> Void) throws {
        let rows = try RawRows(db, sql: """
            SELECT s.id, e.links FROM evidence_rows e JOIN session_rows s ON s.rowid = e.session_row
            WHERE s.source_id = ? ORDER BY s.id
            """, arguments: [.int(sourceID)])
        while try rows.next() {
            guard let id = rows.text(at: 0), let text = rows.bytes(at: 1) else { continue }
            var position = 0
            for var link in decode(text) {
                if link.sourceID == 0 { link.sourceID = sourceID }
                guard stored.contains(link.sourceID) else { continue }
                try body(id, position, link)
                position += 1
            }
        }
    }

    /// Where the records that the stored links of these sources' sessions point
    /// at begin, by source and line: a rebuild from stored records (which keep
    /// no offsets) gives its links the offsets the first reading found.
    static func offsets(_ db: Database, sessionsOf sources: [Int64]) throws -> [Int64: [Int: Int64]] {
        var out: [Int64: [Int: Int64]] = [:]
        let list = "[" + sources.map(String.init).joined(separator: ",") + "]"
        let rows = try RawRows(db, sql: """
            SELECT e.links, s.source_id FROM evidence_rows e JOIN session_rows s ON s.rowid = e.session_row
            WHERE s.source_id IN (SELECT value FROM json_each(?))
            """, arguments: [.text(list)])
        while try rows.next() {
            guard let text = rows.bytes(at: 0) else { continue }
            let own = Int64(rows.int(at: 1) ?? 0)
            for l in decode(text) {
                if let o = l.offset { out[l.sourceID == 0 ? own : l.sourceID, default: [:]][l.line] = o }
            }
        }
        return out
    }
}
