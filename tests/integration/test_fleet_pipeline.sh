#!/bin/bash
# test_fleet_pipeline.sh: the NATS forwarder's pipelining against one real
# nats-server on loopback (docs/fleet.md, "Pipelining"): with the server stopped
# (SIGSTOP: the connection stays, no acknowledgement comes) alerts committed
# while earlier ones await their acks are still handed to the client; once the
# server continues, every alert is in the stream exactly once and in order, and
# none was sent twice. tests/tools/pipe_probe.c drives it; all its waits are
# bounded, nothing is timed. Then tests/tools/close_race.c closes 100 publishers
# while their acks arrive (a use after free in the sanitizer build before the fix).
# No BPF, no root.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/fleet_lib.sh
. tests/integration/fleet_lib.sh

PROBE=${PROBE:-$BUILD/tests/pipe_probe}
it_need_vigil
fl_need
[ -x "$PROBE" ] || it_die "$PROBE not built (make tests)"
cleanup() {
	# a probe that died with the server stopped: let it go before it is killed
	[ -n "${FL_PID[s1]:-}" ] && kill -CONT "${FL_PID[s1]}" 2>/dev/null
	fl_cleanup
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
fl_ports s1
URL=$(fl_url s1)
fl_start s1
fl_init "$URL"

out=$("$PROBE" "$URL" "$IT_TMP/pipe.db" "${FL_PID[s1]}" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || it_fail "the probe failed ($rc)"
# sent once each: no ack timed out, nothing was resent
echo "$out" | grep -q '^ok published=30 stored=30 duplicates=0 failed=0 ' ||
	it_fail "not 30 records sent and stored once each: $out"
fl_check "$URL" "$IT_TMP/pipe.db" default pipe "the 30 alerts, 20 of them sent while the server was stopped"

# publishers closed while their acks arrive: a late ack handler must not touch a
# freed publisher (the sanitizer build caught it in unit_of before the registry)
RACE=$BUILD/tests/close_race
[ -x "$RACE" ] || it_die "$RACE not built (make tests)"
out=$("$RACE" "$URL" 100 2>&1)
rc=$?
[ "$rc" -eq 0 ] && grep -q '^ok 100 publishers closed' <<<"$out" || it_fail "close_race ($rc): $out"
echo "ok   $out"
it_finish
