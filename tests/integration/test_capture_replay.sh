#!/bin/bash
# test_capture_replay.sh: `vigil trace --json -w FILE` while a container runs a
# few commands; `vigil replay --json FILE` must print byte-identical output.
# Damaged captures (truncated, corrupted record headers, random overwrites,
# not a capture at all) must make replay fail cleanly: exit 1, one message
# naming the offset of the bad record, the good records before it printed,
# never a crash.
# jq programs are single-quoted on purpose; cleanup runs from the trap.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
it_need_podman
command -v perl >/dev/null 2>&1 || it_skip "perl is not installed (walks capture records)"

M=$$
NAME=vgcap-$M

cleanup() {
	it_cleanup_common
	vg_podman rm -f "$NAME" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/live.json
ERR=$IT_TMP/live.err
CAP=$IT_TMP/live.cap

it_trace_start "$OUT" "$ERR" --json -w "$CAP"
it_bounded 30 vg_podman run --rm --name "$NAME" "$IT_IMAGE" sh -c \
	"cat /etc/passwd; cd /tmp && echo x >cap-$M && mv cap-$M cap2-$M && ls -l /tmp; cat /nonexist-$M; true" \
	>/dev/null 2>"$IT_TMP/podman.err"
rc=$?
[ "$rc" -eq 0 ] || it_die "podman run exited $rc: $(cat "$IT_TMP/podman.err")"
it_trace_stop
[ "$IT_TRACER_RC" = 0 ] || it_fail "vigil trace -w exited $IT_TRACER_RC after SIGINT: $(cat "$ERR")"
[ -s "$CAP" ] || it_die "no capture file written"
n=$(it_count "$OUT" '.container.name == $n and .type == "execve"' --arg n "$NAME")
[ "$n" -ge 3 ] || it_fail "live output has $n execve events of the container, expected >= 3"

# replay REPLAY_OUT REPLAY_ERR FILE [args]: run vigil replay (bounded); sets RC.
replay() {
	local o=$1 e=$2
	shift 2
	it_bounded 20 "$VIGIL" replay "$@" >"$o" 2>"$e"
	RC=$?
}

# no_crash DESC ERRFILE: the exit status must not be a signal or a timeout,
# and no sanitizer report.
no_crash() {
	if [ "$RC" -ge 124 ]; then
		it_fail "$1: vigil replay crashed or hung (exit $RC): $(head -c 500 "$2")"
	elif grep -qE 'Sanitizer|runtime error:' "$2"; then
		it_fail "$1: sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error:' "$2")"
	fi
}

# 1. the whole capture: byte-identical to the live output
replay "$IT_TMP/replay.json" "$IT_TMP/replay.err" --json "$CAP"
no_crash "full replay" "$IT_TMP/replay.err"
[ "$RC" -eq 0 ] || it_fail "replay of the full capture exited $RC: $(head -c 500 "$IT_TMP/replay.err")"
if ! cmp "$OUT" "$IT_TMP/replay.json"; then
	it_fail "replay output differs from the live output ($(wc -l <"$OUT") vs $(wc -l <"$IT_TMP/replay.json") lines); first difference:"
	diff "$OUT" "$IT_TMP/replay.json" | head -4 | cut -c1-400 | sed 's/^/    /'
fi

# 1b. --container on replay selects exactly the live events of the container
replay "$IT_TMP/replay-c.json" "$IT_TMP/replay-c.err" --json --container "$NAME" "$CAP"
[ "$RC" -eq 0 ] || it_fail "replay --container exited $RC: $(head -c 500 "$IT_TMP/replay-c.err")"
if ! cmp -s <(jq -c --arg n "$NAME" 'select(.container.name == $n)' "$OUT") <(jq -c . "$IT_TMP/replay-c.json"); then
	it_fail "replay --container $NAME: not the same events as the live output's container.name == $NAME ($(wc -l <"$IT_TMP/replay-c.json") lines vs $(it_count "$OUT" '.container.name == $n' --arg n "$NAME"))"
fi

# Record boundaries: the 96-byte header, then records whose u32 length is at
# byte 40 of each 128-byte event header (u16 type at byte 44). Printed: offset,
# length, and 1 for an event record, 0 for an internal one. The file starts with
# the state snapshot, whose first record is a CGROUP record; the internal types
# (cgroup, state_proc, state_container) are the last ones of the enum, so a
# type below the first record's is a syscall event.
perl -e '
	open my $f, "<:raw", $ARGV[0] or die "$!\n"; local $/; my $d = <$f>;
	my $o = 96; my $t0;
	while ($o + 128 <= length $d) {
		my ($l, $t) = unpack("Vv", substr($d, $o + 40, 6));
		$t0 //= $t;
		print "$o $l ", ($t < $t0 ? 1 : 0), "\n";
		die "bad record length $l at $o\n" if $l < 128;
		$o += $l;
	}
	die "records end at $o, file is " . length($d) . " bytes\n" if $o != length $d;
' "$CAP" >"$IT_TMP/records" 2>"$IT_TMP/records.err" ||
	it_die "the capture does not walk as header + records: $(cat "$IT_TMP/records.err")"
NREC=$(wc -l <"$IT_TMP/records")
[ "$NREC" -ge 100 ] || it_die "only $NREC records in the capture"

# 1c. a capture cut at a record boundary is a valid capture: it replays
# (exit 0) to a prefix of the full output. The damaged copies below are made
# from such a prefix (the snapshot and 3000 events), which keeps them quick to
# replay on a busy host or with a sanitizer build.
DCAP=$CAP
CUT=$(awk '$3 == 1 && ++n == 3000 { print NR; exit }' "$IT_TMP/records")
if [ -n "$CUT" ] && [ "$CUT" -lt "$NREC" ]; then
	read -r PSIZE _ < <(sed -n "$((CUT + 1))p" "$IT_TMP/records")
	NREC=$CUT
	DCAP=$IT_TMP/prefix.cap
	head -c "$PSIZE" "$CAP" >"$DCAP"
	replay "$IT_TMP/prefix.json" "$IT_TMP/prefix.err" --json "$DCAP"
	no_crash "capture cut after $CUT records" "$IT_TMP/prefix.err"
	[ "$RC" -eq 0 ] || it_fail "capture cut after $CUT records: replay exited $RC: $(head -c 300 "$IT_TMP/prefix.err")"
	[ -s "$IT_TMP/prefix.json" ] || it_fail "capture cut after $CUT records (3000 events): replay printed nothing"
	head -c "$(stat -c %s "$IT_TMP/prefix.json")" "$IT_TMP/replay.json" | cmp -s - "$IT_TMP/prefix.json" ||
		it_fail "capture cut after $CUT records: its replay is not a prefix of the full replay"
fi
SIZE=$(stat -c %s "$DCAP")
read -r LAST_OFF _ < <(sed -n "${NREC}p" "$IT_TMP/records")
# the middle event record (not a snapshot record), so that events precede it
MIDREC=$(awk -v last="$NREC" 'NR <= last && $3 == 1 { e[++n] = NR } END { print (n ? e[int((n + 1) / 2)] : int(last / 2)) }' "$IT_TMP/records")
read -r MID_OFF _ < <(sed -n "${MIDREC}p" "$IT_TMP/records")

# expect_bad DESC FILE OFFSET PATTERN: replay exits 1, with one stderr line
# that names "offset OFFSET" and matches PATTERN (grep -E); what it printed is
# a prefix of the full output.
expect_bad() {
	local desc=$1 file=$2 off=$3 pat=$4 o="$IT_TMP/bad.out" e="$IT_TMP/bad.err" plen
	replay "$o" "$e" --json "$file"
	no_crash "$desc" "$e"
	if [ "$RC" -ne 1 ]; then
		it_fail "$desc: replay exited $RC, expected 1 (stderr: $(head -c 300 "$e"))"
		return
	fi
	if [ -n "$off" ] && ! grep -q "offset $off\b" "$e"; then
		it_fail "$desc: the error does not name offset $off: $(head -c 300 "$e")"
	fi
	grep -qE "$pat" "$e" || it_fail "$desc: the error does not match /$pat/: $(head -c 300 "$e")"
	[ "$(wc -l <"$e")" -eq 1 ] || it_fail "$desc: expected exactly one error line, got: $(head -c 500 "$e")"
	plen=$(stat -c %s "$o")
	if ! head -c "$plen" "$IT_TMP/replay.json" | cmp -s - "$o"; then
		it_fail "$desc: the output before the error is not a prefix of the full replay"
	fi
	if [ -n "$off" ] && [ "$plen" -eq 0 ] &&
		awk -v o="$off" '$1 < o && $3 == 1 { f = 1 } END { exit !f }' "$IT_TMP/records"; then
		it_fail "$desc: nothing printed, though event records precede the bad one at offset $off"
	fi
}

# patch FILE OFFSET HEXBYTES: overwrite bytes in place.
patch() {
	# shellcheck disable=SC2059 # the format is the escaped bytes
	printf "$(sed 's/../\\x&/g' <<<"$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# 2. truncated: the last record loses 7 bytes
head -c $((SIZE - 7)) "$DCAP" >"$IT_TMP/trunc.cap"
expect_bad "capture truncated by 7 bytes" "$IT_TMP/trunc.cap" "$LAST_OFF" 'truncated'
# cut inside a record header
head -c $((MID_OFF + 20)) "$DCAP" >"$IT_TMP/trunc2.cap"
expect_bad "capture cut inside a record header" "$IT_TMP/trunc2.cap" "$MID_OFF" 'truncated'
# cut inside the file header
head -c 50 "$DCAP" >"$IT_TMP/trunc3.cap"
expect_bad "capture cut inside the file header" "$IT_TMP/trunc3.cap" "" 'header'

# 3. corrupted record headers in the middle (dd over a copy)
for spec in "40 ffffffff impossible-length" "40 00000000 zero-length" "40 7f000000 short-length" \
	"44 ffff unknown-type" "46 ffff bad-nparams"; do
	read -r at bytes what <<<"$spec"
	cp "$DCAP" "$IT_TMP/corrupt.cap"
	patch "$IT_TMP/corrupt.cap" $((MID_OFF + at)) "$bytes"
	expect_bad "record at $MID_OFF corrupted ($what)" "$IT_TMP/corrupt.cap" "$MID_OFF" 'corrupt'
done

# 4. random overwrites anywhere after the file header: whatever is detected
# must be reported cleanly; nothing may crash or hang
for ((i = 0; i < 10; i++)); do
	cp "$DCAP" "$IT_TMP/fuzz.cap"
	pos=$((96 + (RANDOM * 32768 + RANDOM) % (SIZE - 96 - 64)))
	head -c 64 /dev/urandom | dd of="$IT_TMP/fuzz.cap" bs=1 seek="$pos" conv=notrunc status=none
	replay "$IT_TMP/fuzz.out" "$IT_TMP/fuzz.err" --json "$IT_TMP/fuzz.cap"
	no_crash "64 random bytes at $pos" "$IT_TMP/fuzz.err"
	case $RC in
	0) ;;
	1) grep -q 'offset [0-9]' "$IT_TMP/fuzz.err" ||
		it_fail "64 random bytes at $pos: exit 1 without an offset: $(head -c 300 "$IT_TMP/fuzz.err")" ;;
	*) it_fail "64 random bytes at $pos: replay exited $RC" ;;
	esac
done

# 5. not a capture file, an empty file, a missing file, a future version
expect_bad "not a capture file (/etc/os-release copy)" /etc/os-release "" 'not a Vigil capture'
: >"$IT_TMP/empty.cap"
expect_bad "empty file" "$IT_TMP/empty.cap" "" 'not a Vigil capture|empty|header'
replay "$IT_TMP/bad.out" "$IT_TMP/bad.err" --json "$IT_TMP/does-not-exist.cap"
no_crash "missing file" "$IT_TMP/bad.err"
{ [ "$RC" -eq 1 ] && grep -q 'No such file' "$IT_TMP/bad.err"; } ||
	it_fail "missing file: exit $RC, stderr: $(head -c 300 "$IT_TMP/bad.err")"
cp "$DCAP" "$IT_TMP/version.cap"
patch "$IT_TMP/version.cap" 8 "6300"
expect_bad "capture format version 99" "$IT_TMP/version.cap" "" 'version'

it_finish
