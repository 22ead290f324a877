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
enum CompactSessionRows {
    /// The rows of `operation_rows`, in the order of `session_operations`' columns.
    static let operationsViewSQL = """
        CREATE VIEW session_operations AS SELECT
          o.session_id, o.position, o.op, o.path, o.ok, o.bytes, o.seconds, o.bytes_per_second, o.to_path, o.local_path, o.detail,
          o.line, coalesce(o.ts_text, \(CompactRecords.timeSQL(local: true, us: "o.ts_us", form: "o.ts_form"))) AS ts
        FROM operation_rows o
        """

    static let findingsViewSQL = """
        CREATE VIEW findings AS SELECT
          f.session_id, f.position, f.algorithm, f.category, f.direction, f.rating, e.reason, e.reference
        FROM finding_rows f JOIN finding_explanations e ON e.id = f.explanation_id
        """

    /// An operation's time as `ts_us`, `ts_form`, `ts_text`.
    static func time(_ ts: LogTimestamp?) -> [SQLValue] {
        guard let ts else { return [.null, .null, .null] }
        let text = ts.iso
        if let t = CompactRecords.writtenTime(ts, ts: text) { return [.int(t.us), .int(t.form), .null] }
        return [.null, .null, .text(text)]
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
        try db.execute(sql: findingsViewSQL)
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
        try db.execute(sql: operationsViewSQL)
    }
}
