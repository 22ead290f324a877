import GRDB

/// Finds a record by its place (source, line, seq) without an index over every
/// row (migration `v16-record-line-map`): the unique index `record_rows` had on
/// its place was 16 MB of a 206 MB database for a 1M-line log, and said what the
/// row ids already say.
///
/// A source's records are written in the order of their places, so within a
/// source `id - line` stays the same from record to record, except where a
/// record spans several lines, shares its line with another (`seq`), or the
/// source is resumed in a later run. `record_line_map` holds the records where
/// it changes (and each source's first): the id of any record is then
/// `line + (m.id - m.line)`, with `m` the last of those at or before its place.
/// Every lookup checks the row it lands on, so a place with no record finds none.
///
/// `RecordWriter` keeps the map as it writes and refuses a record whose place
/// does not come after the source's last one (the unique index refused only an
/// equal place).
enum RecordLineMap {
    static let tableSQL = """
        CREATE TABLE IF NOT EXISTS record_line_map (
          source_id INTEGER NOT NULL, line INTEGER NOT NULL, seq INTEGER NOT NULL, id INTEGER NOT NULL,
          PRIMARY KEY (source_id, line, seq)
        ) WITHOUT ROWID
        """

    /// The last entry of the map at or before a place, as `SELECT <column> … LIMIT 1`.
    private static func entry(_ column: String, source: String, line: String, seq: String) -> String {
        """
        (SELECT \(column) FROM record_line_map m WHERE m.source_id = \(source) AND (m.line, m.seq) <= (\(line), \(seq)) \
        ORDER BY m.line DESC, m.seq DESC LIMIT 1)
        """
    }

    /// The condition that row `r` of `record_rows` is the record at this place
    /// (SQL expressions): a lookup by row id, then a check.
    static func rowAt(_ r: String, source: String, line: String, seq: String) -> String {
        "\(r).id = \(entry("m.id + \(line) - m.line", source: source, line: line, seq: seq)) "
            + "AND \(r).source_id = \(source) AND \(r).line = \(line) AND \(r).seq = \(seq)"
    }

    /// The condition that row `r` is a record of the source on the lines
    /// `from`…`to` (SQL expressions; nil: to its end): a range of row ids, then
    /// a check. A record on `from` or later has an id of at least `from + (m.id
    /// - m.line)`, with `m` the entry at or before `(from, 0)`, unless a later
    /// entry starts another stretch first (a multi-line record ended it); the
    /// range ends where the entry at or before the last line, continued without
    /// a change, would end. (Starting at `m.id` was right but scanned from the
    /// source's first record for each session of a rebuild.)
    static func rowsOn(_ r: String, source: String, from: String, to: String? = nil) -> String {
        let next = "(SELECT m.id FROM record_line_map m WHERE m.source_id = \(source) AND (m.line, m.seq) > (\(from), 0) ORDER BY m.line, m.seq LIMIT 1)"
        let start = "coalesce(\(entry("m.id + \(from) - m.line", source: source, line: from, seq: "0")), \(firstID(source: source)), 9223372036854775807)"
        var sql = "\(r).id >= min(\(start), coalesce(\(next), 9223372036854775807))"
        if let to {
            sql += " AND \(r).id <= coalesce(\(entry("m.id + \(to) - m.line", source: source, line: to, seq: "9223372036854775807")), -1)"
            sql += " AND \(r).line BETWEEN \(from) AND \(to)"
        } else {
            sql += " AND \(r).line >= \(from)"
        }
        return sql + " AND \(r).source_id = \(source)"
    }

    /// The condition that row `r` is one of the source's records: its ids start
    /// at its first record's (later ones may come after other sources' records,
    /// when the source was resumed in another run).
    static func rowsOf(_ r: String, source: String) -> String {
        "\(r).id >= coalesce(\(firstID(source: source)), 9223372036854775807) AND \(r).source_id = \(source)"
    }

    /// The id of the source's first record (SQL expression; NULL when it has none).
    static func firstID(source: String) -> String {
        "(SELECT m.id FROM record_line_map m WHERE m.source_id = \(source) ORDER BY m.line, m.seq LIMIT 1)"
    }

    /// The map made from the rows a database already holds. Throws when a
    /// source's records are not in the order of their places.
    static func build(_ db: Database) throws {
        try db.execute(sql: tableSQL)
        try db.execute(sql: "DELETE FROM record_line_map")
        let disordered = try Row.fetchOne(db, sql: """
            SELECT s.name, x.line FROM (
              SELECT source_id, line, seq, lag(line) OVER w AS pl, lag(seq) OVER w AS ps FROM record_rows WINDOW w AS (PARTITION BY source_id ORDER BY id)
            ) x JOIN sources s ON s.id = x.source_id
            WHERE x.pl IS NOT NULL AND (x.line < x.pl OR (x.line = x.pl AND x.seq <= x.ps)) LIMIT 1
            """)
        if let row = disordered {
            throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: """
                records of \(row[0] as String? ?? "?") are stored out of the order of their lines at line \(row[1] as Int? ?? 0): \
                the database cannot be migrated to v16
                """)
        }
        try db.execute(sql: """
            INSERT INTO record_line_map(source_id, line, seq, id)
            SELECT source_id, line, seq, id FROM (
              SELECT source_id, line, seq, id, id - line AS k, lag(id - line) OVER (PARTITION BY source_id ORDER BY id) AS pk FROM record_rows
            ) WHERE pk IS NULL OR pk <> k
            """)
    }
}

/// What `RecordWriter` knows of the source it writes: its last record's place
/// and `id - line`, to add a map entry only where that changes.
struct LinePlace: Equatable {
    var source: Int64
    var line: Int
    var seq: Int
    var offset: Int64

    /// The last record stored for a source, nil when it has none.
    static func last(_ db: Database, source: Int64) throws -> LinePlace? {
        guard let row = try Row.fetchOne(db, sql: "SELECT line, seq, id FROM record_rows r WHERE \(RecordLineMap.rowsOf("r", source: "?1")) ORDER BY id DESC LIMIT 1",
                                         arguments: [source]) else { return nil }
        let line: Int = row[0], seq: Int = row[1], id: Int64 = row[2]
        return LinePlace(source: source, line: line, seq: seq, offset: id - Int64(line))
    }
}
