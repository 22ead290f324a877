#!/usr/bin/env python3
"""Scores an sftplog binary's `sessions --json` on samples/pastes/openssh against the truth files:
facts both the old and the new JSON carry (first line, outcome, user, peer, versions, negotiated,
auth, host key check, operations) and the number of runs per paste."""
import json, os, subprocess, sys, tempfile, glob
binary = sys.argv[1] if len(sys.argv) > 1 else "sftplog"
d = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'openssh')
logs = sorted(glob.glob(d + '/*.log'))
db = tempfile.mktemp(suffix='.db')
env = dict(os.environ)
subprocess.run([binary, 'ingest', '--quiet', '--db', db] + logs, env=env, capture_output=True)
out = subprocess.run([binary, 'sessions', '--db', db, '--json'], env=env, capture_output=True, text=True).stdout
sess = json.loads(out)
right = total = runs_ok = 0
wrong = {}
for log in logs:
    t = json.load(open(log[:-4] + '.truth.json'))
    mine = sorted([s for s in sess if s['file'].endswith('/' + os.path.basename(log))], key=lambda s: s['lines']['first'])
    if len(mine) == len(t['runs']): runs_ok += 1
    for k, r in enumerate(t['runs']):
        s = mine[k] if k < len(mine) else None
        def fact(name, want, got):
            global right, total
            total += 1
            if want == got: right += 1
            else: wrong[name] = wrong.get(name, 0) + 1
        g = lambda f: (f(s) if s else '(missing)')
        fact('first_line', r['first_line'], g(lambda s: s['lines']['first']))
        fact('outcome', r['outcome'], g(lambda s: s['outcome']))
        fact('user', r['user'], g(lambda s: s['user']))
        fact('peer', r['peer']['host'], g(lambda s: ((s.get('details') or {}).get('peer') or {}).get('host', (s['peer'] or {}).get('address'))))
        fact('port', r['peer']['port'], g(lambda s: (s['peer'] or {}).get('port')))
        fact('client_version', r['client_version'], g(lambda s: s['client_version']))
        fact('server_version', r['server_version'], g(lambda s: s['server_version']))
        tn = r['negotiated']
        for slot in ['kex', 'hostkey', 'cipher_c2s', 'cipher_s2c', 'mac_c2s', 'mac_s2c', 'compression_c2s', 'compression_s2c']:
            fact('negotiated', tn[slot] if tn else None, g(lambda s: s['negotiated'][slot]))
        fact('methods_tried', r['auth']['methods_tried'], g(lambda s: s['auth']['methods_tried']))
        fact('succeeded_method', r['auth']['succeeded_method'], g(lambda s: s['auth']['succeeded_method']))
        fact('host_key_check', r['host_key_check'], g(lambda s: s['host_key_check']))
        fact('operations', [(o['op'], o['path'], o['ok']) for o in r['sftp_ops']],
             g(lambda s: [(o['op'], o['path'] or None, o['ok']) for o in s['operations']]))
for suffix in ('', '-wal', '-shm'):
    try: os.unlink(db + suffix)
    except FileNotFoundError: pass
print(f'{binary}: {right} of {total} facts ({100*right/total:.1f}%), {runs_ok} of {len(logs)} pastes with the right number of runs; wrong: {sorted(wrong.items())}')
