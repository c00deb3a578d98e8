#!/bin/bash
# test_isolate.sh: the `isolate` action cuts a container's traffic to another
# container on a network the test creates (client loop: "up" then "down"),
# `vigil respond release` restores it ("up" again), and the other container is
# not affected; the pinned map is gone after the agent stops.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
it_need_jq
M=$$
NET=vgnet-$M A=vgiso-$M-a B=vgiso-$M-b
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f "$A" "$B" >/dev/null 2>&1
	podman network rm "$NET" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
podman network create "$NET" >/dev/null || it_skip "cannot create a podman network"
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Isolate on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/isolate-me-$M and container.id != host
  output: isolating %container.name
  priority: CRITICAL
  actions: [isolate]
EOR
vg_podman run -d --name "$B" --network "$NET" "$IT_IMAGE" sh -c 'mkdir -p /w && echo hi >/w/index.html && httpd -f -p 8080 -h /w' >/dev/null ||
	it_die "cannot start the server container"
BIP=$(podman inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$B")
"$VIGIL" run --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/db" --duration 90 >/dev/null 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
# the client: a line per try; after 5 tries it trips the rule; it stops at /tmp/stop
vg_podman run -d --name "$A" --network "$NET" "$IT_IMAGE" sh -c "
	i=0
	while [ ! -e /tmp/stop ] && [ \$i -lt 200 ]; do
		if nc -w 1 $BIP 8080 </dev/null >/dev/null 2>&1; then echo up; else echo down; fi
		i=\$((i + 1)); [ \$i = 5 ] && touch /tmp/isolate-me-$M
		sleep 0.3
	done" >/dev/null || it_die "cannot start the client container"
# client_saw PATTERN: wait (bounded, 20 s) until the client's lines, repeats
# folded, match PATTERN (a case pattern); LOG holds them
client_saw() {
	local i
	for ((i = 0; i < 100; i++)); do
		LOG=$(podman logs "$A" 2>/dev/null | uniq | paste -sd ' ')
		# shellcheck disable=SC2254 # the pattern is meant to match
		case $LOG in $1) return 0 ;; esac
		sleep 0.2
	done
	return 1
}
client_saw "*down*"
"$VIGIL" respond release "$A" --store "$IT_TMP/db" >/dev/null 2>"$IT_TMP/rel" || it_fail "release failed: $(cat "$IT_TMP/rel")"
client_saw "up down up*"
vg_podman exec "$A" touch /tmp/stop >/dev/null 2>&1
log=$LOG
case $log in "up down up"*) ;; *) it_fail "client saw: $log (expected up, then down, then up)" ;; esac
# the server container itself was never isolated: it still answers the host side
n=$(vg_podman exec "$B" sh -c 'nc -w 1 127.0.0.1 8080 </dev/null >/dev/null && echo ok')
[ "$n" = ok ] || it_fail "the other container was affected"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
[ ! -e /sys/fs/bpf/vigil/isolated ] || it_fail "the pinned map outlived the agent"
n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r '[.action, .outcome] | join(" ")' | paste -sd ';')
[ "$n" = "isolate done;release done" ] || it_fail "actions: $n"
it_finish
