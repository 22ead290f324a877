import GRDB

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

    public static var migrator: DatabaseMigrator {
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
                  raw BLOB NOT NULL,
                  UNIQUE(source_id, line, seq)
                );
                CREATE INDEX records_ts ON records(ts_utc);
                CREATE INDEX records_event ON records(event_id, ts_utc);
                CREATE INDEX records_account ON records(account, ts_utc);
                CREATE INDEX records_peer ON records(peer_address, ts_utc);
                CREATE INDEX records_kind ON records(kind);
                CREATE VIRTUAL TABLE records_fts USING fts5(message, content='records', content_rowid='id');
                """)
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
        return m
    }
}
