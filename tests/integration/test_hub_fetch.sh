#!/bin/bash
# test_hub_fetch.sh: the hub's pull fetch (src/hub/hub_fetch.h) against a real
# nats-server on loopback (its own port and directory): with more than half a
# batch of messages already waiting in the subscription and more coming, no
# fetch returns more than its batch (libnats 3.4.1's own fetch writes past its
# array there: the hub's heap corruption) and every message comes once
# (tests/tools/hub_fetch_check.c).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

command -v nats-server >/dev/null 2>&1 || it_skip "nats-server is not installed"
CHECK=$BUILD/tests/hub_fetch_check
[ -x "$CHECK" ] || it_die "$CHECK not built (make tests)"
NATS_PID=""
cleanup() {
	[ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null && wait "$NATS_PID" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

nats-server -js -a 127.0.0.1 -p -1 -sd "$T/js" >"$T/nats.log" 2>&1 &
NATS_PID=$!
NPORT=""
for ((i = 0; i < 300; i++)); do
	NPORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/nats.log" 2>/dev/null)
	[ -n "$NPORT" ] && grep -q 'Server is ready' "$T/nats.log" 2>/dev/null && break
	kill -0 "$NATS_PID" 2>/dev/null || it_die "nats-server exited: $(cat "$T/nats.log")"
	sleep 0.1
done
[ -n "$NPORT" ] || it_die "nats-server did not start"

out=$("$CHECK" "nats://127.0.0.1:$NPORT" 2>&1) || it_die "hub_fetch_check: $out"
echo "$out"
it_finish
