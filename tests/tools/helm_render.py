#!/usr/bin/env python3
# helm_render.py CHART OUTDIR: render CHART's templates with its values.yaml,
# for a chart whose templates use nothing but {{ .Values.PATH }} (Vigil's, by
# design: what it renders is what deploy/kubernetes holds). Any other template
# construct, or a path values.yaml lacks, is an error naming the file and
# line: this is not Helm, and it refuses to pretend to be. Writes OUTDIR/NAME
# for each template.
import os, re, sys
import yaml

chart, out = sys.argv[1], sys.argv[2]
values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))  # must parse
SUB = re.compile(r"\{\{ \.Values\.([A-Za-z0-9_.]+) \}\}")
os.makedirs(out, exist_ok=True)
tdir = os.path.join(chart, "templates")
for name in sorted(os.listdir(tdir)):
    text, lines = open(os.path.join(tdir, name)).read(), []
    for no, line in enumerate(text.split("\n"), 1):
        def sub(m):
            v = values
            for k in m.group(1).split("."):
                if not isinstance(v, dict) or k not in v:
                    sys.exit("%s/%s:%d: no value .Values.%s" % (tdir, name, no, m.group(1)))
                v = v[k]
            if isinstance(v, (dict, list)):
                sys.exit("%s/%s:%d: .Values.%s is not a scalar" % (tdir, name, no, m.group(1)))
            return str(v)
        line = SUB.sub(sub, line)
        if "{{" in line or "}}" in line:
            sys.exit("%s/%s:%d: a template construct other than {{ .Values.PATH }}" % (tdir, name, no))
        lines.append(line)
    open(os.path.join(out, name), "w").write("\n".join(lines))
