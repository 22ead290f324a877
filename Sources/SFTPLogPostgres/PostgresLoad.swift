// Moving what an ingest staged in SQLite into PostgreSQL, one source per transaction.

import Foundation
import GRDB
import GRDBSQLite
import PostgresNIO
import SFTPLogRecords
import SFTPLogStore

extension PostgresStore: StagedLoadTarget {
    /// A column as PostgreSQL's COPY takes it.
    enum CopyKind { case text, int, double, bytea }

    static let recordColumns: [(String, CopyKind)] = [
        ("line", .int), ("seq", .int), ("line_count", .int), ("kind", .text), ("file", .text), ("layout", .text),
        ("ts", .text), ("ts_utc", .text), ("ts_note", .text), ("event_id", .text), ("component", .text), ("account", .text),
        ("peer_address", .text), ("peer_port", .int), ("message", .text), ("text", .text), ("catalog_status", .text),
        ("catalog_variant", .int), ("fields", .text), ("extra", .text), ("diagnostic", .text), ("raw", .bytea),
        ("session_id", .text), ("session_duplicate", .int),
    ]

    static let sessionColumns: [(String, CopyKind)] = [
        ("id", .text), ("source", .text), ("side", .text), ("file", .text), ("peer_address", .text), ("peer_port", .int),
        ("user", .text), ("component", .text), ("location", .text), ("start", .text), ("end", .text), ("start_utc", .text),
        ("end_utc", .text), ("duration", .double), ("outcome", .text), ("outcome_detail", .text), ("client_version", .text),
        ("server_version", .text), ("kex", .text), ("hostkey", .text), ("cipher_c2s", .text), ("cipher_s2c", .text),
        ("mac_c2s", .text), ("mac_s2c", .text), ("compression_c2s", .text), ("compression_s2c", .text), ("strict_kex", .int),
        ("auth_methods_tried", .text), ("auth_succeeded_method", .text), ("auth_failures", .int), ("host_key_check", .text),
        ("terrapin_vulnerable", .int), ("terrapin_explanation", .text), ("gex_bits", .int), ("event_count", .int),
        ("files", .int), ("bytes_up", .int), ("bytes_down", .int), ("first_line", .int), ("last_line", .int),
        ("details", .text), ("closed", .int),
    ]

    static let operationColumns: [(String, CopyKind)] = [
        ("session_id", .text), ("position", .int), ("op", .text), ("path", .text), ("ok", .int), ("bytes", .int),
        ("seconds", .double), ("bytes_per_second", .double), ("to_path", .text), ("local_path", .text), ("detail", .text),
        ("line", .int), ("ts", .text),
    ]

    static let findingColumns: [(String, CopyKind)] = [
        ("session_id", .text), ("position", .int), ("algorithm", .text), ("category", .text), ("direction", .text),
        ("rating", .text), ("reason", .text), ("reference", .text),
    ]

    static let offerColumns: [(String, CopyKind)] = [
        ("session_id", .text), ("side", .text), ("slot", .text), ("position", .int), ("algorithm", .text),
    ]

    static let catalogColumns: [(String, CopyKind)] = [
        ("event_id", .text), ("variant", .int), ("area", .text), ("template", .text), ("fields", .text), ("groups", .text),
        ("versions", .text), ("from_version", .text), ("to_version", .text), ("documented_in", .text), ("inferred", .int),
        ("description", .text),
    ]

    static let sourceColumns: [(String, CopyKind)] = [
        ("name", .text), ("format", .text), ("format_explanation", .text), ("reader_state", .text), ("bytes", .int),
        ("content_hash", .text), ("head_hash", .text), ("head_len", .int), ("resume_offset", .int), ("resume_line", .int),
        ("complete", .int), ("lines", .int), ("records", .int), ("unparsed", .int), ("sftpplus_versions", .text),
        ("first_ingested_at", .text), ("last_ingested_at", .text),
    ]

    /// Where a load spends its time, on stderr when SFTPLOG_TIMINGS is set (for the benchmark).
    static func timing(_ what: @autoclosure () -> String, since start: Date) {
        guard getenv("SFTPLOG_TIMINGS") != nil else { return }
        FileHandle.standardError.write(Data("timing: PostgreSQL \(what()) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s\n".utf8))
    }

    /// PostgreSQL reserves `user` and `end`.
    static func quoted(_ c: String) -> String { c == "user" || c == "end" ? "\"\(c)\"" : c }

    /// Whether a complete source with this content is stored (an input that can be skipped unread).
    public func hasComplete(contentHash: String) throws -> Bool {
        try !link.rows("SELECT 1 FROM sources WHERE content_hash = \(contentHash) AND complete = 1").isEmpty
    }

    public func loadCatalog(staged: LogStore) throws {
        try staged.queue.read { try loadCatalog($0) }
    }

    public func load(staged: LogStore, stagedID: Int64, sources: StagedSources, again: [Int64: [String]],
                     prefixHash: (String, Int64) -> String?) throws -> StagedLoadOutcome {
        try staged.queue.read { db in
            guard let s = try Row.fetchOne(db, sql: "SELECT * FROM sources WHERE id = ?", arguments: [stagedID]) else {
                throw StoreError.server(location: location.redacted, reason: "staged source \(stagedID) is missing")
            }
            let t0 = Date()
            defer { Self.timing("source \(stagedID) loaded and committed", since: t0) }
            func attempt() throws -> StagedLoadOutcome {
                try link.transaction {
                    let outcome = try loadSource(db, s, stagedID: stagedID, prefixHash: prefixHash, sources: sources)
                    var sources = sources
                    switch outcome {
                    case .added(let id, _), .grown(let id, _), .alreadyStored(let id): sources.here[stagedID] = id
                    }
                    try replaceSessions(db, again: again, sources: sources)
                    return outcome
                }
            }
            do {
                return try attempt()
            } catch is PostgresLink.Conflict {
                // Another ingester stored one of its sessions meanwhile: now that it
                // is committed, this source's rows replace it, as they would have.
                return try attempt()
            }
        }
    }

    /// Sessions of sources loaded before, as the staging file holds them now.
    func replaceSessions(_ db: Database, again: [Int64: [String]], sources: StagedSources) throws {
        for (staged, ids) in again.sorted(by: { $0.key < $1.key }) {
            guard let id = sources.here[staged] else { continue }
            try replaceSessions(db, ids, stagedID: staged, sourceID: id, sources: sources)
        }
    }

    private func loadCatalog(_ db: Database) throws {
        guard let fp = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'catalog_fingerprint'") else { return }
        try link.transaction {
            try link.rows("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock + 1))")
            let stored = try link.rows("SELECT value FROM meta WHERE key = 'catalog_fingerprint'").first?.decode(String?.self)
            guard stored != fp else { return }
            try link.execute("DELETE FROM catalog_variants")
            try copy(db, select: "SELECT * FROM catalog_variants", into: "catalog_variants", columns: Self.catalogColumns)
            try link.rows("INSERT INTO meta (key, value) VALUES ('catalog_fingerprint', \(fp)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
        }
    }

    /// A session stored by another ingester while this one copies its own
    /// fails the load with `Conflict` (the caller loads it again).
    private func loadSource(_ db: Database, _ s: Row, stagedID: Int64, prefixHash: (String, Int64) -> String?,
                            sources: StagedSources) throws -> StagedLoadOutcome {
        let hash: String = s["content_hash"], name: String = s["name"], bytes: Int64 = s["bytes"]
        if let id = try link.rows("SELECT id FROM sources WHERE content_hash = \(hash)").first?.decode(Int64.self) {
            return .alreadyStored(sourceID: id)
        }
        let grown = try storedPrefix(of: name, bytes: bytes, prefixHash: prefixHash, locking: true)
        let sourceID: Int64
        if let g = grown {
            sourceID = g.id
            try updateSource(s, id: g.id)
        } else {
            let cols = Self.sourceColumns.map(\.0)
            var values: [String] = []
            var binds = PostgresBindings()
            for (i, column) in Self.sourceColumns.enumerated() {
                values.append("$\(i + 1)")
                Self.bind(s, column, to: &binds)
            }
            let sql = "INSERT INTO sources (\(cols.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) ON CONFLICT (content_hash) DO NOTHING RETURNING id"
            guard let id = try link.rows(PostgresQuery(unsafeSQL: sql, binds: binds)).first?.decode(Int64.self) else {
                // Another ingester stored the same content meanwhile.
                return .alreadyStored(sourceID: try link.rows("SELECT id FROM sources WHERE content_hash = \(hash)").first?.decode(Int64.self) ?? 0)
            }
            sourceID = id
        }
        let fromLine = grown?.resumeLine ?? 0
        let records: Int
        if grown != nil {
            // Lines from the stored source's resume line on are read again (the last
            // one may have grown); earlier ones keep their rows and get the session
            // they belong to now.
            try link.execute("CREATE TEMP TABLE staged_records ON COMMIT DROP AS SELECT * FROM records WITH NO DATA")
            _ = try copyRecords(db, stagedID: stagedID, into: "staged_records", sourceID: sourceID)
            try link.rows("DELETE FROM records WHERE source_id = \(sourceID) AND line >= \(fromLine)")
            let cols = Self.recordColumns.map { Self.quoted($0.0) }.joined(separator: ", ")
            try link.rows(PostgresQuery(unsafeSQL: """
                INSERT INTO records (source_id, \(cols)) SELECT source_id, \(cols) FROM staged_records
                WHERE line >= \(fromLine) ON CONFLICT DO NOTHING
                """))
            try link.rows(PostgresQuery(unsafeSQL: """
                UPDATE records r SET session_id = t.session_id, session_duplicate = t.session_duplicate FROM staged_records t
                WHERE r.source_id = \(sourceID) AND r.line = t.line AND r.seq = t.seq AND t.line < \(fromLine)
                AND (r.session_id IS DISTINCT FROM t.session_id OR r.session_duplicate <> t.session_duplicate)
                """))
            records = try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE source_id = ? AND line >= ?", arguments: [stagedID, fromLine]) ?? 0
        } else {
            let t0 = Date()
            records = try copyRecords(db, stagedID: stagedID, into: "records", sourceID: sourceID)
            Self.timing("records copied", since: t0)
        }
        var sources = sources
        sources.here[stagedID] = sourceID
        try replaceSessions(db, stagedID: stagedID, sourceID: sourceID, sources: sources)
        return grown == nil ? .added(sourceID: sourceID, records: records) : .grown(sourceID: sourceID, records: records)
    }

    /// A stored source whose bytes are the beginning of the input `name` (a
    /// grown copy of it), with the line its next run resumes at.
    func storedPrefix(of name: String, bytes: Int64, prefixHash: (String, Int64) -> String?, locking: Bool) throws -> (id: Int64, resumeLine: Int)? {
        let lengths = try link.rows("SELECT DISTINCT head_len FROM sources WHERE bytes < \(bytes)").map { try $0.decode(Int.self) }
        for len in lengths.sorted(by: >) {
            guard let head = prefixHash(name, Int64(len)) else { break }
            let candidates = try link.rows(PostgresQuery(unsafeSQL: """
                SELECT id, bytes, content_hash, resume_line FROM sources
                WHERE head_len = $1 AND head_hash = $2 AND bytes < $3 ORDER BY bytes DESC\(locking ? " FOR UPDATE" : "")
                """, binds: Self.binds(len, head, bytes)))
            for c in candidates {
                let (id, n, h, line) = try c.decode((Int64, Int64, String, Int).self)
                if prefixHash(name, n) == h { return (id, line) }
            }
        }
        return nil
    }

    static func binds(_ len: Int, _ head: String, _ bytes: Int64) -> PostgresBindings {
        var b = PostgresBindings()
        b.append(len); b.append(head); b.append(bytes)
        return b
    }

    func updateSource(_ s: Row, id: Int64, keeping kept: Set<String> = ["name", "first_ingested_at"]) throws {
        var sets: [String] = []
        var binds = PostgresBindings()
        for column in Self.sourceColumns where !kept.contains(column.0) {
            sets.append("\(column.0) = $\(sets.count + 1)")
            Self.bind(s, column, to: &binds)
        }
        binds.append(id)
        try link.rows(PostgresQuery(unsafeSQL: "UPDATE sources SET \(sets.joined(separator: ", ")) WHERE id = $\(sets.count + 1)", binds: binds))
    }

    /// The source's sessions as the staging database rebuilt them, copied
    /// into their tables. A session stored for another source (the same
    /// session in another copy of a log) is replaced whole, rows and child
    /// rows, as SQLite replaces it.
    func replaceSessions(_ db: Database, stagedID: Int64, sourceID: Int64, sources: StagedSources) throws {
        for t in Self.sessionChildTables {
            try link.rows(PostgresQuery(unsafeSQL: "DELETE FROM \(t) WHERE session_id IN (SELECT id FROM sessions WHERE source_id = \(sourceID))"))
        }
        try link.rows("DELETE FROM sessions WHERE source_id = \(sourceID)")
        let staged = try String.fetchAll(db, sql: "SELECT id FROM sessions WHERE source_id = ?", arguments: [stagedID])
        try replaceSessions(db, staged, stagedID: stagedID, sourceID: sourceID, sources: sources)
    }

    /// Replaces the staged source's sessions `ids` (and their rows) here,
    /// wherever they are stored: all of them, or those of a source loaded
    /// before that went on into the file being loaded (a rotated log's).
    private func replaceSessions(_ db: Database, _ ids: [String], stagedID: Int64, sourceID: Int64, sources: StagedSources) throws {
        var staged = PostgresBindings()
        staged.append(ids)
        if try !link.rows(PostgresQuery(unsafeSQL: "SELECT 1 FROM sessions WHERE id = ANY($1) LIMIT 1", binds: staged)).isEmpty {
            for t in Self.sessionChildTables {
                try link.rows(PostgresQuery(unsafeSQL: "DELETE FROM \(t) WHERE session_id = ANY($1)", binds: staged))
            }
            try link.rows(PostgresQuery(unsafeSQL: "DELETE FROM sessions WHERE id = ANY($1)", binds: staged))
        }
        guard !ids.isEmpty else { return }
        // The ids as one JSON array, bound (they are the staging file's own, but still data).
        var list = JSONBytes()
        list.value(.array(ids.map { JSONValue.string($0) }))
        let chosen = "(SELECT id FROM sessions WHERE source_id = \(stagedID) AND id IN (SELECT value FROM json_each(?1)))"
        let tables: [(String, [(String, CopyKind)], String)] = [
            ("sessions", [("source_id", .int)] + Self.sessionColumns, "SELECT * FROM sessions WHERE id IN \(chosen)"),
            ("session_operations", Self.operationColumns, "SELECT * FROM session_operations WHERE session_id IN \(chosen) ORDER BY session_id, position"),
            ("findings", Self.findingColumns, "SELECT * FROM findings WHERE session_id IN \(chosen) ORDER BY session_id, position"),
            ("session_algorithms_offered", Self.offerColumns, "SELECT * FROM session_algorithms_offered WHERE session_id IN \(chosen)"),
        ]
        for (table, columns, select) in tables {
            let t0 = Date()
            try copy(db, select: select, arguments: [.text(String(decoding: list.bytes, as: UTF8.self))], into: table, columns: columns,
                     fixed: ["source_id": String(sourceID)])
            Self.timing("\(table) copied", since: t0)
        }
        // A link's source by its id here (a rotated log's next file is a source of its own, loaded before).
        let t0 = Date()
        try copyEvidence(db, stagedID: stagedID, sessions: Set(ids), sources: sources)
        Self.timing("evidence copied", since: t0)
    }

    /// The tables whose rows belong to a session.
    static let sessionChildTables = ["session_operations", "findings", "session_algorithms_offered", "evidence_links"]

    /// COPYs the links of a staged source's sessions into `evidence_links`,
    /// with their sources' ids here. A link to a source not stored here is
    /// left out (its position stays unused).
    private func copyEvidence(_ db: Database, stagedID: Int64, sessions: Set<String>, sources: StagedSources) throws {
        guard try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM evidence_rows e JOIN session_rows s ON s.rowid = e.session_row WHERE s.source_id = ?)
            """, arguments: [stagedID]) == true else { return }
        var text = CopyText()
        try link.copy(into: "evidence_links", columns: ["session_id", "position", "fact", "item", "source_id", "line", "seq", "byte_offset"]) { send in
            try EvidenceRows.forEachLink(db, sessionsOf: stagedID, stored: sources.all) { session, position, l in
                guard let source = sources.here[l.sourceID], sessions.contains(session) else { return }
                text.text(session); text.int(position); text.text(l.fact.rawValue); text.int(l.item); text.int(source)
                text.int(l.line); text.int(l.seq); text.int(l.offset)
                text.endRow()
                if text.count >= 1 << 20 { try send(text.take()) }
            }
            if text.count > 0 { try send(text.take()) }
        }
    }

    /// COPYs the rows of a staging query, in chunks of about 1 MiB, as it reads
    /// them. `fixed` replaces a column's value (the source id, which differs
    /// between the stores).
    @discardableResult
    func copy(_ db: Database, select: String, arguments: [SQLValue] = [], into table: String, columns: [(String, CopyKind)],
              fixed: [String: String] = [:]) throws -> Int {
        try copy(RawRows(db, sql: select, arguments: arguments), staged: nil, into: table, columns: columns, fixed: fixed)
    }

    /// COPYs a staged source's records under the source id they have here.
    func copyRecords(_ db: Database, stagedID: Int64, into table: String, sourceID: Int64) throws -> Int {
        let staged = try StagedRecords(db, sourceID: stagedID, columns: Self.recordColumns.map(\.0))
        return try copy(staged.rows, staged: staged, into: table, columns: [("source_id", .int)] + Self.recordColumns,
                        fixed: ["source_id": String(sourceID)])
    }

    /// `staged`: the rows are its records, whose `raw`, `message` and `fields` it makes.
    private func copy(_ rows: RawRows, staged: StagedRecords?, into table: String, columns: [(String, CopyKind)], fixed: [String: String]) throws -> Int {
        /// Where each column's value comes from, decided once (not by its name for every row).
        enum Source { case fixed(String), raw, message, fields, column(Int32, CopyKind) }
        let sources: [Source] = columns.map { name, kind in
            if let v = fixed[name] { return .fixed(v) }
            if staged != nil, name == "raw" { return .raw }
            if staged != nil, name == "message" { return .message }
            if staged != nil, name == "fields" { return .fields }
            return .column(rows.position(name), kind)
        }
        func next() throws -> Bool { try staged?.next() ?? rows.next() }
        var text = CopyText()
        var count = 0
        let names = columns.map(\.0)  // copyFrom quotes them
        // No COPY for no rows (a staged source without sessions, say).
        guard try next() else { return 0 }
        try link.copy(into: table, columns: names) { send in
            repeat {
                for source in sources {
                    switch source {
                    case .fixed(let v): text.text(v)
                    case .raw: text.bytea(staged?.raw)
                    case .message: text.text(made: staged?.message)
                    case .fields: text.text(made: staged?.fields)
                    case .column(let p, .text): if rows.withBytes(at: p, { text.text(stored: $0) }) == nil { text.null() }
                    case .column(let p, .int): text.int(rows.int(at: p))
                    case .column(let p, .double): text.double(rows.double(at: p))
                    case .column(let p, .bytea): text.bytea(rows.bytes(at: p))
                    }
                }
                text.endRow()
                count += 1
                if text.count >= 1 << 20 { try send(text.take()) }
            } while try next()
            if text.count > 0 { try send(text.take()) }
        }
        return count
    }

    /// A staged source's column as a parameter (the source columns are integers and text).
    static func bind(_ s: Row, _ column: (String, CopyKind), to binds: inout PostgresBindings) {
        switch column.1 {
        case .int: binds.append(s[column.0] as Int64?)
        default: binds.append(pgText(s[column.0] as String?))
        }
    }

    /// PostgreSQL text holds no NUL (see `PostgresText`).
    static func pgText(_ s: String?) -> String? { s.map(PostgresText.escape) }
}
