#!/bin/bash
# test_fleet_hub_perms.sh: a node cannot speak for another. A real nats-server
# (loopback, this run's port and directory) with the permissions docs/hub.md
# recommends: each node's user may publish only on vigil.<cluster>.<node>.>,
# the hub's user may only run its own consumers. node-a publishing as node-b
# is refused by the server (Publish Violation), nothing of it reaches the
# hub; node-a as itself, through the same server, is stored.
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
for t in nats-server openssl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
GEN=$BUILD/bench/fleetgen
[ -x "$GEN" ] || it_die "$GEN not built (make tests)"
NATS_PID="" HUB=""
cleanup() {
	local p
	for p in $HUB $NATS_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP
PA=$(openssl rand -hex 12) PB=$(openssl rand -hex 12) PH=$(openssl rand -hex 12) PADM=$(openssl rand -hex 12)
cat >"$T/nats.conf" <<CONF
listen: 127.0.0.1:-1
jetstream { store_dir: "$T/js" }
accounts {
  VIGIL {
    jetstream: enabled
    users: [
      # a node: its own subjects, and the replies (JetStream acks) to its requests
      { user: node-a, password: "$PA",
        permissions: { publish: { allow: ["vigil.prod.node-a.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
      { user: node-b, password: "$PB",
        permissions: { publish: { allow: ["vigil.prod.node-b.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
      # a hub: its durable consumers on the two streams, their acks, nothing else
      { user: hub, password: "$PH",
        permissions: {
          publish: { allow: ["\$JS.API.CONSUMER.DURABLE.CREATE.VIGIL_ALERTS.hub1",
                             "\$JS.API.CONSUMER.DURABLE.CREATE.VIGIL_HEARTBEATS.hub1",
                             "\$JS.API.CONSUMER.INFO.VIGIL_ALERTS.hub1", "\$JS.API.CONSUMER.INFO.VIGIL_HEARTBEATS.hub1",
                             "\$JS.API.CONSUMER.MSG.NEXT.VIGIL_ALERTS.hub1",
                             "\$JS.API.CONSUMER.MSG.NEXT.VIGIL_HEARTBEATS.hub1",
                             "\$JS.ACK.VIGIL_ALERTS.hub1.>", "\$JS.ACK.VIGIL_HEARTBEATS.hub1.>"] },
          subscribe: { allow: ["_INBOX.>"] } } }
      # the operator's tool that creates the streams
      { user: admin, password: "$PADM" }
    ]
  }
}
CONF
nats-server -c "$T/nats.conf" >"$T/nats.log" 2>&1 &
NATS_PID=$!
for ((i = 0; i < 100; i++)); do
	PORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	[ -n "$PORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
	kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
	sleep 0.1
done
[ -n "$PORT" ] || it_die "nats-server did not start"
"$GEN" --nats "nats://admin:$PADM@127.0.0.1:$PORT" --create-streams --nodes 1 >/dev/null || it_die "cannot create the streams"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.pem" \
	-days 1 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || it_die "openssl failed"
printf '%s viewer\n' "$(openssl rand -hex 24)" >"$T/tokens"
chmod 600 "$T/tokens"
"$VIGIL" hub --nats "nats://hub:$PH@127.0.0.1:$PORT" --durable hub1 --store "$T/hub.db" --listen 127.0.0.1:0 \
	--tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --token-file "$T/tokens" 2>"$T/hub.log" &
HUB=$!
for ((i = 0; i < 150; i++)); do
	grep -q "consuming as 'hub1'" "$T/hub.log" && break
	kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.log")"
	sleep 0.1
done
grep -q "consuming as 'hub1'" "$T/hub.log" || it_die "the hub, with the recommended permissions, cannot consume: $(cat "$T/hub.log")"
count() { sqlite3 "file:$T/hub.db?mode=ro" "SELECT count(*) FROM alerts WHERE node = '$1'" 2>/dev/null || echo 0; }

# node-a claims to be node-b: the server refuses every message
"$GEN" --nats "nats://node-a:$PA@127.0.0.1:$PORT" --cluster prod --nodes 1 --node node-b --alerts 5 --run p1 --ack-wait 3 \
	>"$T/impostor" 2>&1 && it_fail "node-a published as node-b: $(cat "$T/impostor")"
grep -q 'Publish Violation - User "node-a", Subject "vigil.prod.node-b.alert"' "$T/nats.log" ||
	it_fail "the server did not report the impostor: $(tail -3 "$T/nats.log")"
# the real node-b, and node-a as itself, are stored
"$GEN" --nats "nats://node-b:$PB@127.0.0.1:$PORT" --cluster prod --nodes 1 --node node-b --alerts 3 --run p2 >"$T/b" 2>&1 ||
	it_fail "node-b as itself: $(cat "$T/b")"
"$GEN" --nats "nats://node-a:$PA@127.0.0.1:$PORT" --cluster prod --nodes 1 --node node-a --alerts 4 --run p3 >"$T/a" 2>&1 ||
	it_fail "node-a as itself: $(cat "$T/a")"
for ((i = 0; i < 100; i++)); do
	[ "$(count node-a)" -ge 4 ] && [ "$(count node-b)" -ge 3 ] && break
	sleep 0.1
done
[ "$(count node-a)" -eq 4 ] || it_fail "node-a: $(count node-a) alerts, expected 4"
[ "$(count node-b)" -eq 3 ] || it_fail "node-b: $(count node-b) alerts, expected 3 (none of the impostor's)"
# and the hub's user cannot publish alerts of its own
"$GEN" --nats "nats://hub:$PH@127.0.0.1:$PORT" --cluster prod --nodes 1 --node node-a --alerts 1 --run p4 --ack-wait 3 >/dev/null 2>&1 &&
	it_fail "the hub's user could publish on a node's subject"
kill -0 "$HUB" || it_fail "the hub died"
it_finish
