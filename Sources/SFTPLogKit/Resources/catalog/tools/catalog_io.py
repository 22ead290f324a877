"""Reading the reference tables and writing (or checking) generated catalogue
files, shared by the catalogue build scripts. Standard library only."""

import hashlib
import json
import os


def locations(script):
    """The catalog folder and the reference tables' folder (beside the
    repository on developer machines), from the path the script was run by:
    through the `catalog` link, not the resolved folder this module is in."""
    catalog = os.path.dirname(os.path.dirname(os.path.abspath(script)))
    repo = os.path.dirname(catalog)
    return catalog, os.path.join(os.path.dirname(repo), "shared", "reference")


class CatalogError(Exception):
    pass


def read_jsonl(path):
    items = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            line = line.strip()
            if not line:
                continue
            try:
                items.append(json.loads(line))
            except ValueError as error:
                raise CatalogError("%s:%d: invalid JSON: %s" % (path, number, error))
    return items


def read_json(path):
    with open(path, encoding="utf-8") as stream:
        try:
            return json.load(stream)
        except ValueError as error:
            raise CatalogError("%s: invalid JSON: %s" % (path, error))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        digest.update(stream.read())
    return digest.hexdigest()


def write_or_check(path, text, check, tool, log):
    """Writes `text` to `path`, or with `check` compares it with what is there.
    Returns the action done ("written", "up to date") or None when stale."""
    if check:
        try:
            with open(path, encoding="utf-8") as stream:
                current = stream.read()
        except OSError:
            current = None
        if current != text:
            log.write("%s: %s is out of date\n" % (tool, path))
            return None
        return "up to date"
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    return "written"
