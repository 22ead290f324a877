#!/usr/bin/env python3
"""sftplog benchmark: generates seeded inputs, runs sftplog and the baselines
side by side (alternating, several runs, medians) and prints a table.

    Benchmarks/run.sh                    # 1M lines, 3 alternating runs, queries
    Benchmarks/run.sh --lines 300000 --runs 5
    Benchmarks/run.sh --scaling          # 1e5, 1e6, 5e6 lines: lines/s and peak RSS
    Benchmarks/run.sh --openssh 10000    # 10,000 OpenSSH transcripts in one ingest
    Benchmarks/run.sh --openssh 10000 --openssh-runs 10   # the same, 10 runs per file: about 1 GB
    Benchmarks/run.sh --rotated 30       # the 1M-line log as 30 rotated files against one file
    Benchmarks/run.sh --trend            # report --trend on a rotated month (30 days, weak clients fading): database and files
    Benchmarks/run.sh --smoke            # tiny input, debug build (CI: it builds and runs)
    Benchmarks/run.sh --compare OLD --runs 5   # parse/ingest of the log and 1,000 transcripts, this build vs OLD
    Benchmarks/run.sh --answers          # audit/report/parse of the log against lnav (Benchmarks/lnav) and grep
    Benchmarks/run.sh --postgres URL     # ingest into PostgreSQL against psql \copy, and 4 ingesters at once
    Benchmarks/run.sh --watch 60         # watch: 10,000 lines/s of syslog over UDP for 60 s; alert latency, memory

Baselines: `sqlite3 .import --csv` of the same rows pre-parsed into 7 columns
followed by an FTS5 'rebuild' (ingest), and `grep -c 30014` (parse). The
"floor" row is SQLite alone writing the database the ingest wrote (same
schema, rows, FTS5 index and indexes, copied with INSERT ... SELECT): the
least any ingest producing that database on one SQLite connection can take.
With --postgres (a URL whose user may create databases), the baseline is
`psql \copy` of the rows the ingest stored (every table, exported as CSV)
into a new database with the same schema, in one transaction.
Timings are printed, never asserted.
"""
import argparse, os, random, resource, shutil, statistics, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(REPO, 'Benchmarks', 'generate.py')


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, stdin=None, stdout=subprocess.DEVNULL, env=None, cwd=None):
    """Wall seconds and peak RSS (MiB) of one command, via GNU time when present."""
    t0 = time.monotonic()
    if shutil.which('time') or os.path.exists('/usr/bin/time'):
        full = ['/usr/bin/time', '-f', '%M'] + cmd
        p = subprocess.run(full, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=cwd)
        dt = time.monotonic() - t0
        tail = p.stderr.decode(errors='replace').strip().splitlines()
        rss = int(tail[-1]) / 1024 if tail and tail[-1].isdigit() else float('nan')
    else:
        p = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=cwd)
        dt = time.monotonic() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if p.returncode not in (0, 1, 2):
        sys.stderr.write(p.stderr.decode(errors='replace'))
        raise SystemExit(f'{cmd[0]} failed with status {p.returncode}')
    return dt, rss


def rm_db(path):
    for suffix in ('', '-wal', '-shm'):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def generate(work, lines, seed=1):
    log = os.path.join(work, f'{lines}.log')
    csv = os.path.join(work, f'{lines}.csv')
    if not (os.path.exists(log) and os.path.exists(csv)):
        with open(log, 'wb') as out:
            sh([sys.executable, GEN, '--lines', str(lines), '--seed', str(seed), '--csv', csv], stdout=out)
    return log, csv


BASELINE_SQL = """PRAGMA journal_mode=WAL;
CREATE TABLE records(ts TEXT, event_id TEXT, component TEXT, account TEXT, peer_address TEXT, peer_port INTEGER, message TEXT);
CREATE VIRTUAL TABLE records_fts USING fts5(message, content='records', content_rowid='rowid');
.import --csv {csv} records
INSERT INTO records_fts(records_fts) VALUES('rebuild');
"""


def run_sqlite_script(work, name, sql, bail=False):
    """Times the sqlite3 CLI running `sql` (kept as <name>.sql) into a new <name>.db."""
    db = os.path.join(work, name + '.db')
    rm_db(db)
    script = os.path.join(work, name + '.sql')
    with open(script, 'w') as f:
        f.write(sql)
    with open(script) as f:
        return timed(['sqlite3'] + (['-bail'] if bail else []) + [db], stdin=f)


def run_baseline_ingest(work, csv):
    return run_sqlite_script(work, 'baseline', BASELINE_SQL.format(csv=csv))


def floor_tables(c):
    """Every table the ingest wrote (not the FTS5 index's own tables, which the
    script fills through the index), in the order they were created."""
    return [n for (n,) in c.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                                    "AND name NOT LIKE 'records_fts%' ORDER BY rowid")]


def floor_script(src_db, messages_db):
    """SQL that makes SQLite alone write what `sftplog ingest` wrote into src_db:
    the same tables, rows, FTS5 index and indexes, with sftplog's pragmas, copied
    with INSERT ... SELECT in one transaction (no parsing, resolution or session
    building, no binding, no batches). No ingest producing that database on one
    SQLite connection can be much faster, so it is the floor under the ingest
    ratio. Its message index is filled from messages_db (`floor_messages`), as
    the ingest indexes the text it has in hand: through the `records` view,
    which rebuilds each message, the floor took longer than the ingest."""
    import sqlite3
    c = sqlite3.connect(f'file:{src_db}?mode=ro', uri=True)
    out = ['PRAGMA page_size=16384;', 'PRAGMA journal_mode=WAL;', 'PRAGMA synchronous=NORMAL;',
           'PRAGMA cache_size=-8192;', 'PRAGMA wal_autocheckpoint=16384;', 'PRAGMA threads=2;',
           f"ATTACH '{src_db}' AS src;", f"ATTACH '{messages_db}' AS msg;"]
    tables = floor_tables(c)
    for t in tables:
        out.append(c.execute("SELECT sql FROM sqlite_schema WHERE type='table' AND name=?", (t,)).fetchone()[0] + ';')
    for (sql,) in c.execute("SELECT sql FROM sqlite_schema WHERE type='view'"):
        out.append(sql + ';')  # `records`, over `record_rows`
    out.append(c.execute("SELECT sql FROM sqlite_schema WHERE name='records_fts'").fetchone()[0] + ';')
    without_rowid = {r[1] for r in c.execute('PRAGMA table_list') if r[4]}
    out.append('BEGIN;')
    for t in tables:
        cols = ', '.join(r[1] for r in c.execute(f'PRAGMA table_xinfo({t})') if r[6] == 0)  # stored columns only
        order = '' if t in without_rowid else ' ORDER BY rowid'
        out.append(f'INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t}{order};')
    out.append('INSERT INTO records_fts(rowid, message) SELECT id, message FROM msg.messages ORDER BY id;')
    for (sql,) in c.execute("SELECT sql FROM sqlite_schema WHERE type='index' AND sql IS NOT NULL AND tbl_name IN (%s)"
                            % ','.join('?' * len(tables)), tables):
        out.append(sql + ';')
    out.append('COMMIT;')
    c.close()
    return '\n'.join(out) + '\n'


def floor_messages(work, src_db):
    """The messages the `records` view of src_db gives, as a table of their own
    (made before the floor's clock starts)."""
    db = os.path.join(work, 'floor-messages.db')
    rm_db(db)
    sh(['sqlite3', db, f"ATTACH '{src_db}' AS src; "
        "CREATE TABLE messages AS SELECT id, message FROM src.records WHERE message IS NOT NULL ORDER BY id;"])
    return db


def run_floor(work, src_db):
    return run_sqlite_script(work, 'floor', floor_script(src_db, floor_messages(work, src_db)), bail=True)


def run_ingest(binary, work, log, env, name='sftplog.db'):
    db = os.path.join(work, name)
    rm_db(db)
    dt, rss = timed([binary, 'ingest', '--quiet', '--db', db, log], env=env)
    return dt, rss, db


def fmt_rate(lines, secs):
    return f'{lines / secs:,.0f}' if secs > 0 else '-'


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = '  '.join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print('  '.join('-' * w for w in widths))
    for r in rows:
        print('  '.join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))


def main_benchmark(a, binary, env):
    log, csv = generate(a.work, a.lines)
    size_mb = os.path.getsize(log) / 1e6
    print(f'input: {a.lines:,} lines, {size_mb:.0f} MB ({log}); {a.runs} alternating runs, medians\n')
    res = {k: [] for k in ('baseline', 'ingest', 'floor', 'parse', 'grep')}
    rss = {k: [] for k in res}
    db = None
    for i in range(a.runs):
        # Alternate the order so drift on a noisy machine hits both sides.
        # The floor copies the database the ingest just wrote, so it follows it.
        order = ['baseline', 'ingest', 'floor', 'grep', 'parse'] if i % 2 == 0 else ['parse', 'grep', 'ingest', 'floor', 'baseline']
        for k in order:
            if k == 'baseline':
                dt, r = run_baseline_ingest(a.work, csv)
            elif k == 'ingest':
                dt, r, db = run_ingest(binary, a.work, log, env)
            elif k == 'floor':
                dt, r = run_floor(a.work, db)
            elif k == 'parse':
                dt, r = timed([binary, 'parse', log], env=env)
            else:
                # Into a pipe: GNU grep stops at the first match when its output is /dev/null.
                dt, r = timed(['grep', '-c', '30014', log], stdout=subprocess.PIPE)
            res[k].append(dt)
            rss[k].append(r)
        print(f'run {i + 1}: ' + '  '.join(f'{k} {res[k][-1]:.2f}s' for k in res), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    rows = [
        ['sqlite3 .import + FTS rebuild', f'{med["baseline"]:.2f}', fmt_rate(a.lines, med['baseline']), '1.00', f'{max(rss["baseline"]):.0f}'],
        ['sftplog ingest', f'{med["ingest"]:.2f}', fmt_rate(a.lines, med['ingest']), f'{med["ingest"] / med["baseline"]:.2f}', f'{max(rss["ingest"]):.0f}'],
        ['  floor: SQLite alone writing it', f'{med["floor"]:.2f}', fmt_rate(a.lines, med['floor']), f'{med["floor"] / med["baseline"]:.2f}', f'{max(rss["floor"]):.0f}'],
        ['grep -c 30014', f'{med["grep"]:.2f}', fmt_rate(a.lines, med['grep']), '1.00', f'{max(rss["grep"]):.0f}'],
        ['sftplog parse > /dev/null', f'{med["parse"]:.2f}', fmt_rate(a.lines, med['parse']), f'{med["parse"] / med["grep"]:.1f}', f'{max(rss["parse"]):.0f}'],
    ]
    print()
    table(rows, ['command', 'median s', 'lines/s', 'ratio', 'peak RSS MiB'])
    print(f'\nruns (s): ' + '; '.join(f'{k}: ' + ' '.join(f'{x:.2f}' for x in v) for k, v in res.items()))
    if db:
        sizes(a.work, log, db)
    if not a.no_queries and db:
        queries(binary, db, env)


def gzip_size(path):
    """Bytes of `gzip -6` of a file (a reference for what its content compresses to)."""
    p = subprocess.run(['gzip', '-6', '-c', path], stdout=subprocess.PIPE, check=True)
    return len(p.stdout)


def sizes(work, log, db):
    """The database's bytes against the log's, gzip -6's and the baseline's, with
    its largest objects (indexes and the FTS5 index included)."""
    import sqlite3
    log_bytes = os.path.getsize(log)
    base = os.path.join(work, 'baseline.db')
    rows = [['log', f'{log_bytes / 1e6:.1f}', '1.00'],
            ['gzip -6 of the log', f'{gzip_size(log) / 1e6:.1f}', f'{gzip_size(log) / log_bytes:.2f}']]
    if os.path.exists(base):
        rows.append(['sqlite3 .import + FTS (baseline)', f'{os.path.getsize(base) / 1e6:.1f}', f'{os.path.getsize(base) / log_bytes:.2f}'])
    rows.append(['sftplog database', f'{os.path.getsize(db) / 1e6:.1f}', f'{os.path.getsize(db) / log_bytes:.2f}'])
    c = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    try:
        for name, size in c.execute('SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8'):
            rows.append([f'  {name}', f'{size / 1e6:.1f}', f'{size / log_bytes:.2f}'])
    except sqlite3.OperationalError:
        pass  # a Python without the dbstat table
    c.close()
    print()
    table(rows, ['bytes', 'MB', 'of the log'])


def queries(binary, db, env):
    print('\nqueries on the ingested database (median of 5)')
    hourly = ("SELECT account, substr(ts_utc, 1, 13) AS hour, count(*) AS events FROM records "
              "WHERE account IS NOT NULL GROUP BY account, hour ORDER BY account, hour")
    cmds = [
        ('sessions --json', ['sessions', '--json', '--db', db]),
        ('audit', ['audit', '--db', db]),
        ('report (summary)', ['report', '--db', db]),
        ('catalog search "permission denied"', ['catalog', 'search', 'permission denied']),
        ('query: events per account per hour', ['query', '--db', db, hourly]),
    ]
    rows = []
    for label, args in cmds:
        times = [timed([binary] + args, env=env)[0] for _ in range(5)]
        rows.append([label, f'{statistics.median(times):.3f}'])
    table(rows, ['command', 'median s'])
    print('\nEXPLAIN QUERY PLAN ' + hourly)
    out = subprocess.run(['sqlite3', db, 'EXPLAIN QUERY PLAN ' + hourly], capture_output=True, text=True)
    print(out.stdout.rstrip())


def scaling(a, binary, env):
    rows = []
    for n in (100_000, 1_000_000, 5_000_000):
        log, _ = generate(a.work, n)
        dt, rss, _ = run_ingest(binary, a.work, log, env, name=f'scaling-{n}.db')
        rows.append([f'{n:,}', f'{os.path.getsize(log) / 1e6:.0f}', f'{dt:.2f}', fmt_rate(n, dt), f'{rss:.0f}'])
        print(f'{n:,} lines: {dt:.2f}s', flush=True)
    table(rows, ['lines', 'MB', 'ingest s', 'lines/s', 'peak RSS MiB'])


def rotated(a, binary, env):
    """A month of rotated logs: the same lines split into N files named as
    logrotate leaves them (server.log.N-1 ... server.log.1, server.log), so the
    run must order them by content, ingested in one run; against the one file."""
    log, out_dir = rotated_month(a)
    print(f'input: {a.lines:,} lines as 1 file and as {a.rotated} rotated files ({out_dir}); {a.runs} alternating runs, medians\n')
    res = {'one file': [], f'{a.rotated} files': []}
    rss = {k: [] for k in res}
    for i in range(a.runs):
        for k in (list(res) if i % 2 == 0 else list(res)[::-1]):
            db = os.path.join(a.work, 'rotated.db')
            rm_db(db)
            dt, r = timed([binary, 'ingest', '--quiet', '--db', db] + ([log] if k == 'one file' else [out_dir]), env=env)
            res[k].append(dt)
            rss[k].append(r)
        print(f'run {i + 1}: ' + '  '.join(f'{k} {v[-1]:.2f}s' for k, v in res.items()), flush=True)
    one = statistics.median(res['one file'])
    table([[k, f'{statistics.median(v):.2f}', fmt_rate(a.lines, statistics.median(v)), f'{statistics.median(v) / one:.2f}', f'{max(rss[k]):.0f}']
           for k, v in res.items()], ['ingest of', 'median s', 'lines/s', 'ratio', 'peak RSS MiB'])


def rotated_month(a, spread=False):
    """The --lines log split into --rotated (default 30) files as logrotate
    leaves them. With `spread`, the lines cover 30 days in which the legacy
    ssh-rsa/SHA-1/CBC clients fade (generate.py --days 30 --improving)."""
    n = a.rotated or 30
    if spread:
        log = os.path.join(a.work, f'month-{a.lines}.log')
        if not os.path.exists(log):
            with open(log, 'wb') as out:
                sh([sys.executable, GEN, '--lines', str(a.lines), '--days', '30', '--improving'], stdout=out)
    else:
        log, _ = generate(a.work, a.lines)
    out_dir = os.path.join(a.work, f'{"month" if spread else "rotated"}-{a.lines}x{n}')
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
        with open(log, 'rb') as f:
            lines = f.readlines()
        per = -(-len(lines) // n)
        for k in range(n):
            name = 'server.log' + (f'.{n - 1 - k}' if k < n - 1 else '')
            with open(os.path.join(out_dir, name), 'wb') as out:
                out.writelines(lines[k * per:(k + 1) * per])
    return log, out_dir


def trend(a, binary, env):
    """`report --trend` on a rotated month (the --lines log spread over 30
    days, weak clients fading): from its database (by day, week and month) and
    straight from its files; medians of alternating runs."""
    _, out_dir = rotated_month(a, spread=True)
    db = os.path.join(a.work, f'trend-month-{a.lines}x{a.rotated or 30}.db')
    if not os.path.exists(db):
        subprocess.run([binary, 'ingest', '--quiet', '--db', db, out_dir], env=env, check=False)
    cases = [(f'--db, --by {by}', [binary, 'report', '--trend', '--by', by, '--format', 'json', '--db', db]) for by in ('day', 'week', 'month')]
    cases.append(('files, --by week', [binary, 'report', '--trend', '--format', 'json', out_dir]))
    res = {name: [] for name, _ in cases}
    rss = {name: [] for name, _ in cases}
    for i in range(a.runs):
        for name, cmd in (cases if i % 2 == 0 else cases[::-1]):
            dt, r = timed(cmd, env=env)
            res[name].append(dt)
            rss[name].append(r)
    print(f'report --trend on {a.lines:,} lines over 30 days as {a.rotated or 30} rotated files ({out_dir}); {a.runs} alternating runs\n')
    table([[k, f'{statistics.median(v):.2f}', f'{min(v):.2f}–{max(v):.2f}', f'{max(rss[k]):.0f}'] for k, v in res.items()],
          ['report --trend', 'median s', 'range', 'peak RSS MiB'])


def openssh_files(work, count, runs):
    """Many transcripts: the bundled real ones, each copy with its own client
    port so that every copy is distinct content. With R runs each file holds R
    runs one after another, as `ssh -E file` appends them (R=10 makes 10,000
    files about 1 GB). Returns the folder, its files and their bytes."""
    src_dir = os.path.join(REPO, 'samples', 'openssh')
    samples = sorted(os.path.join(src_dir, f) for f in os.listdir(src_dir) if f.endswith('.log'))
    texts = [open(p, 'rb').read() for p in samples]
    texts = [t if t.endswith(b'\n') else t + b'\n' for t in texts]
    runs = max(1, runs)
    out_dir = os.path.join(work, f'openssh-{count}' + (f'x{runs}' if runs > 1 else ''))
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
        rnd = random.Random(7)
        for i in range(count):
            # Distinct content per copy: a header comment line is enough for
            # content addressing; the transcripts themselves stay real.
            body = [b'# benchmark copy %d\n' % i]
            for k in range(runs):
                t = texts[(i * runs + k) % len(texts)]
                body.append(t.replace(b' port 22', b' port %d' % (2000 + rnd.randrange(60000))))
            with open(os.path.join(out_dir, f'transcript-{i:05d}.log'), 'wb') as f:
                f.write(b''.join(body))
    files = sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir))
    return out_dir, files, sum(os.path.getsize(f) for f in files)


def openssh(a, binary, env):
    """--openssh N: N transcripts (see openssh_files) in one ingest."""
    out_dir, files, total = openssh_files(a.work, a.openssh, a.openssh_runs)
    db = os.path.join(a.work, 'openssh.db')
    rm_db(db)
    dt, rss = timed([binary, 'ingest', '--quiet', '--db', db, out_dir], env=env)
    sessions = subprocess.run(['sqlite3', db, 'SELECT count(*) FROM sessions'], capture_output=True, text=True).stdout.strip()
    size = os.path.getsize(db)
    table([[f'{len(files):,}', f'{total / 1e6:.0f}', f'{dt:.2f}', f'{len(files) / dt:,.0f}', f'{total / 1e6 / dt:.1f}', sessions, f'{rss:.0f}',
            f'{size / 1e6:.0f}', f'{size / total:.2f}']],
          ['transcripts', 'MB', 'ingest s', 'files/s', 'MB/s', 'sessions', 'peak RSS MiB', 'database MB', 'of the input'])


def compare(a, binary, env):
    """--compare OLD: this build against another sftplog binary, side by side:
    parse and ingest of the --lines log and of --openssh transcripts (default
    1,000), the two binaries alternating run by run; medians and new/old."""
    log, _ = generate(a.work, a.lines)
    out_dir, files, _ = openssh_files(a.work, a.openssh or 1000, a.openssh_runs)
    cases = [('parse', f'{a.lines:,}-line log', lambda b, n: timed([b, 'parse', log], env=env)[0]),
             ('ingest', f'{a.lines:,}-line log', lambda b, n: run_ingest(b, a.work, log, env, name=f'cmp-{n}.db')[0]),
             ('parse', f'{len(files):,} transcripts', lambda b, n: timed([b, 'parse', out_dir], env=env)[0]),
             ('ingest', f'{len(files):,} transcripts', lambda b, n: run_ingest(b, a.work, out_dir, env, name=f'cmp-ssh-{n}.db')[0])]
    times = {(c[0], c[1], who): [] for c in cases for who in ('old', 'new')}
    for r in range(a.runs):
        order = [('old', a.compare), ('new', binary)]
        if r % 2:
            order.reverse()
        for cmd, what, run in cases:
            for who, b in order:
                times[(cmd, what, who)].append(run(b, who))
    rows = []
    for cmd, what, _ in cases:
        old, new = statistics.median(times[(cmd, what, 'old')]), statistics.median(times[(cmd, what, 'new')])
        rows.append([f'{cmd} {what}', f'{old:.2f}', f'{new:.2f}', f'{new / old:.2f}',
                     ' '.join(f'{x:.2f}' for x in times[(cmd, what, 'old')]), ' '.join(f'{x:.2f}' for x in times[(cmd, what, 'new')])])
    table(rows, ['command', 'old s', 'new s', 'new/old', 'old runs', 'new runs'])


LNAV_QUERY = ';SELECT account, count(*) FROM sftpplus_log GROUP BY account'


def lnav_cmd(log, query=LNAV_QUERY):
    """lnav indexing the log with the SFTPPlus format under Benchmarks/lnav, then one SQL query."""
    return ['lnav', '-n', '-I', os.path.join(REPO, 'Benchmarks', 'lnav'), '-c', query, log]


def answers(a, binary, env):
    """Issue 21's table: answers straight from the log against lnav and grep."""
    if not shutil.which('lnav'):
        raise SystemExit('lnav is not installed (Debian: apt-get install lnav)')
    log, _ = generate(a.work, a.lines)
    size_mb = os.path.getsize(log) / 1e6
    # lnav keeps its state under HOME: a fresh one, so no earlier index helps it.
    lnav_env = dict(os.environ, HOME=os.path.join(a.work, 'lnav-home'))
    shutil.rmtree(lnav_env['HOME'], ignore_errors=True)
    os.makedirs(lnav_env['HOME'])
    seen = subprocess.run(lnav_cmd(log, ';SELECT count(*) FROM sftpplus_log'), capture_output=True, env=lnav_env, check=True)
    print(f'input: {a.lines:,} lines, {size_mb:.0f} MB ({log}); lnav reads {seen.stdout.decode().split()[-1]} of them as '
          f'sftpplus_log; {a.runs} alternating runs, medians\n')
    cmds = {
        'lnav': (lnav_cmd(log), lnav_env),
        'audit': ([binary, 'audit', log], env),
        'report': ([binary, 'report', log], env),
        'grep': (['grep', '-c', '30014', log], None),
        'parse': ([binary, 'parse', log], env),
    }
    res = {k: [] for k in cmds}
    rss = {k: [] for k in cmds}
    for i in range(a.runs):
        order = list(cmds) if i % 2 == 0 else list(reversed(cmds))
        for k in order:
            cmd, e = cmds[k]
            # Into a pipe: GNU grep stops at the first match when its output is /dev/null.
            dt, r = timed(cmd, env=e, stdout=subprocess.PIPE if k == 'grep' else subprocess.DEVNULL)
            res[k].append(dt)
            rss[k].append(r)
        print(f'run {i + 1}: ' + '  '.join(f'{k} {res[k][-1]:.2f}s' for k in res), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    spread = {k: f'{min(v):.2f}-{max(v):.2f}' for k, v in res.items()}
    rows = [
        ['lnav: index + GROUP BY account', 'lnav', 'lnav'],
        ['sftplog audit FILE', 'audit', 'lnav'],
        ['sftplog report FILE (text)', 'report', 'lnav'],
        ['grep -c 30014', 'grep', 'grep'],
        ['sftplog parse FILE > /dev/null', 'parse', 'grep'],
    ]
    print()
    table([[label, f'{med[k]:.2f}', spread[k], f'{med[k] / med[base]:.2f}', f'{max(rss[k]):.0f}'] for label, k, base in rows],
          ['command', 'median s', 'range s', 'ratio', 'peak RSS MiB'])


PG_TABLES = ['sources', 'records', 'sessions', 'session_operations', 'findings', 'session_algorithms_offered', 'evidence_links',
             'catalog_variants', 'meta']


def pg_url(base, name):
    head = base.split('?')[0]
    return head[:head.rindex('/')] + '/' + name


def psql(url, *args, **kw):
    return sh(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', url] + list(args), stdout=subprocess.DEVNULL, **kw)


def pg_fresh(base, name):
    psql(base, '-c', f'DROP DATABASE IF EXISTS {name} WITH (FORCE)', '-c', f'CREATE DATABASE {name}')
    return pg_url(base, name)


def pg_copy_script(url, work, export):
    """\copy of every table; export=True writes the CSV files, else loads them."""
    lines = []
    for t in PG_TABLES:
        f = os.path.join(work, f'pg-{t}.csv')
        if export:
            lines.append(f"\\copy (SELECT * FROM {t}) TO '{f}' CSV")
        else:
            lines.append(f"\\copy {t} FROM '{f}' CSV")
    return '\n'.join(lines) + '\n'


def postgres(a, binary, env):
    base = a.postgres
    log, _ = generate(a.work, a.lines)
    print(f'input: {a.lines:,} lines, {os.path.getsize(log) / 1e6:.0f} MB ({log}); PostgreSQL {base.split("@")[-1]}; '
          f'{a.runs} alternating runs, medians\n')
    # The rows to copy: what one ingest stores.
    src = pg_fresh(base, 'sftplog_bench_src')
    sh([binary, 'ingest', '--quiet', '--db', src, log], env=env)
    script = os.path.join(a.work, 'pg-export.sql')
    with open(script, 'w') as f:
        f.write(pg_copy_script(src, a.work, True))
    psql(src, '-f', script)
    load = os.path.join(a.work, 'pg-load.sql')
    with open(load, 'w') as f:
        f.write(pg_copy_script(src, a.work, False))
    # Four distinct logs of a quarter each, for the concurrent ingesters.
    quarter = a.lines // 4
    parts = []
    for i in range(4):
        p = os.path.join(a.work, f'{quarter}-part{i + 1}.log')
        if not os.path.exists(p):
            with open(p, 'wb') as out:
                sh([sys.executable, GEN, '--lines', str(quarter), '--seed', str(100 + i)], stdout=out)
        parts.append(p)
    res = {k: [] for k in ('copy', 'ingest', 'one', 'four')}
    rss = {k: [] for k in res}
    for i in range(a.runs):
        order = list(res) if i % 2 == 0 else list(reversed(res))
        for k in order:
            url = pg_fresh(base, 'sftplog_bench')
            if k == 'copy':
                sh([binary, 'migrate', '--db', url], env=env, stderr=subprocess.DEVNULL)
                dt, r = timed(['psql', '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', url, '-f', load])
            elif k == 'ingest':
                dt, r = timed([binary, 'ingest', '--quiet', '--db', url, log], env=env)
            elif k == 'one':
                dt, r = timed([binary, 'ingest', '--quiet', '--db', url] + parts, env=env)
            else:
                sh([binary, 'migrate', '--db', url], env=env, stderr=subprocess.DEVNULL)
                t0 = time.monotonic()
                procs = [subprocess.Popen(['/usr/bin/time', '-f', '%M', binary, 'ingest', '--quiet', '--db', url, p], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for p in parts]
                outs = [p.communicate()[1].decode(errors='replace').strip().splitlines() for p in procs]
                dt = time.monotonic() - t0
                r = max(int(o[-1]) / 1024 for o in outs if o and o[-1].isdigit())
            res[k].append(dt)
            rss[k].append(r)
        print(f'run {i + 1}: ' + '  '.join(f'{k} {res[k][-1]:.2f}s' for k in res), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    rows = [
        ['psql \\copy of the stored rows (all tables, one transaction)', f'{med["copy"]:.2f}', fmt_rate(a.lines, med['copy']), '1.00', f'{max(rss["copy"]):.0f}'],
        ['sftplog ingest --db postgres://…', f'{med["ingest"]:.2f}', fmt_rate(a.lines, med['ingest']), f'{med["ingest"] / med["copy"]:.2f}', f'{max(rss["ingest"]):.0f}'],
        [f'1 ingester, 4 logs of {quarter:,} lines', f'{med["one"]:.2f}', fmt_rate(4 * quarter, med['one']), '', f'{max(rss["one"]):.0f}'],
        [f'4 ingesters at once, one log each', f'{med["four"]:.2f}', fmt_rate(4 * quarter, med['four']), '', f'{max(rss["four"]):.0f} each'],
    ]
    print()
    table(rows, ['command', 'median s', 'lines/s', 'ratio', 'peak RSS MiB'])
    print(f'\nruns (s): ' + '; '.join(f'{k}: ' + ' '.join(f'{x:.2f}' for x in v) for k, v in res.items()))
    for name in ('sftplog_bench', 'sftplog_bench_src'):
        psql(base, '-c', f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


WATCH_FAIL = ('20021 Unknown {peer} Failed to authenticate user "{user}" with "password" credentials. '
              'Possible typo in username. No authentication method was able to handle the credentials.')
WATCH_SESSION = [
    '30014 Unknown {peer} New SSH connection made.',
    '20137 {user} {peer} Successful authentication for "{user}" of type "application" from groups/roles "DEFAULT_GROUP", '
    'by "application:Application Accounts" using password credentials as "{user}". ',
    '30011 {user} {peer} SFTP access started at "/srv/sftp/{user}/" as "/". Client "SSH-2.0-OpenSSH_9.6" using '
    'ssh-ed25519 curve25519-sha256 hmac-sha2-256-etm@openssh.com aes256-gcm@openssh.com compression:none.',
    '30043 {user} {peer} Successfully opened "/srv/sftp/{user}/f{n}.csv" in "write" mode, requested as "/f{n}.csv".',
    '30068 {user} {peer} Close file "/srv/sftp/{user}/f{n}.csv" after successful write. Wrote {n} bytes at 1000000 bytes/second in 0.5 seconds.',
    '30015 {user} {peer} SSH connection closed from "SSH-2.0-OpenSSH_9.6".',
]


def rss_kb(pid):
    try:
        for line in open(f'/proc/{pid}/status'):
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        return None


def watch(a, binary, env):
    """`watch` fed a steady rate of RFC 3164 syslog over UDP: ordinary sessions
    (connect, log in, start SFTP, upload, close) of 500 accounts from 2,000
    client addresses (--watch-clients), and once a second 10
    connections from a new address that each fail to log in (30 lines). An
    alert's latency is from sending the 10th failure to reading the alert on
    the watch's stdout. Memory is sampled every 5 s."""
    import socket, threading
    rate, seconds = a.watch_rate, a.watch
    db = os.path.join(a.work, 'watch.db')
    rm_db(db)
    shutil.rmtree(db + '.syslog', ignore_errors=True)
    args = [binary, 'watch', '--syslog', 'udp://127.0.0.1:0', '--alert', 'ndjson']
    args += ['--no-store'] if a.watch_no_store else ['--db', db]
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = None
    status = ''
    while port is None:
        line = p.stderr.readline()
        status += line
        if not line:
            sys.exit('watch did not start: ' + status)
        if 'udp://127.0.0.1:' in line:
            port = int(line.split('udp://127.0.0.1:')[1].split(',')[0].split(';')[0])
    sent_at, got = {}, {}
    def read_alerts():
        for line in p.stdout:
            t = time.perf_counter()
            peer = line.split('"peer":"', 1)[1].split('"', 1)[0] if '"peer":"' in line else None
            if peer and '"rule":"failed-logins"' in line and peer not in got:
                got[peer] = t
    reader = threading.Thread(target=read_alerts, daemon=True)
    reader.start()
    rss = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = random.Random(7)
    start = time.perf_counter()
    sent = 0
    probe = 0
    next_rss = start
    session_lines = []
    n = 0
    while True:
        now = time.perf_counter()
        elapsed = now - start
        if elapsed >= seconds:
            break
        if now >= next_rss:
            rss.append((elapsed, rss_kb(p.pid)))
            next_rss += 5
        target = int(elapsed * rate)
        while sent < target:
            stamp = time.strftime('%b %e %H:%M:%S', time.gmtime())
            if (sent // rate) > probe:
                # Once a second, 10 connections from a new address, each opened, failing its login and closed.
                probe += 1
                peer = f'198.{18 + probe // 65025 % 2}.{probe // 255 % 255}.{probe % 255 + 1}'
                for k in range(10):
                    p_ = f'{peer}:{40000 + k}'
                    for msg in (f'30014 Unknown {p_} New SSH connection made.', WATCH_FAIL.format(peer=p_, user=f'u{k}'),
                                f'30015 Unknown {p_} SSH connection closed from "SSH-2.0-libssh_0.9.6".'):
                        sock.sendto(f'<30>{stamp} mft01 sftpplus[2211]: {msg}'.encode(), ('127.0.0.1', port))
                        if msg.startswith('20021') and k == 9:
                            sent_at[peer] = time.perf_counter()
                sent += 30
                continue
            if not session_lines:
                n += 1
                # The fleet's clients: 2,000 addresses (--watch-clients), a new source port each time;
                # with --watch-clients 0 every session comes from an address never seen before.
                client = rng.randrange(a.watch_clients) if a.watch_clients else n
                peer = f'10.{client // 62500 % 250}.{client // 250 % 250}.{client % 250 + 1}:{rng.randrange(1024, 65535)}'
                user = f'user{rng.randrange(500)}'
                session_lines = [t.format(peer=peer, user=user, n=n) for t in WATCH_SESSION]
            sock.sendto((f'<30>{stamp} mft01 sftpplus[2211]: ' + session_lines.pop(0)).encode(), ('127.0.0.1', port))
            sent += 1
        time.sleep(0.002)
    time.sleep(2)
    rss.append((time.perf_counter() - start, rss_kb(p.pid)))
    p.send_signal(2)
    _, err = p.communicate(timeout=600)
    reader.join(timeout=5)
    lat = sorted((got[k] - sent_at[k]) * 1000 for k in sent_at if k in got)
    def pct(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float('nan')
    received = err.strip().splitlines()[-1] if err.strip() else ''
    print(f'watch {"--no-store" if a.watch_no_store else "--db"}: {sent} lines sent at {rate}/s for {seconds} s over UDP; {received}')
    table([[f'{len(lat)} of {len(sent_at)}', f'{pct(0.5):.0f}', f'{pct(0.99):.0f}', f'{lat[-1] if lat else float("nan"):.0f}']],
                ['bursts alerted', 'p50 ms', 'p99 ms', 'max ms'])
    steady = [kb for t, kb in rss if kb and t >= min(60, seconds / 2)]
    table([[f'{t:.0f}', f'{kb / 1024:.1f}'] for t, kb in rss[:: max(1, len(rss) // 12)] + rss[-1:] if kb], ['s', 'RSS MiB'])
    if steady:
        print(f'RSS after warm-up: first {steady[0] / 1024:.1f} MiB, last {steady[-1] / 1024:.1f} MiB, max {max(steady) / 1024:.1f} MiB')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lines', type=int, default=1_000_000)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--work', default=os.environ.get('SFTPLOG_BENCH_DIR', '/tmp/sftplog-bench'))
    ap.add_argument('--scaling', action='store_true')
    ap.add_argument('--openssh', type=int, metavar='N')
    ap.add_argument('--openssh-runs', type=int, default=1, metavar='R', help='client runs appended in each transcript file')
    ap.add_argument('--rotated', type=int, metavar='N', help='the --lines log split into N rotated files, against one file')
    ap.add_argument('--trend', action='store_true', help='report --trend on the rotated month (--rotated N, default 30), from its database and its files')
    ap.add_argument('--no-queries', action='store_true')
    ap.add_argument('--answers', action='store_true', help='audit/report/parse straight from the log, against lnav and grep')
    ap.add_argument('--smoke', action='store_true', help='tiny input, debug build, one run')
    ap.add_argument('--binary', help='sftplog binary (default: build release)')
    ap.add_argument('--postgres', metavar='URL', help='PostgreSQL server (its user may create databases): ingest against psql \\copy')
    ap.add_argument('--watch', type=int, metavar='SECONDS', help='watch: syslog over UDP at --watch-rate lines/s; alert latency and memory')
    ap.add_argument('--watch-rate', type=int, default=10_000)
    ap.add_argument('--watch-no-store', action='store_true')
    ap.add_argument('--watch-clients', type=int, default=2000, help='client addresses of the ordinary sessions (0: a new one each session)')
    ap.add_argument('--compare', metavar='OLD', help='another sftplog binary to run side by side (parse and ingest)')
    a = ap.parse_args()
    if a.smoke:
        a.work = os.path.join(a.work, 'smoke')  # never collides with a real run's files
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ)
    env.pop('SFTPLOG_DB', None)
    env['SFTPLOG_CATALOG'] = os.path.join(REPO, 'catalog')
    if a.smoke:
        a.lines, a.runs = 2000, 1
        binary = a.binary or os.path.join(REPO, '.build', 'debug', 'sftplog')
        if not os.path.exists(binary):
            sh(['swift', 'build', '--product', 'sftplog'], cwd=REPO)
    else:
        binary = a.binary
        if not binary:
            sh(['swift', 'build', '-c', 'release', '--product', 'sftplog'], cwd=REPO, stdout=subprocess.DEVNULL)
            binary = os.path.join(REPO, '.build', 'release', 'sftplog')
    if a.watch:
        watch(a, binary, env)
    elif a.postgres:
        postgres(a, binary, env)
    elif a.compare:
        compare(a, binary, env)
    elif a.answers:
        answers(a, binary, env)
    elif a.scaling:
        scaling(a, binary, env)
    elif a.openssh:
        openssh(a, binary, env)
    elif a.trend:
        trend(a, binary, env)
    elif a.rotated:
        rotated(a, binary, env)
    else:
        main_benchmark(a, binary, env)
        if a.smoke:
            openssh_small = argparse.Namespace(**vars(a))
            openssh_small.openssh = 20
            openssh_small.openssh_runs = 3  # appended runs too
            openssh(openssh_small, binary, env)
            a.rotated = 3
            rotated(a, binary, env)
            trend(a, binary, env)


if __name__ == '__main__':
    main()
