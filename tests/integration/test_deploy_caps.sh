#!/usr/bin/env bash
# test_deploy_caps: the agent runs with exactly the capabilities its systemd
# unit (and DaemonSet) names, read from deploy/systemd/vigil-agent.service:
# under that bounding set (setpriv) `vigil run --deny-drift` starts, loads the
# sensor, arms fanotify and alerts on a default rule. Without CAP_SYS_ADMIN the
# drift guard is refused, and without CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON
# the sensor cannot load: each says so. (The others are exercised by the
# response tests; docs/deploy.md says which action needs which.)
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_vigil
command -v setpriv >/dev/null 2>&1 || it_skip "setpriv (util-linux) is not installed"
command -v capsh >/dev/null 2>&1 || it_skip "capsh (libcap2-bin) is not installed"
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
T=$IT_TMP

caps=$(sed -n 's/^CapabilityBoundingSet=//p' deploy/systemd/vigil-agent.service)
[ -n "$caps" ] || it_die "no CapabilityBoundingSet in the agent's unit"
# "CAP_BPF CAP_KILL" -> "-all,+bpf,+kill", leaving out the capabilities given as arguments
bounding() {
	local c out=-all drop
	for c in $caps; do
		for drop in "$@"; do [ "$c" = "$drop" ] && continue 2; done
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	echo "$out"
}

echo "== with the unit's capabilities ($caps)"
setpriv --bounding-set "$(bounding)" --inh-caps -all -- \
	"$VIGIL" run --store "$T/db" --json --response off --deny-drift --duration 60 >"$T/out" 2>"$T/err" &
AGENT=$!
it_agent_ready "$AGENT" "$T/err"
# the running agent's bounding set is the unit's, no more
bnd=$(sed -n 's/^CapBnd:\t//p' /proc/"$AGENT"/status)
got=$(capsh --decode="$bnd" 2>/dev/null | sed 's/^.*=//' | tr ',' '\n' | tr a-z A-Z | sort | tr '\n' ' ')
want=$(echo "$caps" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "$want" ] || it_fail "the agent's bounding set is '$got', the unit names '$want'"
cp /bin/true "$T/vgcaps-$$"
"$T/vgcaps-$$"
for ((i = 0; i < 100; i++)); do
	grep -q '"rule":"Execution from /tmp on host"' "$T/out" && break
	sleep 0.1
done
grep -q '"rule":"Execution from /tmp on host"' "$T/out" || it_fail "no alert under the unit's capabilities: $(tail -5 "$T/err")"
grep -qi 'cannot\|refused' "$T/err" && it_fail "something was refused: $(grep -i 'cannot\|refused' "$T/err")"
kill -INT "$AGENT"
wait "$AGENT" || it_fail "the agent exited $?: $(tail -3 "$T/err")"
AGENT=""

echo "== without CAP_SYS_ADMIN: the drift guard is refused, plainly"
setpriv --bounding-set "$(bounding CAP_SYS_ADMIN)" --inh-caps -all -- \
	"$VIGIL" run --store "$T/db" --json --response off --deny-drift --duration 3 >/dev/null 2>"$T/err"
grep -q 'deny-drift cannot be enforced: fanotify permission events refused: Operation not permitted' "$T/err" ||
	it_fail "no clear refusal without CAP_SYS_ADMIN: $(tail -3 "$T/err")"

echo "== without CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON: no sensor"
setpriv --bounding-set "$(bounding CAP_SYS_ADMIN CAP_BPF CAP_PERFMON)" --inh-caps -all -- \
	"$VIGIL" run --store "$T/db" --json --response off --duration 3 >/dev/null 2>"$T/err"
[ $? = 1 ] || it_fail "the agent ran without the BPF capabilities"
grep -qi 'permitted\|permission' "$T/err" || it_fail "no clear error without the BPF capabilities: $(tail -3 "$T/err")"
it_finish
