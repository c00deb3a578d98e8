#!/bin/bash
# test_attach_syscalls.sh: the per-syscall attachment (--attach syscalls) puts
# the program on the wanted syscalls' tracepoints only, follows the wanted set
# when rules are reloaded, and captures the container workload of
# test_container_events.sh the same way; --attach auto keeps the sys_exit
# program wherever 32-bit syscalls can run, so none goes unseen, and attaches
# per syscall elsewhere, also where a syscall Vigil knows has no tracepoint
# (not built in: its attempts fail with ENOSYS, and the agent says it does not
# see them).
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
command -v bpftool >/dev/null 2>&1 || it_skip "bpftool is not installed"
INT80=$BUILD/tests/int80

AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp

# tracepoints PID: the tracepoints the process's programs sit on, sorted, one line
tracepoints() {
	bpftool -j perf show 2>/dev/null |
		jq -r --argjson p "$1" '[.[] | select(.pid == $p) | .fd_type + ":" + .tracepoint] | sort | join(" ")'
}
# wait_attached PID ERRFILE: until the agent's programs are attached (10 s)
wait_attached() {
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || it_die "the agent exited at startup: $(cat "$2")"
		[ -n "$(tracepoints "$1")" ] && sleep 0.3 && return 0
		sleep 0.1
	done
	it_die "the agent attached nothing within 10 s: $(cat "$2")"
}

# traced_attach ERRFILE ARGS...: start `vigil trace ARGS...`, wait until it is
# attached, set GOT to its tracepoints and stop it
traced_attach() {
	local err=$1
	shift
	"$VIGIL" trace "$@" --duration 30 >/dev/null 2>"$err" &
	AGENT=$!
	wait_attached "$AGENT" "$err"
	GOT=$(tracepoints "$AGENT")
	kill -INT "$AGENT"
	wait "$AGENT"
	AGENT=""
}

# io_uring's two tracepoints carry opens and connects made through io_uring (src/bpf/lib/uring.bpf.h),
# on kernels that have them
U=""
if [ -d /sys/kernel/tracing/events/io_uring ] || [ -d /sys/kernel/debug/tracing/events/io_uring ]; then
	U="raw_tracepoint:io_uring_complete raw_tracepoint:io_uring_submit_req "
fi

# 1. Exactly the asked syscalls' tracepoints, and no sys_exit program.
traced_attach "$IT_TMP/err1" --attach syscalls --syscalls openat,execve
want="${U}raw_tracepoint:sched_process_exit tracepoint:sys_exit_execve tracepoint:sys_exit_openat"
[ "$GOT" = "$want" ] || it_fail "--attach syscalls --syscalls openat,execve: attached '$GOT', expected '$want'"

# 2. sys-exit: one program on the kernel's sys_exit tracepoint.
traced_attach "$IT_TMP/err2" --attach sys-exit --syscalls openat,execve
want="${U}raw_tracepoint:sched_process_exit raw_tracepoint:sys_exit"
[ "$GOT" = "$want" ] || it_fail "--attach sys-exit: attached '$GOT', expected '$want'"

# 3. auto: where 32-bit syscalls run (int 0x80 answers), the sys_exit program,
# since per-syscall tracepoints would not see them; elsewhere per syscall.
ia32=unknown
if [ -x "$INT80" ]; then
	echo x >"$IT_TMP/probe"
	r=$("$INT80" open "$IT_TMP/probe" 2>/dev/null) && [ "$r" != -38 ] && ia32=yes || ia32=no
fi
traced_attach "$IT_TMP/err3" --syscalls openat
case $ia32 in
yes)
	[ "$GOT" = "${U}raw_tracepoint:sched_process_exit raw_tracepoint:sys_exit" ] ||
		it_fail "auto with 32-bit syscalls possible attached '$GOT', not the sys_exit program"
	grep -q "32-bit syscalls can run on this kernel" "$IT_TMP/err3" ||
		it_fail "auto did not say why it chose sys_exit: $(cat "$IT_TMP/err3")"
	;;
no)
	# per syscall, also where a syscall Vigil knows has no tracepoint (not built: it can
	# only fail with ENOSYS), which the agent then says it does not see
	[ "$GOT" = "${U}raw_tracepoint:sched_process_exit tracepoint:sys_exit_openat" ] ||
		it_fail "auto without 32-bit syscalls attached '$GOT', not per syscall"
	missing=""
	for t in init_module finit_module delete_module; do
		[ -d /sys/kernel/tracing/events/syscalls/sys_exit_$t ] || missing=$t
	done
	if [ -n "$missing" ] && [ -d /sys/kernel/tracing/events/syscalls ]; then
		grep -q "has no tracepoint for .*--attach sys-exit captures them" "$IT_TMP/err3" ||
			it_fail "auto did not say that attempts of a syscall without tracepoint ($missing) are not captured: $(cat "$IT_TMP/err3")"
	fi
	;;
*) echo "note: $INT80 not built, auto's choice not checked" ;;
esac

# 4. Rules reloaded with SIGHUP: the tracepoints follow what the rules need.
rules() { # EVENT PATH
	cat <<EOR
- rule: Attach test $1
  desc: a $1 of a path of this test
  condition: evt.type = $1 and evt.args contains "$2"
  output: $1 %fd.name by %proc.name
  priority: WARNING
EOR
}
rules mkdirat "$IT_TMP/" >"$IT_TMP/rules.yaml"
"$VIGIL" run --attach syscalls --rules "$IT_TMP/rules.yaml" --no-store --json --duration 60 \
	>"$IT_TMP/alerts" 2>"$IT_TMP/err4" &
AGENT=$!
wait_attached "$AGENT" "$IT_TMP/err4"
got=$(tracepoints "$AGENT")
case " $got " in *" tracepoint:sys_exit_mkdirat "*) ;; *) it_fail "mkdirat rule: sys_exit_mkdirat not attached ($got)" ;; esac
case " $got " in *" tracepoint:sys_exit_symlinkat "*) it_fail "mkdirat rule: sys_exit_symlinkat attached ($got)" ;; esac
case " $got " in *" tracepoint:sys_exit_execve "*) ;; *) it_fail "the process table's execve is not attached ($got)" ;; esac
rules symlinkat "$IT_TMP/" >"$IT_TMP/rules.yaml"
kill -HUP "$AGENT"
for ((i = 0; i < 50; i++)); do grep -q 'rules reloaded' "$IT_TMP/err4" && break; sleep 0.1; done
grep -q 'rules reloaded' "$IT_TMP/err4" || it_fail "no 'rules reloaded' after SIGHUP: $(cat "$IT_TMP/err4")"
got=$(tracepoints "$AGENT")
case " $got " in *" tracepoint:sys_exit_symlinkat "*) ;; *) it_fail "after reload: sys_exit_symlinkat not attached ($got)" ;; esac
case " $got " in *" tracepoint:sys_exit_mkdirat "*) it_fail "after reload: sys_exit_mkdirat still attached ($got)" ;; esac
for ((i = 0; i < 50; i++)); do
	ln -sf /etc/hostname "$IT_TMP/link-$i"
	jq -e -s 'map(select(.rule == "Attach test symlinkat")) | length > 0' "$IT_TMP/alerts" >/dev/null 2>&1 && break
	sleep 0.2
done
[ "$(jq -c 'select(.rule == "Attach test symlinkat")' "$IT_TMP/alerts" | wc -l)" -gt 0 ] ||
	it_fail "no alert through the newly attached symlinkat tracepoint: $(cat "$IT_TMP/err4")"
kill -INT "$AGENT"
wait "$AGENT"
rc=$?
AGENT=""
[ "$rc" = 0 ] || it_fail "vigil run --attach syscalls exited $rc"

# 5. The container workload, per syscall: every event as test_container_events expects.
VIGIL_ATTACH=syscalls bash tests/integration/test_container_events.sh >"$IT_TMP/events.log" 2>&1
rc=$?
case $rc in
0) ;;
77) echo "note: the container workload was skipped: $(tail -1 "$IT_TMP/events.log")" ;;
*) it_fail "test_container_events.sh with --attach syscalls failed: $(tail -20 "$IT_TMP/events.log")" ;;
esac
it_finish
