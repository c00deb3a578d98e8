#!/usr/bin/env bash
# flows_100k.sh: the agent with 100,000 concurrent loopback TCP connections
# (200,000 tracked sockets: both ends are on this node). A process here may hold
# about 20,000 open files, so FLOWS_PROCS server processes each accept
# N/FLOWS_PROCS connections on a port of their own, and as many client
# processes each connect from an address of their own (127.0.1.K: a source
# port range each), all holding their connections until the end. Limits are
# raised only inside those processes, up to their hard limit.
#
# Measured: the agent's RSS (`vigil run` with a store: flow table, DNS cache
# and rollups) before and with the connections, the time of its periodic
# report (iter/tcp per netns, read and turned into rollups; the agent's own
# "flow report:" line), its flow-table counters (evictions: the table holds at
# most 131,072 flows), and the rollup rows.
#
# Environment: FLOWS_CONNS (100000), FLOWS_PROCS (10), FLOWS_INTERVAL (10), VIGIL.
set -euo pipefail

. "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

bench_require_root
bench_require_cmd cc ss
bench_require_vigil

N=${FLOWS_CONNS:-100000}
P=${FLOWS_PROCS:-10}
INTERVAL=${FLOWS_INTERVAL:-10}
PER=$((N / P))
PORT=$((20000 + $$ % 20000))

trap 'touch "$BENCH_TMP/stop" 2>/dev/null; bench_cleanup' EXIT
bench_tmpdir
cc -O2 -o "$BENCH_TMP/conns" "$BENCH_ROOT/bench/flows_conns.c" || bench_die "cannot build flows_conns"
foreign=$(bench_foreign_agents)
[ -z "$foreign" ] || bench_log "warning: other vigil agents run ($foreign): figures include their cost"
hard=$(ulimit -Hn)
[ "$hard" -ge $((PER + 64)) ] || bench_die "a process may hold $hard files here, $PER are needed: raise FLOWS_PROCS"
cat >"$BENCH_TMP/rules.yaml" <<'YAML'
- rule: Flows bench never
  desc: a rule that loads the agent's detection path and never fires
  condition: evt.type = connect and fd.rport = 1
  output: never (%proc.name)
  priority: DEBUG
YAML

# count_lines FILE TEXT: lines of FILE that contain TEXT
count_lines() { grep -c "$2" "$1" 2>/dev/null || true; }
# wait_reports N: until the agent printed N more periodic reports (bounded: 10 intervals)
wait_reports() {
	local n0 i
	n0=$(count_lines "$AGENT_ERR" 'flow report:')
	for ((i = 0; i < INTERVAL * 100; i++)); do
		[ "$(count_lines "$AGENT_ERR" 'flow report:')" -ge $((n0 + $1)) ] && return 0
		agent_alive || bench_die "the agent exited: $(tail -3 "$AGENT_ERR")"
		sleep 0.1
	done
	bench_die "no periodic report within $((INTERVAL * 10)) s"
}

VIGIL_DEBUG_FLOWS=1 agent_start "$BENCH_TMP/agent.err" run --rules "$BENCH_TMP/rules.yaml" --store "$BENCH_TMP/vigil.db" \
	--response off --flow-interval "$INTERVAL"
wait_reports 1
rss0=$(bench_rss_kb "$AGENT_PID")
rep0=$(grep 'flow report:' "$AGENT_ERR" | tail -1)
bench_log "agent RSS ${rss0} kB before; idle report: ${rep0#*flow report: }"

t0=$(bench_now)
for ((k = 0; k < P; k++)); do
	"$BENCH_TMP/conns" server 127.0.0.1 $((PORT + k)) "$PER" "$BENCH_TMP/stop" >"$BENCH_TMP/srv$k" 2>&1 &
	bench_track $!
done
for ((k = 0; k < P; k++)); do
	for ((i = 0; i < 100; i++)); do grep -q listening "$BENCH_TMP/srv$k" && break; sleep 0.1; done
	"$BENCH_TMP/conns" client "127.0.1.$((k + 1))" 127.0.0.1 $((PORT + k)) "$PER" "$BENCH_TMP/stop" >"$BENCH_TMP/cli$k" 2>&1 &
	bench_track $!
done
for ((k = 0; k < P; k++)); do
	for ((i = 0; i < 6000; i++)); do
		grep -q holding "$BENCH_TMP/cli$k" && grep -q accepted "$BENCH_TMP/srv$k" && break
		grep -q -e 'connection [0-9]' -e 'accept [0-9]' "$BENCH_TMP/cli$k" "$BENCH_TMP/srv$k" &&
			bench_die "connections failed: $(cat "$BENCH_TMP/cli$k" "$BENCH_TMP/srv$k" | tail -2)"
		sleep 0.1
	done
	grep -q holding "$BENCH_TMP/cli$k" || bench_die "client $k did not connect: $(tail -2 "$BENCH_TMP/cli$k")"
done
t1=$(bench_now)
est=$(ss -Htn state established "( sport >= :$PORT and sport < :$((PORT + P)) )" | wc -l)
bench_log "$N connections up in $(bench_sub "$t1" "$t0") s; $est server-side sockets established"
# two full reports with every connection live
wait_reports 2
rss1=$(bench_rss_kb "$AGENT_PID")
grep 'flow report:' "$AGENT_ERR" | tail -2 >"$BENCH_TMP/reports"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
ticks0=$(bench_cpu_ticks "$AGENT_PID")
wait_reports 1
ticks1=$(bench_cpu_ticks "$AGENT_PID")
rep=$(grep 'flow report:' "$AGENT_ERR" | tail -1)
rss2=$(bench_rss_kb "$AGENT_PID")
touch "$BENCH_TMP/stop"
agent_stop
flows=$(grep -m1 '^vigil: flows:' "$AGENT_ERR" || true)
rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*), sum(connections) from flow_minutes").fetchone())' "$BENCH_TMP/vigil.db" 2>/dev/null || echo "?")
printf '%s concurrent loopback connections (%s processes each side, %s established server sockets):\n' "$N" "$P" "$est"
printf '  agent RSS: %s kB idle -> %s kB after two reports -> %s kB after a third (peak %s kB)\n' "$rss0" "$rss1" "$rss2" "$hwm"
printf '  periodic reports (netns, records, time in the agent): %s | %s | %s\n' \
	"$(sed -n '1s/.*flow report: //p' "$BENCH_TMP/reports")" "$(sed -n '2s/.*flow report: //p' "$BENCH_TMP/reports")" "${rep#*flow report: }"
printf '  agent CPU over one interval with them all live: %s ticks of %s per s over %s s\n' "$((ticks1 - ticks0))" "$(getconf CLK_TCK)" "$INTERVAL"
printf '  %s\n  rollup rows, connections counted: %s\n' "$flows" "$rows"
