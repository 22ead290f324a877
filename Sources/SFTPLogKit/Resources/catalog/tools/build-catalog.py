#!/usr/bin/env python3
"""Build catalog/events.json from the SFTPPlus event reference tables.

Inputs:
  --reference    sftpplus-events.jsonl        (one object per event ID)
  --groups       sftpplus-event-groups.jsonl  (one object per group)
  --descriptions catalog/descriptions.json    (our own short descriptions)
  --inferred     catalog/inferred-variants.json (wordings seen in real logs
                                               but not in the reference)
Output:
  --output       catalog/events.json

The output is deterministic: same inputs, same bytes.  Use --check to verify
that the existing output is up to date without writing it (exit 1 if not).

Standard library only.
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ inside the bundled catalog folder
from catalog_io import CatalogError, locations, read_json, read_jsonl, sha256, write_or_check

CATALOG, SHARED = locations(__file__)


FIELD_RE = re.compile(r"%\(([^)]*)\)s")
DESC_KEY_RE = re.compile(r"^([0-9]+)(?:#([1-9][0-9]*))?$")
MAX_DESCRIPTION = 200
FORMAT = 1


def template_fields(template):
    """Field names in order of first use (a name used twice is listed once)."""
    seen = []
    for name in FIELD_RE.findall(template):
        if name not in seen:
            seen.append(name)
    return seen


def load_inferred(path, events_by_id):
    """Return {id: [inferred variant, ...]} in file order, validated."""
    if not os.path.exists(path):
        return {}
    data = read_json(path)
    if not isinstance(data, list):
        raise CatalogError("%s: expected a JSON array" % path)
    required = ("id", "template", "fields", "groups", "from_version",
                "to_version", "seen_in", "evidence")
    result = {}
    errors = []
    for index, item in enumerate(data, 1):
        where = "%s entry %d" % (path, index)
        missing = [key for key in required if key not in item]
        if missing:
            errors.append("%s: missing keys %s" % (where, ", ".join(missing)))
            continue
        event_id = item["id"]
        if event_id not in events_by_id:
            errors.append("%s: unknown event ID %r" % (where, event_id))
            continue
        if template_fields(item["template"]) != item["fields"]:
            errors.append("%s (%s): fields %r do not match the template %r" % (
                where, event_id, item["fields"], template_fields(item["template"])))
        documented = [v["template"] for v in events_by_id[event_id]["variants"]]
        already = [v["template"] for v in result.get(event_id, [])]
        if item["template"] in documented or item["template"] in already:
            errors.append("%s (%s): template is already listed for this ID" % (
                where, event_id))
        result.setdefault(event_id, []).append(item)
    if errors:
        raise CatalogError("invalid inferred variants:\n  " + "\n  ".join(errors))
    return result


def load_descriptions(path, events_by_id, inferred):
    """Return ({id: text}, {(id, n): text}), failing on unknown IDs/variants."""
    if not os.path.exists(path):
        return {}, {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise CatalogError("%s: expected a JSON object" % path)
    plain = {}
    per_variant = {}
    errors = []
    for key in sorted(data):
        text = data[key]
        match = DESC_KEY_RE.match(key)
        if not match:
            errors.append("bad key %r (use \"<id>\" or \"<id>#<n>\")" % key)
            continue
        event_id, number = match.group(1), match.group(2)
        if event_id not in events_by_id:
            errors.append("%r: event ID %s does not exist" % (key, event_id))
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append("%r: description must be a non-empty string" % key)
            continue
        if text != text.strip():
            errors.append("%r: description has leading/trailing blanks" % key)
            continue
        if number is None:
            plain[event_id] = text
            continue
        count = (len(events_by_id[event_id]["variants"])
                 + len(inferred.get(event_id, [])))
        if int(number) > count:
            errors.append("%r: event %s has only %d variant(s)" % (
                key, event_id, count))
            continue
        per_variant[(event_id, int(number))] = text
    if errors:
        raise CatalogError("invalid descriptions in %s:\n  %s" % (
            path, "\n  ".join(errors)))
    return plain, per_variant


def build(args):
    events = read_jsonl(args.reference)
    groups = read_jsonl(args.groups)
    events.sort(key=lambda event: int(event["id"]))
    events_by_id = {}
    for event in events:
        if event["id"] in events_by_id:
            raise CatalogError("duplicate event ID %s in %s" % (
                event["id"], args.reference))
        events_by_id[event["id"]] = event

    inferred = load_inferred(args.inferred, events_by_id)
    plain, per_variant = load_descriptions(
        args.descriptions, events_by_id, inferred)

    warnings = []
    out_events = []
    documented_count = inferred_count = 0
    for event in events:
        event_id = event["id"]
        variants = []
        for number, variant in enumerate(event["variants"], 1):
            fields = template_fields(variant["template"])
            if fields != variant["fields"]:
                warnings.append("%s#%d: reference fields %r differ from template %r" % (
                    event_id, number, variant["fields"], fields))
            variants.append({
                "variant": number,
                "template": variant["template"],
                "fields": variant["fields"],
                "groups": variant["groups"],
                "from_version": variant["from_version"],
                "to_version": variant["to_version"],
                "data_keys": variant["data_keys"],
                "documented_in": variant["documented_in"],
                "description": per_variant.get((event_id, number)),
                "inferred": False,
                "seen_in": [],
                "evidence": None,
            })
            documented_count += 1
        for item in inferred.get(event_id, []):
            number = len(variants) + 1
            variants.append({
                "variant": number,
                "template": item["template"],
                "fields": item["fields"],
                "groups": item["groups"],
                "from_version": item["from_version"],
                "to_version": item["to_version"],
                "data_keys": None,
                "documented_in": [],
                "description": per_variant.get((event_id, number)),
                "inferred": True,
                "seen_in": item["seen_in"],
                "evidence": item["evidence"],
            })
            inferred_count += 1

        # A plain description next to per-variant ones for every variant
        # would never be used; an ID reused across versions without
        # per-variant descriptions gets a misleading shared one.
        if event_id in plain and all(v["description"] for v in variants):
            warnings.append("%s: plain description is shadowed by per-variant ones"
                            % event_id)
        starts = set(v["from_version"] for v in event["variants"])
        if (len(starts) > 1 and event_id in plain
                and not any(v["description"] for v in variants)):
            warnings.append("%s: reused ID (several from_version values) has "
                            "only a plain description shared by unrelated "
                            "variants" % event_id)
        out_events.append({
            "id": event_id,
            "area": event["area"],
            "description": plain.get(event_id),
            "variants": variants,
        })

    out_groups = []
    for group in sorted(groups, key=lambda item: item["group"]):
        out_groups.append({
            "group": group["group"],
            "documented_in": group["documented_in"],
            "used_in_events": group["used_in_events"],
        })

    for text_key, text in sorted(
            list((k, v) for k, v in plain.items())
            + list(("%s#%d" % k, v) for k, v in per_variant.items())):
        if len(text) > MAX_DESCRIPTION:
            warnings.append("%s: description is %d characters (over %d)" % (
                text_key, len(text), MAX_DESCRIPTION))

    generated_from = "%s sha256:%s; %s sha256:%s" % (
        os.path.basename(args.reference), sha256(args.reference),
        os.path.basename(args.groups), sha256(args.groups))
    dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = (
        '{"format":%d,"generated_from":%s,"events":[\n' % (FORMAT, dump(generated_from))
        + ",\n".join(dump(event) for event in out_events)
        + '\n],"groups":[\n'
        + ",\n".join(dump(group) for group in out_groups)
        + "\n]}\n"
    )
    # Self-check: the output must be valid JSON.
    json.loads(text)

    described = set(plain) | set(event_id for event_id, _ in per_variant)
    core = [e["id"] for e in events if e["id"][:2] in ("20", "30", "60")]
    core_missing = [i for i in core if i not in described]
    summary = {
        "ids": len(out_events),
        "documented_variants": documented_count,
        "inferred_variants": inferred_count,
        "variants": documented_count + inferred_count,
        "groups": len(out_groups),
        "described_ids": len(described),
        "plain_descriptions": len(plain),
        "variant_descriptions": len(per_variant),
        "core_ids_20_30_60": len(core),
        "core_ids_described": len(core) - len(core_missing),
    }
    return text, summary, warnings, core_missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference",
                        default=os.path.join(SHARED, "sftpplus-events.jsonl"))
    parser.add_argument("--groups",
                        default=os.path.join(SHARED, "sftpplus-event-groups.jsonl"))
    parser.add_argument("--descriptions",
                        default=os.path.join(CATALOG, "descriptions.json"))
    parser.add_argument("--inferred",
                        default=os.path.join(CATALOG, "inferred-variants.json"))
    parser.add_argument("--output", default=os.path.join(CATALOG, "events.json"))
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output is out of date")
    args = parser.parse_args(argv)

    try:
        text, summary, warnings, core_missing = build(args)
    except (CatalogError, OSError) as error:
        sys.stderr.write("build-catalog: ERROR: %s\n" % error)
        return 2

    for warning in warnings:
        sys.stderr.write("build-catalog: warning: %s\n" % warning)
    if core_missing:
        sys.stderr.write("build-catalog: warning: %d operation/SSH/transfer IDs "
                         "without description: %s\n" % (
                             len(core_missing), " ".join(core_missing)))

    action = write_or_check(args.output, text, args.check, "build-catalog", sys.stderr)
    if action is None:
        return 1

    print("%s %s" % (os.path.relpath(args.output), action))
    print("IDs: %(ids)d  variants: %(variants)d (documented %(documented_variants)d"
          ", inferred %(inferred_variants)d)  groups: %(groups)d" % summary)
    print("described IDs: %(described_ids)d (plain %(plain_descriptions)d, "
          "per-variant %(variant_descriptions)d); 20xxx/30xxx/60xxx described: "
          "%(core_ids_described)d/%(core_ids_20_30_60)d" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
