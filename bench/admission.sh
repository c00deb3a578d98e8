#!/usr/bin/env bash
# bench/admission.sh: admission webhook latency and throughput over TLS.
# Starts `vigil admission serve` on loopback with a certificate made for the
# run, then drives it with build/bench/admission_load (32 TLS keep-alive
# clients, a Deployment AdmissionReview judged at baseline with restricted
# warn/audit):
#   1. paced at ADM_RATE requests/s (1000) for ADM_SECONDS (10): p50/p99;
#   2. closed loop (as fast as answers come): the most requests/s;
# Prints ratios: p99 / 5 ms target and achieved / asked rate. The load
# generator shares the machine's cores with the server: the figures are a
# floor for what the server does alone. Needs no root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_cmd openssl make
make -C "$BENCH_ROOT" -s bench-tools >/dev/null || bench_die "cannot build bench tools"
LOAD=$BENCH_ROOT/build/bench/admission_load
RATE=${ADM_RATE:-1000}
SECS=${ADM_SECONDS:-10}
CLIENTS=${ADM_CLIENTS:-32}
THREADS=${ADM_THREADS:-2}
bench_tmpdir
T=$BENCH_TMP

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
	>/dev/null 2>&1 || bench_die "openssl cannot make a certificate"
printf 'defaults: {enforce: baseline, warn: restricted, audit: restricted}\n' >"$T/policy.yaml"
cat >"$T/review.json" <<'J'
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
"kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},
"namespace":"shop","operation":"CREATE","userInfo":{"username":"ci-bot","groups":["system:authenticated"]},
"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
"spec":{"containers":[{"name":"web","image":"registry.example.com/web:1.4.2","ports":[{"containerPort":8080}],
"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"256Mi"}},
"livenessProbe":{"httpGet":{"path":"/healthz","port":8080}},"readinessProbe":{"httpGet":{"path":"/ready","port":8080}},
"securityContext":{"readOnlyRootFilesystem":true,"capabilities":{"drop":["NET_RAW"]}}},
{"name":"sidecar","image":"registry.example.com/proxy:2.0","securityContext":{"runAsUser":1000}}],
"initContainers":[{"name":"migrate","image":"registry.example.com/web:1.4.2","command":["/migrate"]}],
"volumes":[{"name":"cache","emptyDir":{}},{"name":"cfg","configMap":{"name":"web"}}]}}}}}}
J
"$VIGIL" admission serve --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --listen 127.0.0.1:0 \
	--policy "$T/policy.yaml" --threads "$THREADS" 2>"$T/server.err" &
bench_track $!
PORT=""
for _ in $(seq 100); do
	PORT=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)$|\1|p' "$T/server.err")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || bench_die "server did not start: $(cat "$T/server.err")"

bench_log "paced: $RATE req/s, $CLIENTS clients, $SECS s"
paced=$("$LOAD" 127.0.0.1 "$PORT" "$T/cert.pem" "$T/review.json" "$CLIENTS" "$RATE" "$SECS") || true
bench_log "closed loop: $CLIENTS clients, $SECS s"
closed=$("$LOAD" 127.0.0.1 "$PORT" "$T/cert.pem" "$T/review.json" "$CLIENTS" 0 "$SECS") || true
p99=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$paced")
got=$(sed -n 's/.* rate=\([0-9.]*\)\/s.*/\1/p' <<<"$paced")
echo "server threads: $THREADS, clients: $CLIENTS, cores: $(nproc)"
echo "paced:  $paced"
echo "closed: $closed"
echo "ratio p99/5ms target: $(bench_ratio "${p99:-0}" 5)  (<= 1.000 meets the target)"
echo "ratio achieved/asked rate: $(bench_ratio "${got:-0}" "$RATE")"
echo "server: $(grep -c . "$T/server.err") line(s) on stderr"
