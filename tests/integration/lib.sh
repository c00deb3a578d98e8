# shellcheck shell=bash
# shellcheck disable=SC2034 # IT_IMAGE, IT_TRACER_RC are read by the scripts
# lib.sh: helpers shared by tests/integration/test_*.sh. Source it from the
# project root (the scripts cd there first). Defines functions and a few
# variables; registers no traps itself (each script owns its EXIT trap and
# calls it_cleanup_common from it).
#
# Conventions (tests/run): exit 0 pass, 77 skip ("SKIP: reason" on stdout),
# anything else fail.

BUILD=${BUILD:-build}
VIGIL=${VIGIL:-$BUILD/vigil}
IT_FAILS=0
IT_TRACER_PID=""
IT_TMP=""

it_skip() {
	echo "SKIP: $*"
	exit 77
}

it_die() {
	echo "FAIL: $*"
	exit 1
}

# it_fail MSG: record a failed assertion and go on (the script ends with
# it_finish, which exits 1 if anything failed).
it_fail() {
	echo "FAIL: $*"
	IT_FAILS=$((IT_FAILS + 1))
}

it_finish() {
	if [ "$IT_FAILS" -ne 0 ]; then
		echo "$IT_FAILS assertion(s) failed"
		exit 1
	fi
	echo "PASS"
	exit 0
}

it_need_root() {
	[ "$(id -u)" -eq 0 ] || it_skip "needs root"
}

it_need_bpf() {
	[ -r /sys/kernel/btf/vmlinux ] || it_skip "kernel has no BTF (/sys/kernel/btf/vmlinux)"
}

it_need_jq() {
	command -v jq >/dev/null 2>&1 || it_skip "jq is not installed"
}

it_need_vigil() {
	[ -x "$VIGIL" ] || it_die "vigil binary '$VIGIL' not found (run make)"
}

# it_need_podman: source the container helpers, skip if podman cannot run
# here, and set IT_IMAGE to the busybox test image.
it_need_podman() {
	# shellcheck source=tests/lib/containers.sh
	. tests/lib/containers.sh
	local why
	why=$(vg_podman_skip_reason) || it_skip "$why"
	IT_IMAGE=$(vg_busybox_image) || it_skip "cannot build the busybox test image"
}

# it_mktemp: create IT_TMP (a private temporary directory).
it_mktemp() {
	IT_TMP=$(mktemp -d /tmp/vigil-it.XXXXXX) || it_die "mktemp failed"
}

# it_bounded SECS CMD...: run CMD (a command or a function) with a time limit;
# returns its status, or 124 if it had to be killed.
it_bounded() {
	local secs=$1 i=0 p
	shift
	"$@" &
	p=$!
	while kill -0 "$p" 2>/dev/null; do
		if [ "$i" -ge $((secs * 10)) ]; then
			kill -TERM "$p" 2>/dev/null
			sleep 1
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
			return 124
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$p"
}

# it_agent_ready PID ERRFILE: wait (bounded, 30 s) until the `vigil run` agent
# PID is ready: it has said 'rules loaded' on ERRFILE (before it loads its
# programs) and holds its container watch's inotify descriptor, the last thing
# it sets up, after the programs are attached and the response (isolate,
# egress, fanotify) is in force. A fixed sleep after 'rules loaded' was outrun
# by a busy machine. Die if the agent exits or never gets there.
it_agent_ready() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || it_die "vigil run exited at start: $(cat "$2")"
		grep -q 'rules loaded' "$2" 2>/dev/null && it_vigil_live "$1" && return 0
		sleep 0.1
	done
	it_die "vigil run was not ready within 30 s: $(cat "$2")"
}

# it_vigil_live PID: whether a live `vigil run|trace|capture` PID has set up
# everything (its container watch's inotify descriptor is its last step).
it_vigil_live() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = anon_inode:inotify ] && return 0
	done
	return 1
}

# it_vigil_wait_live PID ERRFILE WHAT: wait (bounded, 30 s) for it_vigil_live
# PID; die naming WHAT if it exits or never gets there.
it_vigil_wait_live() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || it_die "$3 exited at start: $(cat "$2")"
		it_vigil_live "$1" && return 0
		sleep 0.1
	done
	it_die "$3 was not ready within 30 s: $(cat "$2")"
}

# it_trace_start OUT ERR ARGS...: start `vigil trace ARGS...` in the
# background (stdout to OUT, stderr to ERR) and wait until it is live: a host
# process opens a marker file until the tracer reports that open (bounded).
# A --duration safety net keeps the tracer from outliving the script.
it_trace_start() {
	local out=$1 err=$2
	shift 2
	"$VIGIL" trace "$@" --duration 80 >"$out" 2>"$err" &
	IT_TRACER_PID=$!
	it_trace_sync "$out" "$err" ready
}

# it_trace_sync OUT [ERR [NAME]]: wait (bounded, 20 s) until the running
# tracer has written to OUT the open of a fresh marker file (IT_TMP/NAME-N),
# so that events from before the call are in OUT too: a wait for the real
# condition, not a sleep a busy machine outruns. The tracer must capture
# open/openat (its --syscalls, if any, include them).
IT_SYNC_N=0
it_trace_sync() {
	local out=$1 err=${2:-/dev/null} marker i
	IT_SYNC_N=$((IT_SYNC_N + 1))
	marker="$IT_TMP/${3:-sync}-$$-$IT_SYNC_N"
	: >"$marker"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$IT_TRACER_PID" 2>/dev/null ||
			it_die "vigil trace exited: $(cat "$err")"
		cat "$marker" >/dev/null
		grep -qF "$marker" "$out" 2>/dev/null && return 0
		sleep 0.2
	done
	it_die "vigil trace did not report the open of $marker within 20 s: $(cat "$err")"
}

# it_trace_stop: SIGINT the tracer, wait (bounded) for it, set IT_TRACER_RC.
it_trace_stop() {
	local i
	IT_TRACER_RC=""
	[ -n "$IT_TRACER_PID" ] || return 0
	kill -INT "$IT_TRACER_PID" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$IT_TRACER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$IT_TRACER_PID" 2>/dev/null; then
		kill -KILL "$IT_TRACER_PID" 2>/dev/null
		it_fail "vigil trace did not stop within 15 s of SIGINT"
	fi
	wait "$IT_TRACER_PID" 2>/dev/null
	IT_TRACER_RC=$?
	IT_TRACER_PID=""
}

# it_cleanup_common: kill a still-running tracer (or webhook), remove IT_TMP.
it_cleanup_common() {
	if [ -n "${IT_SERVER_PID:-}" ]; then
		kill -KILL "$IT_SERVER_PID" 2>/dev/null
		wait "$IT_SERVER_PID" 2>/dev/null
		IT_SERVER_PID=""
	fi
	if [ -n "$IT_TRACER_PID" ]; then
		kill -KILL "$IT_TRACER_PID" 2>/dev/null
		wait "$IT_TRACER_PID" 2>/dev/null
		IT_TRACER_PID=""
	fi
	if [ -n "$IT_TMP" ] && [ -d "$IT_TMP" ]; then
		rm -rf -- "$IT_TMP"
	fi
}

# it_count FILE JQ_FILTER [jq args...]: number of events in FILE (JSON lines)
# for which JQ_FILTER is true.
it_count() {
	local file=$1 filter=$2
	shift 2
	jq -c "$@" "select($filter)" "$file" | wc -l
}

# it_webhook_start ERRFILE ARGS...: start `vigil admission serve --listen
# 127.0.0.1:0 ARGS...` in the background (stderr to ERRFILE) and wait until it
# prints its address; sets IT_SERVER_PID and IT_PORT. Stop it with
# it_webhook_stop (or it is killed by it_cleanup_common).
IT_SERVER_PID=""
IT_PORT=""
it_webhook_start() {
	local err=$1 i
	shift
	"$VIGIL" admission serve --listen 127.0.0.1:0 "$@" 2>"$err" &
	IT_SERVER_PID=$!
	IT_PORT=""
	for ((i = 0; i < 100; i++)); do
		IT_PORT=$(sed -n 's|.*listening on https\{0,1\}://127.0.0.1:\([0-9]*\)$|\1|p' "$err" 2>/dev/null)
		[ -n "$IT_PORT" ] && return 0
		kill -0 "$IT_SERVER_PID" 2>/dev/null || it_die "vigil admission serve exited: $(cat "$err")"
		sleep 0.1
	done
	it_die "vigil admission serve did not report its address: $(cat "$err")"
}

# it_webhook_stop: SIGTERM the webhook and wait; returns its exit status.
it_webhook_stop() {
	local rc
	kill -TERM "$IT_SERVER_PID" 2>/dev/null
	wait "$IT_SERVER_PID"
	rc=$?
	IT_SERVER_PID=""
	return "$rc"
}
