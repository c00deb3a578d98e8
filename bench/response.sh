#!/usr/bin/env bash
# bench/response.sh: what response costs, measured in one run (root, podman).
#
# 1. Kill latency (userspace path): the agent with a `kill` rule and
#    --allow-host-actions; a host process opens a trigger file 30 times (a new
#    process each time); the store's actions table gives, per kill, the time
#    from the syscall's kernel timestamp to SIGKILL sent. Prints p50/p99.
# 2. Drift guard cost: a loop of 2000 short execs (/bin/true) in a podman
#    container, timed inside the container, with the agent running without and
#    with --deny-drift (the fanotify exec-permission guard), alternated 3 times.
#    Prints the median exec throughput of each and the ratio guarded/unguarded
#    (target >= 0.95). A third arm adds --file-policy selecting every container
#    (deny_open and deny_exec lists: each exec is also an open-permission event,
#    both answered by the same fanotify group).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || bench_skip "needs root"
command -v podman >/dev/null || bench_skip "needs podman"
# shellcheck source=tests/lib/containers.sh
. "$BENCH_ROOT/tests/lib/containers.sh"
IMG=$(vg_busybox_image) || bench_skip "cannot build the busybox test image"
TMP=$(mktemp -d /tmp/vigil-bench-response.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/rules.yaml" <<EOR
- rule: Kill on trigger
  desc: bench
  condition: evt.type in (open, openat) and fd.name = $TMP/trigger
  output: kill %proc.name
  priority: CRITICAL
  actions: [kill]
EOR
: >"$TMP/trigger"
"$VIGIL" run --rules "$TMP/rules.yaml" --store "$TMP/db" --allow-host-actions --duration 30 \
	>/dev/null 2>"$TMP/run.err" &
RUN=$!
sleep 2
for _ in $(seq 30); do
	sh -c "exec 3<'$TMP/trigger'; sleep 5" >/dev/null 2>&1 || true
done
kill -INT $RUN
wait $RUN || true
"$VIGIL" actions --store "$TMP/db" --json | jq -r 'select(.action == "kill" and .outcome == "done") | .latency_us' |
	sort -n >"$TMP/lat"
n=$(wc -l <"$TMP/lat")
[ "$n" -gt 0 ] || { echo "kill latency: no kills recorded"; cat "$TMP/run.err"; exit 1; }
echo "kill latency (userspace path, syscall exit to SIGKILL sent) over $n kills:" \
	"p50=$(sed -n "$(((n + 1) / 2))p" "$TMP/lat")us p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$TMP/lat")us" \
	"max=$(tail -1 "$TMP/lat")us"

exec_loop() { # prints execs per second measured inside the container
	vg_podman run --rm "$IMG" sh -c '
		s=$(cut -d" " -f1 /proc/uptime)
		i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i+1)); done
		e=$(cut -d" " -f1 /proc/uptime)
		awk -v s="$s" -v e="$e" "BEGIN { printf \"%.0f\n\", 2000 / (e - s) }"'
}
with_agent() { # extra agent options...
	"$VIGIL" run --no-store --duration 120 "$@" >/dev/null 2>"$TMP/agent.err" &
	local a=$!
	sleep 2
	exec_loop
	kill -INT $a
	wait $a || true
}
cat >"$TMP/files.yaml" <<EOP
files:
  - containers: ["*"]
    deny_open: [/etc/shadow, /root/.ssh]
    deny_exec: [wget, nc]
EOP
A=() B=() C=()
for _ in 1 2 3; do
	A+=("$(with_agent)")
	B+=("$(with_agent --deny-drift)")
	C+=("$(with_agent --deny-drift --file-policy "$TMP/files.yaml")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ma=$(median "${A[@]}") mb=$(median "${B[@]}")
echo "exec loop in a container: agent without guard ${A[*]} execs/s (median $ma)," \
	"with --deny-drift ${B[*]} (median $mb)"
mc=$(median "${C[@]}")
echo "with --deny-drift and --file-policy ${C[*]} (median $mc)"
awk -v a="$ma" -v b="$mb" -v c="$mc" 'BEGIN { printf "ratio guarded/unguarded: %.3f (target >= 0.95); with the file policy too: %.3f\n", b / a, c / a }'
