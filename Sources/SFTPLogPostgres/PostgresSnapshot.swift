// A local SQLite copy of a PostgreSQL store, for the answering commands.

import Foundation
import GRDB
import PostgresNIO
import SFTPLogStore
import SFTPLogRecords

extension PostgresStore {
    /// Copies the documented tables into a new SQLite file at `path`, the way
    /// an sftplog of migration v7 stored them (plain tables), then runs the
    /// SQLite migrations from there. `sessions`, `audit` and `report` then answer
    /// from that file with the code they use for any SQLite store, so the two
    /// stores give the same answers. `records: false` leaves the records out
    /// (what answers from sessions alone need). Pages of 10,000 rows, read in
    /// key order, keep the memory flat.
    public func snapshot(into path: String, records: Bool) throws {
        let q = try DatabaseQueue(path: path, configuration: LogStore.configuration(readOnly: false))
        defer { try? q.close() }
        // A scratch file: no journal to keep, it is made again if anything fails.
        try q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode=OFF") }
        try Schema.migrator.migrate(q, upTo: "v7-sessions-closed")
        try link.execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { _ = try? link.execute("ROLLBACK") }
        let tables: [(table: String, columns: [(String, CopyKind)], key: [String], wanted: Bool)] = [
            ("sources", [("id", .int)] + Self.sourceColumns, ["id"], true),
            ("catalog_variants", Self.catalogColumns, ["event_id", "variant"], true),
            ("meta", [("key", .text), ("value", .text)], ["key"], true),
            ("sessions", [("source_id", .int)] + Self.sessionColumns, ["id"], true),
            ("session_operations", Self.operationColumns, ["session_id", "position"], true),
            ("findings", Self.findingColumns, ["session_id", "position"], true),
            ("session_algorithms_offered", Self.offerColumns, ["session_id", "side", "slot", "position"], true),
            ("records", [("id", .int), ("source_id", .int)] + Self.recordColumns, ["source_id", "line", "seq"], records),
        ]
        for t in tables where t.wanted {
            try q.write { db in try copyTable(t.table, columns: t.columns, key: t.key, into: db) }
        }
        try Schema.migrator.migrate(q)
        try q.write { try copyEvidence(into: $0) }
        try q.write { try $0.execute(sql: "PRAGMA application_id = \(Schema.applicationID)") }
    }

    /// `evidence_links` into the SQLite form (`evidence_rows`: a JSON list per session), in pages.
    private func copyEvidence(into db: Database) throws {
        var after: (String, Int)?
        var current: (id: String, links: [EvidenceLink])?
        let page = 10_000
        while true {
            var binds = PostgresBindings()
            var sql = "SELECT session_id, position, fact, item, source_id, line, seq, byte_offset FROM evidence_links"
            if let after {
                sql += " WHERE (session_id, position) > ($1, $2)"
                binds.append(after.0); binds.append(after.1)
            }
            sql += " ORDER BY session_id, position LIMIT \(page)"
            let rows = try link.rows(PostgresQuery(unsafeSQL: sql, binds: binds))
            for row in rows {
                let (id, position, fact, item, source, line, seq, offset) = try row.decode((String, Int, String, Int, Int64, Int, Int, Int64?).self)
                after = (id, position)
                if current?.id != id {
                    if let c = current { try EvidenceRows.insert(db, sessionID: c.id, links: c.links) }
                    current = (id, [])
                }
                guard let f = EvidenceFact(rawValue: fact) else { continue }
                current?.links.append(EvidenceLink(f, item: item, line: line, seq: seq, sourceID: source, offset: offset))
            }
            if rows.count < page { break }
        }
        if let c = current { try EvidenceRows.insert(db, sessionID: c.id, links: c.links) }
    }

    private func copyTable(_ table: String, columns: [(String, CopyKind)], key: [String], into db: Database) throws {
        let names = columns.map { Self.quoted($0.0) }
        // `raw` is what the SQLite table of v7 stored as `raw_bytes` (it makes `raw` from it).
        let targets = names.map { $0 == "raw" ? "raw_bytes" : $0 }
        let insert = try db.makeStatement(sql: "INSERT INTO \(table) (\(targets.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))")
        let keyPositions = key.map { k in columns.firstIndex { $0.0 == k }! }
        var after: [PostgresData]? = nil
        let page = 10_000
        while true {
            var sql = "SELECT \(names.joined(separator: ", ")) FROM \(table)"
            var binds = PostgresBindings()
            if let after {
                // Row-value comparison: the next page starts after the last key read.
                sql += " WHERE (\(key.joined(separator: ", "))) > (\((1...key.count).map { "$\($0)" }.joined(separator: ", ")))"
                for v in after { binds.append(v) }
            }
            sql += " ORDER BY \(key.joined(separator: ", ")) LIMIT \(page)"
            let rows = try link.rows(PostgresQuery(unsafeSQL: sql, binds: binds))
            for row in rows {
                let cells = row.makeRandomAccess()
                // Bound with their lengths: a text holding NUL is kept whole (GRDB's binding stops there).
                var args: [SQLValue] = []
                args.reserveCapacity(columns.count)
                for (i, (_, kind)) in columns.enumerated() {
                    let c = cells[i]
                    guard c.bytes != nil else { args.append(.null); continue }
                    switch kind {
                    case .text: args.append(.text(PostgresText.unescape(try c.decode(String.self))))
                    case .int: args.append(.int(try c.decode(Int64.self)))
                    case .double: args.append(.double(try c.decode(Double.self)))
                    case .bytea: args.append(.blob(Array(try c.decode(ByteBuffer.self).readableBytesView)))
                    }
                }
                try insert.run(args, db)
            }
            guard rows.count == page, let last = rows.last else { break }
            let cells = last.makeRandomAccess()
            after = keyPositions.map { i in PostgresData(type: cells[i].dataType, formatCode: cells[i].format, value: cells[i].bytes) }
        }
    }
}
