#!/bin/bash
# test_fleet_commands.sh: response commands from a hub to a node's agent
# (docs/fleet.md, "Response commands"; docs/hub.md). Real things: a nats-server
# (loopback, this run's port) with the permissions docs/fleet.md recommends, a
# live `vigil run --nats` agent isolating and freezing real podman containers,
# a hub with a viewer and a responder token. Checks: a viewer's release is
# refused (403) and the container stays cut off; another node's user cannot
# publish a command (Publish Violation); malformed bodies 400, an unknown node
# 404; the responder's release gives the network back (a real connection);
# a second release is not_isolated; a stale and a replayed command are refused
# by the agent; the released container is isolated again by its next alert
# (the agent forgets what a command undid); thaw through `vigil respond thaw
# --hub` resumes a frozen container; the undo actions reach the hub's
# /api/v1/actions; the hub's log of commands (GET /api/v1/commands, paged);
# agent stopped -> 504; NATS down -> 503.
# shellcheck disable=SC2015,SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
for t in nats-server openssl curl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
TOOL=$BUILD/tests/fleet_tool
[ -x "$TOOL" ] || it_die "$TOOL not built (make tests)"
it_need_podman
M=$$
NET=vgcmd-$M A=vgcmd-$M-a B=vgcmd-$M-b F=vgcmd-$M-f
AGENT="" HUB="" NATS_PID=""
cleanup() {
	local p
	for p in $AGENT $HUB $NATS_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# a container left isolated must not outlive the test
	[ -n "${IT_TMP:-}" ] && [ -f "$IT_TMP/db" ] && "$VIGIL" respond release "$A" --store "$IT_TMP/db" >/dev/null 2>&1
	vg_podman rm -f "$A" "$B" "$F" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# --- NATS with per-user permissions ------------------------------------------
PA=$(openssl rand -hex 12) PB=$(openssl rand -hex 12) PH=$(openssl rand -hex 12) PADM=$(openssl rand -hex 12)
cat >"$T/nats.conf" <<CONF
listen: 127.0.0.1:-1
jetstream { store_dir: "$T/js" }
accounts {
  VIGIL {
    jetstream: enabled
    users: [
      # a node: publishes on its own subjects but never a command; takes its own commands
      # and answers them (allow_responses: replies to the requests it received, within a
      # minute; an evidence bundle is a reply and its parts: docs/fleet.md "Evidence")
      { user: node-a, password: "$PA",
        permissions: { publish: { allow: ["vigil.prod.node-a.>"], deny: ["vigil.*.*.cmd"] },
                       subscribe: { allow: ["_INBOX.>", "vigil.prod.node-a.cmd"] },
                       allow_responses: { max: 100, expires: "1m" } } }
      { user: node-b, password: "$PB",
        permissions: { publish: { allow: ["vigil.prod.node-b.>"], deny: ["vigil.*.*.cmd"] },
                       subscribe: { allow: ["_INBOX.>", "vigil.prod.node-b.cmd"] },
                       allow_responses: true } }
      # a hub: its consumers, their acks, and commands to any node
      { user: hub, password: "$PH",
        permissions: {
          publish: { allow: ["\$JS.API.CONSUMER.DURABLE.CREATE.VIGIL_ALERTS.hub1",
                             "\$JS.API.CONSUMER.DURABLE.CREATE.VIGIL_HEARTBEATS.hub1",
                             "\$JS.API.CONSUMER.INFO.VIGIL_ALERTS.hub1", "\$JS.API.CONSUMER.INFO.VIGIL_HEARTBEATS.hub1",
                             "\$JS.API.CONSUMER.MSG.NEXT.VIGIL_ALERTS.hub1",
                             "\$JS.API.CONSUMER.MSG.NEXT.VIGIL_HEARTBEATS.hub1",
                             "\$JS.ACK.VIGIL_ALERTS.hub1.>", "\$JS.ACK.VIGIL_HEARTBEATS.hub1.>",
                             "vigil.*.*.cmd"] },
          subscribe: { allow: ["_INBOX.>"] } } }
      { user: admin, password: "$PADM" }
    ]
  }
}
CONF
nats-server -c "$T/nats.conf" >"$T/nats.log" 2>&1 &
NATS_PID=$!
PORT=""
for ((i = 0; i < 300; i++)); do
	PORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log")
	[ -n "$PORT" ] && grep -q 'Server is ready' "$T/nats.log" && break
	kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
	sleep 0.1
done
[ -n "$PORT" ] || it_die "nats-server did not start"
ADMIN=nats://admin:$PADM@127.0.0.1:$PORT
for ((i = 0; i < 30; i++)); do
	"$VIGIL" fleet init --nats "$ADMIN" >"$T/init.out" 2>&1 && break
	sleep 1
done
grep -q VIGIL_ALERTS "$T/init.out" || it_die "vigil fleet init failed: $(cat "$T/init.out")"

# --- the hub: TLS, a viewer and a responder ------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/hub.key" -out "$T/hub.pem" \
	-days 1 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || it_die "openssl failed"
VTOKEN=$(openssl rand -hex 24) RTOKEN=$(openssl rand -hex 24)
printf '%s viewer alice\n%s responder oncall\n' "$VTOKEN" "$RTOKEN" >"$T/tokens"
printf '%s responder\n' "$RTOKEN" >"$T/rtoken"
chmod 600 "$T/tokens" "$T/rtoken"
"$VIGIL" hub --nats "nats://hub:$PH@127.0.0.1:$PORT" --durable hub1 --store "$T/hub.db" --listen 127.0.0.1:0 \
	--tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --token-file "$T/tokens" 2>"$T/hub.log" &
HUB=$!
for ((i = 0; i < 300; i++)); do
	grep -q "consuming as 'hub1'" "$T/hub.log" && break
	kill -0 "$HUB" 2>/dev/null || it_die "the hub exited: $(cat "$T/hub.log")"
	sleep 0.1
done
grep -q "consuming as 'hub1'" "$T/hub.log" || it_die "the hub did not start consuming: $(cat "$T/hub.log")"
HPORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/hub.log" | tail -1)
# api METHOD PATH TOKEN [BODY]: the body to stdout, the status to $T/status
api() {
	local args=(-sS -o "$T/body" -w '%{http_code}' --cacert "$T/hub.pem" -X "$1" -H "Authorization: Bearer $3")
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl "${args[@]}" "https://127.0.0.1:$HPORT$2" >"$T/status" 2>"$T/curl.err"
	cat "$T/body"
}
st() { cat "$T/status"; }
cmd() { # TOKEN COMMAND CONTAINER [NODE]: POST /api/v1/commands
	api POST /api/v1/commands "$1" "{\"cluster\":\"prod\",\"node\":\"${4:-node-a}\",\"command\":\"$2\",\"container\":\"$3\"}"
}

# --- the agent: isolate and freeze on trigger files -----------------------------
cat >"$T/rules.yaml" <<EOR
- rule: Isolate on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/isolate-me-$M and container.id != host
  output: isolating %container.name
  priority: CRITICAL
  actions: [isolate]
- rule: Freeze on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/freeze-me-$M and container.id != host
  output: freezing %container.name
  priority: CRITICAL
  actions: [freeze]
- rule: Capture on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/capture-me-$M and container.id != host
  output: capturing %container.name
  priority: CRITICAL
  actions: [capture]
EOR
podman network create "$NET" >/dev/null || it_skip "cannot create a podman network"
vg_podman run -d --name "$B" --network "$NET" "$IT_IMAGE" sh -c 'mkdir -p /w && echo hi >/w/index.html && httpd -f -p 8080 -h /w' >/dev/null ||
	it_die "cannot start the server container"
BIP=$(podman inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$B")
"$VIGIL" run --rules "$T/rules.yaml" --store "$T/db" --duration 300 --nats "nats://node-a:$PA@127.0.0.1:$PORT" \
	--node node-a --cluster prod --evidence-dir "$T/evidence" >/dev/null 2>"$T/agent.err" &
AGENT=$!
it_agent_ready "$AGENT" "$T/agent.err"
for ((i = 0; i < 300; i++)); do
	grep -q 'answering response commands on vigil.prod.node-a.cmd' "$T/agent.err" && break
	sleep 0.1
done
grep -q 'answering response commands' "$T/agent.err" || it_die "the agent does not answer commands: $(cat "$T/agent.err")"
# the hub knows the node once its first heartbeat is stored
for ((i = 0; i < 300; i++)); do
	[ "$(sqlite3 "file:$T/hub.db?mode=ro" "SELECT count(*) FROM nodes WHERE node = 'node-a'" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
[ "$(sqlite3 "file:$T/hub.db?mode=ro" "SELECT count(*) FROM nodes WHERE node = 'node-a'")" = 1 ] ||
	it_die "the hub never saw node-a: $(tail -5 "$T/hub.log")"

# the client: tries the server every 0.3 s and says up or down; trips the isolation after 5 tries
vg_podman run -d --name "$A" --network "$NET" "$IT_IMAGE" sh -c "
	i=0
	while [ ! -e /tmp/stop ] && [ \$i -lt 600 ]; do
		if nc -w 1 $BIP 8080 </dev/null >/dev/null 2>&1; then echo up; else echo down; fi
		i=\$((i + 1)); [ \$i = 5 ] && touch /tmp/isolate-me-$M
		sleep 0.3
	done" >/dev/null || it_die "cannot start the client container"
client_saw() { # PATTERN: bounded (30 s) until the client's lines, repeats folded, match
	local i
	for ((i = 0; i < 150; i++)); do
		LOG=$(podman logs "$A" 2>/dev/null | uniq | paste -sd ' ')
		# shellcheck disable=SC2254
		case $LOG in $1) return 0 ;; esac
		sleep 0.2
	done
	return 1
}
reach() { vg_podman exec "$A" sh -c "nc -w 2 $BIP 8080 </dev/null >/dev/null 2>&1 && echo yes || echo no"; }
client_saw "up*down" || it_die "the client was never isolated: $LOG; $(tail -5 "$T/agent.err")"
[ "$(reach)" = no ] || it_fail "the isolated client still connects"

# --- refused: a viewer, malformed bodies, an unknown node, another node's user ---
cmd "$VTOKEN" release "$A" >/dev/null
[ "$(st)" = 403 ] || it_fail "a viewer's release: $(st) $(cat "$T/body")"
for body in '{"node":"node-a","command":"release","container":"x","extra":1}' \
	'{"node":"node-a","command":"kill","container":"x"}' '{"node":"node-a","command":"release","container":"web*"}' \
	'{"node":"a.b","command":"release","container":"x"}' '{"command":"release","container":"x"}' 'not json' \
	'{"node":"node-a","node":"node-a","command":"release","container":"x"}'; do
	api POST /api/v1/commands "$RTOKEN" "$body" >/dev/null
	[ "$(st)" = 400 ] || it_fail "malformed body $body: $(st) $(cat "$T/body")"
done
cmd "$RTOKEN" release "$A" node-zz >/dev/null
[ "$(st)" = 404 ] || it_fail "an unknown node: $(st) $(cat "$T/body")"
now=$(date +%s%N)
fresh="{\"id\":\"nodeb$(openssl rand -hex 12)\",\"time_ns\":$now,\"cluster\":\"prod\",\"node\":\"node-a\",\"command\":\"release\",\"container\":\"$A\"}"
"$TOOL" request "nats://node-b:$PB@127.0.0.1:$PORT" vigil.prod.node-a.cmd "$fresh" >"$T/nodeb.out" 2>&1 &&
	it_fail "node-b's user sent node-a a command: $(cat "$T/nodeb.out")"
grep -q 'Publish Violation - User "node-b", Subject "vigil.prod.node-a.cmd"' "$T/nats.log" ||
	it_fail "the server did not refuse node-b's command: $(tail -3 "$T/nats.log")"
[ "$(reach)" = no ] || it_fail "the client connects after refused commands"
echo "ok   refused: viewer 403, malformed 400, unknown node 404, another node's user (Publish Violation)"

# --- the responder releases -----------------------------------------------------
out=$(cmd "$RTOKEN" release "$A")
[ "$(st)" = 200 ] && [ "$(echo "$out" | jq -r .outcome)" = ok ] && [ "$(echo "$out" | jq -r .node)" = node-a ] ||
	it_fail "the responder's release: $(st) $out"
[ "$(reach)" = yes ] || it_fail "the released client cannot connect"
client_saw "up*down*up*" || it_fail "the client did not come back: $LOG"
out=$(cmd "$RTOKEN" release "$A")
[ "$(st)" = 200 ] && [ "$(echo "$out" | jq -r .outcome)" = not_isolated ] || it_fail "a second release: $(st) $out"
out=$(cmd "$RTOKEN" thaw "$A")
[ "$(echo "$out" | jq -r .outcome)" = not_found ] || it_fail "thaw of a container never frozen: $out"
echo "ok   released through the hub: the client connects again; again: not_isolated"

# --- stale and replayed commands, sent straight to the node (the operator's user) -
old=$(($(date +%s%N) - 120000000000))
stale="{\"id\":\"stale$(openssl rand -hex 12)\",\"time_ns\":$old,\"cluster\":\"prod\",\"node\":\"node-a\",\"command\":\"release\",\"container\":\"$A\"}"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-a.cmd "$stale")
[ "$(echo "$out" | jq -r .outcome)" = stale ] || it_fail "a stale command: $out"
now=$(date +%s%N)
again="{\"id\":\"again$(openssl rand -hex 12)\",\"time_ns\":$now,\"cluster\":\"prod\",\"node\":\"node-a\",\"command\":\"release\",\"container\":\"$A\"}"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-a.cmd "$again")
[ "$(echo "$out" | jq -r .outcome)" = not_isolated ] || it_fail "a fresh command: $out"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-a.cmd "$again")
[ "$(echo "$out" | jq -r .outcome)" = replayed ] || it_fail "a replayed command: $out"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-b.cmd "$again" 2>&1) && it_fail "node-b answered without an agent: $out"
other="{\"id\":\"other$(openssl rand -hex 12)\",\"time_ns\":$now,\"cluster\":\"prod\",\"node\":\"node-b\",\"command\":\"release\",\"container\":\"$A\"}"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-a.cmd "$other")
[ "$(echo "$out" | jq -r .outcome)" = invalid ] || it_fail "a command for another node: $out"
out=$("$TOOL" request "$ADMIN" vigil.prod.node-a.cmd '{"id":"x"}')
[ "$(echo "$out" | jq -r .outcome)" = invalid ] || it_fail "a malformed command: $out"
echo "ok   the agent refuses stale, replayed, misaddressed and malformed commands"

# --- released, the container is isolated again when it trips the rule again ---------
# (an open: busybox touch of a file that exists only sets its times)
vg_podman exec "$A" sh -c "echo again >/tmp/isolate-me-$M" >/dev/null 2>&1 || it_fail "cannot exec in the client"
for ((i = 0; i < 100; i++)); do
	[ "$(reach)" = no ] && break
	sleep 0.2
done
[ "$(reach)" = no ] || it_fail "the released container was not isolated again: $(tail -3 "$T/agent.err")"
out=$(cmd "$RTOKEN" release "$A")
[ "$(echo "$out" | jq -r .outcome)" = ok ] || it_fail "the second isolation's release: $(st) $out"
[ "$(reach)" = yes ] || it_fail "the client cannot connect after the second release"
echo "ok   a released container is isolated again by the next alert, and released again"

# --- freeze, then thaw with vigil respond --hub ---------------------------------------
vg_podman run -d --name "$F" "$IT_IMAGE" sh -c "touch /tmp/freeze-me-$M; while :; do :; done" >/dev/null ||
	it_die "cannot start the busy container"
CG=$(awk -F: '$1 == "0" { print $3 }' "/proc/$(podman inspect -f '{{.State.Pid}}' "$F")/cgroup")
CG2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
usage() { awk '$1 == "usage_usec" { print $2 }' "$CG2$CG/cpu.stat"; }
for ((i = 0; i < 300; i++)); do
	grep -qx 'frozen 1' "$CG2$CG/cgroup.events" 2>/dev/null && break
	sleep 0.1
done
grep -qx 'frozen 1' "$CG2$CG/cgroup.events" || it_die "the container was never frozen: $(tail -5 "$T/agent.err")"
"$VIGIL" respond thaw "$F" --hub "https://127.0.0.1:$HPORT" --node node-a --cluster prod --token-file "$T/tokens" \
	--ca "$T/hub.pem" >"$T/thaw.out" 2>&1 && it_fail "the viewer's token (first in the file) thawed: $(cat "$T/thaw.out")"
grep -q 'answered 403' "$T/thaw.out" || it_fail "the viewer's thaw: $(cat "$T/thaw.out")"
grep -qx 'frozen 1' "$CG2$CG/cgroup.events" || it_fail "a viewer's refused thaw thawed"
"$VIGIL" respond thaw "$F" --hub "https://127.0.0.1:$HPORT" --node node-a --cluster prod --token-file "$T/rtoken" \
	--ca "$T/hub.pem" >"$T/thaw.out" 2>&1 || it_fail "vigil respond thaw --hub: $(cat "$T/thaw.out")"
grep -q "^thawed on node node-a: " "$T/thaw.out" || it_fail "thaw said: $(cat "$T/thaw.out")"
u1=$(usage)
for ((i = 0; i < 100; i++)); do
	u2=$(usage)
	[ "$u2" -gt $((u1 + 100000)) ] && break
	sleep 0.1
done
[ "$u2" -gt $((u1 + 100000)) ] || it_fail "the thawed container does not run: $u1 -> $u2 usec"
"$VIGIL" respond thaw "$F" --hub "https://127.0.0.1:$HPORT" --node node-a --token-file "$T/rtoken" \
	--ca "$T/hub.pem" >"$T/thaw.out" 2>&1 && it_fail "a thaw in cluster 'default' worked"
grep -q 'answered 404' "$T/thaw.out" || it_fail "a thaw of an unknown node-a/default: $(cat "$T/thaw.out")"
"$VIGIL" respond thaw "$F" --hub "https://127.0.0.1:$HPORT" --node node-a --cluster prod --token-file "$T/rtoken" \
	--ca "$T/hub.pem" >"$T/thaw.out" 2>&1 && it_fail "a second thaw succeeded"
grep -q 'not_frozen' "$T/thaw.out" || it_fail "a second thaw: $(cat "$T/thaw.out")"
echo "ok   thawed through vigil respond --hub: the container runs again"

# --- what the hub shows: the undo actions (through the node's outbox) and its log ------
for ((i = 0; i < 300; i++)); do
	n=$(api GET "/api/v1/actions?node=node-a" "$VTOKEN" | jq -r '[.actions[].action | select(.outcome == "done") | .action] | sort | join(" ")')
	[ "$n" = "freeze isolate isolate release release thaw" ] && break
	sleep 0.1
done
[ "$n" = "freeze isolate isolate release release thaw" ] || it_fail "the hub's done actions of node-a: '$n'"
d=$(api GET "/api/v1/actions?node=node-a&action=release" "$VTOKEN" | jq -r '.actions[].action | select(.outcome == "done") | .detail' | head -1)
case $d in *"lifted by the hub (oncall)"*"(command "*) ;; *) it_fail "the release's detail: $d" ;; esac
api GET /api/v1/commands "$VTOKEN" >"$T/cmds"
[ "$(st)" = 200 ] || it_fail "GET /api/v1/commands: $(st)"
n=$(jq -r '[.commands[] | "\(.who):\(.command):\(.status):\(.outcome)"] | join(" ")' "$T/cmds")
for want in alice:release:403:forbidden oncall:release:404:unknown_node oncall:release:200:ok \
	oncall:release:200:not_isolated oncall:thaw:200:not_found alice:thaw:403:forbidden oncall:thaw:200:ok \
	oncall:thaw:200:not_frozen; do
	case " $n " in *" $want "*) ;; *) it_fail "the hub's log has no $want: $n" ;; esac
done
uuid=$(jq -r '.commands[] | select(.outcome == "ok" and .command == "release") | .uuid' "$T/cmds" | head -1)
case $d in *"(command $uuid)"*) ;; *) it_fail "the node's record does not name the hub's command $uuid: $d" ;; esac
p1=$(api GET "/api/v1/commands?limit=2" "$VTOKEN")
cur=$(echo "$p1" | jq -r .next_cursor)
[ "$(echo "$p1" | jq '.commands | length')" = 2 ] && [ "$cur" != null ] || it_fail "paging: $p1"
p2=$(api GET "/api/v1/commands?limit=1000&cursor=$cur" "$VTOKEN")
[ $(($(echo "$p2" | jq '.commands | length') + 2)) = "$(jq '.commands | length' "$T/cmds")" ] &&
	[ "$(echo "$p2" | jq -r .next_cursor)" = null ] || it_fail "the second page: $p2"
api GET "/api/v1/commands?limit=0" "$VTOKEN" >/dev/null
[ "$(st)" = 400 ] || it_fail "limit=0: $(st)"
api GET "/api/v1/commands?bogus=1" "$VTOKEN" >/dev/null
[ "$(st)" = 400 ] || it_fail "an unknown parameter: $(st)"
api PUT /api/v1/commands "$RTOKEN" >/dev/null
[ "$(st)" = 405 ] || it_fail "PUT: $(st)"
api GET /api/v1/commands "wrong-token-0123456789" >/dev/null
[ "$(st)" = 401 ] || it_fail "no valid token: $(st)"
echo "ok   the hub shows the undo actions and logs every command (paged)"

# --- evidence: a capture's bundle downloaded through the hub, as the node wrote it ---------
vg_podman exec "$B" sh -c "echo x >/tmp/capture-me-$M" >/dev/null 2>&1 || it_fail "cannot exec in the server"
EV=""
for ((i = 0; i < 300; i++)); do
	EV=$(api GET "/api/v1/actions?node=node-a&action=capture" "$VTOKEN" |
		jq -r '.actions[] | select(.action.outcome == "done") | .uuid' | head -1)
	[ -n "$EV" ] && break
	sleep 0.1
done
[ -n "$EV" ] || it_die "no capture action reached the hub: $(tail -5 "$T/agent.err")"
curl -sS -o "$T/ev.tar" -D "$T/ev.hdr" -w '%{http_code}' --cacert "$T/hub.pem" -H "Authorization: Bearer $VTOKEN" \
	"https://127.0.0.1:$HPORT/api/v1/evidence/$EV" >"$T/status" 2>"$T/curl.err"
[ "$(st)" = 200 ] || it_fail "evidence download: $(st) $(head -c 300 "$T/ev.tar")"
grep -qi '^content-type: application/x-tar' "$T/ev.hdr" && grep -qi '^content-disposition: attachment; filename=".*\.tar"' "$T/ev.hdr" ||
	it_fail "evidence headers: $(cat "$T/ev.hdr")"
BUNDLE=$(tar -tf "$T/ev.tar" | head -1 | tr -d /)
[ -n "$BUNDLE" ] && [ -d "$T/evidence/$BUNDLE" ] || it_fail "the archive's bundle '$BUNDLE' is not the node's: $(ls "$T/evidence")"
mkdir -p "$T/ev"
tar -xf "$T/ev.tar" -C "$T/ev" || it_fail "the archive does not unpack"
for f in events.vcap manifest.json; do
	cmp -s "$T/ev/$BUNDLE/$f" "$T/evidence/$BUNDLE/$f" || it_fail "$f differs from the node's"
done
# the downloaded capture replays into the same alert, anywhere
"$VIGIL" replay "$T/ev/$BUNDLE/events.vcap" --rules "$T/rules.yaml" 2>/dev/null | grep -q "capturing $B" ||
	it_fail "the downloaded capture does not raise the alert again"
# not a capture: 409; no such action: 404; a malformed id: 400; no token: 401
iso=$(api GET "/api/v1/actions?node=node-a&action=isolate" "$VTOKEN" | jq -r '.actions[0].uuid')
api GET "/api/v1/evidence/$iso" "$VTOKEN" >/dev/null
[ "$(st)" = 409 ] || it_fail "evidence of an isolation: $(st) $(cat "$T/body")"
api GET "/api/v1/evidence/00000000000000000000000000000000" "$VTOKEN" >/dev/null
[ "$(st)" = 404 ] || it_fail "evidence of no action: $(st)"
api GET "/api/v1/evidence/..%2f..%2fetc" "$VTOKEN" >/dev/null
[ "$(st)" = 400 ] || it_fail "a malformed evidence id: $(st)"
[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/hub.pem" "https://127.0.0.1:$HPORT/api/v1/evidence/$EV")" = 401 ] ||
	it_fail "evidence without a token"
api GET "/api/v1/commands?limit=50" "$RTOKEN" | jq -e '[.commands[] | select(.command == "evidence" and .outcome == "ok" and .who == "alice")] | length == 1' >/dev/null ||
	it_fail "the download is not in the hub's log: $(cat "$T/body" | head -c 600)"
echo "ok   a capture's bundle downloaded through the hub ($(stat -c %s "$T/ev.tar") bytes), equal to the node's; replays"

# --- agent stopped: 504; NATS gone: 503 ----------------------------------------------
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$T/agent.err")"
AGENT=""
cmd "$RTOKEN" release "$A" >/dev/null
[ "$(st)" = 504 ] || it_fail "with the agent stopped: $(st) $(cat "$T/body")"
kill -TERM "$NATS_PID"
wait "$NATS_PID" 2>/dev/null
NATS_PID=""
for ((i = 0; i < 100; i++)); do
	cmd "$RTOKEN" release "$A" >/dev/null
	[ "$(st)" = 503 ] && break
	sleep 0.1
done
[ "$(st)" = 503 ] || it_fail "with NATS down: $(st) $(cat "$T/body")"
echo "ok   agent stopped: 504; NATS down: 503"
kill -0 "$HUB" || it_fail "the hub died"
vg_podman exec "$A" touch /tmp/stop >/dev/null 2>&1
it_finish
