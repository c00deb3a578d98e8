#!/usr/bin/env bash
# bench/rules.sh: detection cost, measured in one run.
#
# 1. Throughput: a capture of a mixed workload (file opens, program starts,
#    connections, sensitive reads) is replayed through Falco's three upstream
#    rule files plus Vigil's default rules (128 rules), and through an empty
#    rule set. Printed: events per second per core with all rules, and the
#    ratio of the two CPU times (what the rules cost on top of decoding and
#    state keeping).
# 2. Latency: the live agent with its default rules and the SQLite store
#    (synchronous commits) while a program reads /etc/shadow about 100 times a
#    second; the agent reports p50/p99 from the kernel timestamp of each event
#    to the moment its alert was committed and written.
#
# Needs root (capture and live agent). Usage: bench/rules.sh [SECONDS]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || bench_skip "needs root"
SECS=${1:-6}
F=${VIGIL_SHARED_DATA:-$BENCH_ROOT/../shared/data}/falco-rules
[ -f "$F/falco_rules.yaml" ] || bench_skip "Falco's rule files are not at $F"
TMP=$(mktemp -d /tmp/vigil-bench-rules.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

workload() { # a mix of what rules look at, for SECS seconds
	local end=$((SECONDS + SECS))
	"$STORM" pace 20000 "$SECS" >/dev/null &
	local storm=$!
	while [ $SECONDS -lt $end ]; do
		for _ in $(seq 20); do /bin/true; cat /etc/hostname >/dev/null; done
		cat /etc/shadow >/dev/null
		(exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true
	done
	wait "$storm"
}

bench_log "recording ${SECS}s of a mixed workload"
"$VIGIL" capture -w "$TMP/cap.vcap" --syscalls all --duration $((SECS + 2)) 2>"$TMP/cap.err" &
CAP=$!
sleep 1
workload
wait $CAP || { cat "$TMP/cap.err"; exit 1; }
events=$("$VIGIL" replay --json "$TMP/cap.vcap" | wc -l)

cpu_of() { # command... -> user+sys seconds of the command
	local t TIMEFORMAT='%U %S'
	t=$( { time "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f", a[1] + a[2] }'
}
: >"$TMP/empty.yaml"
RULES=(--default-rules --rules "$F/falco_rules.yaml" --rules "$F/falco-incubating_rules.yaml"
	--rules "$F/falco-sandbox_rules.yaml")
best_all=999999 best_none=999999
for _ in 1 2 3; do
	c=$(cpu_of "$VIGIL" replay "$TMP/cap.vcap" "${RULES[@]}" --match-all --rate-limit 0 --json)
	best_all=$(awk -v a="$c" -v b="$best_all" 'BEGIN { print (a < b ? a : b) }')
	c=$(cpu_of "$VIGIL" replay "$TMP/cap.vcap" --rules "$TMP/empty.yaml" --json)
	best_none=$(awk -v a="$c" -v b="$best_none" 'BEGIN { print (a < b ? a : b) }')
done
alerts=$("$VIGIL" replay "$TMP/cap.vcap" "${RULES[@]}" --match-all --rate-limit 0 --json 2>/dev/null | wc -l)
echo "throughput: $events events, $alerts alerts with 128 rules (--match-all)"
awk -v e="$events" -v a="$best_all" -v n="$best_none" 'BEGIN {
	printf "  replay with all rules:  %.3f s CPU = %.0f events/s per core\n", a, e / a
	printf "  replay without rules:   %.3f s CPU = %.0f events/s per core\n", n, e / n
	printf "  ratio all-rules / no-rules CPU: %.2f\n", a / n
}'

latency() { # label, environment...
	local label=$1
	shift
	rm -f "$TMP"/store.db*
	env "$@" "$VIGIL" run --store "$TMP/store.db" --json --duration $((SECS + 3)) >"$TMP/alerts" 2>"$TMP/run.err" &
	local run=$! end=$((SECONDS + SECS + 2))
	sleep 2
	while [ $SECONDS -lt $end ]; do cat /etc/shadow >/dev/null; sleep 0.01; done
	wait $run || true
	echo "latency ($label): $(grep -o 'p50=.*' "$TMP/run.err" || echo 'no alerts measured')"
}
bench_log "live latency: default rules, SQLite store, ~100 alerts/s"
latency "store synchronous=NORMAL, the default"
latency "store synchronous=FULL, VIGIL_STORE_FSYNC=1" VIGIL_STORE_FSYNC=1
