#!/bin/bash
# test_pin_survive_kill.sh: an in-kernel kill outlives an agent that dies.
# `vigil run` binds `kill` to the drift rule, which the kernel decides: a
# program copied into a running container dies on its execve. The agent is
# killed with SIGKILL: the kill programs stay pinned below /sys/fs/bpf/vigil
# (sensor_*) and the same drift in the same container is still killed, with
# no agent. A restarted agent takes them over (it arms its own kill before it
# lets the old programs go) and kills the drift; a normal stop removes the
# pins and the drift runs.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_vigil
it_need_podman
M=$$
C=pinkill-$M
PIN=/sys/fs/bpf/vigil
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f -t 0 "$C" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cat >"$IT_TMP/policy.yaml" <<'EOP'
bindings:
  - rules: ["Drift - new executable run in container"]
    actions: [kill]
EOP
vg_podman run -d --name "$C" "$IT_IMAGE" sleep 300 >/dev/null || it_die "cannot start the container"
n=0
drift() { # the container runs a program it copied: prints the shell's view
	n=$((n + 1))
	vg_podman exec "$C" sh -c "mkdir -p /tmp/d$n && cp /bin/busybox /tmp/d$n/busybox && /tmp/d$n/busybox echo drift-ran; echo shell-after=\$?" 2>/dev/null
}
killed() { local out; out=$(drift); case $out in *drift-ran*) return 1 ;; *shell-after=137*) return 0 ;; esac; return 1; }
start_agent() { # ERRFILE
	"$VIGIL" run --default-rules --response-policy "$IT_TMP/policy.yaml" --no-store --duration 120 \
		>/dev/null 2>"$1" &
	AGENT=$!
	it_agent_ready "$AGENT" "$1"
}
pins() { ls "$PIN" 2>/dev/null | grep -c '^sensor_'; }

start_agent "$IT_TMP/err1"
grep -q "kill for rule 'Drift - new executable run in container': in the kernel" "$IT_TMP/err1" ||
	it_skip "the kernel cannot decide the drift kill here: $(grep 'kill for' "$IT_TMP/err1")"
killed || it_fail "the drift was not killed with the agent running: $(drift)"
[ "$(pins)" -ge 1 ] || it_fail "no kill program pinned below $PIN: $(ls "$PIN" 2>&1)"

# --- the agent dies: the pinned kill programs still kill
kill -KILL "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=""
[ "$(pins)" -ge 1 ] || it_fail "the kill pins are gone after SIGKILL"
killed || it_fail "the drift was not killed after the agent died: $(drift)"

# --- a new agent takes over: killed from the moment it is ready, the old programs released
start_agent "$IT_TMP/err2"
grep -q "in-kernel kill: [1-9][0-9]* program(s) an earlier agent left pinned" "$IT_TMP/err2" &&
	grep -q "in-kernel kill: taken over from the earlier agent" "$IT_TMP/err2" ||
	it_fail "the restarted agent did not take the pins over: $(grep -i 'kill' "$IT_TMP/err2")"
killed || it_fail "the drift was not killed under the restarted agent: $(drift)"

# --- a normal stop ends the kill
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err2")"
AGENT=""
[ "$(pins)" -eq 0 ] || it_fail "kill pins left after a normal stop: $(ls "$PIN")"
out=$(drift)
case $out in *drift-ran*) ;; *) it_fail "the drift was still killed after a normal stop: $out" ;; esac
it_finish
