#!/usr/bin/env python3
"""Builds the seed corpus of each fuzz target from samples/ (Fuzz/corpus/<target>/).

Seeds are whole lines cut into chunks of at most CHUNK bytes, a few chunks per
sample file, so the committed corpus stays small. Deterministic: re-running
rewrites the same files."""
import os, sys, glob

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "corpus")
CHUNK = 3500
PER_FILE = 3


def s(rel):
    return sorted(glob.glob(os.path.join(ROOT, "samples", rel)))


def chunks(path, limit=PER_FILE, size=CHUNK, keep_first_line=False):
    data = open(path, "rb").read()
    lines = data.splitlines(keepends=True)
    head = lines[0] if keep_first_line and lines else b""
    body = lines[1:] if keep_first_line else lines
    out, cur = [], head
    for l in body:
        if len(cur) + len(l) > size and len(cur) > len(head):
            out.append(cur)
            cur = head
            if len(out) == limit:
                return out
        cur += l[:size]
    if len(cur) > len(head) or not out:
        out.append(cur)
    return out[:limit]


def write(target, name, blobs):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for k, b in enumerate(blobs):
        with open(os.path.join(d, f"{name}-{k}"), "wb") as f:
            f.write(b)


def base(p):
    return os.path.basename(p).rsplit(".", 1)[0]


text = [p for p in s("sftpplus/*.log") + s("sftpplus/layouts/*.log") if "csv" not in p and "entry-format" not in p]
for p in text:
    write("FuzzSFTPPlusText", base(p), chunks(p))
# Documentation-shaped excerpts: indented line blocks, quoted mail, HTTP requests with JSON as published.
for p in s("pastes/sftpplus/*.txt"):
    write("FuzzSFTPPlusText", "paste-" + base(p), chunks(p, limit=2))

for p in s("sftpplus/layouts/json-lines-*.log"):
    write("FuzzJSONEvents", base(p), [l.rstrip(b"\n") for l in open(p, "rb").read().splitlines()[:12]])
for p in s("sftpplus/layouts/json-batch-*.log"):
    write("FuzzJSONEvents", base(p), [l.rstrip(b"\n") for l in open(p, "rb").read().splitlines()[:3]])

for p in s("sftpplus/*csv*.log"):
    write("FuzzCSVEvents", base(p), chunks(p, keep_first_line=True))

for p in s("openssh/*.log"):
    write("FuzzOpenSSH", base(p), chunks(p))
# Pastes: prompts, several runs, wraps, markup, CRLF and CR CR LF, other programs' text.
for p in s("pastes/openssh/*.log"):
    write("FuzzOpenSSH", "paste-" + base(p), chunks(p, limit=2))

# RecordStream: first byte = number of reads (low 6 bits + 1), then the bytes.
for k, p in enumerate(s("sftpplus/*.log") + s("sftpplus/layouts/*.log") + s("openssh/*.log")):
    write("FuzzRecordStream", base(p), [bytes([k % 64]) + c for c in chunks(p, limit=1, size=7000)])

# EntryFormat: `format NUL log`, or byte >= 0x80 choosing a built-in format (0x82 -> the sample's).
fmt = b"{timestamp.cwa_14051} | {id} | {account.name} | {account.peer.address}:{account.peer.port} | {message}"
for p in s("sftpplus/layouts/entry-format-*.log"):
    cs = chunks(p)
    write("FuzzEntryFormat", base(p) + "-custom", [fmt + b"\0" + c for c in cs])
    write("FuzzEntryFormat", base(p) + "-builtin", [b"\x82" + c for c in cs[:1]])
write("FuzzEntryFormat", "tsv", [b"{id}{tab}{timestamp.timestamp}{tab}{server.name}{tab}{message}{lf}\0"
                                 b"30014\t1763705654.492\tmft01\tNew SSH connection made.\n"])

# Syslog frames: byte 0 = mode (odd UDP datagrams, even a TCP stream; bits 2+ the read size), byte 1 = size limit / 16 - 1.
sys_lines = open(os.path.join(ROOT, "samples", "sftpplus", "layouts", "syslog-5.26.log"), "rb").read().splitlines()[:8]
rfc5424 = [b"<30>1 2026-03-02T10:00:0%d.5Z mft01 sftpplus 2211 - [m x=\"a\\]b\"] " % k + l.split(b": ", 1)[1] for k, l in enumerate(sys_lines)]
counted = b"".join(b"%d %s" % (len(m), m) for m in rfc5424[:4])
write("FuzzSyslogFrames", "tcp-lines", [bytes([0x20, 0x20]) + b"\n".join(sys_lines) + b"\n"])
write("FuzzSyslogFrames", "tcp-counted", [bytes([0x08, 0x40]) + counted + b"\n".join(rfc5424[4:]) + b"\n"])
write("FuzzSyslogFrames", "udp", [bytes([0x01 | (min(len(m), 250) << 2 & 0xFC), 0x40]) + m for m in rfc5424[:2]])

for t in sorted(os.listdir(OUT)):
    files = os.listdir(os.path.join(OUT, t))
    print(f"{t}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)} bytes")
