#!/bin/bash
# test_deny_files.sh: `vigil run --file-policy` (fanotify FAN_OPEN_PERM and
# FAN_OPEN_EXEC_PERM) together with --deny-drift in one agent: in a policed
# container a named file cannot be opened (EPERM), not even through a hard
# link made after start, while other files open; a named program of the image
# cannot run (EPERM) while the others do; drift prevention still refuses a
# dropped binary; a container the policy does not name and the host are not
# affected; an allow_exec list refuses what it does not name; after the agent
# stops nothing is refused.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_podman
M=$$
IMG=localhost/vigil-deny-files-$M:test
OLD=vgdf-$M-old NEW=vgdf-$M-new FREE=vgfree-$M SEED=vgdf-seed-$M ALLOW=vgallow-$M
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f "$OLD" "$NEW" "$FREE" "$SEED" "$ALLOW" >/dev/null 2>&1
	podman rmi -f "$IMG" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
# an image with a secret and a second program in its layers (/opt/tools/seq, a busybox copy;
# the image's own /bin/seq is a symlink to /bin/busybox)
vg_podman run --name "$SEED" "$IT_IMAGE" sh -c 'echo secret-text >/etc/shadow && mkdir -p /opt/tools && cp /bin/busybox /opt/tools/seq' >/dev/null ||
	it_die "cannot prepare the image"
podman commit -q "$SEED" "$IMG" >/dev/null || it_die "cannot commit the image"
vg_podman rm -f "$SEED" >/dev/null 2>&1
cat >"$IT_TMP/files.yaml" <<EOF
fail: closed
files:
  - containers: ["vgdf-$M-*"]
    deny_open: [/etc/shadow, /srv/private]
    deny_exec: [seq]
  - containers: ["$ALLOW"]
    allow_exec: [/bin/busybox]
EOF
vg_podman run -d --name "$OLD" "$IMG" sleep 120 >/dev/null || it_die "cannot start a container"
vg_podman run -d --name "$FREE" "$IMG" sleep 120 >/dev/null || it_die "cannot start a container"
"$VIGIL" run --no-store --deny-drift --file-policy "$IT_TMP/files.yaml" --duration 90 >/dev/null 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
# A new container is guarded once the agent has seen its first events (milliseconds):
# the short sleep keeps that window out of what is tested here (docs/response.md).
out=$(vg_podman run --rm --name "$NEW" "$IMG" sh -c '
	sleep 0.5
	head -1 /etc/passwd
	cat /etc/shadow; echo shadow-rc=$?
	ln /etc/shadow /tmp/link && cat /tmp/link; echo link-rc=$?
	mkdir -p /srv/private && echo x >/srv/private/key; echo private-rc=$?
	/opt/tools/seq 7007 7007; echo seq-rc=$?
	seq 5 5 && echo image-program-ran
	cp /bin/busybox /tmp/echo && /tmp/echo dropped-ran; echo dropped-rc=$?' 2>&1)
case $out in *root:x:0:0*) ;; *) it_fail "another file did not open: $out" ;; esac
case $out in *secret-text*) it_fail "the named file was read: $out" ;; esac
case $out in *"shadow-rc=1"*) ;; *) it_fail "cat of the named file did not fail: $out" ;; esac
case $out in *"can't open '/etc/shadow': Operation not permitted"*) ;; *) it_fail "no EPERM for the named file: $out" ;; esac
case $out in *"link-rc=1"*) ;; *) it_fail "a hard link to the named file was readable: $out" ;; esac
case $out in *"private-rc=1"*) ;; *) it_fail "a file below a named directory was created: $out" ;; esac
case $out in *7007*) it_fail "the named program ran: $out" ;; esac
case $out in *"seq-rc=126"*) ;; *) it_fail "the named program was not refused: $out" ;; esac
case $out in *image-program-ran*) ;; *) it_fail "the image's other programs did not run: $out" ;; esac
case $out in *dropped-ran*) it_fail "drift prevention did not refuse a dropped binary: $out" ;; esac
case $out in *"dropped-rc=126"*) ;; *) it_fail "the dropped binary was not refused: $out" ;; esac
# an allow list: the image's busybox runs, its other program does not
out=$(vg_podman run --rm --name "$ALLOW" "$IMG" sh -c 'sleep 0.5; seq 3003 3003; /opt/tools/seq 7007 7007; echo seq-rc=$?' 2>&1)
case $out in *3003*) ;; *) it_fail "a program of the allow list did not run: $out" ;; esac
case $out in *7007*) it_fail "a program outside the allow list ran: $out" ;; esac
case $out in *"seq-rc=126"*) ;; *) it_fail "a program outside the allow list was not refused: $out" ;; esac
# a container older than the agent is policed too
out=$(vg_podman exec "$OLD" sh -c 'cat /etc/shadow; echo rc=$?; /opt/tools/seq 7007 7007; echo seq-rc=$?' 2>&1)
case $out in *secret-text* | *7007*) it_fail "the older container was not policed: $out" ;; esac
case $out in *"rc=1"*"seq-rc=126"*) ;; *) it_fail "the older container: $out" ;; esac
# a container the policy does not name, and the host, are not affected
out=$(vg_podman exec "$FREE" sh -c 'cat /etc/shadow; /opt/tools/seq 7007 7007' 2>&1)
[ "$out" = "secret-text
7007" ] || it_fail "a container without a policy was affected: $out"
cp /bin/true "$IT_TMP/seq" && "$IT_TMP/seq" || it_fail "a host program named seq was refused"
head -c 0 /etc/shadow || it_fail "the host's /etc/shadow was refused"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
denied() { sed -n "s/.*$1: [0-9]* [a-z]* allowed, \([0-9]*\) denied, \([0-9]*\) undecided.*/\1 \2/p" "$IT_TMP/err"; }
read -r od ou <<<"$(denied deny-open)"
[ "${od:-0}" -ge 3 ] && [ "${ou:-1}" -eq 0 ] && grep -q 'deny-open: .*(file policy: fail-closed)' "$IT_TMP/err" ||
	it_fail "open counters: $(grep deny- "$IT_TMP/err")"
read -r ed eu <<<"$(denied deny-exec)"
[ "${ed:-0}" -ge 4 ] && [ "${eu:-1}" -eq 0 ] || it_fail "exec counters: $(grep deny- "$IT_TMP/err")"
# after the agent, nothing is refused any more
out=$(vg_podman exec "$OLD" sh -c 'cat /etc/shadow; /opt/tools/seq 7007 7007' 2>&1)
[ "$out" = "secret-text
7007" ] || it_fail "the policy outlived the agent: $out"
it_finish
