#!/usr/bin/env bash
# bench/memory.sh: the agent's memory (VmRSS) under process and container churn.
#
# Starts `vigil trace --json` (output to /dev/null) and reads VmRSS of the
# agent from /proc/PID/status at each stage:
#   start        agent ready, idle
#   procs-live   MEMORY_PROCS (10000) live `sleep` processes, spawned in batches
#   procs-gone   after killing them and waiting MEMORY_SETTLE_S (16 s: the state
#                sweep runs every 5 s and frees a gone entry at the second
#                sweep that finds it gone)
#   containers   after MEMORY_CONTAINERS (200) `podman run --rm busybox true`,
#                MEMORY_CONCURRENCY (4) at a time, plus the settle time
#   procs-again  the same process churn once more (spawn, kill, settle): memory
#                freed by the first round must be reused, so a growth here
#                is a leak rather than the allocator's high-water mark
# It prints RSS (and RssAnon: the heap, where the tables live; the rest is
# mostly the mapped ring buffer and the binary) and the agent's CPU seconds at
# each stage, the growth after churn (vs. start, and procs-again vs.
# procs-gone), and the agent's exit stats (its process and cgroup table sizes,
# to compare with what is alive then).
#
# Environment: MEMORY_PROCS, MEMORY_CONTAINERS, MEMORY_CONCURRENCY,
# MEMORY_SETTLE_S, VIGIL, BENCH_KEEPALIVE_HZ (0). Needs root; the container
# stage needs podman + runc (tests/lib/containers.sh) and is skipped without.
# Takes ~3-4 min on 2 cores.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# shellcheck source=tests/lib/containers.sh
. "$BENCH_ROOT/tests/lib/containers.sh"

bench_require_root
bench_require_vigil
bench_require_cmd getconf

PROCS=${MEMORY_PROCS:-10000}
CONTAINERS=${MEMORY_CONTAINERS:-200}
CONC=${MEMORY_CONCURRENCY:-4}
SETTLE=${MEMORY_SETTLE_S:-16}
BATCH=500
SLEEP_S=600 # the sleeps end by themselves even if everything else fails

SLEEP_PIDS=()
CT_PIDS=()
memory_cleanup() {
	local i
	set +e
	for ((i = 0; i < ${#SLEEP_PIDS[@]}; i += BATCH)); do
		kill -KILL "${SLEEP_PIDS[@]:i:BATCH}" 2>/dev/null
	done
	[ "${#SLEEP_PIDS[@]}" -gt 0 ] && wait "${SLEEP_PIDS[@]}" 2>/dev/null
	SLEEP_PIDS=()
	for i in "${CT_PIDS[@]}"; do
		bench_stop_pid "$i" TERM 30
	done
	bench_cleanup
}
trap memory_cleanup EXIT
trap 'exit 130' INT TERM
bench_tmpdir

# Room for the processes: pid_max and threads-max against what runs now.
tasks_now=$(find /proc/[0-9]*/task -maxdepth 1 -mindepth 1 -type d 2>/dev/null | wc -l)
pid_max=$(cat /proc/sys/kernel/pid_max)
threads_max=$(cat /proc/sys/kernel/threads-max)
room=$((pid_max < threads_max ? pid_max : threads_max))
room=$((room - tasks_now - 4000))
if [ "$room" -lt "$PROCS" ]; then
	bench_log "only room for $room more processes (pid_max $pid_max, threads-max $threads_max, $tasks_now tasks): using $room instead of $PROCS"
	PROCS=$room
fi
[ "$PROCS" -ge 100 ] || bench_skip "not enough free pids for the process stage"

CT_SKIP=""
if ! CT_SKIP=$(vg_podman_skip_reason); then
	:
elif ! IMG=$(vg_busybox_image 2>"$BENCH_TMP/img.err"); then
	CT_SKIP="cannot build the busybox image: $(cat "$BENCH_TMP/img.err")"
fi

declare -A RSS HWM ANON CPU_S
STAGES=()
LAST_TICKS=0
TICK=$(getconf CLK_TCK)
measure() {
	local ticks
	agent_alive || bench_die "the agent EXITED BY ITSELF before stage '$1': $(cat "$AGENT_ERR")"
	ticks=$(bench_cpu_ticks "$AGENT_PID")
	CPU_S[$1]=$(awk -v a="$LAST_TICKS" -v b="$ticks" -v t="$TICK" 'BEGIN { printf "%.2f", (b - a) / t }')
	LAST_TICKS=$ticks
	RSS[$1]=$(bench_rss_kb "$AGENT_PID")
	HWM[$1]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
	ANON[$1]=$(awk '/^RssAnon:/ { print $2 }' "/proc/$AGENT_PID/status")
	STAGES+=("$1")
	bench_log "stage $1: VmRSS ${RSS[$1]} kB (RssAnon ${ANON[$1]} kB, VmHWM ${HWM[$1]} kB)"
}

spawn_procs() {
	local i j t0
	t0=$(bench_now)
	for ((i = 0; i < PROCS; i += BATCH)); do
		for ((j = i; j < i + BATCH && j < PROCS; j++)); do
			sleep "$SLEEP_S" &
			SLEEP_PIDS+=("$!")
		done
		agent_alive || bench_die "the agent EXITED BY ITSELF while spawning processes: $(cat "$AGENT_ERR")"
	done
	bench_log "$PROCS sleep processes live (spawned in $(bench_sub "$(bench_now)" "$t0") s)"
}

kill_procs() {
	local i
	for ((i = 0; i < ${#SLEEP_PIDS[@]}; i += BATCH)); do
		kill -TERM "${SLEEP_PIDS[@]:i:BATCH}" 2>/dev/null || true
	done
	wait "${SLEEP_PIDS[@]}" 2>/dev/null || true
	SLEEP_PIDS=()
	bench_log "processes killed and reaped"
}

run_containers() {
	local i k pid failed=0 t0
	t0=$(bench_now)
	for ((i = 0; i < CONTAINERS; i += CONC)); do
		CT_PIDS=()
		for ((k = i; k < i + CONC && k < CONTAINERS; k++)); do
			vg_podman run --rm "$IMG" true >/dev/null 2>>"$BENCH_TMP/podman.err" &
			CT_PIDS+=("$!")
		done
		for pid in "${CT_PIDS[@]}"; do
			wait "$pid" || failed=$((failed + 1))
		done
		CT_PIDS=()
		agent_alive || bench_die "the agent EXITED BY ITSELF during the container runs: $(cat "$AGENT_ERR")"
	done
	CT_FAILED=$failed
	bench_log "$CONTAINERS containers run in $(bench_sub "$(bench_now)" "$t0") s ($failed failed)"
	[ "$failed" -eq 0 ] || bench_log "podman errors: $(tail -n 3 "$BENCH_TMP/podman.err")"
}

echo "# memory.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, kernel $(uname -r)"
echo "# agent: $VIGIL trace --json >/dev/null; $PROCS processes, $CONTAINERS containers (concurrency $CONC), settle ${SETTLE}s"

keepalive_start
agent_start "$BENCH_TMP/agent.err" trace --json
sleep 3
measure start

spawn_procs
sleep 5
measure procs-live
kill_procs
sleep "$SETTLE"
measure procs-gone

CT_FAILED=0
if [ -n "$CT_SKIP" ]; then
	echo "containers stage skipped: $CT_SKIP"
else
	run_containers
	sleep "$SETTLE"
	measure containers
fi

spawn_procs
sleep 5
measure procs-again-live
kill_procs
sleep "$SETTLE"
measure procs-again

alive_procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
agent_alive || bench_die "the agent EXITED BY ITSELF before the end: $(cat "$AGENT_ERR")"
agent_stop
keepalive_stop

echo
echo "== agent VmRSS (kB) by stage"
printf '%-18s %10s %10s %10s %10s %10s\n' stage VmRSS_kB vs_start RssAnon_kB VmHWM_kB agent_cpu_s
for s in "${STAGES[@]}"; do
	printf '%-18s %10s %+10d %10s %10s %10s\n' "$s" "${RSS[$s]}" "$((RSS[$s] - RSS[start]))" "${ANON[$s]}" "${HWM[$s]}" "${CPU_S[$s]}"
done
echo "(agent_cpu_s: the agent's CPU seconds since the previous stage)"
echo
after=procs-again
echo "growth after churn (RSS $after - start):       $((RSS[$after] - RSS[start])) kB"
echo "growth of the 2nd process churn ($after - procs-gone): $((RSS[$after] - RSS[procs-gone])) kB"
[ -z "$CT_SKIP" ] && echo "growth of the container churn (containers - procs-gone): $((RSS[containers] - RSS[procs-gone])) kB ($CT_FAILED of $CONTAINERS runs failed)"
echo "agent at exit: $AGENT_STATS"
echo "processes alive when it stopped: $alive_procs (the agent's table should hold about as many)"
