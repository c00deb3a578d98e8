#!/usr/bin/env bash
# bench/hub_fetch_stress.sh: keeps a hub's fetches expiring for minutes while
# a trickle of fleet traffic comes (docs/fleet.md, "Latency"): a nats-server
# (R1, loopback), a hub of BUILD (build-san: ASan+UBSan; build: with glibc's
# malloc checks, MALLOC_CHECK_=3 through libc_malloc_debug when present),
# fleetgen publishing STRESS_RATE messages/s (20: most alert fetches wait, and
# the heartbeat and flows fetches expire 20 times a second) as STRESS_NODES
# nodes (10) with a heartbeat round every few seconds, for STRESS_SECS (180);
# STRESS_BATCH=B: a node's alerts B to a message, zlib-compressed, as an agent
# with a backlog sends them (the hub's inflate path).
# Then every alert must be in the hub once, and the hub must still run and
# stop cleanly. Prints "hub_fetch_stress: ok ..." or what went wrong (exit 1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

bench_require_cmd nats-server openssl sqlite3
BUILD=${BUILD:-build-san}
HUB=$BENCH_ROOT/$BUILD/vigil
GEN=$BENCH_ROOT/build/bench/fleetgen
[ -x "$HUB" ] && [ -x "$GEN" ] || bench_skip "build $BUILD/vigil and build/bench/fleetgen first (make bench-tools)"
RATE=${STRESS_RATE:-20}
SECS=${STRESS_SECS:-180}
NODES=${STRESS_NODES:-10}
BATCH=${STRESS_BATCH:-}
bench_tmpdir
T=$BENCH_TMP

nats-server -js -a 127.0.0.1 -p -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
bench_track $!
for ((i = 0; i < 100; i++)); do
	NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	[ -n "$NPORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
	sleep 0.1
done
NATS=nats://127.0.0.1:$NPORT
"$BENCH_ROOT/build/vigil" fleet init --nats "$NATS" >/dev/null # all the streams (flows too): the hub fetches from each
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$T/tokens"
chmod 600 "$T/tokens"

ENVS=()
if [ "$BUILD" = build ]; then
	dbg=$(ls /usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 2>/dev/null || true)
	[ -n "$dbg" ] && ENVS=(LD_PRELOAD="$dbg" MALLOC_CHECK_=3 MALLOC_PERTURB_=165)
fi
env "${ENVS[@]}" "$HUB" hub --nats "$NATS" --durable stress --store "$T/hub.db" --listen 127.0.0.1:0 \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --token-file "$T/tokens" 2>"$T/hub.log" &
HPID=$!
bench_track "$HPID"
for ((i = 0; i < 600; i++)); do
	grep -q "consuming as" "$T/hub.log" && break
	sleep 0.1
done
grep -q "consuming as" "$T/hub.log" || { cat "$T/hub.log" >&2; bench_die "the hub did not start"; }

per_node=$((RATE * SECS / NODES))
bench_log "$BUILD hub; $((per_node * NODES)) alerts as $NODES nodes at $RATE/s, heartbeats between (load $(cut -d' ' -f1 /proc/loadavg))"
rounds=$((SECS / 5))
"$GEN" --nats "$NATS" --nodes "$NODES" --alerts "$per_node" --heartbeats "$rounds" --rate "$RATE" \
	--run "stress$$" ${BATCH:+--batch "$BATCH"} >"$T/gen" 2>&1 || { cat "$T/gen" >&2; bench_die "fleetgen failed"; }
want=$((per_node * NODES))
got=0
for ((i = 0; i < 600; i++)); do
	kill -0 "$HPID" 2>/dev/null || break
	got=$(sqlite3 "file:$T/hub.db?mode=ro" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0)
	[ "$got" -ge "$want" ] && break
	sleep 0.1
done
if ! kill -0 "$HPID" 2>/dev/null; then
	wait "$HPID" && rc=0 || rc=$?
	echo "hub_fetch_stress: the hub died (exit $rc) after $got of $want alerts:"
	tail -40 "$T/hub.log"
	exit 1
fi
kill -INT "$HPID"
wait "$HPID" && rc=0 || rc=$?
distinct=$(sqlite3 "file:$T/hub.db?mode=ro" "SELECT count(DISTINCT uuid) FROM alerts")
if [ "$rc" -ne 0 ] || [ "$got" -ne "$want" ] || [ "$distinct" -ne "$want" ] || grep -q "ERROR: AddressSanitizer\|runtime error\|malloc" "$T/hub.log"; then
	echo "hub_fetch_stress: FAILED: exit $rc, $got alerts ($distinct distinct) of $want"
	tail -40 "$T/hub.log"
	exit 1
fi
echo "hub_fetch_stress: ok: $BUILD hub, $want alerts once each over ${SECS}s at $RATE/s, clean stop (load $(cut -d' ' -f1 /proc/loadavg))"
