#!/usr/bin/env bash
# test_deploy_files: deploy/. `vigil scan config` passes the Kubernetes
# manifests at restricted with every check, thanks only to the exceptions each
# object states (without them the agent's DaemonSet fails, as it must); the
# Helm chart renders exactly those manifests (templates use nothing but
# {{ .Values.* }}: rendered here, compared object by object, and scanned; with
# `helm template` too when helm is installed); Vigil's own admission webhook
# policy admits the agent in its namespace and nowhere else; the systemd units
# pass `systemd-analyze verify` and name the same capabilities as the DaemonSet.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh

it_need_vigil
command -v python3 >/dev/null || it_skip "python3 is not installed"
python3 -c 'import yaml' 2>/dev/null || it_skip "python3-yaml is not installed"
trap it_cleanup_common EXIT
it_mktemp
T=$IT_TMP
K=deploy/kubernetes

echo "== scan config: restricted, every check, the stated exceptions"
"$VIGIL" scan config --pss restricted --checks all --exit-code 3 "$K" >"$T/scan" 2>&1
rc=$?
[ "$rc" = 0 ] || it_fail "deploy/kubernetes does not pass (rc $rc): $(grep -v EXCEPTED "$T/scan" | head -20)"
grep -q '^0 findings .* 0 errors; [0-9]* excepted' "$T/scan" || it_fail "unexpected summary: $(tail -1 "$T/scan")"
for check in pss/hostNamespaces pss/restrictedVolumes pss/capabilities_restricted pss/runAsNonRoot; do
	grep -q "DaemonSet/vigil-agent .* EXCEPTED  $check " "$T/scan" || it_fail "the agent's $check is not among the exceptions"
done
# the hub and NATS need none but the placeholder image's digest
grep 'EXCEPTED' "$T/scan" | grep -v 'DaemonSet/vigil-agent' | grep -v 'k8s/image-no-digest' &&
	it_fail "something but the agent needs a security exception"
"$VIGIL" scan config --pss baseline --checks pss --exit-code 3 "$K" >"$T/scan" 2>&1 ||
	it_fail "deploy/kubernetes fails baseline: $(head -5 "$T/scan")"
grep -q "EXCEPTED  pss/capabilities_baseline " "$T/scan" || it_fail "baseline: the capabilities are not excepted"

echo "== without its exceptions the agent's DaemonSet fails, as it must"
python3 - "$K/vigil-agent.yaml" "$T/noexc.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    d.get("metadata", {}).get("annotations", {}).pop("vigil.dev/config-exceptions", None)
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
"$VIGIL" scan config --pss restricted --checks all --exit-code 3 "$T/noexc.yaml" >"$T/scan" 2>&1
[ $? = 3 ] || it_fail "the agent without exceptions passed"
grep -q 'HIGH .*pss/hostNamespaces' "$T/scan" || it_fail "hostPID not found without the exception"

echo "== a malformed exception is an error at the annotation, and excepts nothing"
sed 's/^      pss\/runAsUser@agent: uid 0, as above$/      pss\/runAsUser@agent:/' "$K/vigil-agent.yaml" >"$T/bad.yaml"
"$VIGIL" scan config --pss restricted --checks all --exit-code 3 "$T/bad.yaml" >"$T/scan" 2>"$T/err"
grep -q "cannot parse $T/bad.yaml:[0-9]*:[0-9]*: vigil.dev/config-exceptions: line 7: expected 'CHECK\[@CONTAINER\]: reason' (a reason is required)" "$T/err" ||
	it_fail "no clear error for an exception without a reason: $(cat "$T/err")"
grep -q 'HIGH .*pss/hostNamespaces' "$T/scan" || it_fail "a malformed annotation still excepted findings"

echo "== the Helm chart renders the same objects"
python3 tests/tools/helm_render.py deploy/helm/vigil "$T/chart" || it_fail "the chart does not render"
python3 - "$T/chart" "$K" <<'PY' || it_fail "the chart and deploy/kubernetes differ"
import os, sys, yaml
def objs(paths):
    out = {}
    for p in paths:
        for d in yaml.safe_load_all(open(p)):
            if d:
                out[(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])] = d
    return out
chart = objs(os.path.join(sys.argv[1], f) for f in sorted(os.listdir(sys.argv[1])))
plain = objs(os.path.join(sys.argv[2], f) for f in ("vigil-agent.yaml", "vigil-hub.yaml", "nats-jetstream.yaml"))
if chart.keys() != plain.keys():
    sys.exit("objects differ: %r" % (chart.keys() ^ plain.keys()))
for k in plain:
    if chart[k] != plain[k]:
        sys.exit("%s %s/%s differs" % k)
print("ok %d objects" % len(plain))
PY
"$VIGIL" scan config --pss restricted --checks all --exit-code 3 "$T/chart" >"$T/scan" 2>&1 ||
	it_fail "the rendered chart does not pass: $(grep -v EXCEPTED "$T/scan" | head)"
if command -v helm >/dev/null 2>&1; then
	helm template vigil deploy/helm/vigil >"$T/helm.yaml" || it_fail "helm template failed"
	"$VIGIL" scan config --pss restricted --checks all --exit-code 3 "$T/helm.yaml" >"$T/scan" 2>&1 ||
		it_fail "helm template's output does not pass"
else
	echo "(helm is not installed: the chart is checked by the rendering above)"
fi

echo "== Vigil's own admission policy admits the agent in vigil-agent, nowhere else"
python3 - "$K" "$T" <<'PY'
import json, sys, yaml
k, t = sys.argv[1], sys.argv[2]
for d in yaml.safe_load_all(open(k + "/vigil-webhook.yaml")):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "vigil-policy":
        open(t + "/policy.yaml", "w").write(d["data"]["policy.yaml"])
ds = [d for d in yaml.safe_load_all(open(k + "/vigil-agent.yaml")) if d and d["kind"] == "DaemonSet"][0]
for ns in ("vigil-agent", "shop"):
    ds["metadata"]["namespace"] = ns
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": "u-" + ns, "kind": {"group": "apps", "version": "v1", "kind": "DaemonSet"},
                          "resource": {"group": "apps", "version": "v1", "resource": "daemonsets"},
                          "namespace": ns, "operation": "CREATE", "name": "vigil-agent",
                          "userInfo": {"username": "admin"}, "object": ds}}
    json.dump(review, open("%s/review-%s.json" % (t, ns), "w"))
PY
"$VIGIL" admission review --policy "$T/policy.yaml" "$T/review-vigil-agent.json" >"$T/ok.json" 2>&1 ||
	it_fail "admission review failed: $(cat "$T/ok.json")"
grep -q '"allowed":true' "$T/ok.json" || it_fail "the agent is refused in vigil-agent: $(head -c 400 "$T/ok.json")"
"$VIGIL" admission review --policy "$T/policy.yaml" "$T/review-shop.json" >"$T/no.json" 2>&1
grep -q '"allowed":false' "$T/no.json" || it_fail "the agent is admitted in another namespace: $(head -c 400 "$T/no.json")"

echo "== systemd units"
caps_unit=$(sed -n 's/^CapabilityBoundingSet=//p' deploy/systemd/vigil-agent.service | tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ')
caps_ds=$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "DaemonSet":
        print(" ".join(sorted(d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"])) + " ")
' "$K/vigil-agent.yaml")
[ "$caps_unit" = "$caps_ds" ] || it_fail "the unit's capabilities ($caps_unit) differ from the DaemonSet's ($caps_ds)"
grep -q '^CapabilityBoundingSet=$' deploy/systemd/vigil-hub.service || it_fail "the hub unit keeps capabilities"
grep -q '^DynamicUser=yes$' deploy/systemd/vigil-hub.service || it_fail "the hub unit does not run as a dynamic user"
if command -v systemd-analyze >/dev/null 2>&1; then
	bin=$(realpath "$VIGIL")
	for u in vigil-agent vigil-hub; do
		# verify checks that ExecStart's binary exists: point it at this build
		sed "s|/usr/local/bin/vigil |$bin |" "deploy/systemd/$u.service" >"$T/$u.service"
		SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$T/$u.service" >"$T/verify" 2>&1 ||
			it_fail "systemd-analyze verify $u: $(cat "$T/verify")"
		[ -s "$T/verify" ] && it_fail "systemd-analyze verify $u warns: $(cat "$T/verify")"
	done
else
	echo "(systemd-analyze is not installed: the units are not verified)"
fi
it_finish
