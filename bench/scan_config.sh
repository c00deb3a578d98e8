#!/usr/bin/env bash
# bench/scan_config.sh: `vigil scan config` over SCAN_FILES (10000) manifests.
# Writes the manifests (Deployments with two containers and an init
# container, every fifth a multi-document file with a Service, every tenth a
# Dockerfile) into a private directory, reads them once to warm the page
# cache, then times, in the same run: `cat` of every file (the I/O floor) and
# `vigil scan config --format json` (all checks, restricted). Prints files/s
# and the ratio of scan time to read time. Needs no root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_vigil
N=${SCAN_FILES:-10000}
bench_tmpdir
D=$BENCH_TMP/manifests
mkdir -p "$D"
bench_log "writing $N files"
for ((i = 0; i < N; i++)); do
	sub=$D/$((i / 500))
	mkdir -p "$sub"
	if ((i % 10 == 9)); then
		printf 'FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCOPY app /app\nUSER %d\nCMD ["/app"]\n' \
			"$i" >"$sub/Dockerfile.$i"
		continue
	fi
	f=$sub/app-$i.yaml
	cat >"$f" <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$i, namespace: team-$((i % 17)), labels: {app: app-$i}}
spec:
  replicas: 2
  selector: {matchLabels: {app: app-$i}}
  template:
    metadata: {labels: {app: app-$i}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      initContainers:
      - {name: init, image: "registry.example.com/init:$i", command: [/init]}
      containers:
      - name: app
        image: registry.example.com/app:1.$i
        ports: [{containerPort: 8080}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true}
        livenessProbe: {httpGet: {path: /healthz, port: 8080}}
      - name: sidecar
        image: registry.example.com/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        securityContext: {privileged: $([ $((i % 3)) = 0 ] && echo true || echo false)}
Y
	if ((i % 5 == 0)); then
		printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: app-%d}\nspec: {ports: [{port: 80}]}\n' \
			"$i" >>"$f"
	fi
done
find "$D" -type f -exec cat {} + >/dev/null
bench_log "timing"
t0=$(bench_now)
find "$D" -type f -exec cat {} + >/dev/null
t1=$(bench_now)
"$VIGIL" scan config --format json --pss restricted "$D" >"$BENCH_TMP/report.json" || true
t2=$(bench_now)
read_s=$(bench_sub "$t1" "$t0")
scan_s=$(bench_sub "$t2" "$t1")
files=$(grep -o '"files":[0-9]*' "$BENCH_TMP/report.json" | head -1 | cut -d: -f2)
findings=$(grep -o '"check":' "$BENCH_TMP/report.json" | wc -l)
echo "files scanned: $files, findings: $findings"
echo "cat of all files: ${read_s}s; vigil scan config: ${scan_s}s"
echo "files/s: $(awk -v n="$files" -v s="$scan_s" 'BEGIN { printf "%.0f\n", n / s }')"
echo "ratio scan/read time: $(bench_ratio "$scan_s" "$read_s")"
