#!/usr/bin/env bash
# How v15-samples.db.gz was made: a database as sftplog c94dd72 (schema v15, the
# last release with a unique index on every record's place) wrote it, for the
# migration test (Tests/sftplogCLITests/Store/MigrationTests.swift). It holds
# JSON batches (records sharing a line), wrapped multi-line records, OpenSSH
# transcripts, and a log that grew between two runs, so that its later records
# come after another source's. Run from the repository root with that build as
# $OLD; the file is then repacked with 4 KiB pages (same rows) to keep it small.
set -euo pipefail
OLD=${OLD:?path to an sftplog built from c94dd72}
repo=$(pwd)
work=$(mktemp -d)
out=$work/v15.db
export SFTPLOG_CATALOG=$repo/catalog
cp samples/sftpplus/layouts/json-batch-5.26.log samples/sftpplus/seed-server-3.30.log \
  samples/openssh/sftp-v1-put-ls.log samples/openssh/ssh-auth-publickey-denied.log "$work"
head -n 40 samples/sftpplus/dev-ts-first-5.26.log > "$work/grown.log"
(cd "$work" && "$OLD" ingest --quiet --timezone UTC --db "$out" grown.log json-batch-5.26.log seed-server-3.30.log \
  sftp-v1-put-ls.log ssh-auth-publickey-denied.log)
tail -n +41 samples/sftpplus/dev-ts-first-5.26.log >> "$work/grown.log"
(cd "$work" && "$OLD" ingest --quiet --timezone UTC --db "$out" grown.log)
sqlite3 "$out" "PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM;"
gzip -9 -c "$out" > Tests/SFTPLogKitTests/Fixtures/store/v15-samples.db.gz
rm -rf "$work"
