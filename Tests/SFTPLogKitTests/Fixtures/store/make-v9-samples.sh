#!/usr/bin/env bash
# How v9-samples.db.gz was made: a database as sftplog 9413edb (schema v9, the
# last release before whole messages and `extra` objects became terms) wrote
# it, for the migration test (Tests/sftplogCLITests/Store/MigrationTests.swift).
# Run from the repository root with that build as $OLD; the file is then
# repacked with 4 KiB pages (same rows) to keep it small.
set -euo pipefail
OLD=${OLD:?path to an sftplog built from 9413edb}
out=$(mktemp -d)/v9.db
SFTPLOG_CATALOG=catalog "$OLD" ingest --quiet --db "$out" samples/sftpplus/dev-ts-first-5.26.log \
  $(ls -S samples/openssh/*.log | tail -4) || true
sqlite3 "$out" "PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM;"
gzip -9 -c "$out" > Tests/SFTPLogKitTests/Fixtures/store/v9-samples.db.gz
