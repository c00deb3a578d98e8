#!/usr/bin/env bash
# bench/rules.sh: detection cost, measured in one run.
#
# 1. Throughput: two captures are replayed through Falco's three upstream
#    rule files plus Vigil's default rules (141 rules today), and through an empty
#    rule set:
#    - "mixed": an openat stream at 20k/s (storm pace), program starts, reads
#      of /etc/shadow and connections;
#    - "build": a real workload, `make -j2 build/vigil` of a copy of this
#      tree's sources (compiler and linker runs, header opens), for at most
#      BUILD_SECONDS (60).
#    Printed per capture: events per second per core with all rules (the
#    whole process, and without its fixed part: start-up and rule loading,
#    measured on a capture of no records), and the ratio of the two CPU times (what the rules cost on top of decoding and
#    state keeping); with build/bench/replay_stages (`make bench-tools`) also
#    the CPU per stage -- read+decode, +state, +rules -- in one process, rule
#    loading and process start-up excluded.
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
bench_require_cmd jq
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

BUILD_SECONDS=${BUILD_SECONDS:-60}
bench_log "recording a build of Vigil's sources (at most ${BUILD_SECONDS}s)"
mkdir -p "$TMP/src"
cp -r "$BENCH_ROOT/src" "$BENCH_ROOT/include" "$BENCH_ROOT/rules" "$BENCH_ROOT/scripts" "$BENCH_ROOT/Makefile" "$TMP/src/"
"$VIGIL" capture -w "$TMP/build.vcap" --syscalls all --duration $((BUILD_SECONDS + 5)) 2>"$TMP/capb.err" &
CAP=$!
sleep 1
(cd "$TMP/src" && timeout "$BUILD_SECONDS" make -j2 build/vigil >/dev/null 2>&1) || true
kill -INT $CAP 2>/dev/null || true
wait $CAP || { cat "$TMP/capb.err"; exit 1; }

cpu_of() { # command... -> user+sys seconds of the command
	local t TIMEFORMAT='%U %S'
	t=$( { time "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f", a[1] + a[2] }'
}
: >"$TMP/empty.yaml"
RULES=(--default-rules --rules "$F/falco_rules.yaml" --rules "$F/falco-incubating_rules.yaml"
	--rules "$F/falco-sandbox_rules.yaml")
STAGES=${STAGES:-$BENCH_ROOT/build/bench/replay_stages}
# the fixed part of a replay, process start and rule loading: a capture of no
# records (the 96-byte file header alone) replayed with all the rules
head -c 96 "$TMP/cap.vcap" >"$TMP/none.vcap"
fixed=999999
for _ in 1 2 3; do
	c=$(cpu_of "$VIGIL" replay "$TMP/none.vcap" "${RULES[@]}" --match-all --rate-limit 0 --json)
	fixed=$(awk -v a="$c" -v b="$fixed" 'BEGIN { print (a < b ? a : b) }')
done
for cap in mixed:cap build:build; do
	name=${cap%%:*} file=$TMP/${cap#*:}.vcap
	events=$("$VIGIL" replay --json "$file" | wc -l)
	best_all=999999 best_none=999999
	for _ in 1 2 3; do
		c=$(cpu_of "$VIGIL" replay "$file" "${RULES[@]}" --match-all --rate-limit 0 --json)
		best_all=$(awk -v a="$c" -v b="$best_all" 'BEGIN { print (a < b ? a : b) }')
		c=$(cpu_of "$VIGIL" replay "$file" --rules "$TMP/empty.yaml" --json)
		best_none=$(awk -v a="$c" -v b="$best_none" 'BEGIN { print (a < b ? a : b) }')
	done
	alerts=$("$VIGIL" replay "$file" "${RULES[@]}" --match-all --rate-limit 0 --json 2>/dev/null | wc -l)
	nrules=$("$VIGIL" rules check "$F/falco_rules.yaml" "$F/falco-incubating_rules.yaml" "$F/falco-sandbox_rules.yaml" \
		2>/dev/null | awk '{ print $1 }')
	echo "throughput ($name): $events events, $alerts alerts with Vigil's default rules + $nrules upstream (--match-all)"
	"$VIGIL" replay --json "$file" | jq -r .type | sort | uniq -c | sort -rn | head -5 |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : "  event mix: "), $2, $1 } END { print "" }'
	awk -v e="$events" -v a="$best_all" -v n="$best_none" -v f="$fixed" 'BEGIN {
		printf "  vigil replay, all rules:  %.3f s CPU = %.0f events/s per core\n", a, e / a
		printf "  vigil replay, all rules, start-up and rule loading (%.3f s) left out: %.0f events/s per core\n",
			f, (a > f ? e / (a - f) : 0)
		printf "  vigil replay, no rules:   %.3f s CPU = %.0f events/s per core\n", n, e / n
		printf "  ratio all-rules / no-rules CPU: %.2f\n", a / n
	}'
	if [ -x "$STAGES" ]; then
		"$STAGES" "$file" "${RULES[@]}" --rounds 5 | sed 's/^/  stages: /'
	else
		echo "  stages: skipped ($STAGES is not built: make bench-tools)"
	fi
done

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
