#!/usr/bin/env bash
# bench/hub_ingest.sh: the hub's ingest ceiling, per core. A nats-server
# (JetStream, R1, loopback) holds HUB_ALERTS alerts published beforehand by
# fleetgen posing as HUB_NODES nodes (1,000); a hub started afterwards drains
# them: alerts/s of wall time and per CPU-second of the hub (its own
# utime+stime: "per core"), with the default commit (fsync per batch) and with
# --no-fsync. Then heartbeats: fleetgen sends HUB_HB rounds of one heartbeat
# per node while the hub runs. RSS after each phase (flat = bounded). The
# publisher, the server and the hub share the machine's 2 cores: figures are
# a floor for a hub alone. Needs no root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_cmd nats-server openssl sqlite3 curl make
make -C "$BENCH_ROOT" -s bench-tools >/dev/null || bench_die "cannot build bench tools"
GEN=$BENCH_ROOT/build/bench/fleetgen
VIGIL=$BENCH_ROOT/build/vigil
NODES=${HUB_NODES:-1000}
ALERTS=${HUB_ALERTS:-200000}
HB=${HUB_HB:-30}
bench_tmpdir
T=$BENCH_TMP
TICK=$(getconf CLK_TCK)

nats-server -js -a 127.0.0.1 -p -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
bench_track $!
for ((i = 0; i < 100; i++)); do
	NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	[ -n "$NPORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
	sleep 0.1
done
NATS=nats://127.0.0.1:$NPORT
"$GEN" --nats "$NATS" --create-streams --nodes 1 >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TOKEN=$(openssl rand -hex 24)
printf '%s viewer\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"

per_node=$(((ALERTS + NODES - 1) / NODES))
bench_log "publishing $((per_node * NODES)) alerts as $NODES nodes"
"$GEN" --nats "$NATS" --nodes "$NODES" --alerts "$per_node" --run ingest >"$T/gen1"
ALERTS=$((per_node * NODES))
cat "$T/gen1" >&2

count() { sqlite3 "file:$1?mode=ro" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0; }
drain() { # NAME EXTRA_ARGS: start a hub, time it draining the stream; sets DRAIN to "wall cpu rss pid"
	local name=$1 pid t0 c0 t1 c1 i
	shift
	"$VIGIL" hub --nats "$NATS" --durable "$name" --store "$T/$name.db" --listen 127.0.0.1:0 \
		--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --token-file "$T/tokens" "$@" 2>"$T/$name.log" &
	pid=$!
	bench_track "$pid"
	for ((i = 0; i < 300; i++)); do
		grep -q "consuming as" "$T/$name.log" && break
		sleep 0.05
	done
	t0=$(bench_now)
	c0=$(bench_cpu_ticks "$pid")
	for ((i = 0; i < 6000; i++)); do
		[ "$(count "$T/$name.db")" -ge "$ALERTS" ] && break
		sleep 0.2
	done
	t1=$(bench_now)
	c1=$(bench_cpu_ticks "$pid")
	DRAIN="$(bench_sub "$t1" "$t0") $(awk -v a="$c1" -v b="$c0" -v t="$TICK" 'BEGIN { printf "%.3f", (a - b) / t }') $(bench_rss_kb "$pid") $pid"
}

drain fsync
read -r wall cpu rss pid_a <<<"$DRAIN"
bench_log "hub (fsync): $ALERTS alerts in $wall s wall, $cpu s CPU, RSS $rss kB"
drain nofsync --no-fsync
read -r wall2 cpu2 rss2 pid_b <<<"$DRAIN"
bench_stop_pid "$pid_b" TERM 10
bench_log "hub (no fsync): $ALERTS alerts in $wall2 s wall, $cpu2 s CPU, RSS $rss2 kB"

# a second wave, live, into the first hub: RSS must not grow with what it has seen
"$GEN" --nats "$NATS" --nodes "$NODES" --alerts "$per_node" --run wave2 >"$T/gen2"
ALERTS=$((ALERTS * 2))
for ((i = 0; i < 12000; i++)); do
	[ "$(count "$T/fsync.db")" -ge "$ALERTS" ] && break
	sleep 0.1
done
rss_a2=$(bench_rss_kb "$pid_a")

# heartbeats: HB rounds, one per node, as fast as fleetgen sends them
APORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/fsync.log" | tail -1)
hb_stored() { curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$APORT/api/v1/status" | sed -n 's/.*"heartbeats":\([0-9]*\).*/\1/p'; }
hb0=$(hb_stored)
c0=$(bench_cpu_ticks "$pid_a")
t0=$(bench_now)
"$GEN" --nats "$NATS" --nodes "$NODES" --heartbeats "$HB" --run hb >"$T/gen3"
sleep 1 # the hub looks at heartbeats every 100 ms
t1=$(bench_now)
c1=$(bench_cpu_ticks "$pid_a")
hb_pub=$((NODES * HB))
hb_got=$(($(hb_stored) - hb0))
hb_cpu=$(awk -v a="$c1" -v b="$c0" -v t="$TICK" 'BEGIN { printf "%.3f", (a - b) / t }')
hb_wall=$(bench_sub "$t1" "$t0")
latest=$(sqlite3 "file:$T/fsync.db?mode=ro" "SELECT count(*) FROM nodes WHERE hb_seq = $HB")
rss_a3=$(bench_rss_kb "$pid_a")

half=$((ALERTS / 2))
printf '\nhub ingest, %d nodes, %d alerts a wave (R1, loopback, publisher and server on the same %d cores; load average %s)\n' \
	"$NODES" "$half" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  %-34s %10s %10s %12s %12s\n' "" "wall s" "hub CPU s" "alerts/s" "alerts/CPU-s"
printf '  %-34s %10s %10s %12.0f %12.0f\n' "commit with fsync (default)" "$wall" "$cpu" \
	"$(bench_ratio "$half" "$wall")" "$(bench_ratio "$half" "$cpu")"
printf '  %-34s %10s %10s %12.0f %12.0f\n' "--no-fsync" "$wall2" "$cpu2" \
	"$(bench_ratio "$half" "$wall2")" "$(bench_ratio "$half" "$cpu2")"
printf '  heartbeats: %d sent in %s s, %d read by the hub (the stream keeps the last per node), hub CPU %s s:\n' \
	"$hb_pub" "$hb_wall" "$hb_got" "$hb_cpu"
printf '    %.0f heartbeats per hub CPU-s; %d of %d nodes show their last one\n' \
	"$(bench_ratio "$hb_got" "$hb_cpu")" "$latest" "$NODES"
printf '  hub RSS kB: after wave 1 %s, after wave 2 %s, after heartbeats %s (ratio wave2/wave1 %s)\n' \
	"$rss" "$rss_a2" "$rss_a3" "$(bench_ratio "$rss_a2" "$rss")"
printf '  fsync / no-fsync wall ratio: %s\n' "$(bench_ratio "$wall" "$wall2")"
