#!/bin/bash
# test_sd_notify.sh: `vigil run` speaks the service manager's notification
# protocol without libsystemd: with $NOTIFY_SOCKET and $WATCHDOG_USEC set (as
# systemd sets them for Type=notify and WatchdogSec=), a datagram socket made
# by the test receives READY=1, WATCHDOG=1 pings from the main loop at half the
# period, and STOPPING=1; an abstract socket name (@...) works too. With
# $WATCHDOG_PID naming another process, no ping is sent (the watchdog is not
# the agent's).
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_vigil
command -v python3 >/dev/null || it_skip "python3 is not installed (the test's notification socket)"
M=$$
RECV=""
cleanup() {
	[ -n "$RECV" ] && kill "$RECV" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp

cat >"$IT_TMP/recv.py" <<'EOPY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
name = sys.argv[1]
s.bind("\0" + name[1:] if name.startswith("@") else name)
print("ready", flush=True)
while True:
    print(s.recv(4096).decode(), flush=True)
EOPY

run_with() { # SOCKET OUT [VAR=VALUE...]: the agent for 2.5 s with the socket, messages in OUT
	local sock=$1 out=$2 i
	shift 2
	python3 "$IT_TMP/recv.py" "$sock" >"$out" 2>&1 &
	RECV=$!
	for ((i = 0; i < 50; i++)); do grep -q ready "$out" 2>/dev/null && break; sleep 0.1; done
	grep -q ready "$out" || it_die "the notification socket did not start: $(cat "$out")"
	env NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 "$@" "$VIGIL" run --no-store --duration 2.5 \
		>/dev/null 2>"$out.err" || it_fail "vigil run failed: $(tail -3 "$out.err")"
	for ((i = 0; i < 20; i++)); do grep -q STOPPING=1 "$out" && break; sleep 0.1; done
	kill "$RECV" 2>/dev/null
	wait "$RECV" 2>/dev/null
	RECV=""
}

run_with "$IT_TMP/notify.sock" "$IT_TMP/path.out"
grep -qx READY=1 "$IT_TMP/path.out" || it_fail "no READY=1: $(cat "$IT_TMP/path.out")"
grep -qx STOPPING=1 "$IT_TMP/path.out" || it_fail "no STOPPING=1: $(cat "$IT_TMP/path.out")"
pings=$(grep -cx WATCHDOG=1 "$IT_TMP/path.out")
# 2.5 s of loop at one ping per 0.2 s; the agent's start-up is not in the loop
[ "$pings" -ge 4 ] || it_fail "expected at least 4 WATCHDOG=1 pings, got $pings"
[ "$(sed -n 2p "$IT_TMP/path.out")" = READY=1 ] || it_fail "READY=1 is not the first message: $(cat "$IT_TMP/path.out")"

run_with "@vigil-notify-$M" "$IT_TMP/abstract.out"
grep -qx READY=1 "$IT_TMP/abstract.out" && grep -qx WATCHDOG=1 "$IT_TMP/abstract.out" ||
	it_fail "the abstract socket got: $(cat "$IT_TMP/abstract.out")"

run_with "$IT_TMP/notify2.sock" "$IT_TMP/other.out" WATCHDOG_PID=1
grep -qx READY=1 "$IT_TMP/other.out" || it_fail "no READY=1 with WATCHDOG_PID=1"
grep -qx WATCHDOG=1 "$IT_TMP/other.out" && it_fail "pings sent although WATCHDOG_PID names another process"
it_finish
