#!/usr/bin/env python3
"""Build catalog/openssh-messages.json from the OpenSSH client message reference.

Inputs:
  --reference  openssh-messages.jsonl          (every format the client code can print)
  --extra      catalog/openssh-extra-messages.json (hand-edited: lines seen in real
                                                transcripts that the extraction misses,
                                                and texts printed after ": ")
Output:
  --output     catalog/openssh-messages.json

One entry per distinct (printed format, level): `%FUNC` is replaced by the
function name first, so the same wording from several functions is one entry
while `%FUNC:` wordings stay per function. Each entry gets an area (from the C
file) and the sftplog record kind it maps to.

The output is deterministic: same inputs, same bytes.  Use --check to verify
that the existing output is up to date without writing it (exit 1 if not).

Standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ inside the bundled catalog folder
from catalog_io import CatalogError, locations, read_json, read_jsonl, sha256, write_or_check

CATALOG, SHARED = locations(__file__)


FORMAT = 1

LEVELS = ["debug1", "debug2", "debug3", "verbose", "info", "error", "fatal", "stderr", "reason"]
AREAS = ["kex", "hostkey", "auth", "channel", "sftp", "scp", "connect", "transport", "config", "agent", "other"]
# Mirrors RecordKind.opensshKinds (Sources/SFTPLogOpenSSH/OpenSSHRecordKinds.swift);
# a Swift test checks that every kind in the output is one of them.
KINDS = ["openssh.version", "openssh.compat", "openssh.connect", "openssh.kexinit", "openssh.negotiated",
         "openssh.strict_kex", "openssh.gex", "openssh.hostkey", "openssh.auth", "openssh.channel",
         "openssh.sftp", "openssh.transfer", "openssh.error", "openssh.debug", "openssh.output"]

AREA_BY_FILE = {
    "dh.c": "kex", "kex-names.c": "kex",
    "sshconnect2.c": "auth", "sshconnect1.c": "auth", "authfile.c": "auth", "gss-genr.c": "auth",
    "readpass.c": "auth",
    "sshconnect.c": "connect", "compat.c": "connect", "canohost.c": "connect",
    "hostfile.c": "hostkey", "dns.c": "hostkey",
    "channels.c": "channel", "clientloop.c": "channel", "nchan.c": "channel", "mux.c": "channel",
    "ttymodes.c": "channel", "sshtty.c": "channel",
    "scp.c": "scp",
    "packet.c": "transport", "opacket.c": "transport", "dispatch.c": "transport", "cipher.c": "transport",
    "cipher-3des1.c": "transport", "cipher-aes.c": "transport", "cipher-chachapoly.c": "transport",
    "cipher-ctr.c": "transport", "mac.c": "transport", "compress.c": "transport", "deattack.c": "transport",
    "ssh_api.c": "transport", "roaming_client.c": "transport", "roaming_common.c": "transport",
    "readconf.c": "config", "addrmatch.c": "config",
    "authfd.c": "agent", "misc-agent.c": "agent", "scard.c": "agent", "scard-opensc.c": "agent",
    "sk-usbhid.c": "agent",
}
AREA_BY_FILE_PREFIX = [("kex", "kex"), ("sftp", "sftp"), ("ssh-pkcs11", "agent"), ("ssh-sk", "agent")]

# Functions whose messages belong to another area than their file's.
AREA_BY_FUNCTION = {
    ("sshconnect2.c", "ssh_kex2"): "kex",
    ("sshconnect2.c", "order_hostkeyalgs"): "hostkey",
    ("sshconnect2.c", "verify_host_key_callback"): "hostkey",
    ("sshconnect.c", "warn_nonpq_kex"): "kex",
    ("sshconnect.c", "maybe_add_key_to_agent"): "agent",
    ("ssh.c", "resolve_host"): "connect", ("ssh.c", "resolve_addr"): "connect",
    ("ssh.c", "resolve_canonicalize"): "connect", ("ssh.c", "check_follow_cname"): "connect",
    ("ssh.c", "load_public_identity_files"): "auth", ("ssh.c", "check_load"): "auth",
    ("ssh.c", "check_agent_present"): "agent",
    ("ssh.c", "process_config_files"): "config", ("ssh.c", "default_client_percent_dollar_expand"): "config",
}
# sshconnect.c: the host key checks (the rest is connecting and the banner).
HOSTKEY_FUNCTIONS = {
    "check_host_key", "verify_host_key", "warn_changed_key", "show_other_keys", "show_key_from_file",
    "check_host_cert", "load_hostkeys_command", "get_hostfile_hostname_ipaddr", "hostkeys_find_by_key_hostfile",
    "hostkeys_find_by_key_cb", "confirm",
    # clientloop.c: UpdateHostKeys.
    "client_input_hostkeys", "update_known_hosts", "hostkeys_find", "hostkeys_check_old", "hostkey_change_preamble",
    "check_old_keys_othernames", "client_global_hostkeys_private_confirm", "client_global_hostkeys_prove_confirm",
}
CHANNEL_PREFIXES_SSH_C = ("ssh_session", "ssh_init_", "control_", "client_", "ssh_confirm", "ssh_tun",
                          "ssh_stdio", "ssh_subsystem", "forwarding_success", "fork_postauth", "ssh_control")
HOSTKEY_WORDS = ("host key", "known_hosts", "known hosts", "fingerprint", "authenticity of host")

# Composed by a wrapper that ends the connection: an error whatever the level.
FATAL_WRAPPERS = {"packet_disconnect", "ssh_packet_disconnect", "sshpkt_fatal", "SCREWUP"}
# Connection-ending wordings printed at info/verbose level.
ERROR_PREFIXES = ("Disconnecting", "Connection closed by ", "Connection reset by ", "Received disconnect from ",
                  "Disconnected from ", "Unable to negotiate", "Killed by signal ", "Connection timed out")


def ends_connection(text):
    if text.startswith(ERROR_PREFIXES):
        return True
    # "Connection to <host> closed by remote host." / "... timed out" (not "... closed.").
    return text.startswith("Connection to %") and ("closed by remote host" in text or "timed out" in text)


def version_key(version):
    return tuple(int(part) for part in version.split("."))


def entry_id(level, text):
    return hashlib.sha256(("%s\n%s" % (level, text)).encode("utf-8")).hexdigest()[:10]


def area_of(file, function, text):
    key = (file, function)
    if key in AREA_BY_FUNCTION:
        return AREA_BY_FUNCTION[key]
    if function in HOSTKEY_FUNCTIONS and file in ("sshconnect.c", "clientloop.c"):
        return "hostkey"
    if file == "sshconnect.c" and any(word in text.lower() for word in HOSTKEY_WORDS):
        return "hostkey"
    if file == "ssh.c":
        return "channel" if function.startswith(CHANNEL_PREFIXES_SSH_C) else "other"
    if file in AREA_BY_FILE:
        return AREA_BY_FILE[file]
    for prefix, area in AREA_BY_FILE_PREFIX:
        if file.startswith(prefix):
            return area
    return "other"


def kind_of(area, level, text, files, functions, via, stream):
    """The record kind a line of this wording is: the level and area decide,
    a few well-known wordings first (they match what the reader emits)."""
    if level in ("error", "fatal") or via & FATAL_WRAPPERS or ends_connection(text):
        if text.startswith("Permission denied") or "Permission denied (" in text:
            return "openssh.auth"
        if area in ("auth", "agent"):
            return "openssh.auth"
        if area == "hostkey":
            return "openssh.hostkey"
        if area == "sftp" and level == "error":
            return "openssh.sftp"
        return "openssh.error"
    if "strict KEX" in text or ("resetting" in text and "seqnr %u" in text):
        return "openssh.strict_kex"
    if text.startswith(("Transferred: ", "Bytes per second: ")) or "progressmeter.c" in files:
        return "openssh.transfer"
    if text.startswith(("Local version string", "Remote protocol version", "OpenSSH_")):
        return "openssh.version"
    if "compat.c" in files and ("match: " in text or text.startswith("no match")):
        return "openssh.compat"
    if area == "kex":
        if "kex_buf2prop" in functions or text.endswith("KEXINIT proposal"):
            return "openssh.kexinit"
        if text.startswith("kex: "):
            return "openssh.negotiated"
        if ("kexgexc.c" in files or "dh.c" in files or "GEX" in text or text.startswith("bits set")):
            return "openssh.gex"
        return "openssh.debug"
    if text.startswith(("Connecting to ", "Connected to ", "Connection to %")):
        return "openssh.connect"
    if text.startswith("Authenticated "):
        return "openssh.auth"
    if stream == "stdout" and area not in ("sftp", "scp"):
        return "openssh.output"
    return {
        "hostkey": "openssh.hostkey", "auth": "openssh.auth", "agent": "openssh.auth", "channel": "openssh.channel",
        "sftp": "openssh.sftp", "scp": "openssh.transfer", "connect": "openssh.connect",
    }.get(area, "openssh.debug")


def releases_of(records):
    versions = set()
    for record in records:
        versions.update(record["versions"])
    return sorted(versions, key=version_key)


def build_entries(records, releases):
    groups = {}
    for record in records:
        text = record["format"].replace("%FUNC", record["function"])
        groups.setdefault((text, record["level"]), []).append(record)

    entries = []
    for (text, level), members in groups.items():
        versions = set()
        for member in members:
            versions.update(member["versions"])
        ordered = sorted(versions, key=version_key)
        first, last = ordered[0], ordered[-1]
        span = releases[releases.index(first):releases.index(last) + 1]
        gaps = [v for v in span if v not in versions]
        # The area of the newest place the wording is printed from (ties: file name).
        newest = sorted(members, key=lambda m: (tuple(-p for p in version_key(m["last"])), m["file"], m["function"]))[0]
        area = area_of(newest["file"], newest["function"], text)
        files = set(m["file"] for m in members)
        functions = sorted(set(m["function"] for m in members))
        via = set()
        for member in members:
            via.update(member.get("via") or [])
        streams = sorted(set(m["stream"] for m in members if m.get("stream")))
        stream = ",".join(streams) or None
        entry = {
            "id": entry_id(level, text),
            "level": level,
            "format": text,
            "functions": functions,
            "first": first,
            "last": last,
            "area": area,
            "kind": kind_of(area, level, text, files, functions, via, stream),
        }
        if gaps:
            entry["gaps"] = gaps
        if stream:
            entry["stream"] = stream
        if all(m.get("fragment") for m in members):
            entry["fragment"] = True
        entries.append(entry)
    return entries


def apply_extra(path, entries, releases):
    """Adds the hand-edited entries. One whose wording and level the reference
    already has only widens it (`backports`: releases a distribution patched it into)."""
    if not os.path.exists(path):
        return 0, 0
    data = read_json(path)
    if not isinstance(data, list):
        raise CatalogError("%s: expected a JSON array" % path)
    by_key = dict(((e["format"], e["level"]), e) for e in entries)
    errors = []
    added = widened = 0
    for index, item in enumerate(data, 1):
        where = "%s entry %d" % (path, index)
        missing = [k for k in ("format", "level", "kind", "area", "evidence") if k not in item]
        if missing:
            errors.append("%s: missing keys %s" % (where, ", ".join(missing)))
            continue
        if item["level"] not in LEVELS:
            errors.append("%s: unknown level %r" % (where, item["level"]))
        if item["kind"] not in KINDS:
            errors.append("%s: unknown kind %r" % (where, item["kind"]))
        if item["area"] not in AREAS:
            errors.append("%s: unknown area %r" % (where, item["area"]))
        for key in ("first", "last"):
            if item.get(key) is not None and item[key] not in releases:
                errors.append("%s: %s %r is not a release of the reference" % (where, key, item[key]))
        for field in ("backports", "seen_in"):
            for version in item.get(field, []):
                if version not in releases:
                    errors.append("%s: %s %r is not a release of the reference" % (where, field, version))
        key = (item["format"], item["level"])
        if key in by_key:
            entry = by_key[key]
            if not item.get("backports"):
                errors.append("%s: %r at %s is already in the reference (only backports may be added)" % (
                    where, item["format"], item["level"]))
                continue
            if entry["kind"] != item["kind"] or entry["area"] != item["area"]:
                errors.append("%s: kind/area %s/%s differ from the reference entry's %s/%s" % (
                    where, item["kind"], item["area"], entry["kind"], entry["area"]))
            entry["backports"] = sorted(set(entry.get("backports", [])) | set(item["backports"]), key=version_key)
            entry["note"] = item["evidence"]
            widened += 1
            continue
        entry = {
            "id": entry_id(item["level"], item["format"]),
            "level": item["level"],
            "format": item["format"],
            "functions": sorted(item.get("functions", [])),
            "first": item.get("first"),
            "last": item.get("last"),
            "area": item["area"],
            "kind": item["kind"],
        }
        for field in ("backports", "seen_in"):
            if item.get(field):
                entry[field] = sorted(item[field], key=version_key)
        if item.get("stream"):
            entry["stream"] = item["stream"]
        entry["extra"] = True
        entry["note"] = item["evidence"]
        by_key[key] = entry
        entries.append(entry)
        added += 1
    if errors:
        raise CatalogError("invalid extra messages:\n  " + "\n  ".join(errors))
    return added, widened


FIELD_TYPES = ("int", "double", "list")
# A printf conversion as the table's formats use them (`%%` is a literal percent).
CONVERSION = re.compile(r"%(%|[-+ #0]*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|z|j|t|q|L)?[diouxXsScpfgeE])")


def apply_events(path, entries):
    """Gives the messages the reader extracts by data their event name and the
    names of their conversions' values (`openssh-events.json`): `name`, `name:int`,
    `name:double` or `name:list` per conversion, in order, null for one that is
    skipped; or the extractor (per area, in the reader) that reads the text after
    `after`, for values that naming alone cannot give. Optional: `with`, values the
    wording itself says (`{"direction": "send"}`), put after the event; and
    `function_first`, for a format that starts with its function's name, which the
    record then names before the event."""
    if not os.path.exists(path):
        return 0
    data = read_json(path)
    if not isinstance(data, list):
        raise CatalogError("%s: expected a JSON array" % path)
    by_key = dict(((e["format"], e["level"]), e) for e in entries)
    errors = []
    for index, item in enumerate(data, 1):
        where = "%s entry %d" % (path, index)
        keys = ("format", "level", "kind", "extractor", "after") if "extractor" in item else ("format", "level", "kind", "event", "fields")
        missing = [k for k in keys if k not in item]
        if missing:
            errors.append("%s: missing keys %s" % (where, ", ".join(missing)))
            continue
        entry = by_key.get((item["format"], item["level"]))
        if entry is None:
            errors.append("%s: %r at %s is no message of the table" % (where, item["format"], item["level"]))
            continue
        if item["kind"] not in KINDS:
            errors.append("%s: unknown kind %r" % (where, item["kind"]))
        unknown = sorted(set(item) - set(keys) - {"with", "function_first"})
        if unknown:
            errors.append("%s: unknown keys %s" % (where, ", ".join(unknown)))
        if item.get("function_first"):
            if not entry.get("functions") or not item["format"].startswith(entry["functions"][0] + ": "):
                errors.append("%s: function_first, but the format does not start with its function" % where)
            entry["function_first"] = True
        if "with" in item:
            if "extractor" in item or not isinstance(item["with"], dict) or len(item["with"]) != 1:
                errors.append("%s: with must be one name and value, for an entry read by fields" % where)
            else:
                entry["with"] = item["with"]
        if "extractor" in item:
            if not item["format"].startswith(item["after"].split("%")[0]) or "%" in item["after"]:
                errors.append("%s: after %r is not the start of the format" % (where, item["after"]))
            entry["kind"] = item["kind"]
            entry["extractor"] = item["extractor"]
            entry["after"] = item["after"]
            continue
        conversions = len([m for m in CONVERSION.finditer(item["format"]) if m.group(0) != "%%"])
        if len(item["fields"]) != conversions:
            errors.append("%s: %d field names for %d conversions" % (where, len(item["fields"]), conversions))
        for field in item["fields"]:
            if field is not None and ":" in field and field.split(":", 1)[1] not in FIELD_TYPES:
                errors.append("%s: unknown field type in %r" % (where, field))
        entry["kind"] = item["kind"]
        entry["event"] = item["event"]
        entry["fields"] = item["fields"]
    if errors:
        raise CatalogError("invalid events:\n  " + "\n  ".join(errors))
    return len(data)


def build(args):
    records = read_jsonl(args.reference)
    errors = []
    for number, record in enumerate(records, 1):
        if record.get("level") not in LEVELS[:-1]:
            errors.append("record %d: unknown level %r" % (number, record.get("level")))
    if errors:
        raise CatalogError("%s:\n  %s" % (args.reference, "\n  ".join(errors)))
    releases = releases_of(records)
    entries = build_entries(records, releases)
    added, widened = apply_extra(args.extra, entries, releases)
    apply_events(args.events, entries)

    level_order = dict((level, k) for k, level in enumerate(LEVELS))
    entries.sort(key=lambda e: (e["format"], level_order[e["level"]]))
    seen = {}
    for entry in entries:
        if entry["id"] in seen:
            raise CatalogError("id %s of %r (%s) collides with %r" % (
                entry["id"], entry["format"], entry["level"], seen[entry["id"]]))
        seen[entry["id"]] = entry["format"]

    generated_from = "%s sha256:%s; %s sha256:%s; %s sha256:%s" % (
        os.path.basename(args.reference), sha256(args.reference),
        os.path.basename(args.extra), sha256(args.extra) if os.path.exists(args.extra) else "-",
        os.path.basename(args.events), sha256(args.events) if os.path.exists(args.events) else "-")
    dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = (
        '{"format":%d,"generated_from":%s,"releases":%s,"entries":[\n' % (
            FORMAT, dump(generated_from), dump(releases))
        + ",\n".join(dump(entry) for entry in entries)
        + "\n]}\n"
    )
    json.loads(text)  # self-check: valid JSON

    by_level = {}
    by_kind = {}
    for entry in entries:
        by_level[entry["level"]] = by_level.get(entry["level"], 0) + 1
        by_kind[entry["kind"]] = by_kind.get(entry["kind"], 0) + 1
    summary = {
        "records": len(records), "entries": len(entries), "added": added, "widened": widened,
        "releases": "%s-%s (%d)" % (releases[0], releases[-1], len(releases)),
        "by_level": " ".join("%s %d" % (l, by_level[l]) for l in LEVELS if l in by_level),
        "by_kind": " ".join("%s %d" % (k[len("openssh."):], by_kind[k]) for k in KINDS if k in by_kind),
    }
    return text, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=os.path.join(SHARED, "openssh-messages.jsonl"))
    parser.add_argument("--extra", default=os.path.join(CATALOG, "openssh-extra-messages.json"))
    parser.add_argument("--events", default=os.path.join(CATALOG, "openssh-events.json"))
    parser.add_argument("--output", default=os.path.join(CATALOG, "openssh-messages.json"))
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output is out of date")
    args = parser.parse_args(argv)

    try:
        text, summary = build(args)
    except (CatalogError, OSError) as error:
        sys.stderr.write("build-openssh-table: ERROR: %s\n" % error)
        return 2

    action = write_or_check(args.output, text, args.check, "build-openssh-table", sys.stderr)
    if action is None:
        return 1

    print("%s %s" % (os.path.relpath(args.output), action))
    print("reference records: %(records)d  entries: %(entries)d (extra: %(added)d added, "
          "%(widened)d widened)  releases: %(releases)s" % summary)
    print("by level: %(by_level)s" % summary)
    print("by kind: %(by_kind)s" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
