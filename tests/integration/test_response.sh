#!/bin/bash
# test_response.sh: rules' actions carried out by `vigil run` on real podman
# containers. kill: the offending process dies at once (exit 137, never reaches
# its next command). freeze: a container's busy loop stops using CPU; `vigil
# respond thaw` resumes it. audit mode records and changes nothing. A host
# process is never touched without --allow-host-actions. An action this
# version cannot carry out stops the agent at start with the reason.
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
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f "vgresp-$M-freeze" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cat >"$IT_TMP/rules.yaml" <<EOR
- rule: Kill on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/kill-me-$M
  output: killing %proc.name in %container.name
  priority: CRITICAL
  actions: [kill]
- rule: Freeze on trigger
  desc: test
  condition: evt.type in (open, openat) and fd.name = /tmp/freeze-me-$M and container.id != host
  output: freezing %container.name
  priority: CRITICAL
  actions: [freeze]
EOR

start_agent() { # extra options...
	: >"$IT_TMP/out"
	"$VIGIL" run --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/db" --json --duration 90 "$@" \
		>"$IT_TMP/out" 2>"$IT_TMP/err" &
	AGENT=$!
	it_agent_ready "$AGENT" "$IT_TMP/err"
}
stop_agent() {
	kill -INT "$AGENT"
	wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
	AGENT=""
}

start_agent
# --- kill
t0=$(date +%s%N)
out=$(vg_podman run --rm --name "vgresp-$M-kill" "$IT_IMAGE" sh -c "echo x >/tmp/kill-me-$M; sleep 10; echo survived")
rc=$?
t1=$(date +%s%N)
[ "$rc" -eq 137 ] || it_fail "killed container exited $rc, not 137"
[ -z "$out" ] || it_fail "the killed process went on: $out"
[ $(((t1 - t0) / 1000000000)) -lt 8 ] || it_fail "the kill took $(((t1 - t0) / 1000000)) ms"
# --- a host process is not a target without --allow-host-actions
sh -c "echo x >/tmp/kill-me-$M; echo host-survived >$IT_TMP/host" && rm -f "/tmp/kill-me-$M"
grep -q host-survived "$IT_TMP/host" 2>/dev/null || it_fail "a host process was killed"
# --- freeze and thaw
vg_podman run -d --name "vgresp-$M-freeze" "$IT_IMAGE" sh -c "touch /tmp/freeze-me-$M; while :; do :; done" >/dev/null ||
	it_die "cannot start the busy container"
ID=$(podman inspect -f '{{.Id}}' "vgresp-$M-freeze")
CG=$(awk -F: '$1 == "0" { print $3 }' "/proc/$(podman inspect -f '{{.State.Pid}}' "vgresp-$M-freeze")/cgroup")
usage() { awk '$1 == "usage_usec" { print $2 }' "$(findmnt -n -o TARGET -t cgroup2 | head -1)$CG/cpu.stat"; }
for ((i = 0; i < 50; i++)); do
	"$VIGIL" actions --store "$IT_TMP/db" --json 2>/dev/null | jq -c 'select(.action == "freeze")' | grep -q . && break
	sleep 0.1
done
# the freeze has taken effect (the kernel freezes the cgroup asynchronously)
for ((i = 0; i < 50; i++)); do
	grep -qx 'frozen 1' "$(findmnt -n -o TARGET -t cgroup2 | head -1)$CG/cgroup.events" 2>/dev/null && break
	sleep 0.1
done
u1=$(usage); sleep 1; u2=$(usage)
[ -n "$u1" ] && [ "$u1" = "$u2" ] || it_fail "a frozen container used CPU: $u1 -> $u2 usec"
"$VIGIL" respond thaw "vgresp-$M-freeze" --store "$IT_TMP/db" >/dev/null 2>"$IT_TMP/thaw.err" ||
	it_fail "thaw failed: $(cat "$IT_TMP/thaw.err")"
u3=$(usage); sleep 1; u4=$(usage)
[ "$u4" -gt "$u3" ] || it_fail "a thawed container did not run: $u3 -> $u4 usec"
vg_podman rm -f "vgresp-$M-freeze" >/dev/null 2>&1
stop_agent

n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r '[.action, .outcome, .path] | join(" ")' | sort | paste -sd ';')
[ "$n" = "freeze done userspace;kill done userspace;kill refused userspace;thaw done userspace" ] ||
	it_fail "actions recorded: $n"
n=$(jq -r 'select(.rule == "Kill on trigger" and .vigil.event.container.name != null) | .vigil.responses[0].outcome' "$IT_TMP/out")
[ "$n" = done ] || it_fail "the kill alert's responses: $n"
n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r 'select(.outcome == "refused") | .detail')
case $n in *"not in a container"*) ;; *) it_fail "host refusal detail: $n" ;; esac

# --- audit mode: recorded, nothing done
rm -f "$IT_TMP"/db*
start_agent --response audit
out=$(vg_podman run --rm --name "vgresp-$M-audit" "$IT_IMAGE" sh -c "echo x >/tmp/kill-me-$M; sleep 1; echo survived")
[ "$out" = survived ] || it_fail "audit mode changed something: '$out'"
stop_agent
n=$("$VIGIL" actions --store "$IT_TMP/db" --json | jq -r '[.action, .outcome] | join(" ")')
[ "$n" = "kill audit" ] || it_fail "audit mode recorded: $n"

# --- an action this version cannot carry out is an error at start
cat >"$IT_TMP/bad.yaml" <<EOR
- rule: Deny connect
  desc: test
  condition: evt.type = connect
  output: x
  priority: WARNING
  actions: [deny_connect]
EOR
"$VIGIL" run --rules "$IT_TMP/bad.yaml" --no-store --duration 5 >/dev/null 2>"$IT_TMP/bad.err"
[ $? -eq 1 ] && grep -q "action 'deny_connect' cannot be carried out" "$IT_TMP/bad.err" ||
	it_fail "an unsupported action did not stop the agent: $(cat "$IT_TMP/bad.err")"
# --- deny_open is the file policy's, not a rule's: refused with the way to get it
sed -i 's/deny_connect/deny_open/' "$IT_TMP/bad.yaml"
"$VIGIL" run --rules "$IT_TMP/bad.yaml" --no-store --duration 5 >/dev/null 2>"$IT_TMP/bad.err"
[ $? -eq 1 ] && grep -q "action 'deny_open' is not a rule action: .*--file-policy" "$IT_TMP/bad.err" ||
	it_fail "deny_open as a rule action did not stop the agent with the reason: $(cat "$IT_TMP/bad.err")"
it_finish
