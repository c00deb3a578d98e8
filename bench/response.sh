#!/usr/bin/env bash
# bench/response.sh: what response costs, measured in one run (root, podman).
#
# 1. Kill latency, in-kernel vs userspace path: the agent with two `kill`
#    rules and --allow-host-actions, alike but for one test the kernel cannot
#    make (proc.pname), so one is decided by the sys_exit program and the other
#    by userspace. build/bench/kill_latency forks children that make the
#    offending syscall (dup2 of a socket onto fd 0) and measures, per child,
#    the time from the syscall's entry to its parent reaping it, and whether
#    the syscall returned to the child. 2 x 50 rounds per path, alternated.
#    Prints p50/p99 per path, the ratio of medians and how many children ran
#    on after the syscall.
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

make -C "$BENCH_ROOT" -s bench-tools >/dev/null || bench_die "cannot build bench tools"
KL=$BENCH_ROOT/build/bench/kill_latency
cat >"$TMP/rules.yaml" <<'EOR'
- rule: Bench kill decided in the kernel
  desc: bench
  condition: evt.type = dup2 and evt.rawres = 0 and fd.type = ipv4 and proc.name = vgk-kernel
  output: kill %proc.name
  priority: CRITICAL
  actions: [kill]
- rule: Bench kill decided in userspace
  desc: bench (proc.pname is not known to the kernel)
  condition: evt.type = dup2 and evt.rawres = 0 and fd.type = ipv4 and proc.name = vgk-user and proc.pname = kill_latency
  output: kill %proc.name
  priority: CRITICAL
  actions: [kill]
EOR
"$VIGIL" run --rules "$TMP/rules.yaml" --store "$TMP/db" --allow-host-actions --duration 120 \
	>/dev/null 2>"$TMP/run.err" &
RUN=$!
sleep 2
grep -q "rule 'Bench kill decided in the kernel': in the kernel" "$TMP/run.err" ||
	bench_die "the agent does not decide the kernel rule in the kernel: $(cat "$TMP/run.err")"
: >"$TMP/k"
: >"$TMP/u"
for _ in 1 2; do
	"$KL" vgk-kernel 50 >>"$TMP/k"
	"$KL" vgk-user 50 >>"$TMP/u"
done
kill -INT $RUN
wait $RUN || true
pct() { # FILE P: the P-th percentile of column 1
	local n
	n=$(wc -l <"$1")
	cut -d' ' -f1 "$1" | sort -n | sed -n "$(((n * $2 + 99) / 100))p"
}
for f in k u; do
	[ "$(awk '$3 == 9' "$TMP/$f" | wc -l)" -gt 0 ] || bench_die "no child was killed ($f): $(tail -3 "$TMP/run.err")"
done
echo "kill latency, syscall entry to the process reaped (100 children per path):"
for f in k u; do
	name=$([ $f = k ] && echo "in-kernel path " || echo "userspace path ")
	echo "  $name p50=$(pct "$TMP/$f" 50)us p99=$(pct "$TMP/$f" 99)us killed=$(awk '$3 == 9' "$TMP/$f" | wc -l)" \
		"ran on after the syscall=$(awk '$2 == 1' "$TMP/$f" | wc -l)"
done
awk -v k="$(pct "$TMP/k" 50)" -v u="$(pct "$TMP/u" 50)" \
	'BEGIN { printf "ratio of medians userspace/in-kernel: %.1f\n", u / k }'

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
