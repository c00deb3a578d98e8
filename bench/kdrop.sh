#!/usr/bin/env bash
# bench/kdrop.sh: the open storm with the in-kernel filter on, off, and no agent.
#
# For each of KDROP_PAIRS rounds (default 3), runs `storm open N` (N openat +
# close of /tmp/storm-file, O_RDONLY, pinned to CPU 0; default N 1000000)
#   - with no agent,
#   - under `vigil run --no-store --no-kernel-filter` (every open sent up),
#   - under `vigil run --no-store` (default rules: the storm's opens, which no
#     default rule can use, are dropped in the kernel),
# in that order, and prints the storm's CPU time (user + system, the kernel
# programs included) as a ratio over the no-agent run of the same round, then
# the median of each ratio. Target (docs/performance.md): on <= 1.10.
#
# With kernel.bpf_stats_enabled set for the duration of the run (restored at
# the end), it also prints the kernel cost of one storm event: the agent's
# syscall programs' run_time_ns over the storm, less the other processes'
# runs during it (the runs beyond N) at their mean cost while idle (the two
# seconds before the storm), divided by N (a correction by count, steadier on
# a busy machine than one by time):
# with the filter off that is the cost of an event kept (built, copied to the
# ring buffer), with it on the cost of an event dropped. Other sensors
# running on the machine are reported (they skew the ratios).
#
# Environment: KDROP_N (1000000), KDROP_PAIRS (3), KDROP_ATTACH (the agent's
# --attach: auto, sys-exit or syscalls; default: the agent's default), VIGIL, STORM.
# Needs root, jq and bpftool. Takes ~2-5 min on 2 cores.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_require_root
bench_require_cmd jq bpftool
bench_require_vigil
bench_require_storm

N=${KDROP_N:-1000000}
ATTACH=()
[ -n "${KDROP_ATTACH:-}" ] && ATTACH=(--attach "$KDROP_ATTACH")
PAIRS=${KDROP_PAIRS:-3}
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)

restore() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" || true
	bench_cleanup
}
trap restore EXIT
trap 'exit 130' INT TERM
bench_tmpdir
sysctl -qw kernel.bpf_stats_enabled=1

# ids of the agent's syscall programs (vg_sys_exit*): from its file descriptors
agent_prog_ids() {
	local ids
	ids=$(cat "/proc/$AGENT_PID/fdinfo/"* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -un | paste -sd, -)
	[ -n "$ids" ] || return 0
	bpftool prog show -j | jq -r --argjson ids "[$ids]" \
		'.[] | select([.id] | inside($ids)) | select(.name | startswith("vg_sys_exit")) | .id'
}

# total run_time_ns and run_cnt of the program ids given on stdin: "ns cnt"
prog_ns() {
	local ids
	ids=$(paste -sd, -)
	bpftool prog show -j | jq -r --argjson ids "[$ids]" \
		'[.[] | select([.id] | inside($ids))] | "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

storm_cpu() { sed -n 's/.* cpu=\([0-9.]*\).*/\1/p' <<<"$1"; }

# run_with MODE: the storm under the agent (MODE off|on); prints "cpu ns_per_event"
run_with() {
	local ours out n0 n1 n2 c0 c1 c2 per
	if [ "$1" = off ]; then
		agent_start "$BENCH_TMP/agent.err" run --no-store --no-kernel-filter "${ATTACH[@]}"
	else
		agent_start "$BENCH_TMP/agent.err" run --no-store "${ATTACH[@]}"
	fi
	ours=$(agent_prog_ids)
	[ -n "$ours" ] || bench_die "the agent's syscall programs were not found"
	read -r n0 c0 < <(prog_ns <<<"$ours")
	sleep 2
	read -r n1 c1 < <(prog_ns <<<"$ours")
	out=$("$STORM" open "$N") || bench_die "storm failed: $out"
	read -r n2 c2 < <(prog_ns <<<"$ours")
	per=$(awk -v ins=$((n1 - n0)) -v inc=$((c1 - c0)) -v busy=$((n2 - n1)) -v runs=$((c2 - c1)) -v n="$N" \
		'BEGIN { mean = inc > 0 ? ins / inc : 0; other = runs > n ? runs - n : 0
			 v = (busy - other * mean) / n; if (v < 0) v = 0; printf "%.0f", v }')
	agent_stop
	printf '%s %s\n' "$(storm_cpu "$out")" "$per"
}

echo "# kdrop.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, kernel $(uname -r), N=$N, attach=${KDROP_ATTACH:-default}"
foreign=$(bench_foreign_agents)
[ -n "$foreign" ] && echo "# warning: other vigil processes run ($foreign): their programs also run on the storm's syscalls"
offs=() ons=() koff=() kon=()
for ((p = 1; p <= PAIRS; p++)); do
	none=$(storm_cpu "$("$STORM" open "$N")")
	read -r off_cpu off_ns < <(run_with off)
	read -r on_cpu on_ns < <(run_with on)
	r_off=$(bench_ratio "$off_cpu" "$none")
	r_on=$(bench_ratio "$on_cpu" "$none")
	offs+=("$r_off") ons+=("$r_on") koff+=("$off_ns") kon+=("$on_ns")
	echo "round $p: cpu none=${none}s filter-off=${off_cpu}s (x$r_off) filter-on=${on_cpu}s (x$r_on)" \
		"kernel ns/event kept=$off_ns dropped=$on_ns"
done
med() { printf '%s\n' "$@" | bench_median; }
echo "median: filter-off x$(med "${offs[@]}") filter-on x$(med "${ons[@]}")" \
	"kernel ns/event kept=$(med "${koff[@]}") dropped=$(med "${kon[@]}")"
