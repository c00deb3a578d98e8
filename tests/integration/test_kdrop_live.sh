#!/bin/bash
# test_kdrop_live.sh: `vigil run` (default rules) with the in-kernel filter on,
# then with --no-kernel-filter, on the same scenario: an open storm no rule can
# use (after a SIGHUP, so on the filter the reload swapped in), a credential read, a history file emptied and removed, a read through a
# climbing relative path, a program run from /tmp. The scenario's alerts must
# be the same both times; with the filter on the kernel must have dropped
# opens (the exit summary's count), with it off nothing.
# Only alerts of this test's processes are compared (their names carry $$):
# other work on the machine raises its own.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
STORM=${STORM:-build/tests/storm}
[ -x "$STORM" ] || it_skip "$STORM is not built"
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
M=kd$$ # the marker in every process name of the scenario (comm: 15 bytes)
cp /bin/true "$IT_TMP/${M}run"
cp /bin/cat "$IT_TMP/${M}cat"
cp /bin/cp "$IT_TMP/${M}cp"
cp /bin/rm "$IT_TMP/${M}rm"
mkdir -p "$IT_TMP/a/b/c"

# run_scenario NAME ARGS...: the agent with ARGS, the scenario, its alerts in $IT_TMP/NAME.alerts
run_scenario() {
	local name=$1 i
	shift
	"$VIGIL" run --no-store --json --duration 120 "$@" >"$IT_TMP/$name.live" 2>"$IT_TMP/$name.err" &
	AGENT=$!
	for ((i = 0; i < 150; i++)); do
		"$IT_TMP/${M}run"
		grep -q "${M}run" "$IT_TMP/$name.live" 2>/dev/null && break
		kill -0 "$AGENT" 2>/dev/null || it_die "the agent exited: $(tail -3 "$IT_TMP/$name.err")"
		sleep 0.2
	done
	grep -q "${M}run" "$IT_TMP/$name.live" || it_die "the agent reported nothing: $(tail -3 "$IT_TMP/$name.err")"
	# a reload rebuilds the filter and swaps it in (the other bank): the rest runs on it
	kill -HUP "$AGENT"
	for ((i = 0; i < 150; i++)); do
		grep -q 'rules reloaded' "$IT_TMP/$name.err" && break
		sleep 0.2
	done
	grep -q 'rules reloaded' "$IT_TMP/$name.err" || it_die "no reload: $(tail -3 "$IT_TMP/$name.err")"
	"$STORM" open 20000 >/dev/null || it_die "storm failed"
	"$IT_TMP/${M}cat" /etc/shadow >/dev/null
	"$IT_TMP/${M}cp" /dev/null "$IT_TMP/.bash_history"
	"$IT_TMP/${M}rm" "$IT_TMP/.bash_history"
	(cd "$IT_TMP/a/b/c" && "$IT_TMP/${M}cat" ../../../../../../../../etc/hostname >/dev/null)
	# the last of them reported: the agent has seen everything before it
	for ((i = 0; i < 150; i++)); do
		grep -q 'climbing path' "$IT_TMP/$name.live" 2>/dev/null && break
		sleep 0.2
	done
	kill -INT "$AGENT"
	wait "$AGENT" || it_fail "vigil run ($name) exited $?: $(tail -3 "$IT_TMP/$name.err")"
	AGENT=""
	# the scenario's alerts, each once (the readiness loop runs a varying number of times)
	grep -F "$M" "$IT_TMP/$name.live" | jq -r '"\(.rule)\t\(.output | sub("^[^ ]+ [^ ]+ "; ""))"' |
		sort -u >"$IT_TMP/$name.alerts"
}

run_scenario on
run_scenario off --no-kernel-filter

n=$(wc -l <"$IT_TMP/on.alerts")
[ "$n" -ge 4 ] || it_fail "only $n alerts of the scenario with the filter on: $(cat "$IT_TMP/on.alerts")"
diff "$IT_TMP/on.alerts" "$IT_TMP/off.alerts" >"$IT_TMP/diff" ||
	it_fail "the filter changed the scenario's alerts: $(head -c 2000 "$IT_TMP/diff")"
for r in "Sensitive file read by unexpected program" "Shell history tampering" "Directory traversal to a system file"; do
	grep -q "^$r	" "$IT_TMP/on.alerts" || it_fail "no alert of '$r' with the filter on"
done
dropped=$(sed -n 's/.*in-kernel filter: \([0-9]*\) events dropped in the kernel.*openat=\([0-9]*\).*/\2/p' "$IT_TMP/on.err")
[ -n "$dropped" ] && [ "$dropped" -ge 20000 ] ||
	it_fail "the filter dropped ${dropped:-no} openat events of the 20000 the storm made: $(grep 'in-kernel' "$IT_TMP/on.err")"
[ "$(grep -c 'in-kernel filter: events no rule can use' "$IT_TMP/on.err")" -eq 2 ] ||
	it_fail "the filter was not built at start and at the reload: $(grep 'in-kernel' "$IT_TMP/on.err")"
grep -q 'events dropped in the kernel' "$IT_TMP/off.err" &&
	it_fail "--no-kernel-filter still dropped: $(grep 'in-kernel' "$IT_TMP/off.err")"
it_finish
