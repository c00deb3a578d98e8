#!/bin/bash
# test_io_uring.sh: operations made through io_uring, not syscalls, are seen,
# alerted and acted on. A real io_uring program (tests/tools/uring_probe.c,
# liburing, built static here) runs in podman containers while `vigil run`
# has the default rules:
#  - it opens a credential file (/root/.ssh/id_rsa, bind-mounted) with
#    IORING_OP_OPENAT and reads it with IORING_OP_READ: the default rule about
#    credential reads alerts on it (the same rule as for the syscall), and
#    "io_uring set up in container" on the ring's creation;
#  - it creates a socket with IORING_OP_SOCKET and connects with
#    IORING_OP_CONNECT to a listener on this machine: "Connection through
#    io_uring from container", naming the listener's address;
#  - the same open with IOSQE_CQE_SKIP_SUCCESS (no completion is posted when
#    it succeeds) is still seen;
#  - a rule with `actions: [kill]` that matches an io_uring open kills the
#    program before it prints "survived";
#  - the file policy (`--file-policy`, fanotify) refuses an io_uring open of a
#    denied path in its container with EPERM, as it refuses open(2).
# Controls: `vigil trace` shows each operation (evt.is_io_uring, opcode, path,
# address, result); a host process's io_uring connect does not raise the
# container rule.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
[ -r /sys/kernel/tracing/events/io_uring/io_uring_submit_req ] || [ -r /sys/kernel/debug/tracing/events/io_uring ] ||
	grep -q btf_trace_io_uring_submit_req <(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null) ||
	it_skip "this kernel has no io_uring tracepoints (io_uring not built in)"
[ -r /usr/include/liburing.h ] && [ -r /usr/lib/x86_64-linux-gnu/liburing.a ] ||
	it_skip "liburing-dev (static library) is not installed: scripts/install-deps"
command -v python3 >/dev/null || it_skip "python3 is not installed (the test's listener)"
it_need_podman
M=$$
PORT=$((20000 + (M + 11) % 20000))
AGENT=""
LISTENER=""
SEEDED=localhost/vigil-uring-$M:seed
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f "uring-$M-seed" >/dev/null 2>&1
	podman rmi -f "$SEEDED" >/dev/null 2>&1
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp

PROBE=$IT_TMP/uring_probe
${CC:-cc} -O2 -Wall -Wextra -Werror -static -o "$PROBE" tests/tools/uring_probe.c -luring ||
	it_die "cannot build tests/tools/uring_probe.c"
# the probe may not be able to use io_uring at all (io_uring_disabled sysctl)
"$PROBE" open "$PROBE" >/dev/null 2>&1 || it_skip "io_uring cannot be used here: $("$PROBE" open "$PROBE" 2>&1)"

mkdir -p "$IT_TMP/ssh"
echo "-----BEGIN OPENSSH PRIVATE KEY----- test $M" >"$IT_TMP/ssh/id_rsa"
echo "marker $M" >"$IT_TMP/kill-me"

cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Kill on io_uring open of a marker
  desc: test
  condition: evt.is_io_uring = true and evt.type = openat and fd.name = /tmp/kill-me-$M
  output: killing %proc.name in %container.name
  priority: CRITICAL
  actions: [kill]
EOR

cat >"$IT_TMP/listener.py" <<'EOPY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    print("accepted", flush=True)
    c.close()
EOPY
python3 "$IT_TMP/listener.py" "$PORT" >"$IT_TMP/listener.out" 2>&1 &
LISTENER=$!
for ((i = 0; i < 50; i++)); do grep -q ready "$IT_TMP/listener.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$IT_TMP/listener.out" || it_die "the listener did not start: $(cat "$IT_TMP/listener.out")"

# the file policy guards a container's own root filesystem: an image with a key in it
vg_podman run --name "uring-$M-seed" "$IT_IMAGE" sh -c 'mkdir -p /srv/keys && echo key >/srv/keys/id_rsa' >/dev/null ||
	it_die "cannot prepare the image"
podman commit -q "uring-$M-seed" "$SEEDED" >/dev/null || it_die "cannot commit the image"
vg_podman rm -f "uring-$M-seed" >/dev/null 2>&1
cat >"$IT_TMP/files.yaml" <<EOF
files:
  - containers: [uring-$M-deny]
    deny_open: [/srv/keys/id_rsa]
EOF
"$VIGIL" run --default-rules --rules "$IT_TMP/rules.yaml" --file-policy "$IT_TMP/files.yaml" \
	--store "$IT_TMP/db" --json --duration 120 \
	>"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
it_trace_start "$IT_TMP/trace" "$IT_TMP/trace.err" --json --syscalls open,openat,openat2,connect,io_uring_setup,io_uring_op

run_probe() { # NAME ARGS...: the probe in a container; prints its output
	local name=$1
	shift
	it_bounded 60 vg_podman run --rm --network host --security-opt seccomp=unconfined --name "$name" \
		-v "$PROBE:/uring_probe:ro" -v "$IT_TMP/ssh/id_rsa:/root/.ssh/id_rsa:ro" \
		-v "$IT_TMP/kill-me:/tmp/kill-me-$M:ro" "$IT_IMAGE" /uring_probe "$@" </dev/null 2>&1
}

# --- a credential read and a connection, through io_uring only
out=$(run_probe "uring-$M-read" open /root/.ssh/id_rsa)
echo "$out" | grep -q 'open res=[0-9]' || it_fail "the probe could not open the key: $out"
echo "$out" | grep -q 'read res=[1-9]' || it_fail "the probe could not read the key: $out"
out=$(run_probe "uring-$M-conn" connect 127.0.0.1 "$PORT")
echo "$out" | grep -q 'connect res=0' || it_fail "the probe could not connect: $out"
out=$(run_probe "uring-$M-skip" skipopen /root/.ssh/id_rsa)
echo "$out" | grep -q 'skipopen+nop res=0' || it_fail "the CQE_SKIP open failed: $out"
# --- the kill action applies to an io_uring open
out=$(run_probe "uring-$M-kill" open "/tmp/kill-me-$M" --wait 10)
rc=$?
[ "$rc" -eq 137 ] || it_fail "the killed probe's container exited $rc, not 137: $out"
echo "$out" | grep -q survived && it_fail "the probe survived its io_uring open: $out"
# --- the deny action applies to an io_uring open
out=$(it_bounded 60 vg_podman run --rm --security-opt seccomp=unconfined --name "uring-$M-deny" \
	-v "$PROBE:/uring_probe:ro" "$SEEDED" /uring_probe open /srv/keys/id_rsa </dev/null 2>&1)
echo "$out" | grep -q 'open res=-1$' || it_fail "the file policy did not refuse the io_uring open with EPERM: $out"
# --- control: a host process's io_uring connect is not a container's
"$PROBE" connect 127.0.0.1 "$PORT" >/dev/null || it_fail "the host probe could not connect"
it_trace_sync "$IT_TMP/trace" "$IT_TMP/trace.err"
it_trace_stop

# wait (bounded) for the alerts of the last container, then stop the agent
for ((i = 0; i < 100; i++)); do
	grep -q "Kill on io_uring open of a marker" "$IT_TMP/out" 2>/dev/null && break
	sleep 0.1
done
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
AGENT=""

alert() { # RULE CONTAINER [JQ condition]: count of such alerts
	jq -c --arg r "$1" --arg c "$2" "select(.rule == \$r and .output_fields[\"container.name\"] == \$c ${3:+and ($3)})" \
		"$IT_TMP/out" | wc -l
}
[ "$(alert "io_uring set up in container" "uring-$M-read")" -ge 1 ] ||
	it_fail "no 'io_uring set up in container' alert: $(jq -c .rule "$IT_TMP/out" | sort | uniq -c)"
[ "$(alert "Sensitive file read by unexpected program" "uring-$M-read" '.output_fields["fd.name"] == "/root/.ssh/id_rsa" and .output_fields["proc.name"] == "uring_probe"')" -ge 1 ] ||
	it_fail "the io_uring read of the key raised no credential-read alert: $(grep -v '"rule":"io_uring' "$IT_TMP/out" | head -5)"
[ "$(alert "Sensitive file read by unexpected program" "uring-$M-skip" '.output_fields["fd.name"] == "/root/.ssh/id_rsa"')" -ge 1 ] ||
	it_fail "the CQE_SKIP_SUCCESS open raised no credential-read alert"
[ "$(alert "Connection through io_uring from container" "uring-$M-conn" ".output_fields[\"fd.name\"] | tostring | contains(\"127.0.0.1:$PORT\")")" -ge 1 ] ||
	it_fail "no 'Connection through io_uring from container' alert naming 127.0.0.1:$PORT: $(grep Connection "$IT_TMP/out")"
[ "$(jq -c "select(.rule == \"Connection through io_uring from container\" and .output_fields[\"container.name\"] == \"host\")" "$IT_TMP/out" | wc -l)" -eq 0 ] ||
	it_fail "the host's io_uring connect raised the container rule"
[ "$(alert "Kill on io_uring open of a marker" "uring-$M-kill")" -ge 1 ] || it_fail "no alert for the marker open"
"$VIGIL" actions --store "$IT_TMP/db" --json >"$IT_TMP/actions.json" || it_fail "vigil actions failed"
[ "$(jq -c "select(.action == \"kill\" and .outcome == \"done\" and .container_name == \"uring-$M-kill\")" "$IT_TMP/actions.json" | wc -l)" -ge 1 ] ||
	it_fail "the kill is not recorded as done: $(cat "$IT_TMP/actions.json")"

# --- the trace: each operation with its opcode, path or address, and result
tr() { it_count "$IT_TMP/trace" "$1"; }
[ "$(tr '.type == "io_uring_setup" and .process.name == "uring_probe" and .result >= 0 and .args.entries == 8')" -ge 1 ] ||
	it_fail "no io_uring_setup event in the trace"
[ "$(tr '.type == "openat" and .io_uring == true and .args.path == "/root/.ssh/id_rsa" and .container.name == "uring-'"$M"'-read"')" -ge 1 ] ||
	it_fail "no io_uring openat of the key in the trace: $(grep -m3 '"io_uring":true' "$IT_TMP/trace")"
[ "$(tr '.type == "io_uring_op" and .args.opcode == 22 and .args.path == "/root/.ssh/id_rsa"')" -ge 1 ] ||
	it_fail "no IORING_OP_READ (22) of the key in the trace"
[ "$(tr '.type == "io_uring_op" and .args.opcode == 45 and .container.name == "uring-'"$M"'-conn"')" -ge 1 ] ||
	it_fail "no IORING_OP_SOCKET (45) in the trace"
[ "$(tr '.type == "connect" and .io_uring == true and .args.addr.port == '"$PORT"' and .container.name == "uring-'"$M"'-conn"')" -ge 1 ] ||
	it_fail "no io_uring connect to port $PORT in the trace: $(grep -m3 '"connect"' "$IT_TMP/trace")"
[ "$(tr '.type == "openat" and .io_uring == true and .no_result == true and .container.name == "uring-'"$M"'-skip"')" -ge 1 ] ||
	it_fail "no CQE_SKIP_SUCCESS open in the trace"
it_finish
