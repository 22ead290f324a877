#!/usr/bin/env python3
"""Regenerates docs/cookbook.md by running every recipe on the bundled samples,
so that each output in the cookbook is what sftplog really printed.

    swift build && python3 docs/tools/cookbook.py
"""
import os, subprocess, sys, tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get('SFTPLOG', os.path.join(REPO, '.build', 'debug', 'sftplog'))

RECIPES = [
    ("Which SFTPPlus version wrote this log?",
     "The catalogue knows which versions documented each wording; a source's versions are those that can have written every message in it.",
     ['query', '--db', 'demo.db', "SELECT name, sftpplus_versions FROM sources WHERE sftpplus_versions IS NOT NULL ORDER BY name"]),
    ("Failed logins per peer in the last week of the logs",
     "Sessions count their failed authentications. `--since 7d` counts back from now; for old logs, count back from the newest session instead.",
     ['query', '--db', 'demo.db', "SELECT peer_address, count(*) AS sessions, sum(auth_failures) AS failed_logins FROM sessions "
      "WHERE start_utc >= (SELECT datetime(max(start_utc), '-7 days') FROM sessions) AND auth_failures > 0 "
      "GROUP BY peer_address ORDER BY failed_logins DESC, peer_address"]),
    ("Files uploaded by a user",
     "Transfers are session operations, with sizes and speeds where the log gives them.",
     ['query', '--db', 'demo.db', "SELECT o.ts, o.path, o.bytes, o.ok FROM session_operations o JOIN sessions s ON s.id = o.session_id "
      "WHERE s.user = 'alice' AND o.op = 'put' ORDER BY o.ts"]),
    ("Which sessions negotiated SHA-1?",
     "Findings name the weak algorithm each session used, rated by the policy in `catalog/ssh-policy.json`.",
     ['query', '--db', 'demo.db', "SELECT s.start_utc, s.peer_address, s.user, group_concat(DISTINCT f.algorithm) AS sha1_algorithms "
      "FROM findings f JOIN sessions s ON s.id = f.session_id WHERE f.algorithm LIKE '%sha1%' OR f.algorithm IN ('ssh-rsa', 'ssh-dss') "
      "GROUP BY s.id ORDER BY s.start_utc DESC LIMIT 8"]),
    ("What does event 20156 mean, and what did it look like in older versions?",
     None,
     ['catalog', 'show', '20156']),
    ("Which events are about denied permissions?",
     None,
     ['catalog', 'search', '--limit', '5', 'permission denied']),
    ("What went wrong in the `sftp -vvv` pasted into a ticket?",
     "A pasted transcript is a file like any other (or `-` for standard input); its session shows the outcome at a glance.",
     ['sessions', '--db', 'ticket.db', '--format', 'table'],
     ['ingest', '--quiet', '--db', 'ticket.db', 'samples/openssh/sftp-get-missing-batch-abort.log']),
    ("Is any connection exposed to Terrapin, or using algorithms the policy fails?",
     "`audit` exits 0 when nothing is at or above `--min-rating`, 1 for warnings only, 2 for failures, so it fits cron and CI.",
     ['audit', '--db', 'demo.db', '--min-rating', 'fail', '--peer', '192.0.2.191']),
    ("Events per account per hour",
     "No index serves this: SQLite reads every record once and sorts the groups, on a helper thread per core "
     "(0.8 s for a million records on two cores).",
     ['query', '--db', 'demo.db', "SELECT account, strftime('%Y-%m-%d %H:00', ts_utc) AS hour, count(*) AS events FROM records "
      "WHERE account IS NOT NULL AND account != 'Unknown' GROUP BY account, hour ORDER BY events DESC LIMIT 8"]),
    ("Which lines could sftplog not read, and why?",
     "Nothing is dropped: such lines are `unparsed` records with their exact bytes and the reason. (This sample was "
     "written with a custom `entry_content`: ingest it with `--entry-format` and it parses.)",
     ['query', '--db', 'demo.db', "SELECT file, line, diagnostic FROM records WHERE kind = 'unparsed' ORDER BY file, line LIMIT 5"]),
]


def shell_quote(a):
    if a and all(c.isalnum() or c in '-_./=:' for c in a):
        return a
    return "'" + a.replace("'", "'\\''") + "'"


def run(args, cwd, env):
    p = subprocess.run([BIN] + args, cwd=cwd, env=env, capture_output=True, text=True)
    return p.stdout + p.stderr, p.returncode


def main():
    env = dict(os.environ, COLUMNS='100', SFTPLOG_CATALOG=os.path.join(REPO, 'catalog'))
    env.pop('SFTPLOG_DB', None)
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(REPO, 'samples'), os.path.join(tmp, 'samples'))
        setup = ['ingest', '--quiet', '--db', 'demo.db', 'samples/sftpplus', 'samples/openssh', '--glob', '*.log']
        run(setup, tmp, env)
        out = ["# Cookbook", "",
               "Ten questions users bring, answered with sftplog on the bundled samples. Every output below",
               "is pasted from a real run (`python3 docs/tools/cookbook.py` regenerates this page).", "",
               "First, everything into one database:", "", "```console",
               "$ sftplog " + ' '.join(shell_quote(a) for a in setup), "```", ""]
        for i, recipe in enumerate(RECIPES, 1):
            title, note, args = recipe[:3]
            pre = recipe[3] if len(recipe) > 3 else None
            out += [f"## {i}. {title}", ""]
            if note:
                out += [note, ""]
            out.append("```console")
            if pre:
                run(pre, tmp, env)
                out.append("$ sftplog " + ' '.join(shell_quote(a) for a in pre))
            text, status = run(args, tmp, env)
            out.append("$ sftplog " + ' '.join(shell_quote(a) for a in args))
            out += text.rstrip('\n').split('\n')
            if status != 0:
                out.append(f"$ echo $?\n{status}")
            out += ["```", ""]
    with open(os.path.join(REPO, 'docs', 'cookbook.md'), 'w') as f:
        f.write('\n'.join(out))
    print('wrote docs/cookbook.md')


if __name__ == '__main__':
    main()
