#!/usr/bin/env python3
# promcheck.py FILE: check that FILE is valid Prometheus text exposition
# format 0.0.4, strictly (what Vigil writes, not every liberty the format
# allows): every sample's family has one # HELP and one # TYPE line before its
# samples, families are not interleaved, names and label names are valid,
# label values correctly escaped, values parse, no series twice, counters end
# in _total, histograms have ascending le buckets ending at +Inf, cumulative,
# with _count equal to the +Inf bucket and a _sum. Prints the samples as JSON
# lines {"name", "labels", "value"}; exits 1 naming the first problem.
import json, math, re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')


def fail(no, msg):
    sys.exit("%s:%d: %s" % (sys.argv[1], no, msg))


def value(no, s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf"))
    if not re.fullmatch(r'-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?', s):
        fail(no, "bad value %r" % s)
    return float(s)


def labels(no, s, i):
    # s[i] == '{': parse to '}', return (dict, index after '}')
    out, i = {}, i + 1
    while s[i] != '}':
        m = LABEL.match(s, i)
        if not m:
            fail(no, "bad label name at %d" % i)
        name, i = m.group(0), m.end()
        if s[i:i + 2] != '="':
            fail(no, "expected =\" after label %s" % name)
        i, v = i + 2, ""
        while s[i] != '"':
            if s[i] == '\\':
                if s[i + 1] not in '\\"n':
                    fail(no, "bad escape \\%s" % s[i + 1])
                v += '\n' if s[i + 1] == 'n' else s[i + 1]
                i += 2
            elif s[i] == '\n':
                fail(no, "newline in a label value")
            else:
                v += s[i]
                i += 1
        i += 1
        if name in out:
            fail(no, "label %s twice" % name)
        out[name] = v
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            fail(no, "expected , or } after a label")
    return out, i + 1


data = open(sys.argv[1], encoding="utf-8").read()
if not data.endswith("\n"):
    fail(0, "no final newline")
help_, type_, done, current, seen, samples = {}, {}, set(), None, set(), []
for no, line in enumerate(data.split("\n")[:-1], 1):
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        kind, rest = line[2:6], line[7:]
        name = rest.split(" ", 1)[0]
        if not NAME.fullmatch(name):
            fail(no, "bad metric name %r" % name)
        table = help_ if kind == "HELP" else type_
        if name in table:
            fail(no, "second # %s for %s" % (kind, name))
        if name in done:
            fail(no, "family %s resumed after another" % name)
        if kind == "TYPE" and rest.split(" ", 1)[1] not in ("counter", "gauge", "histogram", "summary", "untyped"):
            fail(no, "bad type %r" % rest)
        table[name] = rest.split(" ", 1)[1] if " " in rest else ""
        if current and current != name:
            done.add(current)
        current = name
        continue
    if line.startswith("#") or not line:
        fail(no, "unexpected line %r" % line)
    m = NAME.match(line)
    name, i = m.group(0), m.end()
    lab = {}
    if i < len(line) and line[i] == '{':
        lab, i = labels(no, line, i)
    if line[i] != ' ':
        fail(no, "expected a space before the value")
    parts = line[i + 1:].split(" ")
    if len(parts) not in (1, 2):
        fail(no, "bad value/timestamp %r" % line[i + 1:])
    v = value(no, parts[0])
    fam = name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and type_.get(name[:-len(suffix)]) == "histogram":
            fam = name[:-len(suffix)]
    if fam not in type_ or fam not in help_:
        fail(no, "sample %s before its # HELP and # TYPE" % name)
    if fam != current:
        fail(no, "sample %s outside its family's block" % name)
    if type_[fam] == "counter" and not name.endswith("_total"):
        fail(no, "counter %s does not end in _total" % name)
    if type_[fam] == "counter" and (v < 0 or math.isnan(v)):
        fail(no, "counter %s is %s" % (name, v))
    key = (name, tuple(sorted(lab.items())))
    if key in seen:
        fail(no, "series %s%r twice" % key)
    seen.add(key)
    samples.append({"name": name, "labels": lab, "value": v, "line": no})

# histograms: per series, buckets ascending and cumulative, +Inf == _count, a _sum
for fam, t in type_.items():
    if t != "histogram":
        continue
    groups = {}
    for s in samples:
        if s["name"] in (fam + "_bucket", fam + "_sum", fam + "_count"):
            base = tuple(sorted((k, v) for k, v in s["labels"].items() if k != "le"))
            groups.setdefault(base, []).append(s)
    for base, ss in groups.items():
        b = [s for s in ss if s["name"] == fam + "_bucket"]
        les = [float(s["labels"]["le"].replace("Inf", "inf")) for s in b]
        if not b or les != sorted(les) or les[-1] != math.inf:
            fail(b[0]["line"] if b else 0, "%s buckets not ascending to +Inf" % fam)
        counts = [s["value"] for s in b]
        if counts != sorted(counts):
            fail(b[0]["line"], "%s buckets not cumulative" % fam)
        cnt = [s["value"] for s in ss if s["name"] == fam + "_count"]
        if cnt != [counts[-1]] or len([s for s in ss if s["name"] == fam + "_sum"]) != 1:
            fail(b[0]["line"], "%s _count/_sum do not match the buckets" % fam)
for s in samples:
    del s["line"]
    print(json.dumps(s))
