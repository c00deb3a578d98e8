#!/bin/bash
# test_console_agent.sh: the web console served by a single agent (docs/console.md,
# "A single agent"): a live `vigil run --console 127.0.0.1:0` (BPF, no NATS) with a
# certificate and tokens made here. A process reads /etc/shadow and a test rule
# catches it: the API lists the alert with a token, 401 without; the console's
# files are served with their CSP; the alert stream delivers a new alert; a viewer
# gets 403 on ack and on a command, a responder acknowledges; the nodes page shows
# this one node; the agent's flow rollups reach the service map; the options'
# errors. With podman: a container isolated by its alert is released from the
# console's API, acting on this agent (its network comes back). With chromium:
# one browser check (tests/tools/console_browser.py --agent).
# shellcheck disable=SC2015
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
for t in openssl curl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
M=$$
AGENT="" SPID="" CT="" SRV="" NET=""
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	if [ -n "$AGENT" ]; then
		kill -KILL "$AGENT" 2>/dev/null
		wait "$AGENT" 2>/dev/null
	fi
	# a container left isolated must not outlive the test
	if [ -n "$CT" ]; then
		"$VIGIL" respond release "$CT" --store "$T/store.db" >/dev/null 2>&1
		vg_podman rm -f "$CT" "$SRV" >/dev/null 2>&1
		podman network rm "$NET" >/dev/null 2>&1
	fi
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# --- TLS and tokens --------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" \
	-days 1 -subj "/CN=vigil agent console test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/agent.key" -out "$T/agent.csr" \
	-subj "/CN=127.0.0.1" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/agent.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
	-extfile "$T/ext" -out "$T/agent.pem" >/dev/null 2>&1 || it_die "openssl: cannot sign the certificate"
VTOKEN=$(openssl rand -hex 24) RTOKEN=$(openssl rand -hex 24)
printf '%s viewer alice\n%s responder bob\n' "$VTOKEN" "$RTOKEN" >"$T/tokens"
chmod 600 "$T/tokens"

expect() { # WHAT WANT GOT
	[ "$2" = "$3" ] && echo "ok   $1 ($3)" || it_fail "$1: want $2, got $3"
}

# --- the options' errors (no agent is started by these) ----------------------------
CO=(--console-tls-cert "$T/agent.pem" --console-tls-key "$T/agent.key" --console-token-file "$T/tokens")
"$VIGIL" run --console 127.0.0.1:0 --console-token-file "$T/tokens" --store "$T/x.db" --duration 1 >/dev/null 2>"$T/e1"
expect "--console without a certificate is a usage error" 2 $?
grep -q 'HTTPS only' "$T/e1" || it_fail "the error does not say why: $(cat "$T/e1")"
"$VIGIL" run --console-token-file "$T/tokens" --store "$T/x.db" --duration 1 >/dev/null 2>"$T/e2"
expect "--console-* without --console" 2 $?
"$VIGIL" run --console 127.0.0.1:0 "${CO[@]}" --no-store --duration 1 >/dev/null 2>"$T/e3"
expect "--console with --no-store" 2 $?
"$VIGIL" run --console 127.0.0.1:0 "${CO[@]}" --nats nats://127.0.0.1:1 --store "$T/x.db" --duration 1 >/dev/null 2>"$T/e4"
expect "--console with --nats" 2 $?
"$VIGIL" run --console 127.0.0.1:0 --console-tls-cert "$T/agent.pem" --console-tls-key "$T/agent.key" \
	--console-token-file "$T/nope" --store "$T/x.db" --duration 1 >/dev/null 2>"$T/e5"
expect "an unreadable token file is an error at start" 1 $?
grep -q 'nope' "$T/e5" || it_fail "the error does not name the file: $(cat "$T/e5")"

# --- the agent ------------------------------------------------------------------
# the reader: cat under a name of this test's own (its comm), so that no other test's reads count
ln -s "$(command -v cat)" "$T/acon$M"
cat >"$T/rules.yaml" <<EOR
- rule: Agent console shadow read
  desc: test
  condition: evt.type in (open, openat) and fd.name = /etc/shadow and proc.name = acon$M
  output: shadow read by %proc.name (%proc.cmdline)
  priority: CRITICAL
  tags: [filesystem, mitre_credential_access]
- rule: Agent console isolate
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/aconsole-isolate-$M and container.id != host
  output: isolating %container.name
  priority: CRITICAL
  actions: [isolate]
- rule: Agent console capture
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/aconsole-capture-$M and container.id != host
  output: capturing %container.name
  priority: CRITICAL
  actions: [capture]
EOR
"$VIGIL" run --rules "$T/rules.yaml" --store "$T/store.db" --duration 300 --console 127.0.0.1:0 "${CO[@]}" \
	--evidence-dir "$T/evidence" \
	>"$T/agent.out" 2>"$T/agent.err" &
AGENT=$!
it_agent_ready "$AGENT" "$T/agent.err"
PORT=$(sed -n 's/.*console listening on port \([0-9]*\).*/\1/p' "$T/agent.err" | head -1)
[ -n "$PORT" ] || it_die "the agent did not say its console's port: $(cat "$T/agent.err")"
URL=https://127.0.0.1:$PORT
[ -f "$T/console.db" ] && echo "ok   the console's store is beside the agent's (console.db)" || it_fail "no $T/console.db"

code() { # METHOD PATH [TOKEN]: the HTTP status
	local auth=()
	[ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
	curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' -X "$1" "${auth[@]}" "$URL$2"
}
api() { # PATH [TOKEN]: the body
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer ${2:-$VTOKEN}" "$URL$1"
}
# wait_for SECS JQ PATH: bounded until the JQ expression on PATH's answer is true
wait_for() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		[ "$(api "$3" | jq -r "$2" 2>/dev/null)" = true ] && return 0
		sleep 0.2
	done
	return 1
}

# TLS only: a plain HTTP request gets no answer
curl -sS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && it_fail "the console answered plain HTTP" ||
	echo "ok   no plain HTTP"

# --- the node, before any alert ---------------------------------------------------
wait_for 30 '(.nodes | length) == 1 and .nodes[0].health == "ok"' /api/v1/nodes &&
	echo "ok   the nodes page shows this one node, ok" || it_fail "nodes: $(api /api/v1/nodes)"
NODE=$(api /api/v1/nodes | jq -r '.nodes[0].node')
expect "the node is this host" "$(hostname | tr -c 'A-Za-z0-9_\n-' - | cut -c1-64)" "$NODE"

# --- an alert: the API lists it with a token, 401 without ----------------------------
"$T/acon$M" /etc/shadow >/dev/null || it_die "cannot read /etc/shadow"
RULE="Agent console shadow read"
wait_for 30 "[.alerts[] | select(.alert.rule == \"$RULE\")] | length == 1" /api/v1/alerts &&
	echo "ok   the alert is listed by the API" || it_fail "the alert never reached the API: $(api /api/v1/alerts | head -c 600)"
UUID=$(api /api/v1/alerts | jq -r ".alerts[] | select(.alert.rule == \"$RULE\") | .uuid")
LOCAL=$(sqlite3 "file:$T/store.db?mode=ro" "SELECT uuid FROM alerts WHERE rule = '$RULE'")
expect "the API's alert is the store's (same uuid)" "$LOCAL" "$UUID"
expect "the alert's page" "$RULE" "$(api "/api/v1/alerts/$UUID" | jq -r .alert.rule)"
expect "its node" "$NODE" "$(api "/api/v1/alerts/$UUID" | jq -r .node)"
for r in /api/v1/alerts "/api/v1/alerts/$UUID" /api/v1/nodes /api/v1/alerts/counts /api/v1/actions /api/v1/servicemap; do
	expect "GET $r without a token" 401 "$(code GET "$r")"
done
expect "GET /api/v1/alerts with a wrong token" 401 "$(code GET /api/v1/alerts not-a-token-of-this-agent-000)"
expect "whoami (viewer)" '{"role":"viewer","name":"alice"}' "$(api /api/v1/whoami)"
expect "tactic=credential_access" "$UUID" "$(api '/api/v1/alerts?tactic=credential_access' | jq -r '[.alerts[].uuid] | join(",")')"
expect "counts by rule" 1 "$(api '/api/v1/alerts/counts?by=rule' | jq "[.counts[] | select(.key == \"$RULE\") | .count] | add")"
wait_for 15 ".nodes[0].alerts >= 1" /api/v1/nodes && echo "ok   the node counts its alert" || it_fail "nodes: $(api /api/v1/nodes)"

# --- the console's files, with their CSP ---------------------------------------------
expect "GET / without a token" 200 "$(code GET /)"
h=$(curl -sS --cacert "$T/ca.pem" -D- -o "$T/index.html" "$URL/" | tr -d '\r')
for want in "content-type: text/html; charset=utf-8" \
	"content-security-policy: default-src 'self'; script-src 'self'; style-src 'self';" \
	"frame-ancestors 'none'" "x-content-type-options: nosniff"; do
	echo "$h" | grep -qiF "$want" && echo "ok   index: $want" || it_fail "the index lacks '$want'"
done
cmp -s "$T/index.html" web/console/index.html && echo "ok   the index is web/console/index.html, compiled in" ||
	it_fail "the index served differs from web/console/index.html"
expect "app.js" 200 "$(code GET /console/app.js)"
expect "POST to a console file" 405 "$(code POST /console/app.js)"

# --- the stream delivers a new alert ---------------------------------------------------
curl -sS -N --cacert "$T/ca.pem" -H "Authorization: Bearer $VTOKEN" --max-time 60 "$URL/api/v1/alerts/stream" \
	>"$T/stream" 2>/dev/null &
SPID=$!
for ((i = 0; i < 150; i++)); do
	grep -q '^event: hello' "$T/stream" && break
	sleep 0.2
done
grep -q '^event: hello' "$T/stream" || it_fail "the stream did not say hello: $(head -c 300 "$T/stream")"
"$T/acon$M" /etc/shadow >/dev/null
for ((i = 0; i < 150; i++)); do
	grep -q '^event: alerts' "$T/stream" && grep -qF "$RULE" "$T/stream" && break
	sleep 0.2
done
grep -q '^event: alerts' "$T/stream" && grep -qF "$RULE" "$T/stream" &&
	echo "ok   the stream delivered the new alert" || it_fail "the stream did not deliver it: $(head -c 600 "$T/stream")"
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=""

# --- acknowledgements: a viewer 403, a responder once ----------------------------------
expect "a viewer's ack" 403 "$(code POST "/api/v1/alerts/$UUID/ack" "$VTOKEN")"
ack=$(curl -sS --cacert "$T/ca.pem" -X POST -H "Authorization: Bearer $RTOKEN" "$URL/api/v1/alerts/$UUID/ack")
expect "a responder's ack" true "$(echo "$ack" | jq -r .acknowledged)"
expect "the alert says who acknowledged it" bob "$(api "/api/v1/alerts/$UUID" | jq -r .ack.by)"

# --- commands: refused to a viewer, carried out by this agent for a responder --------------
post_cmd() { # TOKEN COMMAND CONTAINER: the status to $T/status, the body to stdout
	curl -sS -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" -X POST -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' \
		--data-binary "{\"cluster\":\"default\",\"node\":\"$NODE\",\"command\":\"$2\",\"container\":\"$3\"}" \
		"$URL/api/v1/commands" >"$T/status"
	cat "$T/body"
}
post_cmd "$VTOKEN" release nothing-here >/dev/null
expect "a viewer's release" 403 "$(cat "$T/status")"
out=$(post_cmd "$RTOKEN" thaw aconsole-none-$M)
expect "a responder's thaw of a container never frozen: the agent's answer" "200 not_found" "$(cat "$T/status") $(echo "$out" | jq -r .outcome)"
expect "the command is in the log" "thaw not_found bob" \
	"$(api /api/v1/commands | jq -r '.commands[-1] | "\(.command) \(.outcome) \(.who)"')"

# --- the service map from the agent's own flow rollups ----------------------------------
# the curls above were TCP connections of host processes to the console: rolled up every 5 s
wait_for 60 '[.nodes[] | select(.kind == "workload")] | length >= 1' /api/v1/servicemap &&
	echo "ok   the service map has this node's workloads" || it_fail "servicemap: $(api /api/v1/servicemap | head -c 600)"
wait_for 10 "[.edges[] | select(.port == $PORT)] | length >= 1" /api/v1/servicemap &&
	echo "ok   the service map has the connections to the console's port" || it_fail "no edge to port $PORT: $(api /api/v1/servicemap | head -c 800)"
expect "flows list" true "$(api '/api/v1/flows' | jq "[.flows[] | select(.node == \"$NODE\")] | length >= 1")"

# --- with podman: a container isolated by its alert, released from the console --------------
# shellcheck source=tests/lib/containers.sh
. tests/lib/containers.sh
if why=$(vg_podman_skip_reason) && IMG=$(vg_busybox_image); then
	NET=aconsole-$M CT=aconsole-$M-c SRV=aconsole-$M-s
	podman network create "$NET" >/dev/null || it_fail "cannot create a podman network"
	vg_podman run -d --name "$SRV" --network "$NET" "$IMG" sh -c 'mkdir -p /w && echo hi >/w/index.html && httpd -f -p 8080 -h /w' >/dev/null ||
		it_fail "cannot start the server container"
	SIP=$(podman inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$SRV")
	vg_podman run -d --name "$CT" --network "$NET" "$IMG" sh -c "sleep 2; touch /tmp/aconsole-isolate-$M; sleep 300" >/dev/null ||
		it_fail "cannot start the client container"
	reach() { vg_podman exec "$CT" sh -c "nc -w 2 $SIP 8080 </dev/null >/dev/null 2>&1 && echo yes || echo no"; }
	wait_for 60 '[.actions[] | select(.action.action == "isolate")] | length >= 1' /api/v1/actions &&
		echo "ok   the isolation reached the console's actions" || it_fail "no isolate action: $(api /api/v1/actions | head -c 600)"
	expect "the isolated container cannot connect" no "$(reach)"
	out=$(post_cmd "$RTOKEN" release "$CT")
	expect "a responder's release, carried out by this agent" "200 ok" "$(cat "$T/status") $(echo "$out" | jq -r .outcome)"
	expect "the released container connects again" yes "$(reach)"
	wait_for 30 '[.actions[] | select(.action.action == "release")] | length >= 1' /api/v1/actions &&
		echo "ok   the release is recorded and shown as an action" || it_fail "no release action: $(api /api/v1/actions | head -c 800)"
	# a capture's bundle, downloaded from the console as the agent wrote it
	vg_podman exec "$SRV" sh -c "echo x >/tmp/aconsole-capture-$M" >/dev/null 2>&1 || it_fail "cannot exec in the server"
	wait_for 60 '[.actions[] | select(.action.action == "capture" and .action.outcome == "done")] | length >= 1' /api/v1/actions ||
		it_fail "no capture action: $(api /api/v1/actions | head -c 600)"
	EV=$(api /api/v1/actions | jq -r '.actions[] | select(.action.action == "capture") | .uuid' | head -1)
	curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $VTOKEN" -o "$T/ev.tar" "$URL/api/v1/evidence/$EV" || it_fail "evidence download"
	B=$(tar -tf "$T/ev.tar" 2>/dev/null | head -1 | tr -d /)
	mkdir -p "$T/ev" && tar -xf "$T/ev.tar" -C "$T/ev" 2>/dev/null && [ -n "$B" ] &&
		cmp -s "$T/ev/$B/manifest.json" "$T/evidence/$B/manifest.json" &&
		cmp -s "$T/ev/$B/events.vcap" "$T/evidence/$B/events.vcap" &&
		echo "ok   the capture's bundle downloads from the console, equal to the agent's" ||
		it_fail "the evidence download: $(head -c 300 "$T/ev.tar")"
	api /api/v1/actions | jq -r '.actions[] | select(.action.action == "release") | .action.detail' | grep -q 'the console (bob)' &&
		echo "ok   the release names the console and the token's name" || it_fail "the release's detail: $(api /api/v1/actions | jq -c '[.actions[].action.detail]')"
else
	echo "SKIP (part): the isolate/release check: ${why:-cannot build the busybox test image}"
fi

# --- with chromium: one browser check -------------------------------------------------------
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
	if python3 tests/tools/console_browser.py --help 2>&1 | grep -q -- '--agent'; then
		python3 tests/tools/console_browser.py --agent --url "$URL" --viewer "$VTOKEN" --rule "$RULE" \
			${EV:+--evidence-rule "Agent console capture"} \
			--out "${CONSOLE_ARTIFACTS:-$BUILD/test-artifacts/console_agent}" >"$T/browser.log" 2>&1 && echo "ok   the browser shows the agent's alert${EV:+ and downloads the capture bundle}" ||
			it_fail "browser: $(tail -5 "$T/browser.log")"
	else
		echo "SKIP (part): console_browser.py has no --agent mode"
	fi
else
	echo "SKIP (part): the browser check: chromium and chromium-driver are not installed"
fi

# --- a clean stop, with the console up ---------------------------------------------------------
kill -INT "$AGENT"
for ((i = 0; i < 300; i++)); do
	kill -0 "$AGENT" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$AGENT" 2>/dev/null && it_fail "vigil run did not stop within 30 s of SIGINT"
wait "$AGENT"
rc=$?
AGENT=""
expect "vigil run exits 0" 0 "$rc"
expect "every alert of the store is in the console's store" \
	"$(sqlite3 "file:$T/store.db?mode=ro" 'SELECT count(*) FROM alerts')" \
	"$(sqlite3 "file:$T/console.db?mode=ro" 'SELECT count(*) FROM alerts')"
it_finish
