#!/usr/bin/env bash
# bench/hub_api.sh: the hub API's latency on a large store. hub_fill writes
# HUB_STORE_ALERTS alerts (1,000,000) of 1,000 nodes through the hub's own
# store path; a hub serves them (no NATS needed: the API starts first) and
# hub_apiload asks HUB_API_RATE requests/s (100) for HUB_API_SECONDS (30),
# open loop over 4 keep-alive TLS connections, cycling through a mix:
# first page, a node, a rule at least critical, a namespace, a container, a
# deep cursor, one alert by id, since an hour ago, the nodes list.
# Prints p50/p90/p99/max (ms) overall and per query, and p99 against a 100 ms
# target. HUB_STORE_KEEP=FILE keeps the filled store there, and reuses it next time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_cmd openssl make
make -C "$BENCH_ROOT" -s bench-tools >/dev/null || bench_die "cannot build bench tools"
N=${HUB_STORE_ALERTS:-1000000}
RATE=${HUB_API_RATE:-100}
SECS=${HUB_API_SECONDS:-30}
bench_tmpdir
T=$BENCH_TMP
if [ -n "${HUB_STORE_KEEP:-}" ] && [ -s "$HUB_STORE_KEEP" ]; then
	cp "$HUB_STORE_KEEP" "$T/hub.db" # a store filled by an earlier run (HUB_STORE_KEEP=FILE)
else
	t0=$(bench_now)
	"$BENCH_ROOT/build/bench/hub_fill" "$T/hub.db" "$N" 1000
	bench_log "filled $N alerts in $(bench_sub "$(bench_now)" "$t0") s ($(du -h "$T/hub.db" | cut -f1))"
	[ -n "${HUB_STORE_KEEP:-}" ] && cp "$T/hub.db" "$HUB_STORE_KEEP"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TOKEN=$(openssl rand -hex 24)
printf '%s viewer\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"
# no NATS server: the hub serves its store while it waits for one
"$BENCH_ROOT/build/vigil" hub --nats nats://127.0.0.1:1 --durable bench --store "$T/hub.db" --listen 127.0.0.1:0 \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --token-file "$T/tokens" 2>"$T/hub.log" &
bench_track $!
for ((i = 0; i < 100; i++)); do
	PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/hub.log")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || bench_die "the hub did not start: $(cat "$T/hub.log")"
deep=$((N - 500))
uuid=$(printf '%016lx%016lx' $((123 * 2654435761)) 7)
since=$(($(date +%s) - 3600))000000000
paths=(
	"/api/v1/alerts"
	"/api/v1/alerts?node=node-00042"
	"/api/v1/alerts?rule=Reverse%20shell&priority=critical"
	"/api/v1/alerts?namespace=payments&limit=50"
	"/api/v1/alerts?container=app-3&node=node-00007"
	"/api/v1/alerts?cursor=$deep"
	"/api/v1/alerts/$uuid"
	"/api/v1/alerts?since=$since&limit=100"
	"/api/v1/nodes"
	"/api/v1/alerts?priority_at_most=notice&node=node-00999&limit=1000"
)
for p in "${paths[@]}"; do
	s=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT$p")
	bench_log "single: $p -> $s"
done
# a warm-up pass (discarded): the store's pages into the page cache, connections made
"$BENCH_ROOT/build/bench/hub_apiload" "https://127.0.0.1:$PORT" "$TOKEN" "$T/cert.pem" "$RATE" 10 "${paths[@]}" >/dev/null || true
out=$("$BENCH_ROOT/build/bench/hub_apiload" "https://127.0.0.1:$PORT" "$TOKEN" "$T/cert.pem" "$RATE" "$SECS" "${paths[@]}")
echo
echo "hub API, $N alerts in the store (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs at the end), $RATE requests/s for $SECS s (open loop, mix of ${#paths[@]} queries)"
echo "  $out"
p99=$(printf '%s\n' "$out" | sed -n 's/.*p99_ms \([0-9.]*\).*/\1/p')
echo "  p99 / 100 ms target: $(bench_ratio "$p99" 100)"
