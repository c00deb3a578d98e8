#!/bin/bash
# test_fleet_hub.sh: `vigil hub` against a real nats-server (JetStream, on
# loopback, started here with its own port and directory). fleetgen poses as
# many nodes on the wire contract (docs/fleet.md). Checks: two hubs with their
# own durable consumers each hold every alert exactly once, in per-node order;
# a hub killed (SIGKILL) mid-stream and restarted resumes with no loss and no
# duplicate; redeliveries are no-ops; the bad-input list is counted, term-acked
# (nothing left pending) and the hub keeps running; the API: a token on every
# route (401), 404, 400s, paging bounds, filters, TLS; `vigil alerts --hub`
# prints what `vigil alerts` prints locally for the same alerts.
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
NATS_PID="" HUB_A="" HUB_B=""
cleanup() {
	local p
	for p in $HUB_A $HUB_B $NATS_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# --- NATS JetStream on loopback, ports chosen by the server ------------------
nats-server -js -a 127.0.0.1 -p -1 -m -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
NATS_PID=$!
for ((i = 0; i < 100; i++)); do
	NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	MPORT=$(sed -n 's/.*Starting http monitor on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	[ -n "$NPORT" ] && [ -n "$MPORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
	kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
	sleep 0.1
done
[ -n "$NPORT" ] || it_die "nats-server did not start: $(cat "$T/nats.log")"
NATS=nats://127.0.0.1:$NPORT
# the streams as docs/fleet.md describes them (`vigil fleet init` once it exists)
"$GEN" --nats "$NATS" --create-streams --nodes 1 >/dev/null || it_die "cannot create the streams"

# --- a CA, the hub's certificate, tokens --------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 1 -subj "/CN=vigil hub test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/hub.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/other.key" -out "$T/other.pem" \
	-days 1 -subj "/CN=another CA" >/dev/null 2>&1
TOKEN=$(openssl rand -hex 24)
RTOKEN=$(openssl rand -hex 24)
printf '# test tokens\n%s viewer alice\n%s responder bob\n' "$TOKEN" "$RTOKEN" >"$T/tokens"
chmod 600 "$T/tokens"

# start_hub NAME VAR: start a hub with durable NAME and store $T/NAME.db; sets
# VAR to its pid and PORT_<NAME> to its API port (bounded wait)
start_hub() {
	local name=$1 i port=""
	"$VIGIL" hub --nats "$NATS" --durable "$name" --store "$T/$name.db" --listen 127.0.0.1:0 \
		--tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --token-file "$T/tokens" --batch 64 \
		--silent-after 3 2>>"$T/$name.log" &
	printf -v "$2" '%s' $!
	for ((i = 0; i < 150; i++)); do
		port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/$name.log" | tail -1)
		[ -n "$port" ] && [ "$(grep -c "consuming as '$name'" "$T/$name.log")" -ge "$(grep -c 'listening on port' "$T/$name.log")" ] && break
		kill -0 "${!2}" 2>/dev/null || it_die "hub $name exited: $(cat "$T/$name.log")"
		sleep 0.1
	done
	grep -q "consuming as '$name'" "$T/$name.log" || it_die "hub $name did not start consuming: $(cat "$T/$name.log")"
	printf -v "PORT_$name" '%s' "$port"
}
# count NAME TABLE [WHERE]: rows in a hub's store
count() { sqlite3 "file:$T/$1.db?mode=ro" "SELECT count(*) FROM $2 ${3:-}" 2>/dev/null || echo -1; }
# wait_count NAME TABLE N: until the hub holds N rows (bounded, 60 s)
wait_count() {
	local i n
	for ((i = 0; i < 600; i++)); do
		n=$(count "$1" "$2")
		[ "$n" -ge "$3" ] && return 0
		sleep 0.1
	done
	it_fail "hub $1 holds $n $2, expected $3"
	return 1
}
api() { # NAME PATH [curl args]: body to stdout, status to $T/status
	local name=$1 path=$2 port
	shift 2
	port=$(eval echo "\$PORT_$name")
	curl -sS -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" "$@" "https://127.0.0.1:$port$path" >"$T/status" 2>"$T/curl.err"
	cat "$T/body"
}
status() { cat "$T/status"; }

start_hub hubA HUB_A
start_hub hubB HUB_B

# --- 1. two hubs each hold every alert exactly once -------------------------
"$GEN" --nats "$NATS" --nodes 50 --alerts 20 --actions 2 --losses 1 --heartbeats 1 --run one >"$T/gen1" ||
	it_fail "fleetgen: $(cat "$T/gen1")"
for h in hubA hubB; do
	wait_count $h alerts 1000
	wait_count $h actions 100
	wait_count $h losses 50
	[ "$(count $h alerts)" -eq 1000 ] || it_fail "$h holds $(count $h alerts) alerts, not 1000"
	[ "$(sqlite3 "file:$T/$h.db?mode=ro" 'SELECT count(DISTINCT uuid) FROM alerts')" -eq 1000 ] || it_fail "$h: duplicate uuids"
done

# --- 2. SIGKILL hub B while 20,000 alerts stream in; restart it -------------------
"$GEN" --nats "$NATS" --nodes 100 --prefix big --alerts 200 --run two --rate 8000 >"$T/gen2" 2>&1 &
GEN_PID=$!
for ((i = 0; i < 300; i++)); do
	[ "$(count hubB alerts)" -ge 3000 ] && break
	sleep 0.05
done
kill -KILL "$HUB_B"
wait "$HUB_B" 2>/dev/null
at_kill=$(count hubB alerts)
[ "$at_kill" -lt 21000 ] || it_fail "the stream was over before the kill ($at_kill): the restart proves nothing"
start_hub hubB HUB_B
wait "$GEN_PID" || it_fail "fleetgen (2): $(cat "$T/gen2")"
for h in hubA hubB; do
	wait_count $h alerts 21000
	n=$(count $h alerts)
	d=$(sqlite3 "file:$T/$h.db?mode=ro" 'SELECT count(DISTINCT uuid) FROM alerts')
	[ "$n" -eq 21000 ] && [ "$d" -eq 21000 ] || it_fail "$h after the restart: $n alerts, $d distinct, expected 21000"
	# per-node order: in arrival order each node's sequence grows by one. A hub killed with
	# a batch fetched but not acknowledged gets that batch again only after the consumer's
	# ack wait, behind newer ones: for the restarted hub B, arrival order is not node order,
	# so it is judged by its sequences (each node's 1..N, none missing, none twice)
	order=id
	[ "$h" = hubB ] && order=seq
	bad=$(sqlite3 "file:$T/$h.db?mode=ro" "SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY node ORDER BY $order) AS p FROM alerts) WHERE p IS NOT NULL AND seq <> p + 1")
	[ "$bad" -eq 0 ] || it_fail "$h: $bad alerts out of per-node order (by $order)"
done
echo "hub B killed with $at_kill alerts stored, restarted, holds $(count hubB alerts)"

# --- 3. redelivery is a no-op: the same records again, past JetStream's dedup --
"$GEN" --nats "$NATS" --nodes 50 --alerts 20 --run one --bypass-dedup >/dev/null || it_fail "fleetgen (3)"
for ((i = 0; i < 200; i++)); do
	dup=$(api hubA /api/v1/status -H "Authorization: Bearer $TOKEN" | jq .duplicates)
	[ "$dup" -ge 1000 ] && break
	sleep 0.1
done
[ "$dup" -eq 1000 ] || it_fail "hub A counted $dup duplicates, expected 1000"
[ "$(count hubA alerts)" -eq 21000 ] || it_fail "duplicates were stored: $(count hubA alerts)"

# --- 4. bad input ------------------------------------------------------------
"$GEN" --nats "$NATS" --bad --node intruder >"$T/gen4" || it_fail "fleetgen --bad: $(cat "$T/gen4")"
"$GEN" --nats "$NATS" --nodes 1 --prefix after-bad --alerts 5 --run four >/dev/null || it_fail "fleetgen (4b)"
wait_count hubA alerts 21005
for ((i = 0; i < 100; i++)); do
	api hubA /api/v1/status -H "Authorization: Bearer $TOKEN" >"$T/st"
	[ "$(jq '[.rejected[]] | add' "$T/st")" -ge 13 ] && break
	sleep 0.1
done
want='{"subject":0,"kind":1,"headers":2,"seq":1,"size":1,"json":3,"uuid":1,"fields":2,"count":2,"encoding":0}'
[ "$(jq -c .rejected "$T/st")" = "$want" ] || it_fail "rejections: $(jq -c .rejected "$T/st"), expected $want"
[ "$(count hubA alerts "WHERE node = 'intruder'")" -eq 0 ] || it_fail "a bad message was stored"
kill -0 "$HUB_A" || it_fail "hub A died on bad input"
grep -q 'refused a message: .*disagree with subject' "$T/hubA.log" || it_fail "no log line for a header mismatch"
# term-acked: nothing is waiting for an ack or a redelivery on either consumer
for ((i = 0; i < 100; i++)); do
	curl -s "http://127.0.0.1:$MPORT/jsz?consumers=true" >"$T/jsz"
	pend=$(jq '[.account_details[].stream_detail[].consumer_detail[] | select(.name=="hubA") | .num_ack_pending + .num_pending] | add' "$T/jsz")
	[ "$pend" = 0 ] && break
	sleep 0.1
done
[ "$pend" = 0 ] || it_fail "hub A's consumers still have $pend messages pending or unacknowledged"

# --- 5. the API ----------------------------------------------------------------
AUTH=(-H "Authorization: Bearer $TOKEN")
for route in /api/v1/alerts /api/v1/alerts/0123456789abcdef /api/v1/actions /api/v1/nodes /api/v1/losses \
	/api/v1/status /metrics /nope '/api/v1/alerts?limit=5000'; do
	api hubA "$route" >/dev/null
	[ "$(status)" = 401 ] || it_fail "$route without a token: $(status)"
	api hubA "$route" -H "Authorization: Bearer wrong-token-wrong-token" >/dev/null
	[ "$(status)" = 401 ] || it_fail "$route with a wrong token: $(status)"
	api hubA "$route" -H "Authorization: Basic $(printf 'a:%s' "$TOKEN" | base64 -w0)" >/dev/null
	[ "$(status)" = 401 ] || it_fail "$route with basic auth: $(status)"
done
api hubA /api/v1/nodes -H "Authorization: Bearer $RTOKEN" >/dev/null
[ "$(status)" = 200 ] || it_fail "the responder token is refused: $(status)"
api hubA /api/v1/nope "${AUTH[@]}" >/dev/null
[ "$(status)" = 404 ] || it_fail "unknown route: $(status)"
api hubA /api/v1/alerts/ffffffffffffffffffffffffffffffff "${AUTH[@]}" >/dev/null
[ "$(status)" = 404 ] || it_fail "unknown alert: $(status)"
api hubA /api/v1/alerts "${AUTH[@]}" -X POST >/dev/null
[ "$(status)" = 405 ] || it_fail "POST: $(status)"
for q in limit=0 limit=1001 limit=abc cursor=-1 cursor=x priority=bogus priority_at_most=loud since=yesterday \
	until=2026-13-01T00:00:00Z wat=1 'node=a.b' 'node=a&node=b' 'priority=debug&priority_at_most=critical' \
	'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z' limit=; do
	api hubA "/api/v1/alerts?$q" "${AUTH[@]}" >"$T/e"
	[ "$(status)" = 400 ] && jq -e '.error | length > 0' "$T/e" >/dev/null || it_fail "?$q: $(status) $(cat "$T/e")"
done
api hubA "/api/v1/losses?rule=x" "${AUTH[@]}" >/dev/null
[ "$(status)" = 400 ] || it_fail "a filter losses do not take: $(status)"
api hubA /api/v1/alerts/not.an.id "${AUTH[@]}" >/dev/null
[ "$(status)" = 400 ] || it_fail "a malformed alert id: $(status)"

# paging: limit 7 over one node's 200 alerts, every alert once, in order
node=big-00003
cursor="" got=0 pages=0
: >"$T/paged"
while :; do
	api hubA "/api/v1/alerts?node=$node&limit=7${cursor:+&cursor=$cursor}" "${AUTH[@]}" >"$T/page"
	[ "$(status)" = 200 ] || { it_fail "page $pages: $(status)"; break; }
	n=$(jq '.alerts | length' "$T/page")
	[ "$n" -le 7 ] || it_fail "a page of $n with limit 7"
	jq -r '.alerts[].uuid' "$T/page" >>"$T/paged"
	pages=$((pages + 1))
	cursor=$(jq -r '.next_cursor // empty' "$T/page")
	[ -n "$cursor" ] && [ "$pages" -lt 100 ] || break
done
want=$(count hubA alerts "WHERE node = '$node'")
[ "$(wc -l <"$T/paged")" -eq "$want" ] && [ "$(sort -u "$T/paged" | wc -l)" -eq "$want" ] ||
	it_fail "paging gave $(wc -l <"$T/paged") alerts ($(sort -u "$T/paged" | wc -l) distinct), expected $want"
[ "$pages" -eq $(((want + 6) / 7)) ] || it_fail "$pages pages for $want alerts at 7 a page"
api hubA "/api/v1/alerts" "${AUTH[@]}" >"$T/page"
[ "$(jq '.alerts | length' "$T/page")" -eq 100 ] || it_fail "the default page is not 100"
api hubA "/api/v1/alerts?limit=1000" "${AUTH[@]}" >"$T/page"
[ "$(jq '.alerts | length' "$T/page")" -eq 1000 ] || it_fail "limit=1000 is not honoured"
# one alert by its id
uuid=$(head -1 "$T/paged")
api hubA "/api/v1/alerts/$uuid" "${AUTH[@]}" >"$T/one"
[ "$(jq -r .alert.uuid "$T/one")" = "$uuid" ] && [ "$(jq -r .node "$T/one")" = "$node" ] || it_fail "GET alert by id: $(cat "$T/one")"

# filters: every answer matches, and as many as the store holds
check_filter() { # QUERY JQ_CONDITION SQL_WHERE
	api hubA "/api/v1/alerts?limit=1000&$1" "${AUTH[@]}" >"$T/f"
	[ "$(status)" = 200 ] || { it_fail "?$1: $(status) $(cat "$T/f")"; return; }
	local n bad want
	n=$(jq '.alerts | length' "$T/f")
	bad=$(jq "[.alerts[] | select(($2) | not)] | length" "$T/f")
	want=$(count hubA alerts "WHERE $3")
	[ "$want" -gt 1000 ] && want=1000
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$n" -eq "$want" ] || it_fail "?$1: $n alerts, $bad not matching, expected $want"
}
check_filter "node=node-00007&rule=Reverse%20shell" '.node=="node-00007" and .alert.rule=="Reverse shell"' "node='node-00007' AND rule='Reverse shell'"
check_filter "cluster=default&namespace=payments&node=node-00001" '.cluster=="default" and .alert.vigil.event.k8s.namespace=="payments"' "cluster='default' AND namespace='payments' AND node='node-00001'"
check_filter "pod=app-3-pod&node=node-00002" '.alert.vigil.event.k8s.pod=="app-3-pod"' "pod='app-3-pod' AND node='node-00002'"
check_filter "container=app-4&node=node-00009" '.alert.vigil.event.container.name=="app-4"' "container_name='app-4' AND node='node-00009'"
check_filter "container=abc000000005&node=node-00009" '.alert.vigil.event.container.id=="abc000000005"' "container_id='abc000000005' AND node='node-00009'"
check_filter "image=registry.local/app:2&node=node-00011" '.alert.vigil.event.container.image=="registry.local/app:2"' "image='registry.local/app:2' AND node='node-00011'"
check_filter "priority=critical&node=node-00012" '.alert.priority=="Critical"' "priority<=2 AND node='node-00012'"
check_filter "priority_at_most=warning&node=node-00012" '.alert.priority=="Warning" or .alert.priority=="Notice"' "priority>=4 AND node='node-00012'"
mid=$(sqlite3 "file:$T/hubA.db?mode=ro" "SELECT time_ns FROM alerts WHERE node='big-00013' ORDER BY id LIMIT 1 OFFSET 100")
check_filter "node=big-00013&since=$mid" '.node=="big-00013"' "node='big-00013' AND time_ns >= $mid"
check_filter "node=big-00013&until=$mid" '.node=="big-00013"' "node='big-00013' AND time_ns < $mid"
iso=$(date -u -d "@$((mid / 1000000000))" +%Y-%m-%dT%H:%M:%SZ)
check_filter "node=big-00013&since=$iso" '.node=="big-00013"' "node='big-00013' AND time_ns >= $(((mid / 1000000000) * 1000000000))"
api hubA "/api/v1/actions?node=node-00004&limit=1000" "${AUTH[@]}" >"$T/act"
[ "$(jq '[.actions[] | select(.node=="node-00004" and .action.action=="kill")] | length' "$T/act")" -eq 2 ] || it_fail "actions of a node: $(head -c 500 "$T/act")"
api hubA "/api/v1/losses?node=node-00004" "${AUTH[@]}" >"$T/loss"
[ "$(jq '.losses | length' "$T/loss")" -eq 1 ] && [ "$(jq '.losses[0].loss.count' "$T/loss")" -gt 0 ] || it_fail "losses of a node: $(cat "$T/loss")"
# nodes: heartbeats, health, counters
api hubA /api/v1/nodes "${AUTH[@]}" >"$T/nodes"
jq -e '.nodes[] | select(.node=="node-00004") | .health=="ok" or .health=="silent"' "$T/nodes" >/dev/null || it_fail "node-00004 is not listed: $(head -c 400 "$T/nodes")"
jq -e '.nodes[] | select(.node=="node-00004") | .version=="0.1.0" and (.rules_digest|startswith("sha256:")) and .alerts==20 and .actions==2 and .loss_records==1 and .seq_gaps==0 and .seq_out_of_order==0 and .events_per_s > 0 and .outbox_depth != null' "$T/nodes" >/dev/null ||
	it_fail "node-00004: $(jq -c '.nodes[] | select(.node=="node-00004")' "$T/nodes")"
# a node that stops sending heartbeats turns silent (--silent-after 3 here)
for ((i = 0; i < 100; i++)); do
	api hubA /api/v1/nodes "${AUTH[@]}" >"$T/nodes"
	jq -e '.nodes[] | select(.node=="node-00004") | .health=="silent"' "$T/nodes" >/dev/null && break
	sleep 0.1
done
jq -e '.nodes[] | select(.node=="node-00004") | .health=="silent"' "$T/nodes" >/dev/null || it_fail "node-00004 never turned silent"
"$GEN" --nats "$NATS" --nodes 1 --prefix node --heartbeats 1 --seq-start 50 --run one >/dev/null
for ((i = 0; i < 100; i++)); do
	api hubA /api/v1/nodes "${AUTH[@]}" >"$T/nodes"
	jq -e '.nodes[] | select(.node=="node-00000") | .health=="ok"' "$T/nodes" >/dev/null && break
	sleep 0.1
done
jq -e '.nodes[] | select(.node=="node-00000") | .health=="ok"' "$T/nodes" >/dev/null || it_fail "a fresh heartbeat did not make node-00000 ok"
# a gap in a node's sequence is counted, not dropped
"$GEN" --nats "$NATS" --nodes 1 --prefix gappy --alerts 3 --run five >/dev/null
"$GEN" --nats "$NATS" --nodes 1 --prefix gappy --alerts 2 --seq-start 10 --run five >/dev/null
wait_count hubA alerts 21010
api hubA /api/v1/nodes "${AUTH[@]}" >"$T/nodes"
jq -e '.nodes[] | select(.node=="gappy-00000") | .alerts==5 and .seq_gaps==6' "$T/nodes" >/dev/null || it_fail "gap not counted: $(jq -c '.nodes[] | select(.node=="gappy-00000")' "$T/nodes")"
api hubA /metrics "${AUTH[@]}" >"$T/metrics"
grep -q '^vigil_hub_node_seq_gaps_total{cluster="default",node="gappy-00000"} 6$' "$T/metrics" &&
	grep -q '^vigil_hub_rejected_total{reason="headers"} 2$' "$T/metrics" &&
	grep -q '^vigil_hub_ingested_total{kind="alert"} 21010$' "$T/metrics" || it_fail "metrics: $(grep -c . "$T/metrics") lines, $(grep gappy "$T/metrics")"
# TLS: plain HTTP is refused; a client that trusts another CA refuses the hub
port=$PORT_hubA
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/api/v1/nodes" -H "Authorization: Bearer $TOKEN" && it_fail "plain HTTP was answered"
curl -s -o /dev/null --max-time 5 --cacert "$T/other.pem" "https://127.0.0.1:$port/api/v1/nodes" && it_fail "a certificate from another CA was accepted"
curl -s -o /dev/null --max-time 5 --tls-max 1.1 --cacert "$T/ca.pem" "https://127.0.0.1:$port/api/v1/nodes" -H "Authorization: Bearer $TOKEN" &&
	it_fail "TLS 1.1 was accepted"

# --- 6. vigil alerts/actions --hub print what the local store prints ----------
"$BUILD/tests/mkcapture" "$T/fixture.vcap" || it_die "mkcapture failed (make tests)"
"$VIGIL" replay --default-rules --store "$T/local.db" "$T/fixture.vcap" >/dev/null 2>"$T/replay.err" || it_fail "replay: $(cat "$T/replay.err")"
"$VIGIL" alerts --store "$T/local.db" --json >"$T/local.jsonl"
[ -s "$T/local.jsonl" ] || it_fail "the fixture raised no alert"
"$GEN" --nats "$NATS" --from "$T/local.jsonl" --node replayed --run six >/dev/null || it_fail "fleetgen --from"
wait_count hubA alerts "$((21010 + $(wc -l <"$T/local.jsonl")))"
H=(--hub "https://127.0.0.1:$PORT_hubA" --token-file "$T/tokens" --ca "$T/ca.pem" --node replayed)
for args in "--json" "" "--json --priority critical" "--rule x" "--limit 1" "--json --container web" "--container host"; do
	# shellcheck disable=SC2086
	"$VIGIL" alerts --store "$T/local.db" $args >"$T/l" 2>&1
	# shellcheck disable=SC2086
	"$VIGIL" alerts "${H[@]}" $args >"$T/h" 2>&1 || it_fail "vigil alerts --hub $args: $(cat "$T/h")"
	cmp -s "$T/l" "$T/h" || it_fail "vigil alerts $args: local and --hub differ: $(diff "$T/l" "$T/h" | head -5)"
done
[ "$("$VIGIL" alerts "${H[@]}" --json | wc -l)" -gt 0 ] || it_fail "vigil alerts --hub printed nothing"
"$VIGIL" alerts --hub "https://127.0.0.1:$PORT_hubA" --token-file "$T/tokens" --ca "$T/ca.pem" --limit 2500 --json >"$T/many"
[ "$(wc -l <"$T/many")" -eq 2500 ] || it_fail "--limit 2500 over pages gave $(wc -l <"$T/many")"
"$VIGIL" actions --hub "https://127.0.0.1:$PORT_hubA" --token-file "$T/tokens" --ca "$T/ca.pem" --node node-00004 >"$T/acts"
[ "$(wc -l <"$T/acts")" -eq 2 ] && grep -q ' kill     done ' "$T/acts" || it_fail "vigil actions --hub: $(cat "$T/acts")"
printf 'not-the-token-at-all-x viewer\n' >"$T/wrong"
"$VIGIL" alerts --hub "https://127.0.0.1:$PORT_hubA" --token-file "$T/wrong" --ca "$T/ca.pem" >/dev/null 2>"$T/e"
[ $? -eq 1 ] && grep -q 'answered 401' "$T/e" || it_fail "a wrong token: $(cat "$T/e")"
"$VIGIL" alerts --hub "https://127.0.0.1:$PORT_hubA" --token-file "$T/tokens" >/dev/null 2>"$T/e"
[ $? -eq 1 ] || it_fail "an untrusted hub certificate was accepted"
"$VIGIL" alerts --node x >/dev/null 2>&1
[ $? -eq 2 ] || it_fail "--node without --hub is not a usage error"

# --- a clean stop commits and acknowledges what it holds --------------------------
kill -TERM "$HUB_A"
wait "$HUB_A"
rc=$?
HUB_A=""
[ "$rc" -eq 0 ] || it_fail "hub A stopped with $rc: $(tail -5 "$T/hubA.log")"
it_finish
