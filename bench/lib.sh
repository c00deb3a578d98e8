# shellcheck shell=bash
# bench/lib.sh: helpers shared by the benchmark scripts of this directory.
# Source it after `set -euo pipefail`; it defines variables and functions only.
#
# Every process a helper starts is recorded in BENCH_PIDS; bench_cleanup (set
# it as the EXIT trap) stops each of them by pid, SIGINT/SIGTERM first, then
# SIGKILL after a bounded wait. Nothing is ever stopped by name.

BENCH_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd -- "$BENCH_LIB_DIR/.." && pwd)
VIGIL=${VIGIL:-$BENCH_ROOT/build/vigil}
STORM=${STORM:-$BENCH_ROOT/build/tests/storm}
# Keepalive: when > 0, a steady trickle of events (storm pace HZ) while the
# agent runs, which makes the live agent's early exit (README.md, "Known
# problems") rarer without removing it. Off by default: it is extra load.
BENCH_KEEPALIVE_HZ=${BENCH_KEEPALIVE_HZ:-0}

BENCH_PIDS=()
BENCH_TMP=""
# AGENT_RC and AGENT_STATS are results for the scripts that source this file.
# shellcheck disable=SC2034
AGENT_PID="" AGENT_ERR="" AGENT_RC="" AGENT_STATS=""
KEEPALIVE_PID=""

bench_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bench_skip() {
	echo "skipped: $*"
	exit 0
}

bench_die() {
	echo "bench: error: $*" >&2
	exit 1
}

# bench_require_root: skip (exit 0) when not root.
bench_require_root() {
	[ "$(id -u)" -eq 0 ] || bench_skip "needs root (the eBPF sensor loads kernel programs)"
}

# bench_require_cmd CMD...: skip when a command is missing.
bench_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bench_skip "'$c' is not installed"
	done
}

# bench_require_vigil: skip when the agent is not built.
bench_require_vigil() {
	[ -x "$VIGIL" ] || bench_skip "$VIGIL is not built (run make)"
}

# bench_require_storm: skip when the storm tool is not built.
bench_require_storm() {
	[ -x "$STORM" ] || bench_skip "$STORM is not built (run make build/tests/storm)"
}

# bench_tmpdir: create the script's private temporary directory in BENCH_TMP.
bench_tmpdir() {
	BENCH_TMP=$(mktemp -d "/tmp/vigil-bench.XXXXXX")
}

# bench_track PID: stop PID at cleanup.
bench_track() { BENCH_PIDS+=("$1"); }

# bench_untrack PID
bench_untrack() {
	local i
	for i in "${!BENCH_PIDS[@]}"; do
		[ "${BENCH_PIDS[$i]}" = "$1" ] && unset 'BENCH_PIDS[$i]'
	done
	return 0
}

# bench_stop_pid PID [SIGNAL] [TIMEOUT_S]: signal PID, wait for it up to
# TIMEOUT_S (default 20), then SIGKILL. Sets BENCH_STOP_RC to its exit status
# (when it is our child) and returns 0.
bench_stop_pid() {
	local pid=$1 sig=${2:-TERM} timeout=${3:-20} i
	BENCH_STOP_RC=""
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < timeout * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			# a zombie child counts as gone
			[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)" = Z ] && break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)" != Z ]; then
			echo "bench: pid $pid did not stop after SIG$sig in ${timeout}s: SIGKILL" >&2
			kill -s KILL "$pid" 2>/dev/null || true
		fi
	fi
	if wait "$pid" 2>/dev/null; then BENCH_STOP_RC=0; else BENCH_STOP_RC=$?; fi
	bench_untrack "$pid"
	return 0
}

# bench_cleanup: the EXIT trap of every script.
bench_cleanup() {
	local pid
	set +e
	[ -n "$AGENT_PID" ] && bench_stop_pid "$AGENT_PID" INT 20
	for pid in "${BENCH_PIDS[@]}"; do
		bench_stop_pid "$pid" TERM 10
	done
	[ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ] && rm -rf -- "$BENCH_TMP"
	return 0
}

# bench_median: the median of the numbers on stdin, one a line.
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_ratio A B: A/B with 3 decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.3f\n", a / b }'; }

# bench_now: wall-clock seconds, with ns.
bench_now() { date +%s.%N; }

# bench_sub A B: A-B with 3 decimals.
bench_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a - b }'; }

# bench_cpu_ticks PID: utime+stime of PID in clock ticks (fields 14+15 of
# /proc/PID/stat, parsed after the comm field, which may contain spaces).
bench_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo $((${12} + ${13}))
}

# bench_rss_kb PID: VmRSS in kB.
bench_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# keepalive_start: run `storm pace` in the background (see BENCH_KEEPALIVE_HZ).
keepalive_start() {
	[ "$BENCH_KEEPALIVE_HZ" -gt 0 ] || return 0
	[ -x "$STORM" ] || bench_die "$STORM is not built (make build/tests/storm), needed by the keepalive"
	"$STORM" pace "$BENCH_KEEPALIVE_HZ" 3600 >/dev/null &
	KEEPALIVE_PID=$!
	bench_track "$KEEPALIVE_PID"
}

keepalive_stop() {
	[ -n "$KEEPALIVE_PID" ] || return 0
	bench_stop_pid "$KEEPALIVE_PID" TERM 10
	KEEPALIVE_PID=""
}

# agent_has_epoll: the agent has an epoll fd (ring_buffer__new is done).
agent_has_epoll() {
	local fd
	for fd in "/proc/$AGENT_PID/fd/"*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[eventpoll]" ] && return 0
	done
	return 1
}

# agent_start ERRFILE VIGIL-ARGS...: start the agent in the background with
# stdout to /dev/null, stderr to ERRFILE, and wait (up to 20 s) until its ring
# buffer is mapped (an epoll fd exists: programs attached, about to poll).
# Sets AGENT_PID. Dies if the agent exits or does not get ready.
agent_start() {
	local err=$1 i
	shift
	AGENT_ERR=$err
	AGENT_RC=""
	"$VIGIL" "$@" >/dev/null 2>"$err" &
	AGENT_PID=$!
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$AGENT_PID" 2>/dev/null; then
			wait "$AGENT_PID" 2>/dev/null || true
			AGENT_PID=""
			bench_die "the agent exited at start-up: $(tr '\n' ' ' <"$err")"
		fi
		if agent_has_epoll; then
			sleep 0.3 # state seeding, first poll
			return 0
		fi
		sleep 0.1
	done
	bench_die "the agent did not get ready in 20 s"
}

# agent_alive: true while the agent process runs (a zombie is not alive).
agent_alive() {
	[ -n "$AGENT_PID" ] || return 1
	kill -0 "$AGENT_PID" 2>/dev/null || return 1
	[ "$(awk '{print $3}' "/proc/$AGENT_PID/stat" 2>/dev/null || echo X)" != Z ]
}

# agent_stop: SIGINT, bounded wait; sets AGENT_RC and AGENT_STATS (its
# "vigil: bpf: ..." line, or "" when it printed none).
agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	bench_stop_pid "$AGENT_PID" INT 30
	# shellcheck disable=SC2034
	AGENT_RC=$BENCH_STOP_RC
	AGENT_PID=""
	# shellcheck disable=SC2034
	AGENT_STATS=$(grep -m1 '^vigil: bpf:' "$AGENT_ERR" || true)
}

# bench_foreign_agents: pids of vigil processes other than our agent (another
# sensor attached at the same time also runs its programs on every syscall of
# the workload, which skews the figures; it is reported, never stopped).
bench_foreign_agents() {
	local p out=""
	for p in $(pgrep -x vigil || true); do
		[ "$p" = "${AGENT_PID:-}" ] || out="$out${out:+,}$p"
	done
	echo "$out"
}

# bench_foreign_merge LIST LIST: the union of two comma-separated pid lists.
bench_foreign_merge() {
	printf '%s,%s\n' "$1" "$2" | tr ',' '\n' | sed '/^$/d' | sort -un | paste -sd, -
}

# stat_field LINE NAME: the value of NAME=value in a stats line ("" if absent).
stat_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }
