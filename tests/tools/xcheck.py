#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent cross-checks for tests/integration/test_scan_vulns.sh.

usage: xcheck.py pypi OSV_DIR SCAN_JSON   PyPI matches, using pip's vendored
                                          `packaging` (the reference PEP 440 code)
       xcheck.py go OSV_DIR SCAN_JSON     Go matches for the packages found, with
                                          a small SemVer comparison written here
Prints nothing and exits 0 when vigil's vulnerabilities equal the expected
set; otherwise prints the difference and exits 1.
"""
import json
import os
import re
import sys


def load(osv_dir):
    recs = []
    for name in sorted(os.listdir(osv_dir)):
        if name.endswith(".json"):
            with open(os.path.join(osv_dir, name)) as f:
                recs.append(json.load(f))
    return recs


def affected(recs, eco, name, version, key, cmp):
    out = set()
    for r in recs:
        if r.get("withdrawn"):
            continue
        for a in r.get("affected", []):
            p = a.get("package", {})
            if p.get("ecosystem") != eco or key(p.get("name", "")) != key(name):
                continue
            hit = version in a.get("versions", [])
            for rg in a.get("ranges", []):
                if rg.get("type") not in ("ECOSYSTEM", "SEMVER"):
                    continue
                state = False
                evs = []
                for e in rg.get("events", []):
                    for k in ("introduced", "fixed", "last_affected"):
                        if k in e:
                            evs.append((k, e[k]))
                try:
                    evs.sort(key=lambda kv: (0, None) if kv[1] == "0" else (1, Key(kv[1], cmp)))
                except ValueError:
                    continue
                for k, v in evs:
                    if k == "introduced" and (v == "0" or cmp(version, v) >= 0):
                        state = True
                    elif k == "fixed" and v != "0" and cmp(version, v) >= 0:
                        state = False
                    elif k == "last_affected" and cmp(version, v) > 0:
                        state = False
                hit = hit or state
            if hit:
                out.add(r["id"])
    return out


class Key:
    def __init__(self, v, cmp):
        self.v, self.cmp = v, cmp

    def __lt__(self, o):
        return self.cmp(self.v, o.v) < 0

    def __eq__(self, o):
        return self.cmp(self.v, o.v) == 0


def semver_cmp(a, b):
    def parse(v):
        v = v[1:] if v.startswith("v") else v
        v = v.split("+", 1)[0]
        m = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-(.*))?$", v)
        if not m:
            raise ValueError(v)
        core = tuple(int(x or 0) for x in m.group(1, 2, 3))
        pre = m.group(4)
        ids = [] if pre is None else [(0, int(x), "") if x.isdigit() else (1, 0, x)
                                      for x in pre.split(".")]
        return core, pre is None, ids
    (ca, ra, ia), (cb, rb, ib) = parse(a), parse(b)
    if ca != cb:
        return -1 if ca < cb else 1
    if ra != rb:
        return 1 if ra else -1
    return (ia > ib) - (ia < ib)


def main():
    mode, osv_dir, scan = sys.argv[1:4]
    recs = load(osv_dir)
    with open(scan) as f:
        res = json.load(f)
    if mode == "pypi":
        sys.path.insert(0, "/usr/lib/python3/dist-packages")
        from pip._vendor.packaging.version import Version, InvalidVersion  # noqa

        def cmp(a, b):
            try:
                x, y = Version(a), Version(b)
            except InvalidVersion:
                raise ValueError(a)
            return (x > y) - (x < y)
        eco = "PyPI"

        def key(n):
            return re.sub(r"[-_.]+", "-", n).lower()
    else:
        cmp, eco = semver_cmp, "Go"

        def key(n):
            return n
    want, got = set(), set()
    for p in res["packages"]:
        if p.get("ecosystem") != eco:
            continue
        try:
            ids = affected(recs, eco, p["name"], p["version"], key, cmp)
        except ValueError:
            continue
        want |= {(p["name"], p["version"], i) for i in ids}
    for v in res["vulnerabilities"]:
        if v["ecosystem"] == eco:
            got.add((v["package"], v["version"], v["id"]))
    if want != got:
        print("only expected:", sorted(want - got))
        print("only reported:", sorted(got - want))
        sys.exit(1)
    print("%d %s matches agree" % (len(got), eco))


if __name__ == "__main__":
    main()
