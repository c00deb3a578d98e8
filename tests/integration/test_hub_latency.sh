#!/bin/bash
# test_hub_latency.sh: how soon a hub stores what comes (docs/hub.md,
# "Consuming"), against a real nats-server on loopback (its own port and
# directory) and fleetgen posing as nodes. Checks, by bounded polling (never a
# timed assertion): a single alert published to an idle hub is committed; while
# a node's alerts keep coming without a pause, another node's heartbeat is
# stored before the last of those alerts (the heartbeats are not left behind a
# busy alert stream), and every alert is stored once; a hub stopped with
# SIGINT while alerts keep coming acknowledged everything it fetched (its
# fetchers overlap its commits: nothing is left fetched and not committed), so
# the same hub restarted stores the rest with no redelivery, and a commit
# holds one or more fetches (/api/v1/status).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
for t in nats-server openssl sqlite3 curl; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
GEN=$BUILD/bench/fleetgen
[ -x "$GEN" ] || it_die "$GEN not built (make tests)"
NATS_PID="" HUB="" PUB=""
cleanup() {
	local p
	for p in $PUB $HUB $NATS_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

nats-server -js -a 127.0.0.1 -p -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
NATS_PID=$!
NPORT=""
for ((i = 0; i < 300; i++)); do
	NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log" 2>/dev/null)
	[ -n "$NPORT" ] && grep -q 'Server is ready' "$T/nats.log" 2>/dev/null && break
	kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
	sleep 0.1
done
[ -n "$NPORT" ] || it_die "nats-server did not start"
NATS=nats://127.0.0.1:$NPORT
# every stream (flows too): the hub looks at each of them in its loop
"$VIGIL" fleet init --nats "$NATS" >"$T/init" 2>&1 || it_die "fleet init: $(cat "$T/init")"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
	it_die "openssl: cannot make the certificate"
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$T/tokens"
chmod 600 "$T/tokens"
"$VIGIL" hub --nats "$NATS" --durable lat$$ --store "$T/hub.db" --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" \
	--tls-key "$T/key.pem" --token-file "$T/tokens" 2>"$T/hub.log" &
HUB=$!
for ((i = 0; i < 600; i++)); do
	grep -q "consuming as" "$T/hub.log" 2>/dev/null && break
	kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.log")"
	sleep 0.1
done
grep -q "consuming as" "$T/hub.log" || it_die "the hub did not start consuming: $(cat "$T/hub.log")"

q() { sqlite3 "file:$T/hub.db?mode=ro" "$1" 2>/dev/null; }
# wait_q SQL WANT SECS: until the query answers at least WANT (bounded)
wait_q() {
	local i v
	for ((i = 0; i < $3 * 10; i++)); do
		v=$(q "$1")
		[ -n "$v" ] && [ "$v" -ge "$2" ] && return 0
		kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(tail -20 "$T/hub.log")"
		sleep 0.1
	done
	return 1
}

# 1. one alert to an idle hub (its fetches have been expiring meanwhile)
"$GEN" --nats "$NATS" --nodes 1 --prefix lone --alerts 1 --run "one$$" >"$T/gen1" 2>&1 || it_die "fleetgen: $(cat "$T/gen1")"
wait_q "SELECT count(*) FROM alerts WHERE node = 'lone-00000'" 1 60 ||
	it_die "a single alert was not committed by the hub within 60 s"
echo "ok: a single alert published to an idle hub is committed"

# 2. a steady stream of alerts, and meanwhile a heartbeat of another node
"$GEN" --nats "$NATS" --nodes 1 --prefix busy --alerts 3000 --rate 150 --run "busy$$" >"$T/gen2" 2>&1 &
PUB=$!
wait_q "SELECT count(*) FROM alerts WHERE node = 'busy-00000'" 1 60 || it_die "no alert of the busy node came"
"$GEN" --nats "$NATS" --nodes 1 --prefix beat --heartbeats 1 --run "hb$$" >"$T/gen3" 2>&1 || it_die "fleetgen: $(cat "$T/gen3")"
wait "$PUB" || it_die "fleetgen (the busy node) failed: $(cat "$T/gen2")"
PUB=""
wait_q "SELECT count(*) FROM alerts WHERE node = 'busy-00000'" 3000 120 ||
	it_die "the busy node's alerts did not all come: $(q "SELECT count(*) FROM alerts WHERE node = 'busy-00000'") of 3000"
wait_q "SELECT count(*) FROM nodes WHERE node = 'beat-00000' AND heartbeat IS NOT NULL" 1 60 ||
	it_die "the heartbeat was not stored"
[ "$(q "SELECT count(DISTINCT uuid) FROM alerts WHERE node = 'busy-00000'")" = 3000 ] || it_die "an alert was stored twice"
hb=$(q "SELECT last_seen_ns FROM nodes WHERE node = 'beat-00000'")
last=$(q "SELECT max(recv_ns) FROM alerts WHERE node = 'busy-00000'")
[ "$hb" -lt "$last" ] || it_die "the heartbeat was stored only after the busy node's last alert ($hb >= $last)"
echo "ok: a heartbeat is stored while alerts keep coming; 3000 alerts stored once each"

start_hub() {
	"$VIGIL" hub --nats "$NATS" --durable lat$$ --store "$T/hub.db" --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" \
		--tls-key "$T/key.pem" --token-file "$T/tokens" 2>"$T/hub.log" &
	HUB=$!
	for ((i = 0; i < 600; i++)); do
		grep -q "consuming as" "$T/hub.log" 2>/dev/null && break
		kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.log")"
		sleep 0.1
	done
	grep -q "consuming as" "$T/hub.log" || it_die "the hub did not start consuming: $(cat "$T/hub.log")"
}
stop_hub() {
	local rc=0
	kill -INT "$HUB"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$HUB" 2>/dev/null || break
		sleep 0.1
	done
	wait "$HUB" || rc=$?
	HUB=""
	[ "$rc" -eq 0 ] || it_die "the hub did not stop cleanly (exit $rc): $(tail -20 "$T/hub.log")"
}
stop_hub
echo "ok: the hub stops cleanly"

# 3. stopped in the middle of a stream: what it fetched is committed and acknowledged
start_hub
"$GEN" --nats "$NATS" --nodes 1 --prefix stop --alerts 3000 --rate 300 --run "stop$$" >"$T/gen4" 2>&1 &
PUB=$!
wait_q "SELECT count(*) FROM alerts WHERE node = 'stop-00000'" 200 60 || it_die "no alert of the stream came"
stop_hub
before=$(q "SELECT count(*) FROM alerts WHERE node = 'stop-00000'")
wait "$PUB" || it_die "fleetgen failed: $(cat "$T/gen4")"
PUB=""
start_hub
wait_q "SELECT count(*) FROM alerts WHERE node = 'stop-00000'" 3000 120 ||
	it_die "after the restart: $(q "SELECT count(*) FROM alerts WHERE node = 'stop-00000'") of 3000 alerts"
[ "$(q "SELECT count(DISTINCT uuid) FROM alerts WHERE node = 'stop-00000'")" = 3000 ] || it_die "an alert was stored twice"
APORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/hub.log" | tail -1)
TOKEN=$(cut -d' ' -f1 "$T/tokens")
status=$(curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$APORT/api/v1/status")
dups=$(sed -n 's/.*"duplicates":\([0-9]*\).*/\1/p' <<<"$status")
fetches=$(sed -n 's/.*"fetches":\([0-9]*\).*/\1/p' <<<"$status")
batches=$(sed -n 's/.*"batches":\([0-9]*\).*/\1/p' <<<"$status")
[ "$dups" = 0 ] || it_die "the restarted hub was sent again what the stopped one had stored (duplicates: '$dups'): $status"
[ -n "$fetches" ] && [ -n "$batches" ] && [ "$batches" -ge 1 ] && [ "$batches" -le "$fetches" ] ||
	it_die "commits ($batches) should each hold one or more fetches ($fetches): $status"
echo "ok: stopped mid-stream with $before of 3000 stored, nothing redelivered after the restart; $batches commits for $fetches fetches"
stop_hub
it_finish
