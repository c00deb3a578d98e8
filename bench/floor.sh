#!/usr/bin/env bash
# floor.sh: what Vigil adds to a syscall it does not capture, against the floor
# that any syscall-exit eBPF sensor pays: an attached tp_btf/sys_exit program
# that does nothing. Interleaved rounds of `perf bench syscall basic` (getppid):
# none | empty program | vigil capture --attach sys-exit | vigil capture
# --attach syscalls (per-syscall tracepoints: getppid runs no program at all).
# Prints medians and the differences.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${FLOOR_ROUNDS:-5}
VIGIL=${VIGIL:-build/vigil}

[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 0; }
command -v perf >/dev/null || { echo "skipped: perf is not installed"; exit 0; }
[ -x "$VIGIL" ] || { echo "skipped: $VIGIL not built"; exit 0; }
[ -r build/vmlinux.h ] || { echo "skipped: build/vmlinux.h missing (run make)"; exit 0; }

tmp=$(mktemp -d /tmp/vigil-floor.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ibuild -c bench/floor/empty_exit.bpf.c -o "$tmp/empty.o"
cc -O2 -o "$tmp/attach" bench/floor/attach.c -lbpf

ns_per_call() { perf bench syscall basic 2>&1 | awk '/usecs\/op/ { printf "%.1f", $1 * 1000 }'; }
with_bg() { # CMD...: run a background holder, measure, stop it
	"$@" >/dev/null 2>&1 &
	local p=$!
	pids+=("$p")
	sleep 1.2
	ns_per_call
	kill -INT "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$tmp/none"
: >"$tmp/empty"
: >"$tmp/vigil"
: >"$tmp/pertp"
for ((r = 1; r <= ROUNDS; r++)); do
	n=$(ns_per_call)
	e=$(with_bg "$tmp/attach" "$tmp/empty.o" 30)
	v=$(with_bg "$VIGIL" capture --attach sys-exit -w "$tmp/cap.vcap" --duration 30)
	p=$(with_bg "$VIGIL" capture --attach syscalls -w "$tmp/cap.vcap" --duration 30)
	echo "round $r: none $n ns, empty program $e ns, vigil sys-exit $v ns, vigil per-syscall $p ns"
	echo "$n" >>"$tmp/none"
	echo "$e" >>"$tmp/empty"
	echo "$v" >>"$tmp/vigil"
	echo "$p" >>"$tmp/pertp"
done
n=$(median <"$tmp/none")
e=$(median <"$tmp/empty")
v=$(median <"$tmp/vigil")
p=$(median <"$tmp/pertp")
echo
echo "median ns per uncaptured syscall: none $n, empty sys_exit program $e, vigil sys-exit $v, vigil per-syscall $p"
awk -v n="$n" -v e="$e" -v v="$v" -v p="$p" 'BEGIN {
	printf "floor (empty program - none): %+.1f ns; vigil sys-exit - none: %+.1f ns; vigil - floor: %+.1f ns\n", e - n, v - n, v - e
	printf "vigil per-syscall - none: %+.1f ns\n", p - n
	printf "ratio vigil / empty program: %.3f; added cost per-syscall / sys-exit: %.3f\n", v / e, (p - n) / (v - n)
}'
