#!/bin/bash
# test_short_container.sh: a container whose only process runs one command and
# exits at once (podman --rm removes its metadata ~0.1 s later). Its events
# must still carry the container's name, image and id: Vigil has to look the
# metadata up at the container's first event, not later.
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

M=$$
NAME=vgshort-$M
ROUNDS=3

FPID=""
cleanup() {
	if [ -n "$FPID" ]; then
		kill -KILL "$FPID" 2>/dev/null
		wait "$FPID" 2>/dev/null
	fi
	it_cleanup_common
	local i
	for ((i = 1; i <= ROUNDS; i++)); do
		vg_podman rm -f "$NAME-$i" >/dev/null 2>&1
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
ERR=$IT_TMP/trace.err

# A second tracer filtered on the last round's container name, started first
# (it cannot see the host readiness marker, the unfiltered one below can; both
# attach the same way, so once that one is live, so is this one).
FOUT=$IT_TMP/filtered.json
"$VIGIL" trace --json --container "$NAME-$ROUNDS" --duration 80 >"$FOUT" 2>"$IT_TMP/filtered.err" &
FPID=$!
it_trace_start "$OUT" "$ERR" --json
it_vigil_wait_live "$FPID" "$IT_TMP/filtered.err" "vigil trace --container"

# A few rounds: each container is a fresh cgroup and a fresh metadata lookup.
# The marker argument makes each container's exec unique.
for ((i = 1; i <= ROUNDS; i++)); do
	it_bounded 30 vg_podman run --rm --cidfile "$IT_TMP/cid-$i" --name "$NAME-$i" \
		"$IT_IMAGE" cat /etc/hostname "/vgshort-$M-$i" >/dev/null 2>"$IT_TMP/podman-$i.err"
	# cat fails on the missing marker: exit status 1 is expected
	rc=$?
	[ "$rc" -eq 1 ] || it_die "podman run (round $i) exited $rc, expected 1: $(cat "$IT_TMP/podman-$i.err")"
done
it_trace_stop
[ "$IT_TRACER_RC" = 0 ] || it_fail "vigil trace exited $IT_TRACER_RC after SIGINT"
kill -INT "$FPID" 2>/dev/null
for ((i = 0; i < 150; i++)); do kill -0 "$FPID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$FPID" 2>/dev/null && it_fail "vigil trace --container did not stop within 15 s of SIGINT"
wait "$FPID"
FRC=$?
FPID=""
[ "$FRC" = 0 ] || it_fail "vigil trace --container exited $FRC after SIGINT"

# Keep only the lines that can matter (the host may be busy), so that the
# jq passes below stay fast: every event checked below names one of the
# containers or its id.
PATS=(-e "vgshort-$M")
for ((i = 1; i <= ROUNDS; i++)); do
	c=$(cat "$IT_TMP/cid-$i" 2>/dev/null)
	[ -n "$c" ] && PATS+=(-e "${c:0:12}")
done
jq -e . "$OUT" >/dev/null 2>&1 || it_die "trace output is not valid JSON lines"
grep -F "${PATS[@]}" "$OUT" >"$IT_TMP/relevant.json"
OUT=$IT_TMP/relevant.json

# The filtered tracer printed exactly the unfiltered tracer's events of that
# container. Compared as sorted sets without ts/time: each sensor instance
# stamps its own records, and events of different CPUs may interleave
# differently in two ring buffers.
jq -c --arg n "$NAME-$ROUNDS" 'select(.container.name == $n) | del(.ts, .time)' "$OUT" | sort >"$IT_TMP/want"
jq -c 'del(.ts, .time)' "$FOUT" | sort >"$IT_TMP/got"
if ! cmp -s "$IT_TMP/want" "$IT_TMP/got"; then
	it_fail "trace --container $NAME-$ROUNDS printed $(wc -l <"$IT_TMP/got") events, the unfiltered trace has $(wc -l <"$IT_TMP/want") for that container; differences:"
	diff "$IT_TMP/want" "$IT_TMP/got" | head -6 | cut -c1-300 | sed 's/^/    /'
fi
n=$(it_count "$FOUT" '.type == "execve" and .args.argv == ["cat", "/etc/hostname", $m]' --arg m "/vgshort-$M-$ROUNDS")
[ "$n" -eq 1 ] || it_fail "trace --container $NAME-$ROUNDS: expected its cat execve once, got $n"

for ((i = 1; i <= ROUNDS; i++)); do
	CID=$(cat "$IT_TMP/cid-$i" 2>/dev/null)
	[[ "$CID" =~ ^[0-9a-f]{64}$ ]] || { it_fail "round $i: no container id in the cidfile (got '$CID')"; continue; }
	A=(--arg name "$NAME-$i" --arg image "$IT_IMAGE" --arg cid12 "${CID:0:12}"
		--arg marker "/vgshort-$M-$i")

	# the container's exec (its only program)
	SEL='.type == "execve" and .args.argv == ["cat", "/etc/hostname", $marker]'
	n=$(it_count "$OUT" "$SEL" "${A[@]}")
	if [ "$n" -ne 1 ]; then
		it_fail "round $i: expected exactly 1 execve of the container's cat, got $n"
		continue
	fi
	EV=$(jq -c "${A[@]}" "select($SEL)" "$OUT")
	for c in '.container.name == $name' '.container.image == $image' \
		'.container.id == $cid12' '.container.runtime == "podman"' \
		'.container.metadata == true' '.result == 0' '.process.vpid == 1'; do
		jq -e "${A[@]}" "$c" >/dev/null <<<"$EV" ||
			it_fail "round $i: execve check [$c] is false: $(jq -c '{container, process: {pid: .process.pid, vpid: .process.vpid}}' <<<"$EV")"
	done

	# its open of the missing marker (the command's last syscall of note)
	SEL='(.type | test("^open")) and .args.path == $marker'
	n=$(it_count "$OUT" "$SEL" "${A[@]}")
	if [ "$n" -ne 1 ]; then
		it_fail "round $i: expected exactly 1 open of $M marker, got $n"
	else
		jq -e "${A[@]}" '.container.name == $name and .container.image == $image and .container.id == $cid12 and .result == -2 and .errno == "ENOENT"' \
			>/dev/null <<<"$(jq -c "${A[@]}" "select($SEL)" "$OUT")" ||
			it_fail "round $i: open of the marker: $(jq -c "${A[@]}" "select($SEL) | {result, errno, container}" "$OUT")"
	fi

	# every event of that container's cgroup (runc init included) has the
	# metadata, from the first one on
	N=$(it_count "$OUT" '.container.id == $cid12' "${A[@]}")
	BAD=$(it_count "$OUT" '.container.id == $cid12 and (.container.name != $name or .container.image != $image or .container.metadata != true)' "${A[@]}")
	[ "$N" -gt 0 ] || it_fail "round $i: no event with container.id ${CID:0:12}"
	if [ "$BAD" -ne 0 ]; then
		it_fail "round $i: $BAD of $N events of the container lack its name/image:"
		jq -c "${A[@]}" 'select(.container.id == $cid12 and (.container.name != $name or .container.image != $image or .container.metadata != true)) | [.type, .process.name, .container]' "$OUT" | head -3 | sed 's/^/    /'
	fi
done

it_finish
