#!/bin/bash
# test_container_events.sh: a podman container runs a known workload (exec,
# absolute and relative opens, a failed open, rename, mkdir, bind/listen/
# accept/connect, setuid, unshare, mount/umount) while `vigil trace --json`
# watches the whole host. Every expected event must arrive exactly once,
# attributed to the container (name, image, 12-char id, full id), with the
# right arguments and result. A host process must have container.id "".
# jq programs are single-quoted on purpose; cleanup runs from the trap.
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

M=$$
NAME=vgit-$M
PORT=$((20000 + M % 20000))

cleanup() {
	it_cleanup_common
	vg_podman rm -f "$NAME" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
ERR=$IT_TMP/trace.err
HOSTFILE=$IT_TMP/host-marker-$M
echo host >"$HOSTFILE"

# The workload. M and PORT are substituted here; everything else runs inside.
# mv and mkdir are busybox NOEXEC applets (fork, no execve): their events come
# from processes named mv/mkdir. The client waits for the listener with
# netstat so that exactly one connect happens. The payload is not checked:
# the background listener's stdin is at EOF, so busybox nc may quit before
# reading it; the connect/accept events are what this test is about.
SCRIPT="
cat /etc/passwd /nonexist-vgit-$M >/dev/null 2>&1
cd /tmp
echo data >rel-$M.txt
mv rel-$M.txt mvd-$M.txt
mkdir dir-$M
nc -l -p $PORT >/dev/null &
i=0
while ! netstat -ltn | grep -q ':$PORT '; do
	i=\$((i + 1)); [ \$i -gt 50 ] && break; usleep 100000
done
echo hi | nc 127.0.0.1 $PORT
wait
su -s /bin/true nobody
unshare -u true
mkdir /tmp/mnt-$M
mount -t tmpfs vgit-src-$M /tmp/mnt-$M
umount /tmp/mnt-$M
"

it_trace_start "$OUT" "$ERR" --json

# A host process, with a unique path, while the tracer runs.
cat /etc/hostname "$HOSTFILE" >/dev/null

it_bounded 40 vg_podman run --privileged --name "$NAME" "$IT_IMAGE" sh -c "$SCRIPT" \
	>"$IT_TMP/podman.out" 2>"$IT_TMP/podman.err"
PODMAN_RC=$?
CID=$(vg_podman inspect --format '{{.Id}}' "$NAME" 2>/dev/null)
it_trace_stop

[ "$PODMAN_RC" -eq 0 ] || it_die "podman run exited $PODMAN_RC: $(cat "$IT_TMP/podman.err")"
[[ "$CID" =~ ^[0-9a-f]{64}$ ]] || it_die "cannot get the container id (got '$CID')"
CID12=${CID:0:12}
[ "$IT_TRACER_RC" = 0 ] || it_fail "vigil trace exited $IT_TRACER_RC after SIGINT"
STATS=$(grep 'vigil: bpf:' "$ERR")
[ -n "$STATS" ] || it_fail "no stats line on stderr: $(cat "$ERR")"
jq -e . "$OUT" >/dev/null 2>&1 || it_die "trace output is not valid JSON lines"
# The host may be busy (other tracers, load generators): keep only the lines
# that can matter, so that the many jq passes below stay fast. Every event
# selected below contains one of these strings (its container's id or name,
# the marker, the port, the host file) even if it were misattributed.
ALL=$OUT
OUT=$IT_TMP/relevant.json
grep -F -e "$CID12" -e "$NAME" -e "$M" -e "\"port\":$PORT" -e "$HOSTFILE" "$ALL" >"$OUT"

JQARGS=(--arg name "$NAME" --arg image "$IT_IMAGE" --arg cid "$CID" --arg cid12 "$CID12"
	--arg script "$SCRIPT" --arg m "$M" --argjson port "$PORT" --arg hostfile "$HOSTFILE")

# expect_one DESC SELECT CHECK...: exactly one event matches SELECT (a jq
# boolean), it belongs to the container, and every CHECK (jq boolean) holds.
# The container checks are applied to every expected container event: events
# are selected by their unique arguments only, never by container.
expect_one() {
	local desc=$1 sel=$2 n ev c
	shift 2
	n=$(it_count "$OUT" "$sel" "${JQARGS[@]}")
	if [ "$n" -ne 1 ]; then
		it_fail "$desc: expected exactly 1 event matching [$sel], got $n"
		jq -c "${JQARGS[@]}" "select($sel) | {type, result, process: .process.name, container: .container.name, args}" "$OUT" | head -5 | sed 's/^/    /'
		return
	fi
	ev=$(jq -c "${JQARGS[@]}" "select($sel)" "$OUT")
	for c in "$@"; do
		if ! jq -e "${JQARGS[@]}" "$c" >/dev/null <<<"$ev"; then
			it_fail "$desc: check [$c] is false for: $(jq -c '{type, result, errno, process: {pid: .process.pid, vpid: .process.vpid, name: .process.name}, container, args}' <<<"$ev")"
		fi
	done
}

CTR_CHECKS=(
	'.container.name == $name'
	'.container.image == $image'
	'.container.id == $cid12'
	'.container.runtime == "podman"'
	'.container.privileged == true'
	'.k8s == null'
)

# exec: the container's init and a program with arguments
expect_one "execve of the container init" \
	'.type == "execve" and .args.argv == ["sh", "-c", $script]' \
	"${CTR_CHECKS[@]}" '.result == 0' '.process.vpid == 1' '.process.pid != 1' \
	'.args.exe == "/bin/busybox"'
expect_one "execve of cat with args" \
	'.type == "execve" and .args.argv == ["cat", "/etc/passwd", ("/nonexist-vgit-" + $m)]' \
	"${CTR_CHECKS[@]}" '.result == 0' '.args.exe == "/bin/busybox"' '.args.cwd == "/"' \
	'.process.args == ["cat", "/etc/passwd", ("/nonexist-vgit-" + $m)]'
CAT_PID=$(jq -r "${JQARGS[@]}" 'select(.type == "execve" and .args.argv == ["cat", "/etc/passwd", ("/nonexist-vgit-" + $m)]) | .process.pid' "$OUT" | head -1)
JQARGS+=(--argjson catpid "${CAT_PID:-0}")

# opens: absolute, missing (ENOENT), relative
expect_one "open of /etc/passwd by that cat" \
	'(.type | test("^open")) and .args.path == "/etc/passwd" and .process.pid == $catpid' \
	"${CTR_CHECKS[@]}" '.result >= 0' '.args.path_raw == null' '.process.name == "cat"'
expect_one "open of a missing file" \
	'(.type | test("^open")) and .args.path == ("/nonexist-vgit-" + $m)' \
	"${CTR_CHECKS[@]}" '.result == -2' '.errno == "ENOENT"' '.process.pid == $catpid'
expect_one "open of a relative path after cd /tmp" \
	'(.type | test("^open|^creat")) and (.args.path // "" | endswith("rel-" + $m + ".txt"))' \
	"${CTR_CHECKS[@]}" '.result >= 0' '.args.path == ("/tmp/rel-" + $m + ".txt")' \
	'.args.path_raw == ("rel-" + $m + ".txt")' \
	'(.type == "creat") or (.args.flags | test("O_CREAT"))'

# rename and mkdir (relative paths too)
expect_one "rename (mv)" \
	'(.type | test("^rename")) and (.args.newpath // "" | endswith("mvd-" + $m + ".txt"))' \
	"${CTR_CHECKS[@]}" '.result == 0' '.process.name == "mv"' \
	'.args.oldpath == ("/tmp/rel-" + $m + ".txt")' '.args.newpath == ("/tmp/mvd-" + $m + ".txt")' \
	'.args.oldpath_raw == ("rel-" + $m + ".txt")' '.args.newpath_raw == ("mvd-" + $m + ".txt")'
expect_one "mkdir" \
	'(.type | test("^mkdir")) and (.args.path // "" | endswith("dir-" + $m))' \
	"${CTR_CHECKS[@]}" '.result == 0' '.process.name == "mkdir"' \
	'.args.path == ("/tmp/dir-" + $m)' '.args.path_raw == ("dir-" + $m)'

# network: the listener's bind/listen/accept, the client's connect
expect_one "bind of the nc listener" \
	'.type == "bind" and .args.addr.port == $port' \
	"${CTR_CHECKS[@]}" '.result == 0' '.process.name == "nc"' \
	'(.args.addr.family == "ipv4" or .args.addr.family == "ipv6")'
LISTENER_PID=$(jq -r "${JQARGS[@]}" 'select(.type == "bind" and .args.addr.port == $port) | .process.pid' "$OUT" | head -1)
JQARGS+=(--argjson lpid "${LISTENER_PID:-0}")
expect_one "listen of the nc listener" \
	'.type == "listen" and .process.pid == $lpid' \
	"${CTR_CHECKS[@]}" '.result == 0'
expect_one "connect to the listener" \
	'.type == "connect" and .args.addr.port == $port' \
	"${CTR_CHECKS[@]}" '.result == 0' '.process.name == "nc"' \
	'.args.addr.family == "ipv4"' '.args.addr.ip == "127.0.0.1"' \
	'.args.tuple.remote_ip == "127.0.0.1"' '.args.tuple.remote_port == $port' \
	'.args.tuple.local_port > 0' '.process.pid != $lpid'
CLIENT_PORT=$(jq -r "${JQARGS[@]}" 'select(.type == "connect" and .args.addr.port == $port) | .args.tuple.local_port' "$OUT" | head -1)
JQARGS+=(--argjson cport "${CLIENT_PORT:-0}")
expect_one "accept by the listener" \
	'(.type | test("^accept")) and .process.pid == $lpid' \
	"${CTR_CHECKS[@]}" '.result >= 0' '.args.tuple.local_port == $port' \
	'.args.tuple.remote_port == $cport' '(.args.tuple.remote_ip | test("127.0.0.1$"))'

# privilege: setuid by su, unshare, mount, umount
expect_one "setuid(nobody) by su" \
	'(.type | test("^set(res?)?uid$")) and .process.name == "su" and (.args.uid // .args.ruid) == 65534' \
	"${CTR_CHECKS[@]}" '.result == 0' '.user.uid == 65534'
expect_one "unshare(CLONE_NEWUTS)" \
	'.type == "unshare" and .process.name == "unshare"' \
	"${CTR_CHECKS[@]}" '.result == 0' '.args.flags == "CLONE_NEWUTS"'
expect_one "mount of a tmpfs" \
	'.type == "mount" and .args.source == ("vgit-src-" + $m)' \
	"${CTR_CHECKS[@]}" '.result == 0' '.args.target == ("/tmp/mnt-" + $m)' '.args.fstype == "tmpfs"'
expect_one "umount of that tmpfs" \
	'.type == "umount2" and .args.target == ("/tmp/mnt-" + $m)' \
	"${CTR_CHECKS[@]}" '.result == 0'

# Every event of the container's cgroup carries the same, complete metadata
# (selected by name and by id, so a mismatch of either shows up), including
# the full 64-hex id.
IMAGE_ID=$(podman image inspect --format '{{.Id}}' "$IT_IMAGE" 2>/dev/null)
JQARGS+=(--arg image_id "$IMAGE_ID")
CSEL='.container.name == $name or .container.id == $cid12'
N_CTR=$(it_count "$OUT" "$CSEL" "${JQARGS[@]}")
[ "$N_CTR" -gt 0 ] || it_fail "no event attributed to the container at all"
for c in '.container.name == $name' '.container.id == $cid12' '.container.full_id == $cid' \
	'.container.image == $image' '.container.image_id == $image_id' \
	'.container.metadata == true' '.cgroup.path == ("/libpod_parent/libpod-" + $cid)'; do
	BAD=$(it_count "$OUT" "($CSEL) and (($c) | not)" "${JQARGS[@]}")
	if [ "$BAD" -ne 0 ]; then
		it_fail "$BAD of $N_CTR container events fail [$c]; values seen:"
		jq -c "${JQARGS[@]}" "select(($CSEL) and (($c) | not)) | {container, cgroup: .cgroup.path}" "$OUT" |
			sort | uniq -c | head -3 | sed 's/^/    /'
		echo "    (podman id: $CID, image id: $IMAGE_ID)"
	fi
done

# The host process: container.id "" and no container name.
expect_one "host execve of cat /etc/hostname" \
	'.type == "execve" and .args.argv == ["cat", "/etc/hostname", $hostfile]' \
	'.container.id == ""' '(.container.name // "") == ""' '.result == 0' '.k8s == null'
expect_one "host open of the marker file" \
	'(.type | test("^open")) and .args.path == $hostfile' \
	'.container.id == ""' '.result >= 0' '.process.name == "cat"'

[ "$IT_FAILS" -eq 0 ] || echo "tracer: $STATS"
it_finish
