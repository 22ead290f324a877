import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// The database's tables are the product's interface (users write SQL against
/// them): names change only through a new migration, documented in docs/schema.md.
public enum Schema {
    /// `PRAGMA application_id` of sftplog databases ("SFTL").
    public static let applicationID: Int32 = 0x5346_544C

    /// The database holds migrations this binary does not know: a newer sftplog wrote it.
    static func isSuperseded(_ db: Database) throws -> Bool {
        guard try db.tableExists("grdb_migrations") else { return false }
        return !(try migrator.appliedIdentifiers(db)).isSubset(of: Set(migrator.migrations))
    }

    /// Secondary indexes on `record_rows`: none. Before migration v8 `records`
    /// had six, a third of the database, that no command used; until v12 one on
    /// `session_key`, replaced by each session's span of record ids
    /// (`SessionSpans`). A bulk load into an empty table drops them and builds
    /// them once at the end; every open for writing re-creates any that an
    /// interrupted load left out.
    public static let recordIndexes: [(name: String, columns: String)] = []

    /// `record_rows` as migrations v8 (for older databases), v14 and v16 make it
    /// (see `CompactRecords`); since v16 without a unique index on each
    /// record's place, which `RecordLineMap` finds instead.
    static let recordRowsTableSQL = """
        CREATE TABLE record_rows (
          id INTEGER PRIMARY KEY,
          source_id INTEGER NOT NULL REFERENCES sources(id),
          line INTEGER NOT NULL,
          seq INTEGER NOT NULL DEFAULT 0,
          line_count INTEGER NOT NULL DEFAULT 1,
          kind_id INTEGER NOT NULL,
          layout_id INTEGER,
          ts_us INTEGER,
          ts_form INTEGER,
          event_id,
          component_id INTEGER,
          account TEXT,
          peer_address_id INTEGER,
          peer_port INTEGER,
          wording_id INTEGER,
          vals TEXT,
          message TEXT,
          text TEXT,
          diagnostic TEXT,
          raw_bytes BLOB,
          raw_prefix_id INTEGER,
          extra_shape_id INTEGER,
          message_term_id INTEGER,
          extra_term_id INTEGER,
          session_key,
          session_duplicate INTEGER NOT NULL DEFAULT 0,
          aux TEXT
        )
        """

    static func createRecordIndexes(_ db: Database) throws {
        for ix in recordIndexes { try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(ix.name) ON record_rows(\(ix.columns))") }
    }

    /// The indexes of `records` before migration v8 (dropped with the table).
    static let tableRecordIndexes = ["records_ts": "ts_utc", "records_event": "event_id, ts_utc", "records_account": "account, ts_utc",
                                     "records_peer": "peer_address, ts_utc", "records_kind": "kind", "records_session": "session_id"]

    /// Indexes of the session tables, built once after a bulk load like the
    /// record indexes. Since v18 a session's child rows are keyed by its row
    /// number (`SessionRowKeys`) and need none.
    public static let sessionIndexes: [(name: String, table: String, columns: String)] = [
        ("sessions_source", "session_rows", "source_id"),
    ]

    /// The indexes on child rows' session ids, from v4 to v17. Sessions arrive
    /// in time order but their ids are hashes, so rows keyed by session id
    /// landed on random pages: keyed as WITHOUT ROWID tables, a 1M-line load
    /// rewrote most of `session_operations` into the WAL at every commit. So
    /// the rows were appended, and these indexes built after a bulk load.
    static let sessionIndexesV17: [(name: String, table: String, columns: String)] = [
        ("session_operations_session", "operation_rows", "session_id, position"),
        ("findings_session", "finding_rows", "session_id, position"),
        ("offer_rows_session", "offer_rows", "session_id"), ("evidence_rows_session", "evidence_rows", "session_id"),
    ]

    /// The session indexes as migrations v4 and v5 made them, on the tables of before v9.
    static func createTableSessionIndexes(_ db: Database) throws {
        for ix in sessionIndexes + sessionIndexesV17 where ix.table != "evidence_rows" {
            if ix.table == "offer_rows" {
                // Before v11 the offered algorithms were a row each.
                try db.execute(sql: """
                    CREATE INDEX IF NOT EXISTS session_algorithms_offered_session ON session_algorithms_offered(session_id, side, slot, position)
                    """)
                continue
            }
            let table = ["operation_rows": "session_operations", "finding_rows": "findings", "session_rows": "sessions"][ix.table] ?? ix.table
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(ix.name) ON \(table)(\(ix.columns))")
        }
        // Until v13 sessions were listed off this index.
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS sessions_order ON sessions(coalesce(start_utc, ''), file, first_line)")
    }

    static func createSessionIndexes(_ db: Database) throws {
        // A migration before the one that makes a table creates the indexes of the others.
        for ix in sessionIndexes + (try keyedSessionRows(db) ? [] : sessionIndexesV17) where try db.tableExists(ix.table) {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(ix.name) ON \(ix.table)(\(ix.columns))")
        }
    }

    /// Every index a bulk load into an empty database leaves out until its end.
    static func createBulkIndexes(_ db: Database) throws {
        try createRecordIndexes(db)
        try createSessionIndexes(db)
    }

    /// Whether migration v18 has keyed the session tables by row number.
    static func keyedSessionRows(_ db: Database) throws -> Bool {
        try db.tableExists("session_rows") && db.columns(in: "session_rows").contains { $0.name == "rowid" }
    }

    static func dropBulkIndexes(_ db: Database) throws {
        for ix in recordIndexes { try db.execute(sql: "DROP INDEX IF EXISTS \(ix.name)") }
        for ix in sessionIndexes { try db.execute(sql: "DROP INDEX IF EXISTS \(ix.name)") }
    }

    /// The database lacks migrations a reader needs (it was written by an older sftplog).
    static func needsMigration(_ db: Database) throws -> Bool {
        guard try db.tableExists("grdb_migrations") else { return false }
        return !(try migrator.hasCompletedMigrations(db))
    }

    static func appliedMigrations(_ db: Database) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return [] }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }

    package static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-sources-records") { db in
            try db.execute(sql: """
                CREATE TABLE sources (
                  id INTEGER PRIMARY KEY,
                  name TEXT NOT NULL,
                  format TEXT,
                  format_explanation TEXT,
                  reader_state TEXT,
                  bytes INTEGER NOT NULL DEFAULT 0,
                  content_hash TEXT NOT NULL,
                  head_hash TEXT NOT NULL,
                  head_len INTEGER NOT NULL,
                  resume_offset INTEGER NOT NULL DEFAULT 0,
                  resume_line INTEGER NOT NULL DEFAULT 1,
                  complete INTEGER NOT NULL DEFAULT 0,
                  lines INTEGER NOT NULL DEFAULT 0,
                  records INTEGER NOT NULL DEFAULT 0,
                  unparsed INTEGER NOT NULL DEFAULT 0,
                  sftpplus_versions TEXT,
                  first_ingested_at TEXT NOT NULL,
                  last_ingested_at TEXT NOT NULL
                );
                CREATE INDEX sources_head ON sources(head_len, head_hash);
                CREATE TABLE records (
                  id INTEGER PRIMARY KEY,
                  source_id INTEGER NOT NULL REFERENCES sources(id),
                  line INTEGER NOT NULL,
                  seq INTEGER NOT NULL DEFAULT 0,
                  line_count INTEGER NOT NULL DEFAULT 1,
                  kind TEXT NOT NULL,
                  file TEXT NOT NULL,
                  layout TEXT,
                  ts TEXT,
                  ts_utc TEXT,
                  ts_note TEXT,
                  event_id TEXT,
                  component TEXT,
                  account TEXT,
                  peer_address TEXT,
                  peer_port INTEGER,
                  message TEXT,
                  text TEXT,
                  catalog_status TEXT,
                  catalog_variant INTEGER,
                  fields TEXT,
                  extra TEXT,
                  diagnostic TEXT,
                  -- The line's bytes when they cannot be rebuilt exactly from the
                  -- columns; the writer stores NULL only after checking the rebuild
                  -- byte for byte (it halves the bytes written for 4.x+ text logs).
                  raw_bytes BLOB,
                  raw BLOB GENERATED ALWAYS AS (coalesce(raw_bytes, CASE layout WHEN 'ts-first' THEN CAST(
                    ts || ' ' || event_id || ' ' || component || ' ' || account || ' ' || peer_address || ':' || peer_port
                    || ' ' || message AS BLOB) END)) VIRTUAL,
                  session_id TEXT,
                  session_duplicate INTEGER NOT NULL DEFAULT 0,
                  UNIQUE(source_id, line, seq)
                );
                CREATE VIRTUAL TABLE records_fts USING fts5(message, content='records', content_rowid='id');
                """)
        }
        m.registerMigration("v1b-record-indexes") { db in
            for (name, columns) in tableRecordIndexes.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(name) ON records(\(columns))")
            }
        }
        m.registerMigration("v2-catalog-variants") { db in
            // The catalogue as a table, so SQL can join a record to its wording.
            try db.execute(sql: """
                CREATE TABLE catalog_variants (
                  event_id TEXT NOT NULL,
                  variant INTEGER NOT NULL,
                  area TEXT,
                  template TEXT NOT NULL,
                  fields TEXT NOT NULL,
                  groups TEXT NOT NULL,
                  versions TEXT,
                  from_version TEXT,
                  to_version TEXT,
                  documented_in TEXT NOT NULL,
                  inferred INTEGER NOT NULL,
                  description TEXT,
                  PRIMARY KEY (event_id, variant)
                );
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
                """)
        }
        m.registerMigration("v3-sessions") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                  id TEXT PRIMARY KEY,
                  source_id INTEGER NOT NULL REFERENCES sources(id),
                  source TEXT NOT NULL,
                  side TEXT NOT NULL,
                  file TEXT NOT NULL,
                  peer_address TEXT,
                  peer_port INTEGER,
                  user TEXT,
                  component TEXT,
                  location TEXT,
                  start TEXT,
                  end TEXT,
                  start_utc TEXT,
                  end_utc TEXT,
                  duration REAL,
                  outcome TEXT NOT NULL,
                  outcome_detail TEXT,
                  client_version TEXT,
                  server_version TEXT,
                  kex TEXT, hostkey TEXT, cipher_c2s TEXT, cipher_s2c TEXT, mac_c2s TEXT, mac_s2c TEXT,
                  compression_c2s TEXT, compression_s2c TEXT,
                  strict_kex INTEGER,
                  auth_methods_tried TEXT NOT NULL,
                  auth_succeeded_method TEXT,
                  auth_failures INTEGER NOT NULL DEFAULT 0,
                  host_key_check TEXT,
                  terrapin_vulnerable INTEGER,
                  terrapin_explanation TEXT,
                  gex_bits INTEGER,
                  event_count INTEGER NOT NULL,
                  files INTEGER NOT NULL,
                  bytes_up INTEGER NOT NULL,
                  bytes_down INTEGER NOT NULL,
                  first_line INTEGER,
                  last_line INTEGER,
                  details TEXT
                );
                CREATE INDEX sessions_start ON sessions(start_utc);
                CREATE INDEX sessions_user ON sessions(user, start_utc);
                CREATE INDEX sessions_peer ON sessions(peer_address, start_utc);
                CREATE INDEX sessions_source ON sessions(source_id);
                CREATE TABLE session_operations (
                  session_id TEXT NOT NULL,
                  position INTEGER NOT NULL,
                  op TEXT NOT NULL,
                  path TEXT NOT NULL,
                  ok INTEGER,
                  bytes INTEGER,
                  seconds REAL,
                  bytes_per_second REAL,
                  to_path TEXT,
                  local_path TEXT,
                  detail TEXT,
                  line INTEGER,
                  ts TEXT,
                  PRIMARY KEY (session_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE findings (
                  session_id TEXT NOT NULL,
                  position INTEGER NOT NULL,
                  algorithm TEXT NOT NULL,
                  category TEXT NOT NULL,
                  direction TEXT,
                  rating TEXT NOT NULL,
                  reason TEXT NOT NULL,
                  reference TEXT NOT NULL,
                  PRIMARY KEY (session_id, position)
                ) WITHOUT ROWID;
                CREATE INDEX findings_algorithm ON findings(algorithm, rating);
                CREATE TABLE session_algorithms_offered (
                  session_id TEXT NOT NULL,
                  side TEXT NOT NULL,
                  slot TEXT NOT NULL,
                  position INTEGER NOT NULL,
                  algorithm TEXT NOT NULL,
                  PRIMARY KEY (session_id, side, slot, position)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v4-session-rows-appended") { db in
            // The session child tables become plain rowid tables (same columns, same
            // order) with their keys as indexes (see `sessionIndexesV17`).
            let tables: [(String, String)] = [
                ("session_operations", """
                    session_id TEXT NOT NULL, position INTEGER NOT NULL, op TEXT NOT NULL, path TEXT NOT NULL, ok INTEGER,
                    bytes INTEGER, seconds REAL, bytes_per_second REAL, to_path TEXT, local_path TEXT, detail TEXT, line INTEGER, ts TEXT
                    """),
                ("findings", """
                    session_id TEXT NOT NULL, position INTEGER NOT NULL, algorithm TEXT NOT NULL, category TEXT NOT NULL,
                    direction TEXT, rating TEXT NOT NULL, reason TEXT NOT NULL, reference TEXT NOT NULL
                    """),
                ("session_algorithms_offered", """
                    session_id TEXT NOT NULL, side TEXT NOT NULL, slot TEXT NOT NULL, position INTEGER NOT NULL, algorithm TEXT NOT NULL
                    """),
            ]
            for (table, columns) in tables {
                try db.execute(sql: """
                    CREATE TABLE \(table)_v4 (\(columns));
                    INSERT INTO \(table)_v4 SELECT * FROM \(table);
                    DROP TABLE \(table);
                    ALTER TABLE \(table)_v4 RENAME TO \(table);
                    """)
            }
            try createTableSessionIndexes(db)
        }
        m.registerMigration("v5-sessions-order-index") { db in try createTableSessionIndexes(db) }
        m.registerMigration("v6-fts-without-column-sizes") { db in
            // The message index without its per-row token counts (FTS5 `columnsize=0`):
            // they were an extra B-tree row per record, about a quarter of the index's
            // load cost (1M-line ingest: 22.5 s instead of 26.1, medians of 3 alternating
            // runs). `rank` (bm25) still works: it counts the tokens of the rows it
            // ranks instead (0.1 s more for 45k matches). Same tokens, same matches.
            try db.execute(sql: """
                DROP TABLE records_fts;
                CREATE VIRTUAL TABLE records_fts USING fts5(message, content='records', content_rowid='id', columnsize=0);
                INSERT INTO records_fts(records_fts) VALUES('rebuild');
                """)
        }
        m.registerMigration("v7-sessions-closed") { db in
            // Whether the end of the session is in the log; NULL for sessions stored before.
            try db.execute(sql: "ALTER TABLE sessions ADD COLUMN closed INTEGER")
        }
        m.registerMigration("v8-compact-records") { db in
            // `records` becomes a view over `record_rows` (see `CompactRecords`).
            try db.execute(sql: """
                CREATE TABLE record_terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
                CREATE TABLE record_wordings (
                  id INTEGER PRIMARY KEY,
                  event_id TEXT NOT NULL,
                  variant INTEGER,
                  template TEXT NOT NULL,
                  UNIQUE (event_id, variant, template)
                );
                CREATE TABLE record_wording_fields (
                  wording_id INTEGER NOT NULL,
                  position INTEGER NOT NULL,
                  name TEXT NOT NULL,
                  path TEXT NOT NULL,
                  PRIMARY KEY (wording_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE record_wording_pieces (
                  wording_id INTEGER NOT NULL,
                  position INTEGER NOT NULL,
                  literal TEXT,
                  path TEXT,
                  PRIMARY KEY (wording_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE record_extra_shapes (id INTEGER PRIMARY KEY, keys TEXT NOT NULL UNIQUE);
                CREATE TABLE record_extra_keys (
                  shape_id INTEGER NOT NULL,
                  position INTEGER NOT NULL,
                  name TEXT NOT NULL,
                  path TEXT NOT NULL,
                  PRIMARY KEY (shape_id, position)
                ) WITHOUT ROWID;
                \(recordRowsTableSQL);
                """)
            try RecordMigration.copyTable(db, terms: TermDictionary(db))
            try db.execute(sql: "DROP TABLE records_fts; DROP TABLE records")
            try db.execute(sql: CompactRecords.viewSQL)
            // The message index keeps only which rows hold each token (`detail=none`):
            // 16 MB instead of 45 for the 1M-line log. Token, prefix and boolean
            // queries, `rank` and highlight() work; phrases and NEAR do not.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE records_fts USING fts5(message, content='records', content_rowid='id', columnsize=0, detail=none);
                INSERT INTO records_fts(rowid, message) SELECT id, message FROM records WHERE message IS NOT NULL;
                """)
            try createRecordIndexes(db)
        }
        m.registerMigration("v9-compact-session-rows") { db in
            // `session_operations` and `findings` become views (see `CompactSessionRows`).
            try CompactSessionRows.migrate(db)
            try createSessionIndexes(db)
        }
        m.registerMigration("v10-whole-value-terms") { db in
            // A message or `extra` seen before is stored once, in `record_terms`.
            // Databases made by v8 from now on have the columns already.
            let columns = try Set(Row.fetchAll(db, sql: "PRAGMA table_info(record_rows)").map { $0["name"] as String })
            for c in ["message_term_id", "extra_term_id"] where !columns.contains(c) {
                try db.execute(sql: "ALTER TABLE record_rows ADD COLUMN \(c) INTEGER")
            }
            try db.execute(sql: "DROP VIEW records")
            // An older table gets the view with its `aux` column (v14).
            if columns.contains("aux") { try db.execute(sql: CompactRecords.viewSQL) }
        }
        m.registerMigration("v11-offer-lists") { db in
            // `session_algorithms_offered` becomes a view (see `CompactSessionRows`).
            try CompactSessionRows.migrateOffers(db)
            try createSessionIndexes(db)
        }
        m.registerMigration("v12-session-record-spans") { db in
            // A session's records are found by the span of their ids, not an index.
            try db.execute(sql: """
                ALTER TABLE sessions ADD COLUMN first_record_id INTEGER;
                ALTER TABLE sessions ADD COLUMN last_record_id INTEGER;
                CREATE TEMP TABLE spans AS
                  SELECT \(CompactRecords.sessionIDSQL("session_key")) AS sid,
                         min(id) AS a, max(id) AS b
                  FROM record_rows WHERE session_key IS NOT NULL GROUP BY session_key;
                UPDATE sessions SET first_record_id = s.a, last_record_id = s.b FROM temp.spans s WHERE s.sid = sessions.id;
                DROP TABLE temp.spans;
                DROP INDEX IF EXISTS record_rows_session;
                """)
        }
        m.registerMigration("v13-compact-sessions") { db in
            // `sessions` becomes a view over `session_rows` (see `CompactSessions`).
            try CompactSessions.migrate(db, terms: TermDictionary(db))
            try createSessionIndexes(db)
        }
        m.registerMigration("v14-record-aux") { db in
            // Values few records have (times kept as text, the note, `fields`,
            // `extra`, `file`) move into one JSON column: each column cost every
            // row a byte of its header. Databases made by v8 from now on have it.
            let columns = try Set(Row.fetchAll(db, sql: "PRAGMA table_info(record_rows)").map { $0["name"] as String })
            guard !columns.contains("aux") else { return }
            let kept = ["id", "source_id", "line", "seq", "line_count", "kind_id", "layout_id", "ts_us", "ts_form", "event_id", "component_id",
                        "account", "peer_address_id", "peer_port", "wording_id", "vals", "message", "text", "diagnostic", "raw_bytes",
                        "raw_prefix_id", "extra_shape_id", "message_term_id", "extra_term_id", "session_key", "session_duplicate"]
            try db.execute(sql: "DROP VIEW IF EXISTS records")
            try db.execute(sql: "ALTER TABLE record_rows RENAME TO record_rows_v13")
            try db.execute(sql: recordRowsTableSQL)
            // json_patch drops the keys whose value is null.
            try db.execute(sql: """
                INSERT INTO record_rows(\(kept.joined(separator: ", ")), aux)
                SELECT \(kept.joined(separator: ", ")),
                  nullif(json_patch('{}', json_object('ts', ts_text, 'utc', ts_utc_text, 'note', ts_note, 'fields', fields, 'extra', extra,
                                                      'file', file)), '{}')
                FROM record_rows_v13 ORDER BY id;
                DROP TABLE record_rows_v13;
                """)
            try db.execute(sql: CompactRecords.viewSQL)
            try createRecordIndexes(db)
        }
        m.registerMigration("v15-evidence") { db in
            // The records each session's facts came from (see `EvidenceRows`).
            try EvidenceRows.migrate(db)
            try createSessionIndexes(db)
        }
        m.registerMigration("v16-record-line-map") { db in
            // A record is found by its place through `record_line_map` (see
            // `RecordLineMap`): the unique index on every row's place goes, with
            // the table rebuilt without it (SQLite cannot drop a constraint).
            let unique = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'record_rows' AND name LIKE 'sqlite_autoindex_%'
                """) ?? 0
            try db.execute(sql: "DROP VIEW IF EXISTS evidence")
            if unique > 0 {
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(record_rows)").map { $0["name"] as String }.joined(separator: ", ")
                try db.execute(sql: "DROP VIEW IF EXISTS records")
                try db.execute(sql: "ALTER TABLE record_rows RENAME TO record_rows_v15")
                try db.execute(sql: recordRowsTableSQL)
                try db.execute(sql: """
                    INSERT INTO record_rows(\(columns)) SELECT \(columns) FROM record_rows_v15 ORDER BY id;
                    DROP TABLE record_rows_v15;
                    """)
                try db.execute(sql: CompactRecords.viewSQL)
                try createRecordIndexes(db)
            }
            try RecordLineMap.build(db)
            try db.execute(sql: EvidenceRows.viewV17SQL)
        }
        m.registerMigration("v17-session-child-terms") { db in
            try CompactSessionRows.migrateTermColumns(db)
            try createSessionIndexes(db)
        }
        m.registerMigration("v18-session-row-keys") { db in
            // A session's child rows are keyed by its row number (see `SessionRowKeys`).
            try SessionRowKeys.migrate(db)
            try createSessionIndexes(db)
        }
        return m
    }
}
