#!/usr/bin/env bash
# bench/overhead.sh: the agent's cost to a syscall-heavy server (redis).
#
# Starts Debian's redis-server on 127.0.0.1 (a free port, its own temporary
# directory, no persistence) and runs
#   redis-benchmark -h 127.0.0.1 -p PORT -t ping_inline,set,get -n N -q
# alternately without the agent (A) and with `vigil capture -w FILE` (default
# syscalls) running (B): A B A B A B ... (OVERHEAD_ROUNDS pairs). For each
# test it prints the median requests/s without and with the agent and the
# ratio with/without (target >= 0.97), every run's figures, redis-server's CPU
# time per request without and with (a ratio that other load on the machine
# disturbs less than requests/s), the agent's stats line of each B run (lost
# must be 0) and the agent's CPU use during B runs.
# Only loopback traffic. When perf is installed it also measures the cost the
# agent adds to a syscall it does not capture (perf bench syscall basic,
# interleaved the same way), which is what redis mostly pays.
#
# Environment: OVERHEAD_ATTACH (auto by default; sys-exit or syscalls: the
# agent's --attach), OVERHEAD_N (requests per test, default 400000: ~15 s a run on
# 2 cores), OVERHEAD_ROUNDS (3), BENCH_RETRIES (3: attempts of a B run when
# the agent exits by itself), VIGIL, BENCH_KEEPALIVE_HZ (0).
# Needs root, redis-server and redis-benchmark. Takes ~2 min.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_require_root
bench_require_cmd redis-server redis-benchmark redis-cli ss getconf
bench_require_vigil

N=${OVERHEAD_N:-400000}
SYSCALL_LOOPS=${OVERHEAD_SYSCALL_LOOPS:-5000000}
ROUNDS=${OVERHEAD_ROUNDS:-3}
ATTACH=${OVERHEAD_ATTACH:-auto}
RETRIES=${BENCH_RETRIES:-3}
TESTS=ping_inline,set,get
TICK=$(getconf CLK_TCK)

trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_tmpdir

# free_port: a TCP port nobody listens on (bounded tries).
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Htln "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	bench_die "no free port found"
}

REDIS_PID=""
PORT=""
start_redis() {
	local i attempt
	for ((attempt = 1; attempt <= 5; attempt++)); do
		PORT=$(free_port)
		mkdir -p "$BENCH_TMP/redis"
		redis-server --bind 127.0.0.1 --port "$PORT" --dir "$BENCH_TMP/redis" \
			--save '' --appendonly no --daemonize no --protected-mode yes \
			--logfile "$BENCH_TMP/redis/redis.log" &
		REDIS_PID=$!
		bench_track "$REDIS_PID"
		for ((i = 0; i < 50; i++)); do
			if [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null || true)" = PONG ]; then
				return 0
			fi
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
		bench_stop_pid "$REDIS_PID" TERM 10
	done
	bench_die "redis-server did not start: $(tail -n 5 "$BENCH_TMP/redis/redis.log" 2>/dev/null)"
}

# run_bench OUTFILE: one redis-benchmark run; writes "TEST RPS" lines, and
# OUTFILE.cpu: redis-server's CPU microseconds per request over the run.
run_bench() {
	local c0 c1
	c0=$(bench_cpu_ticks "$REDIS_PID")
	redis-benchmark -h 127.0.0.1 -p "$PORT" -t "$TESTS" -n "$N" -q 2>&1 |
		tr '\r' '\n' |
		awk -F': ' '/^[A-Z_]+: [0-9.]+ requests per second/ { split($2, a, " "); print $1, a[1] }' >"$1"
	c1=$(bench_cpu_ticks "$REDIS_PID")
	[ "$(wc -l <"$1")" -eq 3 ] || bench_die "unexpected redis-benchmark output: $(cat "$1")"
	awk -v a="$c0" -v b="$c1" -v t="$TICK" -v n="$N" 'BEGIN { printf "%.3f\n", (b - a) / t * 1e6 / (3 * n) }' >"$1.cpu"
}

echo "# overhead.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, kernel $(uname -r), $(redis-server --version | awk '{print $3}')"
echo "# agent: $VIGIL capture --attach $ATTACH (default syscalls); redis-benchmark -t $TESTS -n $N -q; $ROUNDS rounds A/B"
start_redis
bench_log "redis-server pid $REDIS_PID on 127.0.0.1:$PORT"
keepalive_start

STATS=()
PROBLEMS=()
CPU=()
for ((round = 1; round <= ROUNDS; round++)); do
	foreign=$(bench_foreign_agents)
	run_bench "$BENCH_TMP/A.$round"
	foreign=$(bench_foreign_merge "$foreign" "$(bench_foreign_agents)")
	[ -z "$foreign" ] ||
		PROBLEMS+=("round $round A: a vigil process was running during the run without agent (pids $foreign)")
	bench_log "round $round A (no agent): $(tr '\n' ' ' <"$BENCH_TMP/A.$round")"
	ok=0
	for ((attempt = 1; attempt <= RETRIES; attempt++)); do
		agent_start "$BENCH_TMP/agent.err" capture --attach "$ATTACH" -w "$BENCH_TMP/x.vcap"
		apid=$AGENT_PID
		foreign=$(bench_foreign_agents)
		c0=$(bench_cpu_ticks "$apid")
		t0=$(bench_now)
		run_bench "$BENCH_TMP/B.$round"
		t1=$(bench_now)
		foreign=$(bench_foreign_merge "$foreign" "$(bench_foreign_agents)")
		[ -z "$foreign" ] ||
			PROBLEMS+=("round $round B: another vigil process was running (pids $foreign)")
		alive=0
		agent_alive && alive=1
		c1=$(bench_cpu_ticks "$apid" 2>/dev/null || echo "$c0")
		agent_stop
		bench_log "round $round B (agent, attempt $attempt): $(tr '\n' ' ' <"$BENCH_TMP/B.$round")"
		bench_log "  agent (rc=$AGENT_RC): $AGENT_STATS"
		rm -f -- "$BENCH_TMP/x.vcap"
		if [ "$alive" != 1 ]; then
			msg="round $round attempt $attempt: the agent EXITED BY ITSELF during the run (rc=$AGENT_RC, no signal sent): $AGENT_STATS"
			echo "INVALID: $msg"
			PROBLEMS+=("$msg")
			continue
		fi
		STATS+=("round $round: $AGENT_STATS")
		lost=$(stat_field "$AGENT_STATS" lost)
		[ "$lost" = 0 ] || PROBLEMS+=("round $round: lost=$lost")
		CPU+=("$(awk -v a="$c0" -v b="$c1" -v t="$TICK" -v w="$(bench_sub "$t1" "$t0")" 'BEGIN { printf "%.3f", (b - a) / t / w }')")
		ok=1
		break
	done
	[ "$ok" = 1 ] || bench_die "round $round: no valid agent run in $RETRIES attempts (the agent exits by itself; see the problems above)"
done
bench_stop_pid "$REDIS_PID" TERM 20

# The fixed cost the agent adds to every syscall, captured or not (the
# sys_exit program runs for all of them): `perf bench syscall basic`
# (getppid in a loop), interleaved without/with the agent.
SC_A=() SC_B=()
if command -v perf >/dev/null 2>&1 && perf bench syscall basic -l 1000 >/dev/null 2>&1; then
	for ((round = 1; round <= ROUNDS; round++)); do
		foreign=$(bench_foreign_agents)
		SC_A+=("$(perf bench syscall basic -l "$SYSCALL_LOOPS" 2>&1 | awk '/usecs\/op/ { print $1 * 1000 }')")
		agent_start "$BENCH_TMP/agent.err" capture --attach "$ATTACH" -w "$BENCH_TMP/x.vcap"
		foreign=$(bench_foreign_merge "$foreign" "$(bench_foreign_agents)")
		SC_B+=("$(perf bench syscall basic -l "$SYSCALL_LOOPS" 2>&1 | awk '/usecs\/op/ { print $1 * 1000 }')")
		foreign=$(bench_foreign_merge "$foreign" "$(bench_foreign_agents)")
		[ -z "$foreign" ] || PROBLEMS+=("syscall round $round: another vigil process was running (pids $foreign)")
		agent_alive || PROBLEMS+=("syscall round $round: the agent EXITED BY ITSELF during the run")
		agent_stop
		rm -f -- "$BENCH_TMP/x.vcap"
	done
fi
keepalive_stop

echo
echo "== redis-benchmark requests/s, median of $ROUNDS interleaved runs each (ratio = with/without agent; target >= 0.97)"
printf '%-12s %12s %12s %7s   %s\n' test without with ratio "runs without | with"
for t in PING_INLINE SET GET; do
	a=$(cat "$BENCH_TMP"/A.* | awk -v t="$t" '$1 == t { print $2 }' | bench_median)
	b=$(cat "$BENCH_TMP"/B.* | awk -v t="$t" '$1 == t { print $2 }' | bench_median)
	ra=$(for ((r = 1; r <= ROUNDS; r++)); do awk -v t="$t" '$1 == t { printf "%.0f ", $2 }' "$BENCH_TMP/A.$r"; done)
	rb=$(for ((r = 1; r <= ROUNDS; r++)); do awk -v t="$t" '$1 == t { printf "%.0f ", $2 }' "$BENCH_TMP/B.$r"; done)
	ratio=$(bench_ratio "$b" "$a")
	printf '%-12s %12s %12s %7s   %s| %s\n' "$t" "$a" "$b" "$ratio" "$ra" "$rb"
	awk -v r="$ratio" 'BEGIN { exit !(r < 0.97) }' && PROBLEMS+=("$t: ratio $ratio below the 0.97 target")
done
a=$(cat "$BENCH_TMP"/A.*.cpu | bench_median)
b=$(cat "$BENCH_TMP"/B.*.cpu | bench_median)
echo
echo "== redis-server CPU per request (us, all tests), median of $ROUNDS runs each: less sensitive to other load than requests/s"
printf '%-12s %12s %12s %7s   %s\n' test without with ratio "runs without | with"
printf '%-12s %12s %12s %7s   %s| %s\n' server_cpu "$a" "$b" "$(bench_ratio "$b" "$a")" \
	"$(cat "$BENCH_TMP"/A.*.cpu | tr '\n' ' ')" "$(cat "$BENCH_TMP"/B.*.cpu | tr '\n' ' ')"
echo "(ratio here = CPU with/without; 1/ratio is the throughput ratio a CPU-bound server would see)"
awk -v r="$(bench_ratio "$b" "$a")" 'BEGIN { exit !(r > 1.03) }' &&
	PROBLEMS+=("redis-server CPU per request with/without $(bench_ratio "$b" "$a"): above 1.03 (throughput target 0.97)")
if [ "${#SC_A[@]}" -gt 0 ]; then
	a=$(printf '%s\n' "${SC_A[@]}" | bench_median)
	b=$(printf '%s\n' "${SC_B[@]}" | bench_median)
	echo
	echo "== an uncaptured syscall (perf bench syscall basic: getppid), ns/op, median of $ROUNDS interleaved runs"
	printf '%-12s %12s %12s %7s   %s\n' test without with ratio "runs without | with"
	printf '%-12s %12s %12s %7s   %s| %s\n' getppid "$a" "$b" "$(bench_ratio "$b" "$a")" "${SC_A[*]} " "${SC_B[*]}"
	echo "(ratio here = time with/without: the cost added to every syscall while the agent runs is $(bench_sub "$b" "$a") ns)"
fi
echo
echo "== agent"
for s in "${STATS[@]}"; do
	echo "$s"
done
echo "agent CPU during the B runs (fraction of one core): ${CPU[*]}"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
	echo
	echo "== problems"
	for p in "${PROBLEMS[@]}"; do
		echo "- $p"
	done
fi
