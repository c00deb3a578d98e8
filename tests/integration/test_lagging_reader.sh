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
TPID=""
cleanup() {
	[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	it_cleanup_common
	vg_podman rm -f "$NAME" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
# a reader that starts reading 8 s late: the 64 KiB pipe fills and vigil blocks
("$VIGIL" trace --json --duration 16 2>"$IT_TMP/trace.err" | (sleep 8; cat) >"$OUT") &
TPID=$!
sleep 2
vg_podman run --rm --name "$NAME" "$IT_IMAGE" cat /etc/hostname >/dev/null ||
	it_die "the container did not run"
# its state is gone now, while the agent has not read its events yet
[ -z "$(vg_podman ps -a --filter "name=$NAME" --format '{{.ID}}')" ] ||
	it_fail "podman still knows the container: the test does not test the lag"
i=0
while kill -0 "$TPID" 2>/dev/null && [ $i -lt 250 ]; do
	sleep 0.1
	i=$((i + 1))
done

n=$(jq -c --arg n "$NAME" 'select(.container.name == $n)' "$OUT" | wc -l)
[ "$n" -gt 0 ] || it_fail "no event carries the container name $NAME"
execs=$(jq -c --arg n "$NAME" 'select(.container.name == $n and .type == "execve" and .process.args[0] == "cat")' "$OUT" | wc -l)
[ "$execs" -eq 1 ] || it_fail "expected 1 execve of cat with the container's name, got $execs"
bad=$(jq -c 'select(.container.id != "" and .container.metadata != true) | [.type, .container.id]' "$OUT" | head -5)
[ -z "$bad" ] || it_fail "container events without metadata: $bad"
img=$(jq -r --arg n "$NAME" 'select(.container.name == $n) | .container.image' "$OUT" | sort -u)
[ "$img" = "$IT_IMAGE" ] || it_fail "image is '$img', expected $IT_IMAGE"
it_finish
