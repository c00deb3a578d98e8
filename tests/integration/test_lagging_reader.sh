#!/bin/bash
# test_lagging_reader.sh: the agent reads events seconds after the kernel wrote
# them (here: its output pipe is not drained for 8 s, as under an event storm).
# A `--rm` container that started and ended meanwhile is gone, runtime state
# included, by the time its events are read; its events must still carry its
# name and image (the runtime watcher read them when the container appeared).
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
it_need_podman

NAME=vglag-$$
TPID="" RPID=""
cleanup() {
	[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	[ -n "$RPID" ] && kill -KILL "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	it_cleanup_common
	vg_podman rm -f "$NAME" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
# a reader that reads nothing until the container is gone: the 64 KiB pipe
# fills and vigil blocks (a flag, not a fixed delay a slow start would eat)
mkfifo "$IT_TMP/pipe" || it_die "mkfifo failed"
(until [ -e "$IT_TMP/read" ]; do sleep 0.1; done; exec cat) <"$IT_TMP/pipe" >"$OUT" &
RPID=$!
"$VIGIL" trace --json --duration 60 >"$IT_TMP/pipe" 2>"$IT_TMP/trace.err" &
TPID=$!
it_vigil_wait_live "$TPID" "$IT_TMP/trace.err" "vigil trace"
vg_podman run --rm --name "$NAME" "$IT_IMAGE" cat /etc/hostname >/dev/null ||
	it_die "the container did not run"
# its state is gone now, while the agent has not read its events yet
[ -z "$(vg_podman ps -a --filter "name=$NAME" --format '{{.ID}}')" ] ||
	it_fail "podman still knows the container: the test does not test the lag"
: >"$IT_TMP/read"
# the container's exec read at last (bounded), then the tracer stopped
for ((i = 0; i < 150; i++)); do
	grep -F "$NAME" "$OUT" 2>/dev/null | grep -q execve && break
	sleep 0.2
done
# gone PID WHAT: wait (bounded, 15 s) for PID to end, else kill it and fail
gone() {
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return; }
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	it_fail "$2 did not stop within 15 s"
}
kill -INT "$TPID"
gone "$TPID" "vigil trace (after SIGINT)"
TPID=""
gone "$RPID" "the reader (after the tracer's end)"
RPID=""

n=$(jq -c --arg n "$NAME" 'select(.container.name == $n)' "$OUT" | wc -l)
[ "$n" -gt 0 ] || it_fail "no event carries the container name $NAME"
execs=$(jq -c --arg n "$NAME" 'select(.container.name == $n and .type == "execve" and .process.args[0] == "cat")' "$OUT" | wc -l)
[ "$execs" -eq 1 ] || it_fail "expected 1 execve of cat with the container's name, got $execs"
bad=$(jq -c 'select(.container.id != "" and .container.metadata != true) | [.type, .container.id]' "$OUT" | head -5)
[ -z "$bad" ] || it_fail "container events without metadata: $bad"
img=$(jq -r --arg n "$NAME" 'select(.container.name == $n) | .container.image' "$OUT" | sort -u)
[ "$img" = "$IT_IMAGE" ] || it_fail "image is '$img', expected $IT_IMAGE"
it_finish
