#!/bin/bash
# test_ia32.sh: syscalls made through the 32-bit ABI (int 0x80) from a 64-bit
# process use other numbers and registers; they must still be seen, decoded
# and marked "ia32", not missed or mistaken for the 64-bit syscall of that number.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
INT80=$BUILD/tests/int80
[ -x "$INT80" ] || it_die "$INT80 not built (make tests)"
# no emulation (ENOSYS), or a machine where int 0x80 kills the process (SIGSEGV)
why=$("$INT80" probe) || it_skip "${why:-the int 0x80 probe failed}"

cleanup() {
	rmdir "/tmp/vigil-ia32-$$" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
it_trace_start "$OUT" "$IT_TMP/err" --json --syscalls open,openat,mkdir
# a file of this run only: another test run on the machine must not count
TARGET=$IT_TMP/ia32-target-$$
echo x >"$TARGET"
r=$("$INT80" open "$TARGET") || it_die "int80 failed"
"$INT80" mkdir "/tmp/vigil-ia32-$$" >/dev/null
# the last event is in the output once the tracer reports a later marker
it_trace_sync "$OUT" "$IT_TMP/err"
it_trace_stop
[ "$IT_TRACER_RC" = 0 ] || it_fail "vigil trace exited $IT_TRACER_RC: $(cat "$IT_TMP/err")"

got=$(jq -c --arg p "$TARGET" 'select(.process.name == "int80" and .type == "open" and .args.path == $p)
	| [.ia32, .result]' "$OUT")
[ "$got" = "[true,$r]" ] || it_fail "32-bit open: expected [true,$r], got '$got'"
got=$(jq -c --arg p "/tmp/vigil-ia32-$$" 'select(.process.name == "int80" and .type == "mkdir" and .args.path == $p)
	| [.ia32, .result, .args.mode]' "$OUT")
[ "$got" = '[true,0,"0755"]' ] || it_fail "32-bit mkdir: expected [true,0,\"0755\"], got '$got'"
n=$(jq -c --arg p "$TARGET" 'select(.process.name == "int80" and .type == "openat" and .ia32 == true and .args.path == $p)' "$OUT" | wc -l)
[ "$n" -eq 0 ] || it_fail "64-bit opens were marked ia32"
it_finish
