#!/bin/bash
# test_fleet_cluster.sh: a 3-node JetStream cluster on loopback, streams at R3,
# and faults while nodes publish (`vigil replay --nats` posing as nodes):
# the stream leader killed (SIGKILL), then all three servers stopped for 30 s
# and started again. After each, every alert of the node's store is in
# VIGIL_ALERTS exactly once, in per-node order. No BPF.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

it_need_vigil
fl_need
REPLAY=""
cleanup() {
	[ -n "$REPLAY" ] && kill -KILL "$REPLAY" 2>/dev/null
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
FL_CLUSTER="a b c"
fl_ports a b c
URL=$(fl_url a b c)
for n in a b c; do
	fl_start "$n"
done
fl_init "$URL" --replicas 3
grep -q "replicas 3" "$IT_TMP/init.out" || it_fail "streams not at R3: $(cat "$IT_TMP/init.out")"
fl_rules "$IT_TMP/rules.yaml"
"$FL_TOOL" mkcapture 60000 "$IT_TMP/cap.vcap" || it_die "mkcapture failed"

# start_node NODE: publish the capture as NODE in the background
start_node() {
	"$VIGIL" replay "$IT_TMP/cap.vcap" --rules "$IT_TMP/rules.yaml" --rate-limit 0 --store "$IT_TMP/$1.db" \
		--nats "$URL" --node "$1" --cluster r3 >/dev/null 2>"$IT_TMP/$1.err" &
	REPLAY=$!
}

# finish NODE: the replay ends (bounded) having delivered everything
finish() {
	local rc
	fl_wait_exit "$REPLAY" 180
	rc=$?
	REPLAY=""
	[ "$rc" -eq 0 ] || it_fail "replay $1 exited $rc: $(tail -5 "$IT_TMP/$1.err")"
	grep -q "every record delivered" "$IT_TMP/$1.err" || it_fail "replay $1 did not drain: $(tail -5 "$IT_TMP/$1.err")"
}

# --- the stream leader killed mid-publish ---
start_node leaderkill
fl_wait_count "$URL" VIGIL_ALERTS 10000 60 || it_fail "nothing published before the fault"
leader=$("$FL_TOOL" leader "$URL" VIGIL_ALERTS)
case $leader in a | b | c) ;; *) it_die "no stream leader named: '$leader'" ;; esac
echo "killing the stream leader $leader at $(fl_count "$URL" VIGIL_ALERTS) messages"
fl_stop "$leader" KILL
finish leaderkill
fl_start "$leader"
# the restarted server rejoins and the stream has a leader again before it is read
# back (bounded): a read during the election stops early and would look like a loss
fl_wait_count "$URL" VIGIL_ALERTS 60000 60 || echo "note: the stream reports fewer than 60000 messages after 60 s"
fl_check "$URL" "$IT_TMP/leaderkill.db" r3 leaderkill "after the leader ($leader) was killed" reorder-ok

# --- all three servers stopped for 30 s mid-publish ---
before=$(fl_count "$URL" VIGIL_ALERTS)
start_node outage
# early in the node's 60000 (a slow build reads the count slowly: at +10000 a node under
# ASan once finished before the servers were down)
fl_wait_count "$URL" VIGIL_ALERTS $((before + 2000)) 60 || it_fail "nothing published before the outage"
echo "stopping all three servers at $(($(fl_count "$URL" VIGIL_ALERTS) - before)) messages of the node"
for n in a b c; do
	fl_stop "$n"
done
sleep 30 # the outage itself, not a wait for something
kill -0 "$REPLAY" 2>/dev/null || it_fail "the node gave up during the outage: $(tail -3 "$IT_TMP/outage.err")"
for n in a b c; do
	fl_start "$n"
done
finish outage
fl_wait_count "$URL" VIGIL_ALERTS 120000 60 || echo "note: the stream reports fewer than 120000 messages after 60 s"
fl_check "$URL" "$IT_TMP/outage.db" r3 outage "after all three servers were down for 30 s" reorder-ok
# the first node's alerts survived the restarts too
fl_check "$URL" "$IT_TMP/leaderkill.db" r3 leaderkill "the first node, after the cluster restart" reorder-ok
it_finish
