#!/usr/bin/env bash
# bench/hub_console.sh: the web console's load on a large hub store
# (docs/console.md). hub_fill writes HUB_STORE_ALERTS alerts (1,000,000) of 1,000
# nodes through the hub's own store path (no NATS); a hub serves them and
#  1. hub_apiload asks HUB_API_RATE requests/s (100) for HUB_API_SECONDS (30), open
#     loop over 4 keep-alive TLS connections, cycling through what the console asks:
#     the first page, a rule at least critical, a node, one alert, its neighbours
#     and actions (the alert page), the nodes, whoami, a node's counts;
#  2. the heavy queries on their own (median of 5): the counts of the whole default
#     range (every alert of the last 24 h here) and a MITRE tactic filter;
#  3. the first render in headless Chromium (when installed): login submitted to the
#     alert table drawn and to the counts chart drawn, and an alert's page.
# Prints p50/p90/p99/max (ms) and p99 against a 100 ms target.
# HUB_STORE_KEEP=FILE keeps the filled store there, and reuses it next time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_cmd openssl curl
make -C "$BENCH_ROOT" -s build/vigil build/bench/hub_fill build/bench/hub_apiload >/dev/null || bench_die "cannot build"
N=${HUB_STORE_ALERTS:-1000000}
RATE=${HUB_API_RATE:-100}
SECS=${HUB_API_SECONDS:-30}
bench_tmpdir
T=$BENCH_TMP
if [ -n "${HUB_STORE_KEEP:-}" ] && [ -s "$HUB_STORE_KEEP" ]; then
	cp "$HUB_STORE_KEEP" "$T/hub.db"
else
	t0=$(bench_now)
	"$BENCH_ROOT/build/bench/hub_fill" "$T/hub.db" "$N" 1000
	bench_log "filled $N alerts in $(bench_sub "$(bench_now)" "$t0") s ($(du -h "$T/hub.db" | cut -f1))"
	[ -n "${HUB_STORE_KEEP:-}" ] && cp "$T/hub.db" "$HUB_STORE_KEEP"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TOKEN=$(openssl rand -hex 24)
printf '%s viewer bench\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"
"$BENCH_ROOT/build/vigil" hub --nats nats://127.0.0.1:1 --durable bench --store "$T/hub.db" --listen 127.0.0.1:0 \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --token-file "$T/tokens" 2>"$T/hub.log" &
bench_track $!
PORT=""
for ((i = 0; i < 300; i++)); do
	PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/hub.log")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || bench_die "the hub did not start: $(cat "$T/hub.log")"
URL=https://127.0.0.1:$PORT
get() { curl -sS --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "$URL$1"; }

# one alert of the middle of the store, as the alert page asks for it and its surroundings
row=$(get "/api/v1/alerts?cursor=$((N / 2))&limit=1")
uuid=$(echo "$row" | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p' | head -1)
node=$(echo "$row" | sed -n 's/.*"node":"\(node-[0-9]*\)".*/\1/p' | head -1)
cid=$(echo "$row" | sed -n 's/.*"container":{"id":"\([0-9a-f]*\)".*/\1/p' | head -1)
rule=$(echo "$row" | sed -n 's/.*"rule":"\([^"]*\)".*/\1/p' | head -1 | sed 's/ /%20/g')
t=$(echo "$row" | sed -n 's/.*"time":"\([^"]*\)".*/\1/p' | head -1)
ts=$(date -u -d "$t" +%s)
since=$(date -u -d "@$((ts - 600))" +%Y-%m-%dT%H:%M:%SZ)
until=$(date -u -d "@$((ts + 600))" +%Y-%m-%dT%H:%M:%SZ)
[ -n "$uuid" ] && [ -n "$cid" ] || bench_die "cannot read an alert of the store: $row"
paths=(
	"/api/v1/alerts?limit=50"
	"/api/v1/alerts?rule=Reverse%20shell&priority=critical&limit=50"
	"/api/v1/alerts?node=node-00042&limit=50"
	"/api/v1/alerts/$uuid"
	"/api/v1/alerts?node=$node&cluster=default&container=$cid&since=$since&until=$until&limit=50"
	"/api/v1/actions?node=$node&cluster=default&rule=$rule&container=$cid&since=$since&until=$until&limit=100"
	"/api/v1/nodes"
	"/api/v1/whoami"
	"/api/v1/alerts/counts?by=priority&node=node-00042"
)
for p in "${paths[@]}"; do
	s=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "$URL$p")
	bench_log "single: $p -> $s"
	[ "${s%% *}" = 200 ] || bench_die "$p answered $s"
done
"$BENCH_ROOT/build/bench/hub_apiload" "$URL" "$TOKEN" "$T/cert.pem" "$RATE" 10 "${paths[@]}" >/dev/null || true
out=$("$BENCH_ROOT/build/bench/hub_apiload" "$URL" "$TOKEN" "$T/cert.pem" "$RATE" "$SECS" "${paths[@]}")
echo
echo "hub console API, $N alerts in the store (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs at the end), $RATE requests/s for $SECS s (open loop, the console's mix of ${#paths[@]} queries)"
echo "  $out"
p99=$(printf '%s\n' "$out" | sed -n 's/.*p99_ms \([0-9.]*\).*/\1/p')
echo "  p99 / 100 ms target: $(bench_ratio "$p99" 100)"
# whoami reads nothing of the store: each query's p99 over whoami's is what the store adds
# (on a machine whose load queues every request, the absolute figures measure the machine)
base=$(printf '%s\n' "$out" | awk '$NF == "/api/v1/whoami" { print $4 }')
printf '%s\n' "$out" | awk -v b="$base" 'NF == 5 && $1 == "p50_ms" && b > 0 { printf "  p99 / whoami p99: %.3f  %s\n", $4 / b, $5 }'

# the heavy ones on their own: median of 5
heavy=(
	"/api/v1/alerts/counts?by=priority"
	"/api/v1/alerts/counts?by=rule"
	"/api/v1/alerts?tactic=execution&limit=50"
	"/api/v1/alerts?technique=T1059&node=node-00042&limit=50"
)
echo "heavy queries alone (median of 5, ms):"
for p in "${heavy[@]}"; do
	ms=()
	for ((k = 0; k < 5; k++)); do
		r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "$URL$p")
		ms+=("$(echo "$r" | awk '{ printf "%.1f", $2 * 1000 }')")
	done
	echo "  $p: $(printf '%s\n' "${ms[@]}" | bench_median) (HTTP ${r%% *})"
done

# the first render in a real browser with this store
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
	mkdir -p "$T/shots"
	python3 "$BENCH_ROOT/tests/tools/console_browser.py" --render-only --url "$URL" --viewer "$TOKEN" --out "$T/shots" |
		sed -n 's/^figure: /  browser: /p'
else
	echo "  browser: skipped (chromium, chromium-driver or python3 missing)"
fi
