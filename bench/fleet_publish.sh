#!/usr/bin/env bash
# fleet_publish.sh: the agent -> JetStream path on a 3-node nats-server
# cluster on loopback, streams at R3 (docs/fleet.md, "Figures"):
#  1. throughput: a store of N alerts (filled by `vigil replay` without NATS)
#     published by `vigil replay --nats` (the outbox and the NATS forwarder
#     alone), as alerts/s and as a ratio to the time the store took to fill;
#     and replay + publish together on a fresh store;
#  2. latency from the store's commit to the stream's ack at 1,000 alerts/s
#     (p50, p99), one alert per commit (bench/fleet_publish_bench.c);
#  3. backlog drain: 1,000 alerts/s while all three servers are stopped for
#     OUTAGE seconds; how long the backlog takes to drain once they are back,
#     and the publisher's RSS before and after;
#  4. the same store at R1;
#  5. agent -> R3 cluster -> hub: the store of N alerts published while a hub
#     consumes the stream, alerts/s from the start of the publish to the
#     hub's commit of the last one, and CPU-seconds per alert of each process
#     (publisher, each server, the hub: the figures that carry over to other
#     machines); then the latency from the agent's commit to the hub's commit
#     at 1,000 alerts/s (p50, p99).
#  6. that latency alone, stage by stage (commit -> outbox wake -> stream
#     ack -> hub fetch -> hub commit), with a fresh hub: LAT_RATE alerts/s
#     (1000) for LAT_SECS (20) seconds, and the hub's CPU per alert meanwhile;
#     before it, bench/fetch_probe: how soon a fetch returns when one message
#     comes while it waits.
# No root needed. Env: N (100000), OUTAGE (60), BUILD (build), ONLY (sections, e.g. 2,5).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VIGIL=${VIGIL:-$BUILD/vigil}
TOOL=$BUILD/tests/fleet_tool
BENCH=$BUILD/bench/fleet_publish_bench
N=${N:-100000}
OUTAGE=${OUTAGE:-60}
command -v nats-server >/dev/null || { echo "skipped: nats-server is not installed"; exit 0; }
if [ ! -x "$VIGIL" ] || [ ! -x "$TOOL" ] || [ ! -x "$BENCH" ]; then
	echo "skipped: run make bench-tools"
	exit 0
fi
# ONLY=2,3 runs those sections alone
want() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }

TMP=$(mktemp -d /tmp/vigil-bench.XXXXXX)
declare -A PID PORT CPORT
BG=""
cleanup() {
	local n
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	for n in "${!PID[@]}"; do
		[ -n "${PID[$n]}" ] && kill "${PID[$n]}" 2>/dev/null
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
for n in a b c; do
	PORT[$n]=$(free_port)
	CPORT[$n]=$(free_port)
done
URL="nats://127.0.0.1:${PORT[a]},nats://127.0.0.1:${PORT[b]},nats://127.0.0.1:${PORT[c]}"
start() {
	local n=$1 m routes="" i
	for m in a b c; do [ "$m" = "$n" ] || routes="${routes:+$routes,}nats://127.0.0.1:${CPORT[$m]}"; done
	nats-server -js -a 127.0.0.1 -p "${PORT[$n]}" -sd "$TMP/$n" -n "$n" --cluster_name "bench$$" \
		--cluster "nats://127.0.0.1:${CPORT[$n]}" --routes "$routes" >>"$TMP/$n.log" 2>&1 &
	PID[$n]=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "Server is ready" "$TMP/$n.log" && return 0
		sleep 0.1
	done
	echo "bench: nats-server $n did not start" >&2
	exit 1
}
stop() {
	kill "${PID[$1]}" 2>/dev/null || true
	wait "${PID[$1]}" 2>/dev/null || true
	PID[$1]=""
}
for n in a b c; do start "$n"; done
for ((i = 0; i < 60; i++)); do
	"$VIGIL" fleet init --nats "$URL" --replicas 3 >"$TMP/init" 2>&1 && break
	sleep 1
done
grep -q "replicas 3" "$TMP/init" || { cat "$TMP/init" >&2; exit 1; }
cat >"$TMP/rules.yaml" <<'EOF'
- rule: Fleet bench read
  desc: a container reads /etc/shadow
  condition: evt.type = openat and fd.name = /etc/shadow
  output: "read %fd.name by %proc.name in %container.name"
  priority: WARNING
EOF
"$TOOL" mkcapture "$N" "$TMP/cap.vcap"
"$TOOL" mkcapture 0 "$TMP/empty.vcap"
replay() { "$VIGIL" replay "$@" --rules "$TMP/rules.yaml" --rate-limit 0 >/dev/null 2>>"$TMP/replay.err"; }

# cpu_of PID...: utime+stime of these processes, in clock ticks
cpu_of() {
	local p t=0
	for p in "$@"; do
		[ -n "$p" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)
TIMEFORMAT='%R %U %S'
if want 1; then
echo "== 1. throughput, R3, $N alerts"
{ time replay "$TMP/cap.vcap" --store "$TMP/fill.db"; } 2>"$TMP/t.fill"
s0=$(cpu_of "${PID[a]}" "${PID[b]}" "${PID[c]}")
{ time replay "$TMP/empty.vcap" --store "$TMP/fill.db" --nats "$URL" --node tput; } 2>"$TMP/t.pub"
s1=$(cpu_of "${PID[a]}" "${PID[b]}" "${PID[c]}")
{ time replay "$TMP/cap.vcap" --store "$TMP/both.db" --nats "$URL" --node both; } 2>"$TMP/t.both"
"$TOOL" check "$URL" "$TMP/fill.db" default tput >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; exit 1; }
read -r fr fu fs <"$TMP/t.fill"
read -r pr pu ps <"$TMP/t.pub"
read -r br _ _ <"$TMP/t.both"
awk -v n="$N" -v fr="$fr" -v pr="$pr" -v pc="$(echo "$pu + $ps" | bc)" -v br="$br" -v fc="$(echo "$fu + $fs" | bc)" \
	-v sc="$(echo "($s1 - $s0) / $HZ" | bc -l)" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
	printf "store fill (replay, no NATS): %.2f s, %.0f alerts/s (CPU %.2f s)\n", fr, n / fr, fc
	printf "publish a full store:         %.2f s, %.0f alerts/s (ratio to the fill: %.2f)\n", pr, n / pr, pr / fr
	printf "  publisher CPU %.2f s: %.0f alerts per CPU-second; the 3 servers CPU %.2f s: %.0f alerts per CPU-second\n", pc, n / pc, sc, n / sc
	printf "replay and publish together:  %.2f s, %.0f alerts/s\n", br, n / br
	printf "load average at the end: %s (2 cores)\n", load }'
echo "check: $(tail -1 "$TMP/check")"
fi

if want 2; then
echo "== 2. latency, commit to stream ack, 1,000 alerts/s for 20 s"
"$BENCH" "$URL" "$TMP/lat.db" 1000 20 >"$TMP/lat.out"
grep latency_us "$TMP/lat.out"
fi

if want 3; then
echo "== 3. backlog drain after a ${OUTAGE} s outage of all three servers at 1,000 alerts/s"
"$BENCH" "$URL" "$TMP/out.db" 1000 $((OUTAGE + 30)) >"$TMP/out.out" &
BG=$!
for ((i = 0; i < 600; i++)); do
	[ "$(sed -n 's/^t=\([0-9]*\) .*/\1/p' "$TMP/out.out" 2>/dev/null | tail -1)" -ge 10 ] 2>/dev/null && break
	kill -0 "$BG" 2>/dev/null || { echo "bench: the publisher ended early" >&2; exit 1; }
	sleep 0.2
done
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$BG/status")
log "stopping the cluster"
for n in a b c; do stop "$n"; done
sleep "$OUTAGE" # the outage itself
for n in a b c; do start "$n"; done
lines_back=$(wc -l <"$TMP/out.out")
log "cluster back"
while kill -0 "$BG" 2>/dev/null; do sleep 0.5; done
wait "$BG" || true
BG=""
peak=$(sed -n 's/.*depth=\([0-9]*\)$/\1/p' "$TMP/out.out" | sort -n | tail -1)
t_back=$(head -n "$lines_back" "$TMP/out.out" | sed -n 's/^t=\([0-9]*\) .*/\1/p' | tail -1)
t_drained=$(tail -n +$((lines_back + 1)) "$TMP/out.out" | sed -n 's/^t=\([0-9]*\) .*depth=0$/\1/p' | head -1)
rss_after=$(sed -n 's/^rss_kb=//p' "$TMP/out.out")
if [ -n "$t_drained" ]; then
	awk -v d="$((t_drained - t_back))" -v p="$peak" -v o="$OUTAGE" 'BEGIN {
		r = (d > 0 ? p / d : p)
		printf "backlog %d alerts drained in %d s after the cluster was back (%.0f alerts/s of backlog, %.0f alerts/s sent with the 1,000/s still coming)\n", p, d, r, r + 1000 }'
else
	echo "backlog $peak alerts: not drained"
fi
echo "publisher RSS: ${rss_before} kB before the outage, ${rss_after} kB at the end"
grep latency_us "$TMP/out.out" | sed 's/^/whole run (outage included): /'
fi
if want 4; then
echo "== 4. the same store at R1 (the streams scaled down in place): what replication costs"
"$VIGIL" fleet init --nats "$URL" --replicas 1 >"$TMP/init1" 2>&1 || { cat "$TMP/init1" >&2; exit 1; }
replay "$TMP/cap.vcap" --store "$TMP/fill1.db"
s0=$(cpu_of "${PID[a]}" "${PID[b]}" "${PID[c]}")
{ time replay "$TMP/empty.vcap" --store "$TMP/fill1.db" --nats "$URL" --node tput1; } 2>"$TMP/t.pub1"
s1=$(cpu_of "${PID[a]}" "${PID[b]}" "${PID[c]}")
read -r pr _ _ <"$TMP/t.pub1"
awk -v n="$N" -v pr="$pr" -v sc="$(echo "($s1 - $s0) / $HZ" | bc -l)" 'BEGIN {
	printf "R1: publish a full store:     %.2f s, %.0f alerts/s; the servers CPU %.2f s: %.0f alerts per CPU-second\n", pr, n / pr, sc, n / sc }'
fi

if want 5; then
echo "== 5. agent -> R3 cluster -> hub, $N alerts; then commit to hub commit at 1,000 alerts/s"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$TMP/tokens"
chmod 600 "$TMP/tokens"
hub_count() { sqlite3 "file:$TMP/hub.db?mode=ro" "SELECT count(*) FROM alerts WHERE node = '$1'" 2>/dev/null || echo 0; }
wait_hub() { # NODE COUNT
	local i
	for ((i = 0; i < 6000; i++)); do
		[ "$(hub_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
srv_cpu() { echo "$(cpu_of "${PID[a]}") $(cpu_of "${PID[b]}") $(cpu_of "${PID[c]}")"; }
replay "$TMP/cap.vcap" --store "$TMP/e2e.db"
replay "$TMP/cap.vcap" --store "$TMP/e2e2.db"
# 5a. publish with no hub: what storing and replicating costs the servers
msgs0=$("$TOOL" msgs "$URL" VIGIL_ALERTS)
read -r a0 b0 c0 <<<"$(srv_cpu)"
{ time replay "$TMP/empty.vcap" --store "$TMP/e2e.db" --nats "$URL" --node e2e; } 2>"$TMP/t.e2e"
read -r a1 b1 c1 <<<"$(srv_cpu)"
msgs=$(($("$TOOL" msgs "$URL" VIGIL_ALERTS) - msgs0))
# 5b. a hub started afterwards drains them: what delivering costs the servers, and the hub
"$VIGIL" hub --nats "$URL" --durable e2e --store "$TMP/hub.db" --listen 127.0.0.1:0 --tls-cert "$TMP/cert.pem" \
	--tls-key "$TMP/key.pem" --token-file "$TMP/tokens" 2>"$TMP/hub.log" &
PID[hub]=$!
for ((i = 0; i < 600; i++)); do
	grep -q "consuming as" "$TMP/hub.log" && break
	sleep 0.1
done
grep -q "consuming as" "$TMP/hub.log" || { cat "$TMP/hub.log" >&2; exit 1; }
h0=$(cpu_of "${PID[hub]}")
t0=$(now)
wait_hub e2e "$N" || echo "the hub did not get all $N alerts"
t1=$(now)
read -r a2 b2 c2 <<<"$(srv_cpu)"
h1=$(cpu_of "${PID[hub]}")
# 5c. both at once: agent -> servers -> hub, sustained
t2=$(now)
{ time replay "$TMP/empty.vcap" --store "$TMP/e2e2.db" --nats "$URL" --node e2e2; } 2>"$TMP/t.e2e2"
wait_hub e2e2 "$N" || echo "the hub did not get all $N alerts"
t3=$(now)
read -r er eu es <"$TMP/t.e2e"
read -r er2 _ _ <"$TMP/t.e2e2"
f() { echo "($1 - $2) / $HZ" | bc -l; }
awk -v n="$N" -v msgs="$msgs" -v pr="$er" -v pc="$(echo "$eu + $es" | bc)" \
	-v pa="$(f "$a1" "$a0")" -v pb="$(f "$b1" "$b0")" -v pcc="$(f "$c1" "$c0")" \
	-v da="$(f "$a2" "$a1")" -v db="$(f "$b2" "$b1")" -v dc="$(f "$c2" "$c1")" -v h="$(f "$h1" "$h0")" \
	-v hw="$(echo "$t1 - $t0" | bc -l)" -v ew="$(echo "$t3 - $t2" | bc -l)" -v er2="$er2" \
	-v load="$(cut -d' ' -f1 /proc/loadavg)" 'function us(x) { return x / n * 1e6 } BEGIN {
	printf "5a. publish (no hub): %.2f s, %.0f alerts/s; %d stream messages (%.1f alerts a message)\n", pr, n / pr, msgs, msgs ? n / msgs : 0
	printf "5b. a hub drains them: %.2f s, %.0f alerts/s\n", hw, n / hw
	printf "5c. both at once, agent -> hub sustained: %.2f s, %.0f alerts/s (the publisher done after %.2f s)\n", ew, n / ew, er2
	printf "CPU per alert (5a, 5b):\n"
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "publisher", us(pc), n / pc
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "server a, storing + replicating", us(pa), n / pa
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "server b, storing + replicating", us(pb), n / pb
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "server c, storing + replicating", us(pcc), n / pcc
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "the 3 servers, storing", us(pa + pb + pcc), n / (pa + pb + pcc)
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "the 3 servers, delivering to a hub", us(da + db + dc), n / (da + db + dc)
	printf "  %-34s %8.2f us %10.0f alerts/CPU-s\n", "hub", us(h), n / h
	t = pc + pa + pb + pcc + da + db + dc + h
	m = pc; if (pa + da > m) m = pa + da; if (pb + db > m) m = pb + db; if (pcc + dc > m) m = pcc + dc; if (h > m) m = h
	printf "  %-34s %8.2f us: on 2 cores at most %.0f alerts/s; with a core per process %.0f alerts/s\n", "all", us(t), 2 * n / t, n / m
	printf "load average at the end: %s (2 cores)\n", load }'
"$BENCH" "$URL" "$TMP/lat5.db" 1000 20 "$TMP/hub.db" >"$TMP/lat5.out"
grep latency_us "$TMP/lat5.out"
fi
if want 6; then
LAT_RATE=${LAT_RATE:-1000}
LAT_SECS=${LAT_SECS:-20}
echo "== 6. commit -> hub commit at $LAT_RATE alerts/s for $LAT_SECS s, stage by stage (R3)"
# first: how soon the hub's kind of fetch returns when one message comes while it waits
if [ -x "$BUILD/bench/fetch_probe" ]; then
	"$BUILD/bench/fetch_probe" "$URL" 10 | tail -1
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key6.pem" \
	-out "$TMP/cert6.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$TMP/tokens6"
chmod 600 "$TMP/tokens6"
"$VIGIL" hub --nats "$URL" --durable lat6 --store "$TMP/hub6.db" --listen 127.0.0.1:0 --tls-cert "$TMP/cert6.pem" \
	--tls-key "$TMP/key6.pem" --token-file "$TMP/tokens6" ${HUB_OPTS:-} 2>"$TMP/hub6.log" &
PID[hub6]=$!
for ((i = 0; i < 600; i++)); do
	grep -q "consuming as" "$TMP/hub6.log" && break
	sleep 0.1
done
grep -q "consuming as" "$TMP/hub6.log" || { cat "$TMP/hub6.log" >&2; exit 1; }
# what the stream held before (other sections) is drained first
for ((i = 0; i < 600; i++)); do
	[ "$(sqlite3 "file:$TMP/hub6.db?mode=ro" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0)" -ge \
		"$("$TOOL" msgs "$URL" VIGIL_ALERTS 2>/dev/null || echo 0)" ] && break
	sleep 0.1
done
h0=$(cpu_of "${PID[hub6]}")
m0=$("$TOOL" msgs "$URL" VIGIL_ALERTS 2>/dev/null || echo 0)
"$BENCH" "$URL" "$TMP/lat6.db" "$LAT_RATE" "$LAT_SECS" "$TMP/hub6.db" >"$TMP/lat6.out"
h1=$(cpu_of "${PID[hub6]}")
m1=$("$TOOL" msgs "$URL" VIGIL_ALERTS 2>/dev/null || echo 0)
kill -0 "${PID[hub6]}" 2>/dev/null || { echo "the hub died:"; tail -20 "$TMP/hub6.log"; }
grep -E '^(wake_latency_us|latency_us|hub_fetch_latency_us|hub_latency_us|hub_fetch_to_commit_us)' "$TMP/lat6.out"
n6=$(grep -o 'n=[0-9]*' <(grep '^hub_latency_us' "$TMP/lat6.out") | cut -d= -f2)
awk -v n="${n6:-0}" -v h="$(echo "($h1 - $h0) / $HZ" | bc -l)" -v m=$((m1 - m0)) -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
	if (n > 0) printf "hub CPU meanwhile: %.1f us an alert (%d alerts in %d messages)\n", h / n * 1e6, n, m
	printf "load average at the end: %s (2 cores)\n", load }'
fi
