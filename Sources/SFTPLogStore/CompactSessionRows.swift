import Foundation
import GRDB
import SFTPLogRecords

/// How a session's file operations and findings are stored since migration
/// v9: `session_operations` and `findings` are views with the columns of the
/// tables they replaced.
///
/// - An operation's time is stored as `ts_us`/`ts_form` (see `CompactRecords`),
///   or as written in `ts_text` when those cannot give it back.
/// - A finding's reason and reference, a few texts the policy repeats for
///   every session, are stored once in `finding_explanations`.
///
/// Since v11 `session_algorithms_offered` is a view too: a row per session and
/// slot (`offer_rows`) names its list of algorithms, a JSON array stored once
/// in `offer_lists` (servers offer the same lists again and again).
///
/// The `V17` forms are the tables and views as migrations v9 to v17 made them
/// (rows keyed by session id), kept for those migrations; v18 keys the rows by
/// session row (`SessionRowKeys`).
enum CompactSessionRows {
    /// The rows of `operation_rows`, in the order of `session_operations`' columns.
    static let operationsViewV17SQL = operationsView(session: "o.session_id")

    /// The views over the child tables, with the columns users query: `session`
    /// gives `session_id`, from the row itself (v9–v17) or from the session
    /// `join` brings (v18, `SessionRowKeys`).
    static func operationsView(session: String, join: String = "") -> String {
        """
        CREATE VIEW session_operations AS SELECT
          \(session), o.position, o.op, \(term("o.path")) AS path, o.ok, o.bytes, o.seconds, o.bytes_per_second,
          \(term("o.to_path")) AS to_path, \(term("o.local_path")) AS local_path, \(term("o.detail")) AS detail,
          o.line, coalesce(o.ts_text, \(CompactRecords.timeSQL(local: true, us: "o.ts_us", form: "o.ts_form"))) AS ts
        FROM operation_rows o\(join)
        """
    }

    static let findingsViewV17SQL = findingsView(session: "f.session_id")

    static func findingsView(session: String, join: String = "") -> String {
        """
        CREATE VIEW findings AS SELECT
          \(session), f.position, \(term("f.algorithm")) AS algorithm, f.category, f.direction, f.rating, e.reason, e.reference
        FROM finding_rows f\(join) JOIN finding_explanations e ON e.id = f.explanation_id
        """
    }

    private static func term(_ column: String) -> String { CompactSessions.resolved(column) }

    /// Since v17 the columns of `operation_rows` and `finding_rows` that repeat
    /// long texts (paths, error details, algorithm names) have no type and hold
    /// a text, or the id in `record_terms` of a text seen before, as
    /// `session_rows` does: by position in the rows `SessionStore` prepares.
    static let operationTerms = [3, 8, 9, 10], findingTerms = [2]

    static let operationsTableV17SQL = """
        CREATE TABLE operation_rows (
          session_id TEXT NOT NULL, position INTEGER NOT NULL, op TEXT NOT NULL, path NOT NULL, ok INTEGER, bytes INTEGER,
          seconds REAL, bytes_per_second REAL, to_path, local_path, detail, line INTEGER,
          ts_us INTEGER, ts_form INTEGER, ts_text TEXT
        )
        """

    static let findingsTableV17SQL = """
        CREATE TABLE finding_rows (
          session_id TEXT NOT NULL, position INTEGER NOT NULL, algorithm NOT NULL, category TEXT NOT NULL,
          direction TEXT, rating TEXT NOT NULL, explanation_id INTEGER NOT NULL REFERENCES finding_explanations(id)
        )
        """

    /// Migration v17: both tables again with untyped term columns (a declared
    /// TEXT would turn a term id into its digits), rows kept as they are, and
    /// `findings_algorithm` gone (no command or documented query searches by it).
    static func migrateTermColumns(_ db: Database) throws {
        for (table, view, create) in [("operation_rows", "session_operations", operationsTableV17SQL), ("finding_rows", "findings", findingsTableV17SQL)] {
            try db.execute(sql: """
                DROP VIEW IF EXISTS \(view);
                ALTER TABLE \(table) RENAME TO \(table)_v16;
                \(create);
                INSERT INTO \(table) SELECT * FROM \(table)_v16 ORDER BY rowid;
                DROP TABLE \(table)_v16;
                """)
        }
        try db.execute(sql: "DROP INDEX IF EXISTS findings_algorithm")
        try db.execute(sql: operationsViewV17SQL)
        try db.execute(sql: findingsViewV17SQL)
    }

    static let offersViewV17SQL = offersView(session: "o.session_id")

    static func offersView(session: String, join: String = "") -> String {
        """
        CREATE VIEW session_algorithms_offered AS SELECT
          \(session), o.side, o.slot, j.key AS position, j.value AS algorithm
        FROM offer_rows o\(join) JOIN offer_lists l ON l.id = o.list_id JOIN json_each(l.algorithms) j
        """
    }

    /// Groups the rows of the pre-v11 table into lists, in stored order.
    static func migrateOffers(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE offer_lists (id INTEGER PRIMARY KEY, algorithms TEXT NOT NULL UNIQUE);
            CREATE TABLE offer_rows (
              session_id TEXT NOT NULL, side TEXT NOT NULL, slot TEXT NOT NULL, list_id INTEGER NOT NULL REFERENCES offer_lists(id)
            );
            CREATE TEMP TABLE offer_groups AS
              SELECT min(rowid) AS first, session_id, side, slot, json_group_array(algorithm) AS algorithms, count(*) AS n, max(position) AS last
              FROM (SELECT rowid, * FROM session_algorithms_offered ORDER BY session_id, side, slot, position)
              GROUP BY session_id, side, slot;
            """)
        // Positions were always 0, 1, 2…: a list gives them back.
        if let bad = try String.fetchOne(db, sql: "SELECT session_id FROM temp.offer_groups WHERE last <> n - 1 LIMIT 1") {
            throw DatabaseError(message: "session \(bad): offered algorithms with gaps in their positions")
        }
        try db.execute(sql: """
            INSERT INTO offer_lists(algorithms) SELECT algorithms FROM temp.offer_groups GROUP BY algorithms ORDER BY min(first);
            INSERT INTO offer_rows SELECT g.session_id, g.side, g.slot, l.id
              FROM temp.offer_groups g JOIN offer_lists l ON l.algorithms = g.algorithms ORDER BY g.first;
            DROP TABLE temp.offer_groups;
            DROP TABLE session_algorithms_offered;
            """)
        try db.execute(sql: offersViewV17SQL)
    }

    /// An operation's time as `ts_us`, `ts_form`, `ts_text`.
    static func time(_ ts: LogTimestamp?) -> [SQLValue] {
        guard let ts else { return [.null, .null, .null] }
        // The text rendered on the stack and compared there; made as a String only when stored.
        if let t = ts.withISO({ CompactRecords.writtenTime(ts, iso: $0) }) { return [.int(t.us), .int(t.form), .null] }
        return [.null, .null, .text(ts.iso)]
    }

    /// Copies the pre-v9 tables into the compact ones (same row order).
    static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE operation_rows (
              session_id TEXT NOT NULL, position INTEGER NOT NULL, op TEXT NOT NULL, path TEXT NOT NULL, ok INTEGER, bytes INTEGER,
              seconds REAL, bytes_per_second REAL, to_path TEXT, local_path TEXT, detail TEXT, line INTEGER,
              ts_us INTEGER, ts_form INTEGER, ts_text TEXT
            );
            CREATE TABLE finding_explanations (
              id INTEGER PRIMARY KEY, reason TEXT NOT NULL, reference TEXT NOT NULL, UNIQUE (reason, reference)
            );
            CREATE TABLE finding_rows (
              session_id TEXT NOT NULL, position INTEGER NOT NULL, algorithm TEXT NOT NULL, category TEXT NOT NULL,
              direction TEXT, rating TEXT NOT NULL, explanation_id INTEGER NOT NULL REFERENCES finding_explanations(id)
            );
            INSERT INTO finding_explanations(reason, reference) SELECT DISTINCT reason, reference FROM findings ORDER BY rowid;
            INSERT INTO finding_rows
              SELECT f.session_id, f.position, f.algorithm, f.category, f.direction, f.rating, e.id
              FROM findings f JOIN finding_explanations e ON e.reason = f.reason AND e.reference = f.reference ORDER BY f.rowid;
            DROP TABLE findings;
            """)
        try db.execute(sql: findingsViewV17SQL)
        let insert = try db.makeStatement(sql: "INSERT INTO operation_rows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        let rows = try RawRows(db, sql: """
            SELECT session_id, position, op, path, ok, bytes, seconds, bytes_per_second, to_path, local_path, detail, line, ts
            FROM session_operations ORDER BY rowid
            """)
        while try rows.next() {
            var values: [SQLValue] = []
            for i in 0..<12 {
                switch i {
                case 6, 7: values.append(SQLValue(rows.double(at: Int32(i))))
                case 1, 4, 5, 11: values.append(SQLValue(rows.int(at: Int32(i))))
                default: values.append(SQLValue(rows.text(at: Int32(i))))
                }
            }
            let text = rows.text(at: 12)
            let ts = text.flatMap(SessionQuery.parseTimestamp)
            // The stored text decides: a time that does not render back to it stays text.
            var time = time(ts)
            if let text, ts?.iso != text { time = [.null, .null, .text(text)] }
            try insert.run(values + time, db)
        }
        try db.execute(sql: "DROP TABLE session_operations")
        try db.execute(sql: operationsViewV17SQL)
    }
}
