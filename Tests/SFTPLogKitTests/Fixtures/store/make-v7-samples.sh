#!/usr/bin/env bash
# How v7-samples.db.gz was made: a database as sftplog 42a53e9 (schema v7, the
# last release before `records` became a view) wrote it, for the migration test
# (Tests/sftplogCLITests/Store/MigrationTests.swift). Run from the repository
# root with that build as $OLD; the file is then repacked with 4 KiB pages
# (same rows) to keep it small.
set -euo pipefail
OLD=${OLD:?path to an sftplog built from 42a53e9}
out=$(mktemp -d)/v7.db
SFTPLOG_CATALOG=catalog "$OLD" ingest --quiet --db "$out" samples/sftpplus/*.log samples/sftpplus/layouts/*.log \
  $(ls -S samples/openssh/*.log | tail -3) Tests/SFTPLogKitTests/Fixtures/hostile/{invalid-utf8,event-id-40-digits,cr-only}.log || true
sqlite3 "$out" "PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM;"
gzip -9 -c "$out" > Tests/SFTPLogKitTests/Fixtures/store/v7-samples.db.gz
