#!/usr/bin/env bash
# bench/flows.sh: what network flow capture (docs/flows.md) costs.
#
# 1. iperf3 throughput on loopback, TCP and UDP, with the agent running
#    `vigil run --no-store` with flows off (--no-flows, A) and on (B), runs
#    interleaved A B A B ... (FLOWS_ROUNDS pairs); prints the median
#    throughput of each and the ratio on/off (target >= 0.97).
# 2. A short-connection storm on loopback (tests/tools/flowpeer tcp-storm:
#    connect, close, FLOWS_STORM_N times) under `vigil trace --flows --json`:
#    prints connections/s, the client flows closed / connections made (target
#    1.000), the records lost, and the agent's CPU per connection.
# 3. The periodic report: the time one iter/tcp pass over FLOWS_LIVE_N live
#    connections takes in the agent (from its debug log) next to `ss -tin`
#    (sock_diag with tcp_info, what a userspace reader would do), same sockets.
# 4. redis-benchmark set/get on loopback (every request a send and a receive
#    the socket tracepoints see) under the agent, flows off and on, interleaved.
# 5. Memory: the agent's RSS before and after FLOWS_MEM_N live connections (two
#    processes hold them: 2 x FLOWS_MEM_N tracked sockets; a process may hold at
#    most its open-file limit), and the time of one periodic report over them.
#
# Environment: FLOWS_ROUNDS (3), FLOWS_SECS (5: seconds per iperf3 run),
# FLOWS_STORM_N (5000), FLOWS_LIVE_N (2000), FLOWS_REDIS_N (200000), FLOWS_MEM_N (9000), VIGIL.
# Needs root, iperf3, cc (static build of the test peer), ss. Takes ~3 min.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_require_root
bench_require_cmd iperf3 cc ss jq
bench_require_vigil

ROUNDS=${FLOWS_ROUNDS:-3}
SECS=${FLOWS_SECS:-5}
STORM_N=${FLOWS_STORM_N:-5000}
LIVE_N=${FLOWS_LIVE_N:-2000}
TICK=$(getconf CLK_TCK)
PORT=$((30000 + $$ % 20000))

trap bench_cleanup EXIT
bench_tmpdir
cc -O2 -o "$BENCH_TMP/flowpeer" "$BENCH_ROOT/tests/tools/flowpeer.c" || bench_die "cannot build flowpeer"
foreign=$(bench_foreign_agents)
[ -z "$foreign" ] || bench_log "warning: other vigil agents run ($foreign): figures include their cost"

iperf3 -s -p "$PORT" >/dev/null 2>&1 &
bench_track $!
for ((i = 0; i < 50; i++)); do ss -ltn "sport = :$PORT" | grep -q LISTEN && break; sleep 0.1; done

# iperf_run tcp|udp: bits/s received
iperf_run() {
	local extra=()
	[ "$1" = udp ] && extra=(-u -b 0 -l 1400)
	iperf3 -c 127.0.0.1 -p "$PORT" -t "$SECS" -J "${extra[@]}" >"$BENCH_TMP/iperf.json" 2>/dev/null ||
		bench_die "iperf3 failed: $(head -c 300 "$BENCH_TMP/iperf.json")"
	if [ "$1" = udp ]; then
		jq -r '.end.sum.bits_per_second * (1 - .end.sum.lost_percent / 100)' "$BENCH_TMP/iperf.json"
	else
		jq -r '.end.sum_received.bits_per_second' "$BENCH_TMP/iperf.json"
	fi
}

for proto in tcp udp; do
	: >"$BENCH_TMP/off" && : >"$BENCH_TMP/on"
	for ((r = 0; r < ROUNDS; r++)); do
		for mode in off on; do
			flag=(--no-flows)
			[ "$mode" = on ] && flag=()
			agent_start "$BENCH_TMP/agent.err" run --no-store "${flag[@]}"
			iperf_run "$proto" >>"$BENCH_TMP/$mode"
			agent_stop
			bench_log "$proto flows $mode: $(tail -1 "$BENCH_TMP/$mode") bit/s; $AGENT_STATS"
		done
	done
	off=$(bench_median <"$BENCH_TMP/off")
	on=$(bench_median <"$BENCH_TMP/on")
	printf 'iperf3 %s: flows off %.2f Gbit/s, on %.2f Gbit/s, ratio on/off %s (runs off: %s; on: %s)\n' "$proto" \
		"$(awk -v v="$off" 'BEGIN{print v/1e9}')" "$(awk -v v="$on" 'BEGIN{print v/1e9}')" "$(bench_ratio "$on" "$off")" \
		"$(paste -sd, "$BENCH_TMP/off")" "$(paste -sd, "$BENCH_TMP/on")"
done

# ---- the storm
"$BENCH_TMP/flowpeer" tcp-server $((PORT + 1)) 0 0 "$STORM_N" >/dev/null &
bench_track $!
for ((i = 0; i < 50; i++)); do ss -ltn "sport = :$((PORT + 1))" | grep -q LISTEN && break; sleep 0.1; done
"$VIGIL" trace --flows --json --syscalls connect >"$BENCH_TMP/storm.json" 2>"$BENCH_TMP/storm.err" &
AGENT_PID=$! AGENT_ERR=$BENCH_TMP/storm.err
for ((i = 0; i < 200; i++)); do agent_has_epoll && break; sleep 0.1; done
sleep 0.5
c0=$(bench_cpu_ticks "$AGENT_PID")
t0=$(bench_now)
"$BENCH_TMP/flowpeer" tcp-storm 127.0.0.1 $((PORT + 1)) "$STORM_N" >"$BENCH_TMP/storm.out"
t1=$(bench_now)
made=$(awk '{print $2}' "$BENCH_TMP/storm.out")
# wait (bounded, 30 s) for the records of every connection to be written
for ((i = 0; i < 150; i++)); do
	n=$(grep -c '"type":"flow_tcp".*"remote_port":'$((PORT + 1))'}.*"phase":3' "$BENCH_TMP/storm.json" || true)
	[ "$n" -ge "$made" ] && break
	sleep 0.2
done
c1=$(bench_cpu_ticks "$AGENT_PID")
agent_stop
n=$(jq -r 'select(.type == "flow_tcp" and .args.phase == 3 and .args.tuple.remote_port == '$((PORT + 1))') | .args.cookie' \
	"$BENCH_TMP/storm.json" | sort -u | wc -l)
secs=$(bench_sub "$t1" "$t0")
printf 'storm: %s connections in %ss (%s/s); client flows closed / connections = %s; agent CPU %s ms (%s us per connection); %s\n' \
	"$made" "$secs" "$(awk -v n="$made" -v s="$secs" 'BEGIN{printf "%.0f", n/s}')" "$(bench_ratio "$n" "$made")" \
	"$(( (c1 - c0) * 1000 / TICK ))" "$(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$made" 'BEGIN{printf "%.1f", c*1e6/t/n}')" \
	"$(grep -m1 '^vigil: bpf:' "$BENCH_TMP/storm.err")"

# ---- the periodic report: iter/tcp in the agent vs sock_diag (ss -tin), same sockets.
# One process holds LIVE_N connections to a listener that never accepts them (the kernel
# completes the handshakes): 2 x LIVE_N established sockets, LIVE_N of them tracked flows
# with an owner (the accepted ones have none until read: they are reported too).
mkdir -p "$BENCH_TMP/hold"
"$BENCH_TMP/flowpeer" tcp-backlog $((PORT + 2)) "$BENCH_TMP/hold/stop" >/dev/null &
bench_track $!
for ((i = 0; i < 50; i++)); do ss -ltn "sport = :$((PORT + 2))" | grep -q LISTEN && break; sleep 0.1; done
VIGIL_DEBUG_FLOWS=1 "$VIGIL" trace --flows --flow-interval 2 --json --syscalls connect >/dev/null 2>"$BENCH_TMP/live.err" &
AGENT_PID=$! AGENT_ERR=$BENCH_TMP/live.err
for ((i = 0; i < 200; i++)); do agent_has_epoll && break; sleep 0.1; done
"$BENCH_TMP/flowpeer" tcp-many 127.0.0.1 $((PORT + 2)) "$LIVE_N" "$BENCH_TMP/hold/stop" >"$BENCH_TMP/many.out" &
bench_track $!
for ((i = 0; i < 600; i++)); do grep -q holding "$BENCH_TMP/many.out" && break; sleep 0.1; done
# two reports with every connection live (bounded: 20 s)
n0=$(grep -c 'flow report:' "$BENCH_TMP/live.err" || true)
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c 'flow report:' "$BENCH_TMP/live.err" || true)" -ge $((n0 + 2)) ] && break
	sleep 0.1
done
t0=$(bench_now)
ss -tin >/dev/null
t1=$(bench_now)
ss_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b-a)*1000}')
agent_stop
touch "$BENCH_TMP/hold/stop"
iter=$(grep 'flow report:' "$BENCH_TMP/live.err" | tail -1)
printf 'periodic report with %s live connections (%s established sockets): iterators %s; ss -tin (sock_diag + tcp_info, every socket) %s ms\n' \
	"$LIVE_N" "$((2 * LIVE_N))" "${iter#*flow report: }" "$ss_ms"

# ---- redis (syscall-heavy loopback TCP: every request is a send and a receive, which the
# socket tracepoints see) under `vigil run --no-store`, flows off and on, interleaved
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	RPORT=$((PORT + 3))
	mkdir -p "$BENCH_TMP/redis"
	redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$BENCH_TMP/redis" --save '' --appendonly no \
		--daemonize no --protected-mode yes --logfile "$BENCH_TMP/redis/log" &
	bench_track $!
	for ((i = 0; i < 50; i++)); do
		[ "$(redis-cli -h 127.0.0.1 -p "$RPORT" ping 2>/dev/null || true)" = PONG ] && break
		sleep 0.1
	done
	: >"$BENCH_TMP/roff" && : >"$BENCH_TMP/ron"
	for ((r = 0; r < ROUNDS; r++)); do
		for mode in off on; do
			flag=(--no-flows)
			[ "$mode" = on ] && flag=()
			agent_start "$BENCH_TMP/agent.err" run --no-store "${flag[@]}"
			redis-benchmark -h 127.0.0.1 -p "$RPORT" -t set,get -n "${FLOWS_REDIS_N:-200000}" -q 2>/dev/null |
				tr '\r' '\n' | awk '/requests per second/ { s += $2 } END { print s }' >>"$BENCH_TMP/r$mode"
			agent_stop
			bench_log "redis flows $mode: $(tail -1 "$BENCH_TMP/r$mode") req/s (set+get)"
		done
	done
	off=$(bench_median <"$BENCH_TMP/roff")
	on=$(bench_median <"$BENCH_TMP/ron")
	printf 'redis set+get: flows off %s req/s, on %s req/s, ratio on/off %s (runs off: %s; on: %s)\n' "$off" "$on" \
		"$(bench_ratio "$on" "$off")" "$(paste -sd, "$BENCH_TMP/roff")" "$(paste -sd, "$BENCH_TMP/ron")"
fi

# ---- memory with many live connections
MEM_N=${FLOWS_MEM_N:-9000}
MPORT=$((PORT + 4))
mkdir -p "$BENCH_TMP/mem"
"$BENCH_TMP/flowpeer" tcp-accept-hold "$MPORT" "$MEM_N" "$BENCH_TMP/mem/stop" >"$BENCH_TMP/mem/srv" &
bench_track $!
for ((i = 0; i < 50; i++)); do grep -q listening "$BENCH_TMP/mem/srv" && break; sleep 0.1; done
VIGIL_DEBUG_FLOWS=1 "$VIGIL" trace --flows --flow-interval 3 --syscalls connect >/dev/null 2>"$BENCH_TMP/mem/err" &
AGENT_PID=$! AGENT_ERR=$BENCH_TMP/mem/err
for ((i = 0; i < 200; i++)); do agent_has_epoll && break; sleep 0.1; done
sleep 0.5
rss0=$(bench_rss_kb "$AGENT_PID")
"$BENCH_TMP/flowpeer" tcp-many 127.0.0.1 "$MPORT" "$MEM_N" "$BENCH_TMP/mem/stop" >"$BENCH_TMP/mem/cli" &
bench_track $!
for ((i = 0; i < 1200; i++)); do grep -q holding "$BENCH_TMP/mem/cli" && break; sleep 0.1; done
n0=$(grep -c 'flow report:' "$BENCH_TMP/mem/err" || true)
for ((i = 0; i < 300; i++)); do
	[ "$(grep -c 'flow report:' "$BENCH_TMP/mem/err" || true)" -ge $((n0 + 2)) ] && break
	sleep 0.1
done
rss1=$(bench_rss_kb "$AGENT_PID")
rep=$(grep 'flow report:' "$BENCH_TMP/mem/err" | tail -1)
agent_stop
touch "$BENCH_TMP/mem/stop"
printf 'memory with %s live connections (%s tracked sockets): agent RSS %s kB -> %s kB; last report: %s; %s\n' \
	"$MEM_N" "$((2 * MEM_N))" "$rss0" "$rss1" "${rep#*flow report: }" "$(grep -m1 '^vigil: flows:' "$BENCH_TMP/mem/err")"
