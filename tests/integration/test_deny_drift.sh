#!/bin/bash
# test_deny_drift.sh: `vigil run --deny-drift` (fanotify permission events):
# a binary copied into a running container and executed is denied with EPERM,
# programs of the image still run, a container started before the agent is
# guarded too, and the host is not affected.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
M=$$
OLD=vgdrift-$M-old
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f "$OLD" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
vg_podman run -d --name "$OLD" "$IT_IMAGE" sleep 120 >/dev/null || it_die "cannot start a container"
"$VIGIL" run --no-store --deny-drift --duration 90 >/dev/null 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
out=$(vg_podman run --rm --name "vgdrift-$M-new" "$IT_IMAGE" sh -c '
	ls / >/dev/null && echo image-ok
	mkdir /tmp/d && cp /bin/busybox /tmp/d/echo && /tmp/d/echo dropped-ran
	echo rc=$?' 2>&1)
case $out in *image-ok*) ;; *) it_fail "an image program did not run: $out" ;; esac
case $out in *dropped-ran*) it_fail "a dropped binary ran: $out" ;; esac
# stdout and stderr interleave in either order
case $out in *"Operation not permitted"*) ;; *) it_fail "the dropped binary was not refused with EPERM: $out" ;; esac
case $out in *"rc=126"*) ;; *) it_fail "the shell did not report the refusal: $out" ;; esac
out=$(vg_podman exec "$OLD" sh -c 'mkdir /tmp/l && cp /bin/busybox /tmp/l/echo && /tmp/l/echo later-ran; echo rc=$?' 2>&1)
case $out in *later-ran*) it_fail "a container older than the agent was not guarded: $out" ;; esac
case $out in *"Operation not permitted"*) ;; *) it_fail "no EPERM in the older container: $out" ;; esac
cp /bin/true "$IT_TMP/host-copy" && "$IT_TMP/host-copy" || it_fail "a copied binary on the host was refused"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
grep -Eq 'deny-exec: [0-9]+ executions allowed, [2-9][0-9]* denied' "$IT_TMP/err" || it_fail "counters: $(grep deny-exec "$IT_TMP/err")"
# after the agent, nothing is refused any more
out=$(vg_podman exec "$OLD" sh -c '/tmp/l/echo now-runs' 2>&1)
[ "$out" = now-runs ] || it_fail "the guard outlived the agent: $out"
it_finish
