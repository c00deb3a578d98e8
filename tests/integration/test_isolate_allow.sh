#!/bin/bash
# test_isolate_allow.sh: an isolated container still reaches the peers of the
# isolate allow list (a response policy's `isolate: allow:`), on the listed
# port only, and nothing else; isolation survives the agent (killed with
# SIGKILL, taken over by the next agent, kept after a normal stop) until
# `vigil respond release` lifts it without any agent running; a stop with
# nothing isolated leaves no pins behind.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
M=$$
NET=vgnet-allow-$M A=vgiso-allow-$M-a B=vgiso-allow-$M-b C=vgiso-allow-$M-c
PIN=/sys/fs/bpf/vigil
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "${ACGROUP:-}" ] && "$VIGIL" respond release "$A" --store "$IT_TMP/db" >/dev/null 2>&1
	vg_podman rm -f "$A" "$B" "$C" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
podman network create "$NET" >/dev/null || it_skip "cannot create a podman network"
serve='mkdir -p /w && echo hi >/w/index.html && { httpd -p 8081 -h /w; httpd -f -p 8080 -h /w; }'
vg_podman run -d --name "$B" --network "$NET" "$IT_IMAGE" sh -c "$serve" >/dev/null || it_die "cannot start a server"
vg_podman run -d --name "$C" --network "$NET" "$IT_IMAGE" sh -c "$serve" >/dev/null || it_die "cannot start a server"
ip_of() { podman inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"; }
BIP=$(ip_of "$B") CIP=$(ip_of "$C")
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Isolate on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/isolate-me-$M and container.id != host
  output: isolating %container.name
  priority: CRITICAL
  actions: [isolate]
EOR
cat >"$IT_TMP/policy.yaml" <<EOP
isolate:
  allow: [{cidr: $BIP/32, ports: [8080]}]
EOP
agent_start() { # ERRFILE
	"$VIGIL" run --rules "$IT_TMP/rules.yaml" --response-policy "$IT_TMP/policy.yaml" --store "$IT_TMP/db" \
		--duration 120 >/dev/null 2>"$1" &
	AGENT=$!
	it_agent_ready "$AGENT" "$1"
}
agent_stop() { # stop with SIGINT and check the exit status
	kill -INT "$AGENT"
	wait "$AGENT" || it_fail "vigil run exited $?"
	AGENT=""
}
# the client: one line per round (allowed peer port, same peer other port, other peer)
nlines() { podman logs "$A" 2>/dev/null | wc -l; }
last() { podman logs "$A" 2>/dev/null | tail -n 1; }
# wait_rounds N: until N more rounds are logged (bounded)
wait_rounds() {
	local want=$(($(nlines) + $1)) i
	for ((i = 0; i < 100; i++)); do
		[ "$(nlines)" -ge "$want" ] && return 0
		sleep 0.2
	done
	it_fail "the client stopped logging"
}
CUT="b8080=up b8081=down c8080=down" OPEN="b8080=up b8081=up c8080=up"
agent_start "$IT_TMP/err1"
vg_podman run -d --name "$A" --network "$NET" "$IT_IMAGE" sh -c "
	probe() { nc -w 1 \$1 \$2 </dev/null >/dev/null 2>&1 && echo up || echo down; }
	i=0
	while [ ! -e /tmp/stop ] && [ \$i -lt 400 ]; do
		echo b8080=\$(probe $BIP 8080) b8081=\$(probe $BIP 8081) c8080=\$(probe $CIP 8080)
		i=\$((i + 1)); [ \$i = 3 ] && touch /tmp/isolate-me-$M
		sleep 0.2
	done" >/dev/null || it_die "cannot start the client container"
ACGROUP=1
for ((i = 0; i < 100; i++)); do
	[ "$(last)" = "$CUT" ] && break
	sleep 0.2
done
[ "$(podman logs "$A" 2>/dev/null | head -n 1)" = "$OPEN" ] || it_fail "before isolation: $(podman logs "$A" | head -n 1)"
[ "$(last)" = "$CUT" ] || it_fail "isolated with an allow list, the client saw: $(last) (expected $CUT)"
# a crash of the agent releases nobody
kill -KILL "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=""
wait_rounds 2
[ "$(last)" = "$CUT" ] || it_fail "after the agent was killed: $(last)"
# the next agent takes the isolation over, with its own allow list
agent_start "$IT_TMP/err2"
grep -q '1 container(s) isolated by an earlier agent stay isolated' "$IT_TMP/err2" || it_fail "takeover not reported: $(cat "$IT_TMP/err2")"
wait_rounds 2
[ "$(last)" = "$CUT" ] || it_fail "under the next agent: $(last)"
agent_stop
grep -q '1 container(s) stay isolated after the agent stops' "$IT_TMP/err2" || it_fail "stop not reported: $(cat "$IT_TMP/err2")"
[ -e "$PIN/isolate_ingress" ] && [ -e "$PIN/isolate_egress" ] && [ -e "$PIN/isolated" ] || it_fail "pins missing after the stop: $(ls "$PIN")"
wait_rounds 2
[ "$(last)" = "$CUT" ] || it_fail "after a normal stop: $(last)"
# release with no agent running
"$VIGIL" respond release "$A" --store "$IT_TMP/db" >/dev/null 2>"$IT_TMP/rel" || it_fail "release failed: $(cat "$IT_TMP/rel")"
ACGROUP=""
wait_rounds 2
[ "$(last)" = "$OPEN" ] || it_fail "after release: $(last)"
[ ! -e "$PIN/isolate_ingress" ] && [ ! -e "$PIN/isolate_egress" ] || it_fail "link pins left after the last release"
# a stop with nothing isolated leaves nothing behind
agent_start "$IT_TMP/err3"
agent_stop
grep -q 'stay isolated' "$IT_TMP/err3" && it_fail "nothing was isolated: $(cat "$IT_TMP/err3")"
[ ! -e "$PIN/isolated" ] || it_fail "the pinned map outlived an agent with nothing isolated"
vg_podman exec "$A" touch /tmp/stop >/dev/null 2>&1
it_finish
