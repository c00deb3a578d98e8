#!/usr/bin/env bash
# bench/storm.sh: drops and agent CPU under a single-core syscall storm.
#
# For each ring buffer size (STORM_RINGS, default "64 default": --ring-mb 64,
# then the built-in default) and each storm (build/tests/storm open N, then
# storm exec N), it starts `vigil capture -w FILE`, runs the storm pinned to
# CPU 0, stops the agent and counts in the capture (vigil replay --json | jq)
# the records of the storm against the syscalls the storm says it made:
#   open: openat records of the storm's pid with path /tmp/storm-file, O_RDONLY
#   exec: execve records whose parent is the storm (result 0, exe */true) and
#         clone records of both sides of each fork (parent: pid = storm,
#         result > 0; child: parent = storm, result 0)
# Target: ratio 1.000 and lost=0. It also reports the agent's CPU use during
# the storm (utime+stime from /proc/PID/stat over the storm's wall time, as a
# fraction of one core; target <= 0.5), the agent CPU spent in the 1 s after
# the storm (backlog), and the storm's slowdown: its CPU time with the agent
# over its CPU time without, the same storm run just before (CPU time, not
# wall time, so that other load on the machine matters less).
#
# Environment: STORM_OPEN_N (default 1500000), STORM_EXEC_N (5000),
# STORM_RINGS ("64 default"), BENCH_RETRIES (3: attempts when the agent exits
# by itself during a run), VIGIL / STORM (binaries), BENCH_KEEPALIVE_HZ (0).
# Needs root and jq. Takes ~3-5 min on 2 cores.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_require_root
bench_require_cmd jq getconf
bench_require_vigil
bench_require_storm

OPEN_N=${STORM_OPEN_N:-1500000}
EXEC_N=${STORM_EXEC_N:-5000}
RINGS=${STORM_RINGS:-"64 default"}
RETRIES=${BENCH_RETRIES:-3}
TICK=$(getconf CLK_TCK)

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_tmpdir

# run_storm KIND N: run the storm, print its result line; fails if it fails.
run_storm() {
	local out
	out=$("$STORM" "$1" "$2") || bench_die "storm $1 $2 failed: $out"
	printf '%s\n' "$out"
}

# count_records KIND PID FILE: one line of counts from the capture.
count_records() {
	local kind=$1 pid=$2 file=$3
	# grep only drops lines that cannot match (fewer lines for jq); jq decides.
	if [ "$kind" = open ]; then
		"$VIGIL" replay --json "$file" | grep -F "\"pid\":$pid," |
			jq -n --argjson p "$pid" -r '
				reduce (inputs | select(.type == "openat" and .process.pid == $p
					and .args.path == "/tmp/storm-file"
					and (.args.flags | startswith("O_RDONLY")))) as $e (0; . + 1)
				| "openat_records=\(.)"'
	else
		"$VIGIL" replay --json "$file" | grep -F "\"pid\":$pid," |
			jq -n --argjson p "$pid" -r '
				reduce inputs as $e ({execve: 0, clone_parent: 0, clone_child: 0};
					if $e.type == "execve" and $e.parent.pid == $p and $e.result == 0
						and ($e.args.exe | tostring | endswith("/true")) then .execve += 1
					elif ($e.type == "clone" or $e.type == "clone3" or $e.type == "fork")
						and $e.process.pid == $p and $e.result > 0 then .clone_parent += 1
					elif ($e.type == "clone" or $e.type == "clone3" or $e.type == "fork")
						and $e.parent.pid == $p and $e.result == 0 then .clone_child += 1
					else . end)
				| "execve_records=\(.execve) clone_parent_records=\(.clone_parent) clone_child_records=\(.clone_child)"'
	fi
}

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

echo "# storm.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, kernel $(uname -r)"
echo "# agent: $VIGIL"
echo "# open N=$OPEN_N exec N=$EXEC_N rings: $RINGS"

RESULTS=()
PROBLEMS=()
for ring in $RINGS; do
	ring_args=()
	[ "$ring" != default ] && ring_args=(--ring-mb "$ring")
	for kind in open exec; do
		n=$OPEN_N
		[ "$kind" = exec ] && n=$EXEC_N
		done_ok=0
		for ((attempt = 1; attempt <= RETRIES; attempt++)); do
			cap="$BENCH_TMP/storm-$kind-$ring.vcap"
			rm -f -- "$cap"
			# the same storm without the agent, right before (slowdown ratio)
			bforeign=$(bench_foreign_agents)
			bline=$(run_storm "$kind" "$n")
			bforeign=$(bench_foreign_merge "$bforeign" "$(bench_foreign_agents)")
			[ -z "$bforeign" ] ||
				PROBLEMS+=("ring=$ring $kind: a vigil process was running during the storm without agent (pids $bforeign): the baseline is slowed too")
			base_cpu=$(field "$bline" cpu)
			bench_log "ring=$ring storm $kind $n without agent: $bline"
			agent_start "$BENCH_TMP/agent.err" capture -w "$cap" "${ring_args[@]}"
			keepalive_start
			apid=$AGENT_PID
			foreign=$(bench_foreign_agents)
			c0=$(bench_cpu_ticks "$apid")
			t0=$(bench_now)
			line=$(run_storm "$kind" "$n")
			t1=$(bench_now)
			foreign=$(bench_foreign_merge "$foreign" "$(bench_foreign_agents)")
			alive_end=0
			agent_alive && alive_end=1
			c1=$(bench_cpu_ticks "$apid" 2>/dev/null || echo "$c0")
			sleep 1
			c2=$(bench_cpu_ticks "$apid" 2>/dev/null || echo "$c1")
			alive_stop=0
			agent_alive && alive_stop=1
			keepalive_stop
			agent_stop
			bench_log "ring=$ring storm $kind $n (attempt $attempt): $line"
			bench_log "  agent (rc=$AGENT_RC): $AGENT_STATS"
			if [ "$alive_end" != 1 ]; then
				msg="ring=$ring $kind attempt $attempt: the agent EXITED BY ITSELF during the storm (rc=$AGENT_RC, no signal sent): $AGENT_STATS"
				echo "INVALID: $msg"
				PROBLEMS+=("$msg")
				continue
			fi
			if [ "$alive_stop" != 1 ]; then
				PROBLEMS+=("ring=$ring $kind attempt $attempt: the agent exited by itself in the 1 s after the storm (rc=$AGENT_RC); the storm itself was captured")
			fi
			[ -n "$AGENT_STATS" ] || bench_die "the agent printed no stats line: $(cat "$BENCH_TMP/agent.err")"
			[ -z "$foreign" ] ||
				PROBLEMS+=("ring=$ring $kind: another vigil process was running during the storm (pids $foreign): its programs ran on the storm's syscalls too")
			spid=$(field "$line" pid)
			wall=$(bench_sub "$t1" "$t0")
			cpu=$(awk -v a="$c0" -v b="$c1" -v t="$TICK" -v w="$wall" 'BEGIN { printf "%.3f", (b - a) / t / w }')
			drain=$(awk -v a="$c1" -v b="$c2" -v t="$TICK" 'BEGIN { printf "%.2f", (b - a) / t }')
			slow=$(bench_ratio "$(field "$line" cpu)" "$base_cpu")
			bench_log "  counting records in $(du -h "$cap" | cut -f1) of capture..."
			counts=$(count_records "$kind" "$spid" "$cap")
			lost=$(stat_field "$AGENT_STATS" lost)
			if [ "$kind" = open ]; then
				made=$(field "$line" openat)
				got=$(field "$counts" openat_records)
				ratio=$(bench_ratio "$got" "$made")
				detail="openat: $got/$made"
			else
				made=$(field "$line" execve)
				got=$(field "$counts" execve_records)
				cp=$(field "$counts" clone_parent_records)
				cc=$(field "$counts" clone_child_records)
				ratio=$(bench_ratio "$got" "$made")
				detail="execve: $got/$made clone(parent): $cp/$(field "$line" clone) clone(child): $cc/$(field "$line" clone)"
				[ "$cp" = "$(field "$line" clone)" ] && [ "$cc" = "$(field "$line" clone)" ] ||
					PROBLEMS+=("ring=$ring exec: clone records parent=$cp child=$cc for $(field "$line" clone) forks")
			fi
			[ "$got" = "$made" ] || PROBLEMS+=("ring=$ring $kind: $detail (ratio $ratio), $AGENT_STATS")
			[ "$lost" = 0 ] || PROBLEMS+=("ring=$ring $kind: lost=$lost")
			awk -v c="$cpu" 'BEGIN { exit !(c > 0.5) }' && PROBLEMS+=("ring=$ring $kind: agent CPU $cpu of a core during the storm (target <= 0.5)")
			awk -v c="$drain" 'BEGIN { exit !(c > 0.2) }' && PROBLEMS+=("ring=$ring $kind: the agent was still busy after the storm ($drain CPU s in the next second): a backlog, or events of other load")
			RESULTS+=("$(printf '%-8s %-5s %9s %7s %6s %9s %9s %13s %9s  %s' \
				"$ring" "$kind" "$n" "$ratio" "$lost" "$cpu" "$drain" \
				"$(field "$line" cpu)/$base_cpu" "$slow" "$detail")")
			rm -f -- "$cap"
			done_ok=1
			break
		done
		if [ "$done_ok" != 1 ]; then
			RESULTS+=("$(printf '%-8s %-5s %9s %7s %6s %9s %9s %13s %9s  %s' \
				"$ring" "$kind" "$n" "-" "-" "-" "-" "-" "-" "no valid run in $RETRIES attempts (agent exited by itself)")")
		fi
	done
done

echo
echo "== storm results (ratio = records in capture / syscalls made; target 1.000, lost 0; cpu = agent cores during the storm, target <= 0.5)"
printf '%-8s %-5s %9s %7s %6s %9s %9s %13s %9s  %s\n' ring storm N ratio lost agent_cpu drain_s storm_cpu/base slowdown detail
for r in "${RESULTS[@]}"; do
	echo "$r"
done
echo "(agent_cpu: agent CPU / storm wall time, in cores; drain_s: agent CPU seconds in the 1 s after the storm;"
echo " storm_cpu/base: CPU seconds of the storm (children included) with the agent / without it, run just before; slowdown: their ratio)"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
	echo
	echo "== problems"
	for p in "${PROBLEMS[@]}"; do
		echo "- $p"
	done
fi
