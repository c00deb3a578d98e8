#!/bin/bash
# test_errors.sh: command-line error handling. A non-root `vigil trace` (and
# capture) exits 1 with one clear message mentioning root and creates no file;
# an unknown --syscalls name exits 2 naming it; --help exits 0; an unknown
# command or option exits 2; replay of a capture needs no privileges.
# jq programs are single-quoted on purpose; cleanup runs from the trap.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil

cleanup() {
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
chmod 755 "$IT_TMP"
O=$IT_TMP/out
E=$IT_TMP/err

# run CMD...: run bounded, stdout to $O, stderr to $E, status in RC.
run() {
	it_bounded 20 "$@" >"$O" 2>"$E"
	RC=$?
}

# expect DESC WANT_RC: check RC; report stderr on mismatch; no crash.
expect() {
	if [ "$RC" -ne "$2" ]; then
		it_fail "$1: exit $RC, expected $2 (stderr: $(head -c 300 "$E"))"
		return 1
	fi
	if grep -qE 'Sanitizer|runtime error:' "$E"; then
		it_fail "$1: sanitizer report: $(grep -m2 -E 'Sanitizer|runtime error:' "$E")"
		return 1
	fi
	return 0
}

# An unprivileged copy of the binary (the build tree may not be reachable by
# nobody), and a way to run as nobody: setpriv, else su.
{ cp "$VIGIL" "$IT_TMP/vigil" && chmod 755 "$IT_TMP/vigil"; } || it_die "cannot copy $VIGIL"
if [ "$(id -u)" -ne 0 ]; then
	as_user() { "$@"; } # already unprivileged
elif command -v setpriv >/dev/null 2>&1; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
elif command -v su >/dev/null 2>&1; then
	as_user() { su nobody -s /bin/sh -c '"$0" "$@"' -- "$@"; }
else
	it_skip "neither setpriv nor su is available to run vigil as a non-root user"
fi

# 1. non-root trace: exit 1, exactly one line, mentioning root
for cmd in "trace --json" "capture -w $IT_TMP/nobody.cap --duration 5"; do
	# shellcheck disable=SC2086
	run as_user "$IT_TMP/vigil" $cmd
	if expect "non-root vigil $cmd" 1; then
		grep -qi 'root' "$E" || it_fail "non-root vigil $cmd: the message does not mention root: $(cat "$E")"
		[ "$(wc -l <"$E")" -eq 1 ] || it_fail "non-root vigil $cmd: expected one error line, got: $(cat "$E")"
		[ ! -s "$O" ] || it_fail "non-root vigil $cmd: printed on stdout: $(head -c 200 "$O")"
	fi
done
[ ! -e "$IT_TMP/nobody.cap" ] || it_fail "non-root vigil capture created its file anyway"

# 2. --syscalls with an unknown name: exit 2, the name in the message
for list in bogus "openat,bogus,execve"; do
	run "$VIGIL" trace --json --syscalls "$list" --duration 1
	if expect "trace --syscalls $list" 2; then
		grep -q "'bogus'" "$E" || it_fail "trace --syscalls $list: the message does not name 'bogus': $(cat "$E")"
		[ ! -s "$O" ] || it_fail "trace --syscalls $list: printed on stdout"
	fi
done
# the same as non-root: usage errors come before the privilege check
run as_user "$IT_TMP/vigil" trace --syscalls bogus
expect "non-root trace --syscalls bogus" 2 && { grep -q "'bogus'" "$E" || it_fail "non-root --syscalls bogus: $(cat "$E")"; }

# 3. help: exit 0, usage on stdout, nothing on stderr
for args in "--help" "-h" "trace --help" "capture --help" "replay --help"; do
	# shellcheck disable=SC2086
	run "$VIGIL" $args
	if expect "vigil $args" 0; then
		grep -qi 'usage' "$O" || it_fail "vigil $args: no usage on stdout: $(head -c 200 "$O")"
		[ ! -s "$E" ] || it_fail "vigil $args: wrote to stderr: $(head -c 200 "$E")"
	fi
done
run "$VIGIL" version
expect "vigil version" 0 && { grep -q '^vigil [0-9]' "$O" || it_fail "vigil version printed: $(cat "$O")"; }

# 4. usage errors: exit 2
run "$VIGIL" frobnicate-$$
expect "unknown command" 2 && { grep -q "frobnicate-$$" "$E" || it_fail "unknown command: the message does not name it: $(head -c 300 "$E")"; }
run "$VIGIL"
expect "no command" 2
run "$VIGIL" trace --no-such-option
expect "trace --no-such-option" 2 && { grep -q 'no-such-option' "$E" || it_fail "unknown option not named: $(head -c 300 "$E")"; }
run "$VIGIL" trace --duration abc
expect "trace --duration abc" 2
run "$VIGIL" trace --ring-mb 3
expect "trace --ring-mb 3" 2
run "$VIGIL" capture
expect "capture without -w" 2
run "$VIGIL" replay
expect "replay without a file" 2
run "$VIGIL" trace extra-argument
expect "trace with an extra argument" 2

# 5. replay needs no privileges: a capture made as root replays as nobody
# (needs BPF and root to make the capture).
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	run "$VIGIL" capture -w "$IT_TMP/root.cap" --duration 1
	if expect "capture --duration 1" 0; then
		chmod 644 "$IT_TMP/root.cap"
		run "$VIGIL" replay --json "$IT_TMP/root.cap"
		cp "$O" "$IT_TMP/root.json"
		expect "replay as root" 0
		run as_user "$IT_TMP/vigil" replay --json "$IT_TMP/root.cap"
		expect "replay as nobody" 0 && { cmp -s "$O" "$IT_TMP/root.json" ||
			it_fail "replay as nobody differs from replay as root"; }
	fi
else
	echo "note: not root or no BTF: skipped the capture/replay-as-nobody check"
fi

it_finish
