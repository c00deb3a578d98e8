#!/bin/bash
# test_tamper.sh: every act against the agent, done as root on the host and
# in a container, raises its default rule naming the actor's process and
# container. The agent runs from a copy of the binary, with its own rule file
# and store under the test's directory, so that the acts harm nothing:
#  - signals (kill, tkill, tgkill, pidfd_send_signal) of SIGURG, which the
#    agent ignores: "Vigil agent killed or stopped";
#  - PTRACE_SEIZE and detach, process_vm_readv, an open of /proc/PID/mem:
#    "Vigil agent traced or its memory read";
#  - appending to its rule file, chmod of its binary, opening its store for
#    writing (the container through bind mounts under other names):
#    "Vigil agent files changed";
#  - BPF_MAP_GET_FD_BY_ID of one of its maps, pinning and removing a pin below
#    its pin directory: "Vigil agent BPF objects tampered with";
#  - umount2 of the BPF filesystem (with flags the kernel refuses, so nothing
#    is unmounted): "BPF filesystem unmounted" (host only: a container's
#    umount acts on its own mount namespace, not on the agent's pins);
#  - SIGINT, the stop: "Vigil agent told to stop or reload".
# Controls: the same signal to another process and a write to a file of the
# same name elsewhere raise none of these rules.
# The container shares the host's pid namespace (--pid=host): a container in
# its own cannot name the agent's pid at all.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
command -v bpftool >/dev/null || it_skip "bpftool is not installed"
it_need_podman
M=$$
AGENT=""
OTHER=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	[ -n "$OTHER" ] && kill -KILL "$OTHER" 2>/dev/null && wait "$OTHER" 2>/dev/null
	rm -f "/sys/fs/bpf/vigil/tamper-$M-h" "/sys/fs/bpf/vigil/tamper-$M-c"
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp

PROBE=$IT_TMP/tools/tamper_probe
mkdir -p "$IT_TMP/tools" "$IT_TMP/bin" "$IT_TMP/cfg" "$IT_TMP/other"
${CC:-cc} -O2 -Wall -Wextra -Werror -static -o "$PROBE" tests/tools/tamper_probe.c ||
	it_die "cannot build tests/tools/tamper_probe.c"
cp "$VIGIL" "$IT_TMP/bin/vigil"
cat >"$IT_TMP/cfg/tamper-rules.yaml" <<'EOR'
- rule: Nothing
  desc: test
  condition: evt.type = openat and fd.name = /nonexistent/tamper
  output: never
  priority: DEBUG
EOR
cp "$IT_TMP/cfg/tamper-rules.yaml" "$IT_TMP/other/tamper-rules.yaml"

"$IT_TMP/bin/vigil" run --default-rules --rules "$IT_TMP/cfg/tamper-rules.yaml" --store "$IT_TMP/db" \
	--json --duration 180 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"
MAPID=$(sed -n 's/^map_id:[[:space:]]*//p' /proc/"$AGENT"/fdinfo/* 2>/dev/null | head -1)
[ -n "$MAPID" ] || it_die "cannot find a BPF map the agent holds"
mkdir -p /sys/fs/bpf/vigil 2>/dev/null
sleep 60 &
OTHER=$!

# --- on the host
for act in kill tkill tgkill pidfd ptrace vmread mem; do
	"$PROBE" "$act" "$AGENT" >>"$IT_TMP/host.log" 2>&1
done
"$PROBE" mapid "$MAPID" >>"$IT_TMP/host.log" 2>&1
"$PROBE" umount /sys/fs/bpf >>"$IT_TMP/host.log" 2>&1
sh -c "echo '# host' >>'$IT_TMP/cfg/tamper-rules.yaml'"
chmod 755 "$IT_TMP/bin/vigil"
sh -c ": >>'$IT_TMP/db'"
bpftool map create "/sys/fs/bpf/vigil/tamper-$M-h" type array key 4 value 4 entries 1 name tamper_h ||
	it_fail "bpftool could not pin a map below /sys/fs/bpf/vigil"
rm -f "/sys/fs/bpf/vigil/tamper-$M-h"
bpftool map create "/sys/fs/bpf/vigil/tamper-$M-c" type array key 4 value 4 entries 1 name tamper_c
# controls
"$PROBE" kill "$OTHER" >/dev/null
sh -c "echo '# other' >>'$IT_TMP/other/tamper-rules.yaml'"
grep -q 'ret=-1' "$IT_TMP/host.log" && grep -v umount "$IT_TMP/host.log" | grep -q 'ret=-1' &&
	it_fail "a host act failed: $(cat "$IT_TMP/host.log")"

# --- in a container: root, the host's pid namespace, privileged (ptrace, bpf), the agent's
# files and the BPF filesystem bind-mounted under other names
C=tamper-$M-c
out=$(it_bounded 90 vg_podman run --rm --name "$C" --pid=host --privileged --security-opt seccomp=unconfined \
	-v "$IT_TMP/tools:/t:ro" -v "$IT_TMP/cfg:/cfg" -v "$IT_TMP/bin:/agentbin" -v /sys/fs/bpf:/sys/fs/bpf \
	"$IT_IMAGE" sh -c "
		for act in kill tkill tgkill pidfd ptrace vmread mem; do /t/tamper_probe \$act $AGENT; done
		/t/tamper_probe mapid $MAPID
		echo '# container' >>/cfg/tamper-rules.yaml
		chmod 755 /agentbin/vigil
		rm /sys/fs/bpf/vigil/tamper-$M-c
		sleep 2" </dev/null 2>&1)
echo "$out" | grep -q 'ret=-1' && it_fail "a container act failed: $out"

# wait (bounded) for the container's last alert, then stop the agent (itself an act)
for ((i = 0; i < 100; i++)); do
	[ "$(jq -c "select(.rule == \"Vigil agent BPF objects tampered with\" and .output_fields[\"container.name\"] == \"$C\" and .output_fields[\"proc.name\"] == \"rm\")" "$IT_TMP/out" 2>/dev/null | wc -l)" -ge 1 ] && break
	sleep 0.2
done
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
AGENT_PID_WAS=$AGENT
AGENT=""

alerts() { # RULE CONTAINER PROC [JQ condition]
	jq -c --arg r "$1" --arg c "$2" --arg p "$3" \
		"select(.rule == \$r and .output_fields[\"container.name\"] == \$c and .output_fields[\"proc.name\"] == \$p ${4:+and ($4)})" \
		"$IT_TMP/out" | wc -l
}
expect() { # RULE CONTAINER PROC [JQ condition]
	[ "$(alerts "$@")" -ge 1 ] || it_fail "no '$1' alert for $3 in $2${4:+ ($4)}"
}
for c in host "$C"; do
	for sc in kill tkill tgkill pidfd_send_signal; do
		expect "Vigil agent killed or stopped" "$c" tamper_probe ".output_fields[\"evt.type\"] == \"$sc\""
	done
	expect "Vigil agent traced or its memory read" "$c" tamper_probe '.output_fields["vigil.tamper"] == "ptrace"'
	expect "Vigil agent traced or its memory read" "$c" tamper_probe '.output_fields["evt.type"] == "process_vm_readv"'
	expect "Vigil agent traced or its memory read" "$c" tamper_probe ".output_fields[\"fd.name\"] == \"/proc/$AGENT_PID_WAS/mem\""
	expect "Vigil agent BPF objects tampered with" "$c" tamper_probe '.output_fields["evt.type"] == "bpf"'
	expect "Vigil agent BPF objects tampered with" "$c" rm
done
expect "Vigil agent files changed" host sh '.output_fields["vigil.tamper"] == "rules"'
expect "Vigil agent files changed" "$C" sh '.output_fields["vigil.tamper"] == "rules" and .output_fields["fs.path.name"] == "/cfg/tamper-rules.yaml"'
expect "Vigil agent files changed" host chmod '.output_fields["vigil.tamper"] == "binary"'
expect "Vigil agent files changed" "$C" chmod '.output_fields["vigil.tamper"] == "binary"'
expect "Vigil agent files changed" host sh '.output_fields["vigil.tamper"] == "store"'
expect "Vigil agent BPF objects tampered with" host bpftool
expect "BPF filesystem unmounted" host tamper_probe
expect "Vigil agent told to stop or reload" host bash '.output_fields["evt.arg.sig"] == "SIGINT"'
# controls: another process signalled, a file of the same name elsewhere
[ "$(jq -c "select(.rule == \"Vigil agent killed or stopped\")" "$IT_TMP/out" | wc -l)" -eq 8 ] ||
	it_fail "expected 8 signal alerts (4 ways, host and container), got: $(jq -c 'select(.rule == "Vigil agent killed or stopped") | .output' "$IT_TMP/out")"
[ "$(jq -c "select(.rule == \"Vigil agent files changed\" and (.output | contains(\"$IT_TMP/other\")))" "$IT_TMP/out" | wc -l)" -eq 0 ] ||
	it_fail "a write to another file of the same name raised 'Vigil agent files changed'"
it_finish
