import Foundation
import GRDB

/// How a session's child rows find their session since migration v18.
///
/// `session_rows` has an explicit `rowid INTEGER PRIMARY KEY` (so `VACUUM`
/// keeps it), and `operation_rows`, `finding_rows`, `offer_rows` and
/// `evidence_rows` hold that number in `session_row` instead of the session's
/// 12-character id. The first three are WITHOUT ROWID tables keyed by
/// `(session_row, position)` (or slot), `evidence_rows` is keyed by
/// `session_row` itself: a session's rows are found by their key, with no
/// secondary index. Sessions are numbered in the order they are stored and
/// their rows follow them, so a bulk load appends to every key.
///
/// Before v18 each child row repeated the id, and an index on it (7.8 MB for
/// operations alone, of a 178 MB database for the 1M-line log) repeated it again.
/// The views (`session_operations`, `findings`, `session_algorithms_offered`,
/// `evidence`) give back `session_id` by joining `session_rows`.
enum SessionRowKeys {
    static let operationsTableSQL = """
        CREATE TABLE operation_rows (
          session_row INTEGER NOT NULL, position INTEGER NOT NULL, op TEXT NOT NULL, path NOT NULL, ok INTEGER, bytes INTEGER,
          seconds REAL, bytes_per_second REAL, to_path, local_path, detail, line INTEGER,
          ts_us INTEGER, ts_form INTEGER, ts_text TEXT,
          PRIMARY KEY (session_row, position)
        ) WITHOUT ROWID
        """

    static let findingsTableSQL = """
        CREATE TABLE finding_rows (
          session_row INTEGER NOT NULL, position INTEGER NOT NULL, algorithm NOT NULL, category TEXT NOT NULL,
          direction TEXT, rating TEXT NOT NULL, explanation_id INTEGER NOT NULL REFERENCES finding_explanations(id),
          PRIMARY KEY (session_row, position)
        ) WITHOUT ROWID
        """

    static let offersTableSQL = """
        CREATE TABLE offer_rows (
          session_row INTEGER NOT NULL, side TEXT NOT NULL, slot TEXT NOT NULL, list_id INTEGER NOT NULL REFERENCES offer_lists(id),
          PRIMARY KEY (session_row, side, slot)
        ) WITHOUT ROWID
        """

    static let evidenceTableSQL = "CREATE TABLE evidence_rows (session_row INTEGER PRIMARY KEY, links TEXT NOT NULL)"

    /// The session of child row `alias`, for the views.
    private static func session(of alias: String) -> String { " JOIN session_rows s ON s.rowid = \(alias).session_row" }

    static let operationsViewSQL = CompactSessionRows.operationsView(session: "s.id AS session_id", join: session(of: "o"))
    static let findingsViewSQL = CompactSessionRows.findingsView(session: "s.id AS session_id", join: session(of: "f"))
    static let offersViewSQL = CompactSessionRows.offersView(session: "s.id AS session_id", join: session(of: "o"))
    static let evidenceViewSQL = EvidenceRows.viewSQL(session: "s.id", join: "s.rowid = e.session_row")

    /// The views over `session_rows` and its child tables, by name.
    static let views: [(name: String, sql: String)] = [
        ("sessions", CompactSessions.viewSQL), ("session_operations", operationsViewSQL), ("findings", findingsViewSQL),
        ("session_algorithms_offered", offersViewSQL), ("evidence", evidenceViewSQL),
    ]

    /// Migration v18: `session_rows` again with its rowid declared (each row
    /// keeps its number), then each child table again keyed by it, in key order.
    /// A child row whose session is not stored would have no key: the
    /// migration refuses such a database (no sftplog wrote one).
    static func migrate(_ db: Database) throws {
        for v in views { try db.execute(sql: "DROP VIEW IF EXISTS \(v.name)") }
        let columns = CompactSessions.quotedColumns
        try db.execute(sql: """
            ALTER TABLE session_rows RENAME TO session_rows_v17;
            \(CompactSessions.tableSQL(keyed: true));
            INSERT INTO session_rows(rowid, \(columns)) SELECT rowid, \(columns) FROM session_rows_v17 ORDER BY rowid;
            DROP TABLE session_rows_v17;
            """)
        let children: [(table: String, create: String, columns: [String], order: String)] = [
            ("operation_rows", operationsTableSQL,
             ["position", "op", "path", "ok", "bytes", "seconds", "bytes_per_second", "to_path", "local_path", "detail", "line",
              "ts_us", "ts_form", "ts_text"], "c.position"),
            ("finding_rows", findingsTableSQL, ["position", "algorithm", "category", "direction", "rating", "explanation_id"], "c.position"),
            ("offer_rows", offersTableSQL, ["side", "slot", "list_id"], "c.side, c.slot"),
            ("evidence_rows", evidenceTableSQL, ["links"], "c.rowid"),
        ]
        for c in children {
            try db.execute(sql: "ALTER TABLE \(c.table) RENAME TO \(c.table)_v17")
            if let orphan = try String.fetchOne(db, sql: """
                SELECT session_id FROM \(c.table)_v17 WHERE session_id NOT IN (SELECT id FROM session_rows) LIMIT 1
                """) {
                throw DatabaseError(message: "\(c.table): a row of session \(orphan), which is not stored")
            }
            try db.execute(sql: """
                \(c.create);
                INSERT INTO \(c.table)(session_row, \(c.columns.joined(separator: ", ")))
                  SELECT s.rowid, \(c.columns.map { "c." + $0 }.joined(separator: ", "))
                  FROM \(c.table)_v17 c JOIN session_rows s ON s.id = c.session_id ORDER BY s.rowid, \(c.order);
                DROP TABLE \(c.table)_v17;
                """)
        }
        for v in views { try db.execute(sql: v.sql) }
    }
}
