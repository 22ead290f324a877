import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// A source as stored: what ingest needs to recognise the same content again
/// and to resume after what is stored.
public struct StoredSource: Sendable {
    public var id: Int64, bytes: Int64, contentHash: String, resumeOffset: Int64, resumeLine: Int, complete: Bool
    public var format: String?, readerState: String?
}

/// A source's progress, written with every batch of its records.
public struct SourceProgress: Sendable {
    public var name: String
    public var format: String?
    public var formatExplanation: String?
    public var readerState: String?
    public var bytes: Int64
    public var contentHash: String
    public var headHash: String
    public var headLength: Int
    public var resumeOffset: Int64
    public var resumeLine: Int
    public var complete: Bool
    /// The last line read (the stored count never goes down).
    public var lastLine: Int
    /// When this run wrote it (ISO, UTC).
    public var ingestedAt: String

    public init(name: String, format: String?, formatExplanation: String?, readerState: String?, bytes: Int64, contentHash: String,
                headHash: String, headLength: Int, resumeOffset: Int64, resumeLine: Int, complete: Bool, lastLine: Int, ingestedAt: String) {
        self.name = name; self.format = format; self.formatExplanation = formatExplanation; self.readerState = readerState
        self.bytes = bytes; self.contentHash = contentHash; self.headHash = headHash; self.headLength = headLength
        self.resumeOffset = resumeOffset; self.resumeLine = resumeLine; self.complete = complete; self.lastLine = lastLine
        self.ingestedAt = ingestedAt
    }
}

extension StoreReader {
    /// Every head length stored sources have.
    public func sourceHeadLengths() throws -> Set<Int> {
        Set(try Int.fetchAll(db, sql: "SELECT DISTINCT head_len FROM sources"))
    }

    /// Sources whose first `headLength` bytes hash to `headHash`, longest first.
    public func sources(headLength: Int, headHash: String) throws -> [StoredSource] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, bytes, content_hash, resume_offset, resume_line, complete, format, reader_state
            FROM sources WHERE head_len = ? AND head_hash = ? ORDER BY bytes DESC
            """), arguments: [headLength, headHash]).map {
            StoredSource(id: $0["id"], bytes: $0["bytes"], contentHash: $0["content_hash"], resumeOffset: $0["resume_offset"],
                         resumeLine: $0["resume_line"], complete: $0["complete"] != 0, format: $0["format"], readerState: $0["reader_state"])
        }
    }

    /// The stored terms, to hand out ids for a writing run (under the writer lock).
    package func termDictionary() throws -> TermDictionary { try TermDictionary(db) }

    /// A stored source's name and format.
    public func source(id: Int64) throws -> (name: String, format: String?)? {
        try Row.fetchOne(db, sql: "SELECT name, format FROM sources WHERE id = ?", arguments: [id]).map { ($0["name"], $0["format"]) }
    }

    /// The sources of a rotated log whose sessions go on into source `id`,
    /// oldest first, ending with `id`: the files of its log (`logFamily`) back
    /// to the earliest where a session with records in the later ones began.
    public func continuedSources(endingAt id: Int64, logFamily: (String) -> String) throws -> [Int64] {
        let rows = try Row.fetchAll(db, sql: "SELECT id, name FROM sources WHERE id <= ? ORDER BY id", arguments: [id])
        guard let name = rows.last(where: { $0["id"] as Int64 == id })?["name"] as String? else { return [id] }
        let family = logFamily(name)
        let members: [Int64] = rows.filter { logFamily($0["name"]) == family }.map { $0["id"] }
        var from = id
        while true {
            let chain = members.filter { $0 >= from }
            let marks = chain.map { _ in "?" }.joined(separator: ",")
            guard let origin = try Int64.fetchOne(db, sql: """
                SELECT MIN(s.source_id) FROM records r JOIN sessions s ON s.id = r.session_id
                WHERE r.source_id IN (\(marks))
                """, arguments: StatementArguments(chain)), origin < from else { return chain }
            from = origin
        }
    }

    /// The catalogue wordings a source's records resolved to, and the versions its banners state.
    public func versionFacts(sourceID: Int64) throws -> (resolved: [(eventID: String, variant: Int)], banners: [String]) {
        let resolved = try Row.fetchAll(db, sql: """
            SELECT DISTINCT w.event_id, w.variant FROM record_rows r JOIN record_wordings w ON w.id = r.wording_id
            WHERE r.source_id = ? AND r.wording_id > 0 AND w.variant IS NOT NULL
            """, arguments: [sourceID]).map { (eventID: $0["event_id"] as String, variant: $0["variant"] as Int) }
        let banners = try String.fetchAll(db, sql: """
            SELECT json_extract(extra, '$.sftpplus_version') FROM records
            WHERE source_id = ? AND kind = 'sftpplus.banner' AND extra IS NOT NULL
            """, arguments: [sourceID]).compactMap { $0 }
        return (resolved, banners)
    }

    /// A source's records in order, with their `seq`. `needsFields(record,
    /// json)` says whether a record's fields (or extra) JSON is worth decoding.
    public func forEachRecord(sourceID: Int64, needsFields: (SFTPLogRecords.Record, String) -> Bool, _ body: (SFTPLogRecords.Record, Int) throws -> Void) throws {
        try StoredRecords.forEach(db, sourceID: sourceID, needsFields: needsFields, body)
    }
}

/// What ingest writes, inside one write transaction (a `SerialWriter` job or
/// `LogStore.write`).
public struct StoreWriter {
    let db: Database
    /// The term ids this connection is known to hold (see `StoredTerms`); nil: check every one.
    var storedTerms: StoredTerms? = nil
    /// The record ids of the sessions being written (see `SessionSpans`).
    var sessionSpans: SessionSpans? = nil
    /// See `LogStore.indexesMessages`.
    var indexesMessages = true

    public var reader: StoreReader { StoreReader(db: db) }

    /// Records a new source; returns its id.
    public func addSource(_ p: SourceProgress) throws -> Int64 {
        try db.executeCached(sql: """
            INSERT INTO sources(name, format, format_explanation, reader_state, bytes, content_hash, head_hash, head_len,
              resume_offset, resume_line, complete, first_ingested_at, last_ingested_at)
            VALUES(?,?,?,?,?,?,?,?,?,?,0,?,?)
            """, arguments: [p.name, p.format, p.formatExplanation, p.readerState, p.bytes, p.contentHash, p.headHash, p.headLength,
                             p.resumeOffset, p.resumeLine, p.ingestedAt, p.ingestedAt])
        return db.lastInsertedRowID
    }

    /// Writes a source's progress after a batch of its records.
    public func updateSource(id: Int64, _ p: SourceProgress) throws {
        try db.executeCached(sql: """
            UPDATE sources SET format = coalesce(?, format), format_explanation = coalesce(?, format_explanation),
              reader_state = ?, bytes = ?, content_hash = ?, head_hash = ?, head_len = ?, resume_offset = ?, resume_line = ?,
              complete = ?, lines = max(lines, ?), last_ingested_at = ?
            WHERE id = ?
            """, arguments: [p.format, p.formatExplanation, p.readerState, p.bytes, p.contentHash, p.headHash, p.headLength,
                             p.resumeOffset, p.resumeLine, p.complete ? 1 : 0, p.lastLine, p.ingestedAt, id])
    }

    /// Sets a source's record counts as counted while streaming.
    public func setRecordCounts(sourceID: Int64, records: Int, unparsed: Int) throws {
        try db.executeCached(sql: "UPDATE sources SET records = ?, unparsed = ? WHERE id = ?", arguments: [records, unparsed, sourceID])
    }

    /// Counts a source's stored records again (a source resumed across runs).
    public func recountRecords(sourceID: Int64) throws {
        try db.executeCached(sql: """
            UPDATE sources SET records = (SELECT count(*) FROM record_rows r WHERE \(RecordLineMap.rowsOf("r", source: "sources.id"))),
              unparsed = (SELECT count(*) FROM record_rows r WHERE \(RecordLineMap.rowsOf("r", source: "sources.id"))
                          AND kind_id = (SELECT id FROM record_terms WHERE term = 'unparsed'))
            WHERE id = ?
            """, arguments: [sourceID])
    }

    public func setSFTPPlusVersions(_ versions: String?, sourceID: Int64) throws {
        try db.executeCached(sql: "UPDATE sources SET sftpplus_versions = ? WHERE id = ?", arguments: [versions, sourceID])
    }

    /// Removes a source's records from `line` on (the tail re-read on resume).
    public func deleteRecords(sourceID: Int64, fromLine line: Int) throws {
        try RecordWriter.deleteTail(db, sourceID: sourceID, fromLine: line, indexesMessages: indexesMessages)
    }

    /// Writes a batch of records (made by `RecordWriter.prepare` on the parsing
    /// thread) with the terms they use, and adds their messages to the full-text index.
    package func writeRecords(_ records: [RecordWriter.Prepared], terms: [(Int64, String)], sourceID: Int64) throws {
        let writer = try RecordWriter(db, indexesMessages: indexesMessages)
        try writer.storeTerms(terms, known: storedTerms)
        // By index: iterating copied each record out of the array, a retain and
        // a release of its buffer on the writer thread per record.
        for i in records.indices { try writer.write(records[i], sourceID: sourceID, db: db, spans: sessionSpans) }
    }

    /// Adds sessions (made by `SessionStore.prepare` on the parsing thread);
    /// those from `provisionalFrom` on are stored as they stand while their
    /// log goes on in a later file, which replaces them.
    package func addSessions(_ sessions: [SessionStore.PreparedSession], sourceID: Int64, provisionalFrom: Int = .max) throws {
        try SessionStore.insert(db, sourceID: sourceID, sessions, provisionalFrom: provisionalFrom, spans: sessionSpans)
    }

    /// Replaces all of a source's sessions.
    public func replaceSessions(sourceID: Int64, with sessions: [SessionTimeline], zone: TimeZone) throws {
        try SessionStore.replace(db, sourceID: sourceID, with: sessions, zone: zone)
    }

    /// Marks the records of sessions built after their records were stored with their session.
    public func assignRecords(sourceID: Int64, to sessions: [SessionTimeline]) throws {
        try SessionStore.assignRecords(db, sourceID: sourceID, sessions)
    }

    /// Brings the stored copy of the catalogue up to date (a no-op when it is).
    public func refreshCatalog(_ catalog: EventCatalog) throws {
        try CatalogTable.refresh(db, catalog: catalog)
    }

    /// Before a bulk load: an empty records table is loaded without its
    /// secondary indexes. Returns whether it was empty.
    public func dropIndexesIfEmpty() throws -> Bool {
        let empty = try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM record_rows LIMIT 1)") == 0
        if empty { try Schema.dropBulkIndexes(db) }
        return empty
    }

    /// After a bulk load: the indexes `dropIndexesIfEmpty` dropped.
    public func createIndexes() throws {
        try Schema.createBulkIndexes(db)
    }
}

/// Term ids a writing connection has stored or found stored, in transactions
/// that committed or in the open one: a batch need not store them again (one
/// INSERT and one check per term and batch cost 10,000 transcripts 4 s). The
/// writer empties it whenever anything rolls back, since a rolled-back batch
/// may have been the one that stored a term.
// Not Sendable: used only on the thread that writes its connection.
package final class StoredTerms {
    var ids: Set<Int64> = []
    /// The ids stored or found stored in the open transaction (for a following
    /// `TermDictionary`, told once it commits).
    var open: [Int64] = []
    package init() {}
    package func forget() { ids.removeAll(keepingCapacity: true); open.removeAll() }
    /// After a commit: the ids it made sure of.
    func takeOpen() -> [Int64] { defer { open.removeAll(keepingCapacity: true) }; return open }
}
