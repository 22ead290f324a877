#!/usr/bin/env python3
"""Appends the catalogue's data files to a binary (`make dist`), so that one
file carries both. The layout is what Sources/SFTPLogCatalog/CatalogFiles.swift
reads: entries (name length u32 LE, name, data length u64 LE, data), then the
entries' length (u64 LE) and the magic b"SFTPLOGC".

usage: embed-catalog.py BINARY CATALOG_DIR OUTPUT
"""
import os
import struct
import sys


def payload(catalog):
    out = bytearray()
    for dirpath, dirnames, filenames in os.walk(catalog):
        dirnames[:] = sorted(d for d in dirnames if d != "tools")
        for name in sorted(filenames):
            if not name.endswith(".json"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, catalog).encode()
            with open(path, "rb") as f:
                data = f.read()
            out += struct.pack("<I", len(rel)) + rel + struct.pack("<Q", len(data)) + data
    return bytes(out)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, catalog, output = sys.argv[1:]
    body = payload(catalog)
    tmp = output + ".tmp"
    with open(binary, "rb") as src, open(tmp, "wb") as dst:
        dst.write(src.read())
        dst.write(body + struct.pack("<Q", len(body)) + b"SFTPLOGC")
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    print(f"{output}: {os.path.getsize(output)} bytes, catalogue {len(body)} bytes embedded", file=sys.stderr)


if __name__ == "__main__":
    main()
