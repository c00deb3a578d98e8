#!/bin/bash
# test_fleet_hub_cluster.sh: `vigil hub` on a real 3-node nats-server
# JetStream cluster (loopback, ports and directories of this run), streams at
# R3. 20,000 alerts from 200 simulated nodes are in the stream; a hub consumes
# them and the server leading the alerts stream is SIGKILLed while it does:
# the hub goes on with the new leader and holds every alert exactly once, in
# per-node order. A second hub started afterwards catches up on its own.
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
it_need_jq
for t in nats-server openssl curl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
GEN=$BUILD/bench/fleetgen
[ -x "$GEN" ] || it_die "$GEN not built (make tests)"
declare -A NPID
HUBS=""
cleanup() {
	local p
	for p in $HUBS "${NPID[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# free_port: a loopback port nothing listens on now (routes need them up front)
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
CP=() CLIENT=()
for i in 1 2 3; do CP[$i]=$(free_port) || it_die "no free port"; CLIENT[$i]=$(free_port) || it_die "no free port"; done
start_server() { # N
	local n=$1
	cat >"$T/n$n.conf" <<CONF
server_name: n$n
listen: 127.0.0.1:${CLIENT[$n]}
http: 127.0.0.1:-1
jetstream { store_dir: "$T/js$n" }
cluster {
  name: vigil-hub-test-$$
  listen: 127.0.0.1:${CP[$n]}
  routes: [ nats-route://127.0.0.1:${CP[1]}, nats-route://127.0.0.1:${CP[2]}, nats-route://127.0.0.1:${CP[3]} ]
}
CONF
	nats-server -c "$T/n$n.conf" >>"$T/n$n.log" 2>&1 &
	NPID[$n]=$!
}
for i in 1 2 3; do start_server "$i"; done
URLS=nats://127.0.0.1:${CLIENT[1]},nats://127.0.0.1:${CLIENT[2]},nats://127.0.0.1:${CLIENT[3]}
# the cluster is up when the streams can be made at R3 (a meta leader is elected)
ok=""
for ((i = 0; i < 150; i++)); do
	for n in 1 2 3; do kill -0 "${NPID[$n]}" 2>/dev/null || it_die "nats-server n$n exited: $(tail -5 "$T/n$n.log")"; done
	if "$GEN" --nats "nats://127.0.0.1:${CLIENT[1]}" --create-streams --replicas 3 --nodes 1 >"$T/create" 2>&1; then
		ok=1
		break
	fi
	sleep 0.2
done
[ -n "$ok" ] || it_die "the 3-node cluster did not come up: $(cat "$T/create") $(tail -3 "$T/n1.log")"

"$GEN" --nats "nats://127.0.0.1:${CLIENT[2]}" --nodes 200 --alerts 100 --heartbeats 1 --run c1 >"$T/gen" 2>&1 ||
	it_die "fleetgen: $(cat "$T/gen")"
echo "R3: $(cat "$T/gen")"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.pem" \
	-days 1 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || it_die "openssl failed"
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$T/tokens"
chmod 600 "$T/tokens"
start_hub() { # NAME
	"$VIGIL" hub --nats "$URLS" --durable "$1" --store "$T/$1.db" --listen 127.0.0.1:0 --tls-cert "$T/hub.pem" \
		--tls-key "$T/hub.key" --token-file "$T/tokens" --batch 100 2>>"$T/$1.log" &
	HUBS="$HUBS $!"
}
count() { sqlite3 "file:$T/$1.db?mode=ro" "SELECT count(*) FROM alerts" 2>/dev/null || echo 0; }

# which server leads the alerts stream
leader=""
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's/.*Starting http monitor on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/n1.log" | tail -1)
	leader=$(curl -s "http://127.0.0.1:$port/jsz?streams=true" |
		jq -r '[.account_details[]?.stream_detail[]? | select(.name=="VIGIL_ALERTS") | .cluster.leader] | first // empty')
	[ -n "$leader" ] && break
	sleep 0.1
done
[ -n "$leader" ] || it_die "no leader for VIGIL_ALERTS"
echo "VIGIL_ALERTS is led by $leader"

start_hub hub1
HUB1=$!
for ((i = 0; i < 600; i++)); do
	[ "$(count hub1)" -ge 4000 ] && break
	sleep 0.02
done
# the hub held still while the leader dies, so that it is mid-stream whatever its speed
kill -STOP "$HUB1"
at=$(count hub1)
kill -KILL "${NPID[${leader#n}]}"
wait "${NPID[${leader#n}]}" 2>/dev/null
unset "NPID[${leader#n}]"
kill -CONT "$HUB1"
[ "$at" -lt 20000 ] || it_fail "the hub had everything ($at) before the leader died: the kill proves nothing"
echo "killed the stream leader $leader with $at alerts in the hub"
for ((i = 0; i < 900; i++)); do
	[ "$(count hub1)" -ge 20000 ] && break
	sleep 0.1
done
start_hub hub2
for ((i = 0; i < 900; i++)); do
	[ "$(count hub2)" -ge 20000 ] && break
	sleep 0.1
done
for h in hub1 hub2; do
	n=$(count $h)
	d=$(sqlite3 "file:$T/$h.db?mode=ro" 'SELECT count(DISTINCT uuid) FROM alerts')
	[ "$n" -eq 20000 ] && [ "$d" -eq 20000 ] || it_fail "$h holds $n alerts ($d distinct), expected 20000"
	bad=$(sqlite3 "file:$T/$h.db?mode=ro" 'SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY node ORDER BY id) AS p FROM alerts) WHERE p IS NOT NULL AND seq <> p + 1')
	[ "$bad" -eq 0 ] || it_fail "$h: $bad alerts out of per-node order"
	hb=$(sqlite3 "file:$T/$h.db?mode=ro" 'SELECT count(*) FROM nodes WHERE heartbeat IS NOT NULL')
	[ "$hb" -eq 200 ] || it_fail "$h has heartbeats of $hb nodes, expected 200"
done
it_finish
