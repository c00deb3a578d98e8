#!/bin/bash
# test_profiles_import.sh: a profile written by hand (YAML, docs/profiles.md) is
# imported into the store in monitoring mode; an agent started afterwards loads
# it at start and monitors the workload at once: what the file lists raises
# nothing, reading /etc/shadow and running a new program each raise their
# deviation. A bad file is refused with file:line:col and changes nothing.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_podman
M=$$
NAME=vgprofimp-$M
IMG=localhost/vgprofimp-$M:1
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f -t 0 "$NAME" "$NAME-build" >/dev/null 2>&1
	podman rmi -f "$IMG" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
DB=$IT_TMP/vigil.db
echo 'root:*:19000:0:99999:7:::' >"$IT_TMP/shadow"
vg_podman create --name "$NAME-build" "$IT_IMAGE" true >/dev/null || it_die "cannot create a container"
podman cp "$IT_TMP/shadow" "$NAME-build:/etc/shadow" || it_die "cannot copy into the container"
podman commit -q "$NAME-build" "$IMG" >/dev/null || it_die "cannot commit the image"
vg_podman rm -f "$NAME-build" >/dev/null
KEY=sha256:$(podman image inspect --format '{{.Id}}' "$IMG") || it_die "no image id"

# what the workload (a sleep loop) and the runtime do at its start, by hand
cat >"$IT_TMP/p.yaml" <<EOF
# reviewed by hand
---
version: 1
key: "$KEY"
image: "$IMG"
mode: monitoring
exec:
  - "/ as runc <- <outside>"
  - "/bin/busybox as sh <- <outside>"
  - "/bin/busybox as sleep <- /bin/busybox as sh"
write:
  - "/dev/null"
  - "/proc/self/fd/*"
  - "/proc/sys/net/ipv4/ping_group_range"
  - "/run/runc/*/runc.*"
  - "/var/lib/containers/storage/overlay/*/merged/etc/hostname"
  - "/var/lib/containers/storage/overlay/*/merged/etc/hosts"
  - "/var/lib/containers/storage/overlay/*/merged/etc/resolv.conf"
  - "/var/lib/containers/storage/overlay/*/merged/run/.containerenv"
privilege: ["capset", "setgid 0", "setuid 0"]
syscall: ["mount", "pivot_root", "setns", "umount2", "unshare"]
EOF
# a bad copy first: refused, nothing stored
sed 's/"unshare"/"reboot"/' "$IT_TMP/p.yaml" >"$IT_TMP/bad.yaml"
line=$(grep -n '^syscall:' "$IT_TMP/bad.yaml" | cut -d: -f1)
if "$VIGIL" profile --store "$DB" import "$IT_TMP/bad.yaml" 2>"$IT_TMP/bad.err"; then
	it_fail "a bad profile was imported"
fi
grep -q "bad.yaml:$line:54: syscall: not a profiled syscall" "$IT_TMP/bad.err" || it_fail "bad import: $(cat "$IT_TMP/bad.err")"
[ -z "$("$VIGIL" profile --store "$DB" list 2>/dev/null | tail -n +2)" ] || it_fail "a refused file left a profile"
"$VIGIL" profile --store "$DB" import "$IT_TMP/p.yaml" >/dev/null || it_fail "import failed"

"$VIGIL" run --store "$DB" --json --duration 300 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
grep -q "profiles: [1-9][0-9]* loaded" "$IT_TMP/err" || it_fail "the stored profile was not loaded: $(grep profiles "$IT_TMP/err")"
vg_podman run -d --name "$NAME" "$IMG" sh -c 'while true; do sleep 1; done' >/dev/null || it_die "cannot start the workload"
vg_podman exec "$NAME" sh -c 'cat /etc/shadow >/dev/null; true'

want=("sensitive file read|/etc/shadow" "new program|/bin/busybox as cat <- /bin/busybox as sh")
dev() { jq -R -r --arg k "$KEY" 'fromjson? | select(.rule | startswith("Behaviour deviation"))
	| select(.output_fields["profile.key"] == $k)
	| "\(.rule | sub("Behaviour deviation: "; ""))|\(.output_fields["profile.new"])"' "$IT_TMP/out" 2>/dev/null; }
for ((i = 0; i < 300; i++)); do
	missing=0
	for w in "${want[@]}"; do dev | grep -qxF "$w" || missing=1; done
	[ $missing = 0 ] && break
	sleep 0.2
done
for w in "${want[@]}"; do
	dev | grep -qxF "$w" || it_fail "no deviation '$w'; deviations: $(dev | tr '\n' ';')"
done
# the workload's start and its loop are in the file: nothing else
extra=$(dev | grep -vxF -f <(printf '%s\n' "${want[@]}"))
[ -z "$extra" ] || it_fail "deviations of what the file lists: $(echo "$extra" | tr '\n' ';')"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?"
AGENT=""
it_finish
