#!/usr/bin/env python3
"""Deterministic SFTPPlus timestamp-first log generator for benchmarks.

Sessions interleave (about 30 open at once), with logins, failed logins,
transfers, listings, renames and closes, in the 5.26 wording. Same seed and
line count give byte-identical output.

    python3 Benchmarks/generate.py --lines 1000000 --seed 1 > big.log
    python3 Benchmarks/generate.py --lines 1000 --csv base.csv ...   (also the 7 pre-parsed columns)
    python3 Benchmarks/generate.py --lines 1000000 --days 30 --improving  (a month in which weak clients fade)
"""
import argparse, random, sys, datetime

USERS = ['alice', 'bob', 'ops', 'billing', 'partner.eu', 'acme-upload', 'svc-backup', 'edi-gw', 'hr-feed', 'finance']
CLIENTS = ['SSH-2.0-OpenSSH_9.6', 'SSH-2.0-paramiko_3.4.0', 'SSH-2.0-JSCH_0.2.17', 'SSH-2.0-WinSCP_release_6.3.5', 'SSH-2.0-FileZilla_3.67.0']
ALGOS = [
    ('ssh-ed25519', 'curve25519-sha256', '<implicit>', 'chacha20-poly1305@openssh.com'),
    ('rsa-sha2-512', 'curve25519-sha256', 'hmac-sha2-256-etm@openssh.com', 'aes256-ctr'),
    ('ecdsa-sha2-nistp256', 'ecdh-sha2-nistp256', '<implicit>', 'aes256-gcm@openssh.com'),
    ('rsa-sha2-256', 'diffie-hellman-group-exchange-sha256', 'hmac-sha2-256', 'aes128-ctr'),
    ('ssh-rsa', 'diffie-hellman-group14-sha1', 'hmac-sha1', 'aes128-cbc'),
]
FILES = ['invoice-2025-03.pdf', 'report Q1.csv', 'batch,with,commas.zip', 'deep/path/file.bin', 'data_ünïcode.txt', 'payroll-%d.xml', 'orders-%d.edi']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lines', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--csv', help='also write the 7 pre-parsed columns here (for the sqlite3 baseline)')
    ap.add_argument('--days', type=float, default=0, help='spread the lines over about this many days (default: ~90 ms a line)')
    ap.add_argument('--improving', action='store_true', help='the legacy ssh-rsa/SHA-1/CBC clients fade from 40%% of sessions to 4%%')
    a = ap.parse_args()
    # 90.5 ms is the mean step of randint(1, 180).
    scale = a.days * 86400e3 / (a.lines * 90.5) if a.days else 1
    rnd = random.Random(a.seed)
    out = sys.stdout
    csv = open(a.csv, 'w', encoding='utf-8', newline='') if a.csv else None
    t = datetime.datetime(2025, 11, 1, 0, 0, 0)
    open_sessions = []
    written = 0
    next_port = 20000

    def emit(s, eid, msg):
        nonlocal t, written
        t += datetime.timedelta(milliseconds=rnd.randint(1, 180) * scale)
        ts = t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d+02:00' % (t.microsecond // 1000)
        out.write('%s %s sftp-1 %s %s:%d %s\n' % (ts, eid, s['account'], s['addr'], s['port'], msg))
        if csv:
            q = msg.replace('"', '""')
            csv.write('%s,%s,sftp-1,%s,%s,%d,"%s"\n' % (ts, eid, s['account'], s['addr'], s['port'], q))
        written += 1

    def algo():
        if not a.improving:
            return rnd.choice(ALGOS)
        legacy = 0.4 - 0.36 * written / a.lines
        return ALGOS[-1] if rnd.random() < legacy else rnd.choice(ALGOS[:-1])

    def new_session():
        nonlocal next_port
        next_port = 20000 + (next_port - 19999) % 40000
        addr = rnd.choice(['10.0.%d.%d' % (rnd.randint(0, 9), rnd.randint(1, 254)), '192.0.2.%d' % rnd.randint(1, 254),
                           '2001:db8::%x' % rnd.randint(1, 65535)])
        s = {'account': 'Unknown', 'user': rnd.choice(USERS), 'addr': addr, 'port': next_port, 'step': 0,
             'client': rnd.choice(CLIENTS), 'algo': algo(), 'ops': rnd.randint(1, 12), 'fail': rnd.random() < 0.08}
        return s

    while written < a.lines:
        if len(open_sessions) < 30 or rnd.random() < 0.02:
            s = new_session()
            open_sessions.append(s)
            emit(s, '30014', 'New SSH connection made.')
            continue
        s = rnd.choice(open_sessions)
        u = s['user']
        hk, kex, mac, cip = s['algo']
        if s['step'] == 0:
            if s['fail']:
                emit(s, '20021', 'Failed to authenticate user "%s" with "password" credentials. Possible typo in username. No authentication method was able to handle the credentials.' % u)
                emit(s, '30050', 'Disconnecting the SSH connection. Too many authentication failures.')
                open_sessions.remove(s)
                continue
            s['account'] = u
            emit(s, '20137', 'Successful authentication for "%s" of type "application" from groups/roles "DEFAULT_GROUP", by "application:Application Accounts" using %s credentials as "%s". ' % (u, rnd.choice(['password', 'ssh-key']), u))
        elif s['step'] == 1:
            emit(s, '20182', 'Account "%s" logged in with permissions [[\'allow-full-control\']]. Files will be uploaded as: Same as the original file.' % u)
        elif s['step'] == 2:
            emit(s, '30011', 'SFTP access started at "/srv/sftp/%s/" as "/". Client "%s" using %s %s %s %s compression:none.' % (u, s['client'], hk, kex, mac, cip))
        elif s['step'] < 3 + s['ops']:
            f = rnd.choice(FILES)
            if '%d' in f:
                f = f % rnd.randint(1, 9999)
            k = rnd.random()
            if k < 0.35:
                mode = rnd.choice(['read', 'write'])
                emit(s, '30043', 'Successfully opened "/srv/sftp/%s/%s" in "%s" mode, requested as "/%s".' % (u, f, mode, f))
                n = rnd.randint(1000, 90000000)
                dur = rnd.uniform(0.1, 30)
                if mode == 'read':
                    emit(s, '30067', 'Close file "/srv/sftp/%s/%s" after successful read. Read %d bytes at %d bytes/second in %.3f seconds.' % (u, f, n, n / dur, dur))
                else:
                    emit(s, '30068', 'Close file "/srv/sftp/%s/%s" after successful write. Wrote %d bytes at %d bytes/second in %.3f seconds.' % (u, f, n, n / dur, dur))
            elif k < 0.5:
                emit(s, '30019', 'Listing folder "/".')
                emit(s, '30020', 'Successfully listed folder "/".')
            elif k < 0.62:
                emit(s, '30025', 'Renaming "/%s" to "/%s.done".' % (f, f))
                emit(s, '30026', 'Successfully rename "/%s" to "/%s.done".' % (f, f))
            elif k < 0.74:
                emit(s, '30022', 'Deleting "/%s".' % f)
                emit(s, '30023', 'Successfully deleted "/%s".' % f)
            elif k < 0.85:
                d = 'incoming-%d' % rnd.randint(1, 999)
                emit(s, '30028', 'Creating folder "/%s".' % d)
                emit(s, '30029', 'Successfully created folder "/%s".' % d)
            elif k < 0.93:
                emit(s, '30060', 'Canonical file name requested for ".".')
            else:
                emit(s, '30044', 'Failed to open "/srv/sftp/%s/missing.txt" in "read" mode, requested as "/missing.txt". [Errno 2] No such file or directory: \'/srv/sftp/%s/missing.txt\'' % (u, u))
        else:
            emit(s, '30015', 'SSH connection closed from "%s". Protected using host-key:%s key-exchange:%s in-hmac:%s in-cipher:%s out-hmac:%s out-cipher:%s in-compression:none out-compression:none' % (s['client'], hk, kex, mac, cip, mac, cip))
            open_sessions.remove(s)
            continue
        s['step'] += 1
    if csv:
        csv.close()


if __name__ == '__main__':
    main()
