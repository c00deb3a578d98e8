#!/bin/bash
# test_fleet_hub_flows.sh: the hub's cluster-wide service map (docs/hub.md,
# "Flows and the service map"; docs/fleet.md, "Flows"). A real nats-server on
# loopback, two live agents posing as two nodes of one cluster (each watching
# one container with --container, as two machines would each see their own
# workloads), a client container on "node a" connecting to a server container on
# "node b" over a podman network the test creates, and a hub. Checks:
# - each agent's flow rollups reach VIGIL_FLOWS and the hub; connections made while the
#   NATS server is stopped wait in the agents' stores and arrive once it is back;
# - the servicemap has both nodes' workloads and the cross-node edge client ->
#   server with exact connection counts (3 to port 8080, 20 to port 9000), the
#   bytes of the 8080 exchange, and the client's alerts; `vigil flows --hub`
#   shows the peer resolved to the other node; DOT and SVG (parsed);
# - a hub killed and restarted, and a second durable reading the whole stream
#   into the same store (every flows message delivered again): counts exact;
# - retention: an old flows message and an alert received long ago are deleted by --retain,
#   counted in /api/v1/status and /metrics, the recent rows stay;
# - a malformed flows message is refused (fields), the hub keeps running;
#   bad queries get 400, no token 401.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_root
it_need_bpf
it_need_podman
it_need_jq
it_need_vigil
fl_need
for t in openssl curl; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
M=$$
NET=vghubfl-$M S=vghubfl-$M-server C=vghubfl-$M-client
NA=hfa$M NB=hfb$M
AGENT_A="" AGENT_B="" HUB=""
cleanup() {
	local p
	for p in $AGENT_A $AGENT_B $HUB; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	vg_podman rm -f -t 0 "$S" "$C" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP
cc -O2 -static -o "$T/flowpeer" tests/tools/flowpeer.c 2>"$T/cc.err" ||
	it_skip "cannot build a static test program: $(head -3 "$T/cc.err")"

# --- NATS, the streams (VIGIL_FLOWS among them) --------------------------------
fl_ports s1
URL=$(fl_url s1)
fl_start s1
fl_init "$URL"
grep -q "VIGIL_FLOWS: created (replicas 1, max age 1d" "$T/init.out" || it_fail "no flows stream: $(cat "$T/init.out")"
fl_init "$URL" --flows-max-age 2d
grep -q "VIGIL_FLOWS: updated: max age 1d -> 2d" "$T/init.out" || it_fail "flows max age: $(cat "$T/init.out")"
grep -q "VIGIL_ALERTS: unchanged" "$T/init.out" || it_fail "--flows-max-age changed the alerts: $(cat "$T/init.out")"

# --- the hub -------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 1 -subj "/CN=vigil hubflows test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/hub.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
TOKEN=$(openssl rand -hex 24)
echo "$TOKEN viewer test" >"$T/tokens"
chmod 600 "$T/tokens"
HPORT=""
# start_hub DURABLE [ARGS...]: start the hub on the test's store, wait until it consumes
start_hub() {
	local d=$1 i
	shift
	: >"$T/hub.err"
	"$VIGIL" hub --nats "$URL" --durable "$d" --store "$T/hub.db" --listen 127.0.0.1:0 --token-file "$T/tokens" \
		--tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --no-fsync "$@" 2>"$T/hub.err" &
	HUB=$!
	for ((i = 0; i < 300; i++)); do
		HPORT=$(sed -n 's/.*hub API listening on port \([0-9]*\).*/\1/p' "$T/hub.err")
		[ -n "$HPORT" ] && grep -q "hub consuming as" "$T/hub.err" && return 0
		kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.err")"
		sleep 0.1
	done
	it_die "the hub did not start: $(cat "$T/hub.err")"
}
stop_hub() {
	kill "-${1:-TERM}" "$HUB" 2>/dev/null
	wait "$HUB" 2>/dev/null
	HUB=""
}
# api PATH: GET with the token; the body on stdout, the status in $T/code
api() {
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $TOKEN" -o "$T/body" -w '%{http_code}' \
		"https://127.0.0.1:$HPORT$1" >"$T/code" 2>"$T/curl.err"
	cat "$T/body"
}
start_hub hf1$M

# --- two nodes: each agent watches one container --------------------------------
cat >"$T/rules.yaml" <<'YAML'
- rule: Hubflows connect to 8080
  desc: the client connects to the service port (counted as the workload's alerts on the map)
  condition: evt.type = connect and fd.rport = 8080
  output: "connect to 8080 (%container.name %proc.name)"
  priority: NOTICE
YAML
podman network create "$NET" >/dev/null || it_skip "cannot create a podman network"
# start_agent NODE CONTAINER: a live agent as NODE, watching that container's flows only (pid in APID)
start_agent() {
	"$VIGIL" run --rules "$T/rules.yaml" --store "$T/$1.db" --response off --json --container "$2" \
		--flow-interval 1 --nats "$URL" --node "$1" >>"$T/$1.out" 2>>"$T/$1.err" &
	APID=$!
	it_agent_ready "$APID" "$T/$1.err"
}
start_agent "$NA" "$C"
AGENT_A=$APID
start_agent "$NB" "$S"
AGENT_B=$APID
echo "${SECONDS}s: agents and hub up"

run() {
	vg_podman run -d --name "$1" --network "$NET" -v "$T/flowpeer:/flowpeer:ro" "$IT_IMAGE" sh -c "$2" >/dev/null ||
		it_die "cannot start container $1"
}
ip_of() { podman inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"; }
id_of() { podman inspect -f '{{.Id}}' "$1"; }
logs_say() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(podman logs "$1" 2>/dev/null | grep -c "$3")" -ge "$2" ] && return 0
		sleep 0.2
	done
	it_die "container $1 never said '$3' $2 times: $(podman logs "$1" 2>&1 | tail -5)"
}
# (each connection carries a few bytes: a connection closed before any process read or wrote it
# is rolled up by the node without its service port, see docs/hub.md "Limits")
run "$S" "/flowpeer tcp-server 8080 1000 2345 5 & /flowpeer tcp-server 9000 10 0 20 & wait; sleep 600"
logs_say "$S" 2 listening
SIP=$(ip_of "$S") SID=$(id_of "$S")
run "$C" "for i in 1 2 3; do /flowpeer tcp-client $SIP 8080 1000 2345 || exit 1; done;
	i=0; while [ \$i -lt 20 ]; do /flowpeer tcp-client $SIP 9000 10 0 || exit 1; i=\$((i + 1)); done;
	echo exchanges-done; sleep 600"
logs_say "$C" 1 exchanges-done
CID=$(id_of "$C")
echo "${SECONDS}s: exchanges done (client $CID on $NA, server $SID at $SIP on $NB)"

FROM="w:default/$NA/$CID" TO="w:default/$NB/$SID"
# edge PORT: the cross-node edge's "connections bytes_out bytes_in", or nothing
edge() {
	api "/api/v1/servicemap?since=1h" | jq -r --arg f "$FROM" --arg t "$TO" --argjson p "$1" \
		'.edges[] | select(.from == $f and .to == $t and .port == $p) | "\(.connections) \(.bytes_out) \(.bytes_in)"'
}
# wait_edges: until both edges have their full counts (bounded, 90 s: flushes every 5 s)
wait_edges() {
	local i
	for ((i = 0; i < 450; i++)); do
		[ "$(edge 8080)" = "3 3000 7035" ] && [ "$(edge 9000)" = "20 200 0" ] && return 0
		sleep 0.2
	done
	return 1
}
wait_edges || it_fail "no cross-node edges with exact counts: 8080 '$(edge 8080)', 9000 '$(edge 9000)'; map: $(api '/api/v1/servicemap?since=1h' | head -c 3000)"
api "/api/v1/servicemap?since=1h" >"$T/map.json"
[ "$(cat "$T/code")" = 200 ] || it_fail "servicemap: $(cat "$T/code")"
jq -e --arg f "$FROM" --arg t "$TO" --arg c "$C" --arg s "$S" --arg na "$NA" --arg nb "$NB" '
	(.nodes[] | select(.id == $f) | .kind == "workload" and .node == $na and .label == $c and .alerts == 3) and
	(.nodes[] | select(.id == $t) | .kind == "workload" and .node == $nb and .label == $s) and
	([.edges[] | select(.from == $f and .to == $t)] | length == 2) and
	([.edges[] | .proto] | all(. == "tcp"))' "$T/map.json" >/dev/null ||
	it_fail "the map's nodes or edges: $(cat "$T/map.json")"
echo "${SECONDS}s: map: $(jq -c '[.nodes[] | [.label, .node, .alerts]], [.edges[] | [.port, .connections]]' "$T/map.json")"
api /metrics >/dev/null
grep -q '^vigil_hub_flow_messages_total [1-9]' "$T/body" && grep -q '^vigil_hub_flow_rows_total [1-9]' "$T/body" ||
	it_fail "metrics: $(grep -E 'flow' "$T/body")"

# --- vigil flows --hub: the peer resolved to the other node; DOT and SVG ---------
HUBARGS=(--hub "https://127.0.0.1:$HPORT" --token-file "$T/tokens" --ca "$T/ca.pem")
"$VIGIL" flows "${HUBARGS[@]}" --since 1h --json >"$T/flows.json" 2>"$T/flows.err" ||
	it_fail "vigil flows --hub: $(cat "$T/flows.err")"
jq -se --arg na "$NA" --arg nb "$NB" --arg sid "$SID" --arg sip "$SIP" '
	[.[] | select(.node == $na and .port == 8080 and .direction == "out")] | length == 1 and
	(.[0].peer.node == $nb and .[0].peer.container_id == $sid and .[0].peer.address == $sip and
	 .[0].connections == 3 and .[0].bytes_out == 3000 and .[0].bytes_in == 7035)' "$T/flows.json" >/dev/null ||
	it_fail "vigil flows --hub --json: $(cat "$T/flows.json")"
"$VIGIL" flows "${HUBARGS[@]}" --since 1h --node "$NB" >"$T/flows.txt" 2>&1 || it_fail "vigil flows --hub: $(cat "$T/flows.txt")"
grep -q "$S@$NB" "$T/flows.txt" || it_fail "the table lacks the server: $(cat "$T/flows.txt")"
grep -q "$C@$NA" "$T/flows.txt" && it_fail "--node $NB shows node $NA's rows: $(cat "$T/flows.txt")"
"$VIGIL" flows "${HUBARGS[@]}" --graph "$T/map.dot" --graph "$T/map.svg" 2>"$T/graph.err" ||
	it_fail "vigil flows --hub --graph: $(cat "$T/graph.err")"
grep -q "^digraph" "$T/map.dot" && grep -q "$C" "$T/map.dot" && grep -q "$S" "$T/map.dot" ||
	it_fail "DOT map: $(head -20 "$T/map.dot")"
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg")' \
	"$T/map.svg" || it_fail "the SVG map does not parse"
"$VIGIL" flows --hub "https://127.0.0.1:$HPORT" --token-file "$T/tokens" --ca "$T/ca.pem" --container x >/dev/null 2>&1
[ $? = 2 ] || it_fail "--hub with --container is not a usage error"

# --- bad input: queries, tokens, a malformed flows message ------------------------
for q in "since=yesterday" "limit=0" "limit=1001" "cursor=-1" "format=png" "colour=red" "cluster=a.b" \
	"since=1h&since=2h" "since=2h&until=3h" "node="; do
	api "/api/v1/flows?$q" >/dev/null
	case $q in format=*) api "/api/v1/servicemap?$q" >/dev/null ;; esac
	[ "$(cat "$T/code")" = 400 ] || it_fail "query '$q' got $(cat "$T/code"), not 400"
	jq -e '.error | length > 0' "$T/body" >/dev/null || it_fail "query '$q': no error message: $(cat "$T/body")"
done
for r in /api/v1/flows /api/v1/servicemap "/api/v1/servicemap?format=svg"; do
	code=$(curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$HPORT$r")
	[ "$code" = 401 ] || it_fail "$r without a token got $code, not 401"
done
# nats_pub SUBJECT NODE KIND MSGID SEQ FILE: one message with the contract's headers, as JetStream
# stores it (the PubAck printed); the wire protocol spoken directly, nothing else needed
nats_pub() {
	python3 - "${FL_PORT[s1]}" "$@" <<'PY'
import socket, sys, json
port, subj, node, kind, msgid, seq, path = sys.argv[1:]
body = open(path, "rb").read()
hdr = ("NATS/1.0\r\nNats-Msg-Id: %s\r\nVigil-Node: %s\r\nVigil-Cluster: default\r\nVigil-Kind: %s\r\n"
       "Vigil-Seq: %s\r\nVigil-Version: test\r\n\r\n" % (msgid, node, kind, seq)).encode()
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
f = s.makefile("rb")
f.readline()  # INFO
s.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.hf 1\r\n')
s.sendall(b"HPUB %s _INBOX.hf %d %d\r\n%s%s\r\nPING\r\n" % (subj.encode(), len(hdr), len(hdr) + len(body), hdr, body))
while True:
    line = f.readline()
    if not line:
        sys.exit("connection closed")
    if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
        n = int(line.split()[-1])
        data = f.read(n + 2)[:n]
        if line.startswith(b"HMSG"):
            data = data[int(line.split()[-2]):]
        print(data.decode())
        sys.exit(0 if b'"seq"' in data else 1)
    if line.startswith(b"-ERR"):
        sys.exit(line.decode())
PY
}
echo '{"uuid":"badflows0000000001","time":"2026-12-06T09:00:00Z","flows":[{"minute":61}]}' >"$T/bad.json"
nats_pub "vigil.default.$NA.flows" "$NA" flows badflows0000000001 1 "$T/bad.json" >/dev/null || it_fail "cannot publish"
for ((i = 0; i < 150; i++)); do
	api /api/v1/status | jq -e '.rejected.fields >= 1' >/dev/null && break
	sleep 0.2
done
api /api/v1/status | jq -e '.rejected.fields == 1 and .flows.consuming' >/dev/null ||
	it_fail "the malformed flows message was not refused: $(cat "$T/body")"

# --- NATS away: the flows wait in the agents' stores, then arrive, once --------------
fl_stop s1
vg_podman exec "$C" sh -c "/flowpeer tcp-client $SIP 8080 1000 2345 && /flowpeer tcp-client $SIP 8080 1000 2345" \
	>"$T/outage.out" 2>&1 || it_fail "connections during the outage: $(cat "$T/outage.out")"
# both agents flush (every 5 s) while the servers are away: their outboxes hold the rows
for n in $NA $NB; do
	for ((i = 0; i < 150; i++)); do
		left=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from flow_outbox").fetchone()[0])' "$T/$n.db" 2>/dev/null)
		[ "${left:-0}" -ge 1 ] && break
		sleep 0.2
	done
	[ "${left:-0}" -ge 1 ] || it_fail "node $n's flows outbox stayed empty while NATS was away"
done
fl_start s1
for ((i = 0; i < 450; i++)); do
	[ "$(edge 8080)" = "5 5000 11725" ] && break
	sleep 0.2
done
[ "$(edge 8080)" = "5 5000 11725" ] || it_fail "after the outage, 8080: '$(edge 8080)', not '5 5000 11725'"
echo "${SECONDS}s: 2 connections made while NATS was away arrived: $(edge 8080)"

# --- restarts: no double counting ---------------------------------------------------
before=$(api "/api/v1/servicemap?since=1h" | jq -c '.edges | sort_by(.from, .to, .port)')
stop_hub KILL
start_hub hf1$M
# the same durable resumes; then a second durable reads the whole stream into the same store
msgs=$(fl_count "$URL" VIGIL_FLOWS)
stop_hub TERM
start_hub hf2$M
for ((i = 0; i < 300; i++)); do
	d=$(api /api/v1/status | jq -r '.duplicates')
	[ "${d:-0}" -ge $((msgs - 1)) ] && break
	sleep 0.2
done
[ "${d:-0}" -ge $((msgs - 1)) ] || it_fail "the second durable read ${d:-0} of $msgs flows messages again"
after=$(api "/api/v1/servicemap?since=1h" | jq -c '.edges | sort_by(.from, .to, .port)')
[ "$before" = "$after" ] || it_fail "counts changed across a restart and a full redelivery: $before -> $after"
[ "$(edge 8080)" = "5 5000 11725" ] || it_fail "8080 after redelivery: $(edge 8080)"
echo "${SECONDS}s: $msgs flows messages delivered again, counts unchanged"

# --- retention: old rows go, in small batches, counted -------------------------------
old_min=$(( ($(date +%s) - 3 * 3600) / 60 * 60 ))
printf '{"time":"2026-12-06T09:00:00Z","flows":[{"minute":%d,"workload":{"container_id":"","container_name":null,"k8s_namespace":null,"k8s_pod":null},"local_addr":"10.250.0.1","direction":"out","proto":"udp","port":53,"peer":{"address":"10.250.0.2","name":"","container_id":"","container_name":null,"k8s_namespace":null,"k8s_pod":null},"connections":5,"bytes_in":1,"bytes_out":1,"packets_in":1,"packets_out":1}]}\n' \
	"$old_min" >"$T/old.json"
nats_pub "vigil.default.$NA.flows" "$NA" flows oldflows0000000001 999999 "$T/old.json" >/dev/null || it_fail "cannot publish the old flows"
printf '{"uuid":"oldalert0000000001","time":"%s","rule":"Old","priority":"Notice","output":"old"}\n' \
	"$(date -u -d @$((old_min)) +%Y-%m-%dT%H:%M:%SZ)" >"$T/oldalert.json"
nats_pub "vigil.default.$NA.alert" "$NA" alert oldalert0000000001 999999 "$T/oldalert.json" >/dev/null || it_fail "cannot publish the old alert"
for ((i = 0; i < 150; i++)); do
	[ "$(api "/api/v1/flows?since=4h&node=$NA" | jq '[.flows[] | select(.port == 53)] | length')" = 1 ] && break
	sleep 0.2
done
[ "$(api "/api/v1/flows?since=4h&node=$NA" | jq '[.flows[] | select(.port == 53)] | .[0].connections')" = 5 ] ||
	it_fail "the old flows row did not arrive: $(cat "$T/body")"
[ "$(api "/api/v1/alerts?rule=Old" | jq '.alerts | length')" = 1 ] || it_fail "the old alert did not arrive"
stop_hub TERM
# alerts go by when the hub received them: make the old one's receipt 3 h ago, as if the
# hub had held it that long (an alert of an old time received now is kept)
sqlite3 "$T/hub.db" "UPDATE alerts SET recv_ns = recv_ns - 3 * 3600 * 1000000000 WHERE rule = 'Old'" ||
	it_fail "cannot age the old alert's receipt"
"$VIGIL" hub --nats "$URL" --durable x --token-file "$T/tokens" --tls-cert "$T/hub.pem" --tls-key "$T/hub.key" \
	--retain 30s >/dev/null 2>"$T/retain.err"
[ $? = 2 ] && grep -q -- "--retain takes" "$T/retain.err" || it_fail "--retain 30s is not a usage error: $(cat "$T/retain.err")"
start_hub hf2$M --retain 1h
for ((i = 0; i < 150; i++)); do
	api /api/v1/status | jq -e '.retention.deleted.flows >= 1 and .retention.deleted.alerts >= 1' >/dev/null && break
	sleep 0.2
done
api /api/v1/status | jq -e '.retention.retain_s == 3600 and .retention.deleted.flows >= 1 and .retention.deleted.alerts >= 1' \
	>/dev/null || it_fail "retention did not run: $(cat "$T/body")"
[ "$(api "/api/v1/flows?since=4h&node=$NA" | jq '[.flows[] | select(.port == 53)] | length')" = 0 ] ||
	it_fail "the old flows row is still there: $(cat "$T/body")"
[ "$(api "/api/v1/alerts?rule=Old" | jq '.alerts | length')" = 0 ] || it_fail "the old alert is still there"
[ "$(edge 8080)" = "5 5000 11725" ] || it_fail "retention took recent rows: $(edge 8080)"
api /metrics >/dev/null
grep -q '^vigil_hub_retention_deleted_total{kind="flows"} [1-9]' "$T/body" &&
	grep -q '^vigil_hub_retention_seconds 3600' "$T/body" ||
	it_fail "metrics: $(grep -E 'retention|flow' "$T/body")"

# --- the agents stop cleanly, their flows' outboxes empty ---------------------------
for p in $AGENT_A $AGENT_B; do
	kill -TERM "$p"
	fl_wait_exit "$p" 30 || it_fail "an agent did not stop cleanly"
done
AGENT_A="" AGENT_B=""
for n in $NA $NB; do
	left=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from flow_outbox").fetchone()[0])' "$T/$n.db")
	[ "$left" = 0 ] || it_fail "node $n kept $left flows messages unpublished"
done
it_finish
