#!/bin/bash
# test_fleet_live.sh: the live agent (`vigil run --nats`) publishing to a real
# nats-server on loopback: what a host process does is alerted, stored and in
# VIGIL_ALERTS exactly once, also across a SIGKILL and restart of the agent;
# its heartbeat tells the events it read and the rules it runs.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_root
it_need_bpf
it_need_vigil
fl_need
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
fl_ports s1
URL=$(fl_url s1)
fl_start s1
fl_init "$URL"
cat >"$IT_TMP/rules.yaml" <<EOF
- rule: Fleet live marker read
  desc: a process opens one of this test's marker files
  condition: evt.type in (open, openat) and fd.name startswith $IT_TMP/marker
  output: "marker %fd.name opened by %proc.name"
  priority: NOTICE
EOF
start_agent() {
	"$VIGIL" run --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/live.db" --response off --json \
		--nats "$URL" --node "live$$" --duration 120 >>"$IT_TMP/out" 2>>"$IT_TMP/err" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err"
}
# touch_markers FROM TO: write and read each marker file (two alerts each)
touch_markers() {
	local i
	for ((i = $1; i < $2; i++)); do
		echo "$i" >"$IT_TMP/marker$i"
		cat "$IT_TMP/marker$i" >/dev/null
	done
}
stored() {
	python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from alerts").fetchone()[0])' "$IT_TMP/live.db" 2>/dev/null
}

start_agent
touch_markers 0 100
fl_wait_count "$URL" VIGIL_ALERTS 50 30 || it_fail "the live agent published nothing: $(tail -3 "$IT_TMP/err")"
kill -KILL "$AGENT"
wait "$AGENT" 2>/dev/null
echo "SIGKILL with $(fl_count "$URL" VIGIL_ALERTS) published of $(stored) stored"
start_agent
touch_markers 100 200
for ((i = 0; i < 300; i++)); do
	n=$(stored)
	[ -n "$n" ] && [ "$n" -ge 150 ] && [ "$(fl_count "$URL" VIGIL_ALERTS)" = "$n" ] && break
	sleep 0.1
done
kill -TERM "$AGENT"
fl_wait_exit "$AGENT" 30 || it_fail "vigil run did not stop cleanly: $(tail -3 "$IT_TMP/err")"
AGENT=""
n=$(stored)
[ "${n:-0}" -ge 150 ] || it_fail "only ${n:-0} alerts stored of 200 marker opens"
fl_check "$URL" "$IT_TMP/live.db" default "live$$" "the live agent's alerts across a SIGKILL"
"$FL_TOOL" last "$URL" VIGIL_HEARTBEATS "vigil.default.live$$.heartbeat" >"$IT_TMP/hb" || it_fail "no heartbeat"
grep -q '"events":[1-9]' "$IT_TMP/hb" || it_fail "heartbeat without events: $(cat "$IT_TMP/hb")"
digest=$(sha256sum "$IT_TMP/rules.yaml" | cut -d' ' -f1)
grep -q "\"rules_digest\":\"sha256:$digest\"" "$IT_TMP/hb" || it_fail "heartbeat digest: $(cat "$IT_TMP/hb")"
grep -q '"outbox":{"depth":0' "$IT_TMP/hb" || it_fail "outbox not drained at stop: $(cat "$IT_TMP/hb")"
it_finish
