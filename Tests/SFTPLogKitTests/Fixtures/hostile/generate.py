#!/usr/bin/env python3
"""Hostile-input corpus for sftplog (issue 8, "Bad input").

Deterministic (seeded): the same command writes byte-identical files.

    python3 generate.py small            # (re)writes the committed small cases next to this script
    python3 generate.py large --out DIR  # 50 MB single line, 10^6 empty lines (full size)
    python3 generate.py measure --out DIR [--binary PATH] [--gb]
        # writes the large cases and reports wall time and peak RSS (/usr/bin/time -f %M)
        # of `sftplog parse` on each; --gb also ingests a ~1 GB generated log
        # (Benchmarks/generate.py --lines 6000000 --seed 3) with the release binary.

The CI tests (Tests/SFTPLogKitTests/Input/HostileInputTests.swift) read the small
files and generate the large cases themselves (same shapes and sizes as here; `large`/`measure` write them full size for measuring).
"""
import argparse, os, random, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SAMPLES = os.path.join(REPO, 'samples')

TS = '2025-11-21T08:14:14.492+02:00'
EVENT = TS + ' 30014 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.'


def sample(rel):
    with open(os.path.join(SAMPLES, rel), 'rb') as f:
        return f.read()


def small_cases():
    """name -> bytes. Each case is described in HostileInputTests."""
    r = random.Random(8)
    c = {}
    c['random-bytes.bin'] = bytes(r.getrandbits(8) for _ in range(64 << 10))
    c['nul-bytes.log'] = b''.join([
        EVENT.replace('Unknown', 'Un\x00known').encode() + b'\n',          # NUL inside a field: parsed, kept
        TS.encode() + b' 30014 sftp-1 alice 10.0.4.28:37545 New SSH\x00 connection made.\n',
        b'\x00\x00\x00\n',                                                   # only NULs: unparsed
        b'\x00' + EVENT.encode() + b'\n',                                    # NUL before an event: unparsed
        EVENT.encode() + b'\n',
    ])
    c['invalid-utf8.log'] = b''.join([
        EVENT.replace('Unknown', 'bad\x80user').encode('latin-1') + b'\n',  # lone continuation byte in a parsed event
        TS.encode() + b' 30014 sftp-1 \xc0\xaf 10.0.4.28:37545 New SSH connection made.\n',  # overlong "/"
        b'\xe0\x80\xaf overlong three-byte slash\n',
        b'\xf0\x80\x80\xaf overlong four-byte slash\n',
        b'\xed\xa0\x80 UTF-16 surrogate encoded in UTF-8\n',
        b'\xf4\x90\x80\x80 above U+10FFFF\n',
        b'\xf8\x88\x80\x80\x80 five-byte form\n',
        b'\xfe\xff\xfe\xff never valid in UTF-8\n',
        b'half a sequence \xe2\x82 then text\n',
        EVENT.encode() + b'\n',
    ])
    head = sample('sftpplus/dev-ts-first-5.26.log').split(b'\n')[:6]
    text = b'\n'.join(head).decode('utf-8') + '\n'
    c['utf16le-bom.log'] = b'\xff\xfe' + text.encode('utf-16-le')
    c['utf16be-bom.log'] = b'\xfe\xff' + text.encode('utf-16-be')
    c['cr-only.log'] = b'\r'.join(head) + b'\r'
    # Cut mid-line: the last event stops inside its message; and inside a UTF-8 sequence.
    c['truncated-mid-line.log'] = b'\n'.join(head[:3]) + b'\n' + head[3][:70]
    ev = (TS + ' 30043 sftp-1 alice 10.0.4.28:37545 Successfully opened "/srv/sftp/alice/data_ünïcode.txt" in "write" mode.').encode()
    cut = ev.index('ü'.encode()) + 1
    c['truncated-mid-utf8.log'] = b'\n'.join(head[:2]) + b'\n' + ev[:cut]
    c['json-truncated.log'] = b''.join([
        b'{"id": "30014", "message": "New SSH connection made.", "timestamp": {"timestamp": 1763705654.49}}\n',
        b'{"id": "30014", "message": "New SSH connec\n',                     # cut: must not swallow what follows
        EVENT.encode() + b'\n',
        TS.encode() + b' 30015 sftp-1 Unknown 10.0.4.28:37545 SSH connection closed.\n',
        b'{"events": [{"id": "30014", "message": "x"}, {"id": "300\n',     # batch cut at end of input
    ])
    depth = 100_000
    c['json-deep.log'] = ('{"id":"30014","data":' + '{"a":' * depth + '1' + '}' * depth + '}\n' + EVENT + '\n').encode()
    c['json-deep-unclosed.log'] = ('[' * depth + '\n' + '{' * depth + '\n' + EVENT + '\n').encode()
    hdr = b'timestamp.cwa_14051,id,component.uuid,account.name,account.peer.address,account.peer.port,message\n'
    c['csv-unbalanced-quotes.log'] = hdr + b''.join([
        b'2025-05-19 08:49:31,30014,sftp-1,Unknown,10.0.4.16,40330,"New SSH connection made.\n',   # quote never closed
        b'2025-05-19 08:49:32,30014,sftp-1,Unknown,10.0.4.16,40331,New SSH connection made.\n',
        b'2025-05-19 08:49:33,30014,sftp-1,Unknown,10.0.4.16,40332,New "SSH" connection made.\n',  # quote mid-cell
        b'2025-05-19 08:49:34,30014,sftp-1,Unknown,10.0.4.16,70000,New SSH connection made.\n',    # port > 65535
        b'2025-05-19 08:49:35,30015,sftp-1,Unknown,10.0.4.16,40330,"SSH connection\n',            # closed at end of input? no
    ])
    c['csv-header-only.log'] = hdr
    L = ' 30014 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.'
    c['timestamps.log'] = '\n'.join([
        '2025-13-21T08:14:14.492+02:00' + L,         # 1 month 13
        '2025-11-21T25:14:14.492+02:00' + L,         # 2 hour 25
        '0000-11-21T08:14:14.492+02:00' + L,         # 3 year 0
        '99999-11-21T08:14:14.492+02:00' + L,        # 4 year 99999
        '2025-02-30T08:14:14+02:00' + L,             # 5 February 30
        '2025-11-21T08:14:14.492+99:00' + L,         # 6 offset +99:00
        '30014 2025-11-21 08:61:14 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.',  # 7 id-first, minute 61
        '9999-12-31T23:59:59.999+00:00' + L,         # 8 far future: parsed, noted
        '2025-11-21T08:14:14.492+02:00' + L,         # 9 back from 9999: parsed, noted
        '2025-11-21T07:14:14.492+02:00' + L,         # 10 an hour back: parsed, noted
        '2025-11-21T07:14:14.493+02:00' + L,         # 11 in order: no note
    ]).encode() + b'\n'
    c['peers.log'] = '\n'.join([
        TS + ' 30014 sftp-1 Unknown 10.0.4.28:65536 New SSH connection made.',
        TS + ' 30014 sftp-1 Unknown 10.0.4.28:9999999999 New SSH connection made.',
        TS + ' 30014 sftp-1 Unknown fe80::1%eth0:22 New SSH connection made.',
        TS + ' 30014 sftp-1 Unknown [fe80::1%eth0]:2222 New SSH connection made.',
        TS + ' 30014 sftp-1 Unknown 10.0.4.28:65535 New SSH connection made.',
    ]).encode() + b'\n'
    c['event-id-40-digits.log'] = '\n'.join([
        TS + ' 1234567890123456789012345678901234567890 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.',
        '1234567890123456789012345678901234567890 2025-11-21 08:14:14 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.',
        '{"id": "1234567890123456789012345678901234567890", "message": "New SSH connection made."}',
    ]).encode() + b'\n'
    # Attacker-chosen values holding the templates' own delimiters (catalog/events.json).
    pre = TS + ' '
    c['template-delimiters.log'] = '\n'.join([
        # 20137 v5: Successful authentication for "%(account_name)s" … credentials as "%(username)s". %(ignored_groups)s
        pre + '20137 sftp-1 alice 10.0.4.28:37545 Successful authentication for "al" of type "x" as "ice" of type "application" from groups/roles "DEFAULT_GROUP", by "application:Application Accounts" using ssh-key credentials as "al" of type "x" as "ice". ',
        # 30011 v3: … access started at "%(real_path)s" as "%(virtual_path)s". Client "%(client_version)s" using …
        pre + '30011 sftp-1 alice 10.0.4.28:37545 SFTP access started at "/srv/sftp/a" as "/b" to "c:/" as "/". Client "SSH-2.0-x" using ssh-rsa x using ssh-dss diffie-hellman-group-exchange-sha256 hmac-md5 aes256-cbc compression:none.',
        # 30011 v3 with a client version (attacker-chosen) that fakes strong algorithms.
        pre + '30011 sftp-1 alice 10.0.4.28:37545 SFTP access started at "/srv/sftp/alice/" as "/". Client "x" using ssh-ed25519 curve25519-sha256 hmac-sha2-256 aes256-gcm compression:none." using ssh-dss diffie-hellman-group1-sha1 hmac-md5 3des-cbc compression:none.',
        # 30043: Successfully opened "%(path)s" in "%(mode)s" mode.
        pre + '30043 sftp-1 alice 10.0.4.28:37545 Successfully opened "/srv/x" in "write" mode. y" in "read" mode.',
        # A username with `:` and spaces cannot be the account token: the line still parses.
        pre + '30014 sftp-1 evil:user 10.0.4.28:37545 New SSH connection made.',
    ]).encode() + b'\n'
    # Two OpenSSH transcripts: one cut inside the KEXINIT dump (mid-line), and two sessions interleaved.
    a = sample('openssh/sftp-vvv-default-ls-get.log').split(b'\n')
    k = next(i for i, l in enumerate(a) if l.startswith(b'debug2: ciphers stoc:'))
    c['openssh-cut-in-kexinit.log'] = b'\n'.join(a[:k]) + b'\n' + a[k][:30]
    b = sample('openssh/sftp-get-missing-batch-abort.log').split(b'\n')
    out = []
    for i in range(max(len(a), len(b))):
        if i < len(a) and a[i]: out.append(a[i])
        if i < len(b) and b[i]: out.append(b[i])
    c['openssh-interleaved.log'] = b'\n'.join(out) + b'\n'
    return c


def big_line(size=50 << 20, seed=50):
    """One line of `size` printable bytes (no terminator issues), then a newline."""
    r = random.Random(seed)
    alphabet = b'abcdefghijklmnopqrstuvwxyz0123456789 "-:.'
    block = bytes(r.choice(alphabet) for _ in range(1 << 16))
    reps = size // len(block)
    return block * reps + block[:size - reps * len(block)] + b'\n'


def empty_lines(n=1_000_000):
    return b'\n' * n


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def measure(binary, path, args=('parse',), extra=()):
    cmd = ['/usr/bin/time', '-f', '%e %M', binary, *args, *extra, path]
    env = dict(os.environ, SFTPLOG_CATALOG=os.path.join(REPO, 'catalog'))
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    secs, kb = p.stderr.decode().strip().split('\n')[-1].split()
    print('%-60s exit %d  %7.2f s  peak RSS %7.1f MB' % (' '.join([os.path.basename(binary), *args, os.path.basename(path)]),
                                                       p.returncode, float(secs), int(kb) / 1024), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['small', 'large', 'measure'])
    ap.add_argument('--out', default=None)
    ap.add_argument('--binary', default=os.path.join(REPO, '.build', 'debug', 'sftplog'))
    ap.add_argument('--release-binary', default=os.path.join(REPO, '.build', 'release', 'sftplog'))
    ap.add_argument('--gb', action='store_true', help='also ingest a ~1 GB generated log (slow)')
    a = ap.parse_args()
    if a.what == 'small':
        for name, data in small_cases().items():
            write(os.path.join(a.out or HERE, name), data)
        return
    out = a.out or tempfile.mkdtemp(prefix='sftplog-hostile-')
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, 'line-50mb.log'), big_line())
    write(os.path.join(out, 'empty-1e6.log'), empty_lines())
    print('wrote', out, flush=True)
    if a.what != 'measure':
        return
    for b in [a.binary, a.release_binary]:
        if os.path.exists(b):
            measure(b, os.path.join(out, 'line-50mb.log'))
            measure(b, os.path.join(out, 'empty-1e6.log'))
    if a.gb:
        big = os.path.join(out, 'big-1gb.log')
        if not os.path.exists(big):
            with open(big, 'wb') as f:
                subprocess.run([sys.executable, os.path.join(REPO, 'Benchmarks', 'generate.py'), '--lines', '6000000', '--seed', '3'],
                               stdout=f, check=True)
        print('1 GB input: %.2f GB' % (os.path.getsize(big) / 1e9), flush=True)
        db = os.path.join(out, 'big-1gb.db')
        for suffix in ['', '-wal', '-shm']:
            if os.path.exists(db + suffix): os.remove(db + suffix)
        measure(a.release_binary, big, args=('ingest', '--quiet', '--db', db))


if __name__ == '__main__':
    main()
