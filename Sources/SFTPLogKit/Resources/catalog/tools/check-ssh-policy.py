#!/usr/bin/env python3
"""Check catalog/ssh-policy.json and catalog/policies/*.json.

Checks the shape of the policy data, that every algorithm name of the
reference table is rated, and that the default policy reproduces the
`expected_weak` lists of the sample truth files (OpenSSH transcripts and
SFTPPlus sessions). Standard library only.

    python3 catalog/tools/check-ssh-policy.py [--samples ../shared/samples]

Exit status 0 when every check passes, 1 otherwise.
"""
import argparse, glob, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.dirname(HERE)
RATINGS = {"fail": 2, "warn": 1, "ok": 0}
CATEGORIES = ("kex", "hostkey", "cipher", "mac", "compression")

# Every algorithm name listed in shared/reference/ssh-algorithm-policy.md
# (sections 1-5). GSS names carry a mechanism suffix; a sample suffix is used.
GSS = "-toWM5Slw5Ew8Mqkay+al2g=="
REFERENCE_NAMES = {
    "kex": ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group14-sha256",
            "diffie-hellman-group15-sha512", "diffie-hellman-group16-sha512", "diffie-hellman-group17-sha512",
            "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha1", "diffie-hellman-group-exchange-sha256",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "curve25519-sha256",
            "curve25519-sha256@libssh.org", "curve448-sha512", "curve448-sha512@libssh.org",
            "sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512", "mlkem768x25519-sha256",
            "mlkem768nistp256-sha256", "mlkem1024nistp384-sha384", "sntrup4591761x25519-sha512@tinyssh.org",
            "rsa1024-sha1", "rsa2048-sha256"]
           + [g + GSS for g in ("gss-group1-sha1", "gss-group14-sha1", "gss-group14-sha256", "gss-group15-sha512",
                                "gss-group16-sha512", "gss-group17-sha512", "gss-group18-sha512", "gss-gex-sha1",
                                "gss-gex-sha256", "gss-nistp256-sha256", "gss-nistp384-sha384", "gss-nistp521-sha512",
                                "gss-curve25519-sha256", "gss-curve448-sha512")],
    "hostkey": ["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "ssh-ed25519", "ssh-ed448", "ssh-ed25519-cert-v01@openssh.com",
                "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com",
                "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
                "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com", "ssh-rsa-cert-v00@openssh.com",
                "ssh-dss-cert-v00@openssh.com", "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
                "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
                "webauthn-sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com", "ssh-xmss-cert-v01@openssh.com",
                "x509v3-sign-rsa", "x509v3-ssh-rsa", "x509v3-sign-dss", "x509v3-ssh-dss"],
    "cipher": ["none", "arcfour", "arcfour128", "arcfour256", "3des-cbc", "blowfish-cbc", "cast128-cbc", "aes128-cbc",
               "aes192-cbc", "aes256-cbc", "rijndael-cbc@lysator.liu.se", "aes128-ctr", "aes192-ctr", "aes256-ctr",
               "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM",
               "chacha20-poly1305@openssh.com", "des-cbc", "des"],
    "mac": ["hmac-md5", "hmac-md5-96", "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com", "hmac-sha1",
            "hmac-sha1-96", "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com", "hmac-ripemd160",
            "hmac-ripemd160@openssh.com", "hmac-ripemd160-etm@openssh.com", "umac-64@openssh.com",
            "umac-64-etm@openssh.com", "umac-128@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256",
            "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-96",
            "hmac-sha2-512-96", "none"],
    "compression": ["none", "zlib", "zlib@openssh.com"],
}
MARKERS = ["ext-info-c", "ext-info-s", "kex-strict-c-v00@openssh.com", "kex-strict-s-v00@openssh.com"]
STRONG = {"kex": ["curve25519-sha256", "curve25519-sha256@libssh.org", "sntrup761x25519-sha512",
                  "sntrup761x25519-sha512@openssh.com", "mlkem768x25519-sha256", "diffie-hellman-group-exchange-sha256",
                  "ecdh-sha2-nistp256", "diffie-hellman-group16-sha512"],
          "hostkey": ["ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512", "ecdsa-sha2-nistp256"],
          "cipher": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
                     "aes128-ctr", "aes192-ctr", "aes256-ctr"],
          "mac": ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512"],
          "compression": ["none", "zlib@openssh.com"]}
# Section numbers we could not confirm against the primary documents.
UNVERIFIED_SECTIONS = re.compile(r"RFC 9142 ?§|800-131A[^;]*§|800-131A[^;]*[Ss]ection")


def merge(base, over):
    """Override semantics (see catalog/POLICY.md)."""
    out = json.loads(json.dumps(base))
    for k in ("name", "description"):
        if k in over:
            out[k] = over[k]
    for cat, entries in over.get("algorithms", {}).items():
        out["algorithms"].setdefault(cat, {}).update(entries)
    key = lambda p: (p["category"], "prefix" if "prefix" in p else "suffix", p.get("prefix", p.get("suffix")))
    pats = {key(p): p for p in out.get("patterns", [])}
    for p in over.get("patterns", []):
        pats[key(p)] = p
    out["patterns"] = list(pats.values())
    for rk, rv in over.get("rules", {}).items():
        out["rules"].setdefault(rk, {}).update(rv)
    return out


def rate(policy, cat, name):
    ent = policy["algorithms"].get(cat, {}).get(name)
    if ent is not None:
        return ent
    best, blen = None, -1
    for p in policy.get("patterns", []):
        if p["category"] != cat:
            continue
        if "prefix" in p and name.startswith(p["prefix"]) and len(p["prefix"]) > blen:
            best, blen = p, len(p["prefix"])
        elif "suffix" in p and name.endswith(p["suffix"]) and len(p["suffix"]) > blen:
            best, blen = p, len(p["suffix"])
    return best


def weak_names(policy, neg):
    names = [("kex", neg["kex"]), ("hostkey", neg["hostkey"])]
    for d in ("c2s", "s2c"):
        names += [("cipher", neg.get("cipher_" + d)), ("mac", neg.get("mac_" + d)),
                  ("compression", neg.get("compression_" + d))]
    weak, unknown = set(), set()
    for cat, n in names:
        if n is None or n == policy.get("implicit_mac_token"):
            continue
        ent = rate(policy, cat, n)
        if ent is None:
            unknown.add(f"{cat}:{n}")
        elif ent["rating"] in ("warn", "fail"):
            weak.add(n)
    return weak, unknown


def terrapin(policy, neg, strict):
    t = policy["rules"]["terrapin"]
    def cbc(c):
        return c in t["cbc_names"] or any(c.endswith(s) for s in t["cbc_suffixes"])
    def affected(d):
        c, m = neg.get("cipher_" + d) or "", neg.get("mac_" + d) or ""
        return c in t["chacha20"] or (cbc(c) and m.endswith(t["etm_suffix"]))
    return (not strict) and (affected("c2s") or affected("s2c"))


def check_shape(policy, errors, label, full):
    for k in ("format", "name", "description"):
        if k not in policy:
            errors.append(f"{label}: missing {k}")
    notes = policy.get("rules", {}).get("notes", {})
    def entry(where, ent):
        if ent.get("rating") not in RATINGS:
            errors.append(f"{where}: bad rating {ent.get('rating')!r}")
        if not ent.get("reason") or len(ent["reason"]) >= 140:
            errors.append(f"{where}: reason missing or >= 140 chars")
        if not ent.get("reference"):
            errors.append(f"{where}: reference missing")
        elif UNVERIFIED_SECTIONS.search(ent["reference"]):
            errors.append(f"{where}: unverified section number in {ent['reference']!r}")
        for n in ent.get("notes", []):
            if full and n not in notes:
                errors.append(f"{where}: unknown note {n!r}")
    for cat, entries in policy.get("algorithms", {}).items():
        if cat not in CATEGORIES:
            errors.append(f"{label}: unknown category {cat}")
        for name, ent in entries.items():
            entry(f"{label}:{cat}:{name}", ent)
            if name in MARKERS:
                errors.append(f"{label}: marker {name} must not be rated")
    for p in policy.get("patterns", []):
        if ("prefix" in p) == ("suffix" in p):
            errors.append(f"{label}: pattern needs exactly one of prefix/suffix: {p}")
        entry(f"{label}:pattern:{p.get('prefix', p.get('suffix'))}", p)
    for nk, nv in notes.items():
        if nv.get("rating") != "info" or len(nv.get("reason", "")) >= 140:
            errors.append(f"{label}: note {nk} must be info with a short reason")


def main():
    ap = argparse.ArgumentParser()
    # catalog/ may be a symlink: resolve ".." lexically from the repository root
    ap.add_argument("--samples", default=os.path.normpath(os.path.join(CATALOG, "..", "..", "shared", "samples")))
    args = ap.parse_args()
    errors, report = [], []
    base = json.load(open(os.path.join(CATALOG, "ssh-policy.json")))
    check_shape(base, errors, "default", True)
    if sorted(base.get("markers", [])) != sorted(MARKERS):
        errors.append("default: markers list differs")

    # coverage of the reference table
    for cat, names in REFERENCE_NAMES.items():
        for n in names:
            if rate(base, cat, n) is None:
                errors.append(f"default: reference name not rated: {cat}:{n}")
    for cat, names in STRONG.items():
        for n in names:
            ent = rate(base, cat, n)
            if ent is None or ent["rating"] != "ok":
                errors.append(f"default: strong default not ok: {cat}:{n}")

    # OpenSSH truth files
    n_ok = 0
    for f in sorted(glob.glob(os.path.join(args.samples, "openssh", "*.truth.json"))):
        t = json.load(open(f))
        neg, exp = t.get("negotiated"), set(t.get("expected_weak") or [])
        got, unknown = (weak_names(base, neg) if neg else (set(), set()))
        case = os.path.basename(f)
        if unknown:
            errors.append(f"{case}: unrated names {sorted(unknown)}")
        if got != exp:
            errors.append(f"{case}: weak {sorted(got)} != expected {sorted(exp)}")
        elif neg and t.get("strict_kex") is not None and terrapin(base, neg, t["strict_kex"]) != t.get("terrapin_vulnerable"):
            errors.append(f"{case}: terrapin rule disagrees with truth")
        else:
            n_ok += 1
        report.append(f"openssh {case}: expected={sorted(exp)} got={sorted(got)}")
    # SFTPPlus truth files
    s_ok = s_all = 0
    for f in sorted(glob.glob(os.path.join(args.samples, "sftpplus", "*.truth.json"))):
        t = json.load(open(f))
        for s in t.get("sessions", []):
            s_all += 1
            neg, exp = s.get("negotiated"), set(s.get("expected_weak") or [])
            got, unknown = (weak_names(base, neg) if neg else (set(), set()))
            tag = f"{os.path.basename(f)}:{s.get('peer', s.get('start'))}"
            if unknown:
                errors.append(f"{tag}: unrated names {sorted(unknown)}")
            if got != exp:
                errors.append(f"{tag}: weak {sorted(got)} != expected {sorted(exp)}")
            else:
                s_ok += 1

    # override files
    prof = {}
    for f in sorted(glob.glob(os.path.join(CATALOG, "policies", "*.json"))):
        over = json.load(open(f))
        check_shape(over, errors, os.path.basename(f), False)
        for cat, entries in over.get("algorithms", {}).items():
            for name in entries:
                if name not in base["algorithms"].get(cat, {}):
                    errors.append(f"{os.path.basename(f)}: overrides unknown name {cat}:{name}")
        merged = merge(base, over)
        check_shape(merged, errors, "merged:" + over["name"], True)
        prof[over["name"]] = merged
    s = prof.get("strict")
    if s:
        want = {("kex", "diffie-hellman-group14-sha256"): "fail", ("kex", "ecdh-sha2-nistp256"): "warn",
                ("hostkey", "ecdsa-sha2-nistp256"): "warn", ("cipher", "aes128-cbc"): "fail",
                ("cipher", "rijndael-cbc@lysator.liu.se"): "fail", ("mac", "hmac-sha1"): "fail",
                ("mac", "umac-64-etm@openssh.com"): "fail", ("kex", "gss-group14-sha256" + GSS): "fail",
                ("kex", "gss-nistp256-sha256" + GSS): "warn", ("kex", "curve25519-sha256"): "ok"}
        for (cat, n), r in want.items():
            if rate(s, cat, n)["rating"] != r:
                errors.append(f"strict: {cat}:{n} should be {r}")
        if s["rules"]["gex_size"]["fail_below"] != 3072:
            errors.append("strict: gex_size fail_below should be 3072")
        # strict never weakens a default rating
        for cat, names in REFERENCE_NAMES.items():
            for n in names:
                if RATINGS[rate(s, cat, n)["rating"]] < RATINGS[rate(base, cat, n)["rating"]]:
                    errors.append(f"strict: weakens {cat}:{n}")
    p = prof.get("post-quantum")
    if p:
        for n in REFERENCE_NAMES["kex"]:
            ent = rate(p, "kex", n)
            hybrid = "post_quantum_hybrid" in ent.get("notes", [])
            if not hybrid and ent["rating"] == "ok":
                errors.append(f"post-quantum: classical kex still ok: {n}")
            if hybrid and ent["rating"] != rate(base, "kex", n)["rating"]:
                errors.append(f"post-quantum: hybrid changed: {n}")
            if RATINGS[ent["rating"]] < RATINGS[rate(base, "kex", n)["rating"]]:
                errors.append(f"post-quantum: weakens {n}")

    if n_ok + s_all == 0 or not glob.glob(os.path.join(args.samples, "openssh", "*.truth.json")):
        errors.append(f"no truth files found under {args.samples}")
    counts = {c: len(base["algorithms"].get(c, {})) for c in CATEGORIES}
    print(f"default policy: {counts}, patterns={len(base.get('patterns', []))}")
    for line in report:
        print(line)
    print(f"openssh truth files matching: {n_ok}; sftpplus sessions matching: {s_ok}/{s_all}")
    print(f"profiles: {sorted(prof)}")
    if errors:
        print(f"{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
