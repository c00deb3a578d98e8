#!/bin/bash
# test_flood_fairness.sh: a container that floods the sensor cannot blind it to
# another container (docs/platform-notes.md, "Floods"). `vigil run` with the
# default rules and a small ring buffer (1 MiB, so that the flood overruns it
# on any machine); in real podman containers:
#  - container A floods: tests/tools/flood.c (static), several processes in a
#    tight open/connect/exec loop;
#  - once the agent reports A flooding (its first sensor_flood report), and
#    while A still floods, container B starts a shell with a terminal
#    (podman run -t) that reads /etc/shadow.
# Expected: B's alerts are raised (the fairness shed A's records, not B's);
# "Container flooding the sensor" names A, with records shed or lost, and
# never B; the agent's exit summary attributes the losses to A. A control
# checks that the flood really overran the sensor: records were shed or lost.
# No fixed sleeps: every wait is bounded polling.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
it_need_podman
command -v "${CC:-cc}" >/dev/null || it_skip "no C compiler to build tests/tools/flood.c"
command -v curl >/dev/null || it_skip "curl is not installed (the metrics)"
M=$$
A=flood-$M-a
B=flood-$M-b
AGENT=""
FLOODER=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	vg_podman rm -f -t 0 "$A" "$B" >/dev/null 2>&1
	[ -n "$FLOODER" ] && kill -KILL "$FLOODER" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp

FLOOD=$IT_TMP/flood
${CC:-cc} -O2 -Wall -Wextra -Werror -static -o "$FLOOD" tests/tools/flood.c 2>"$IT_TMP/cc.err" ||
	it_skip "cannot build tests/tools/flood.c static (libc static library missing?): $(head -3 "$IT_TMP/cc.err")"

PORT=$((20000 + (M + 23) % 20000))
"$VIGIL" run --default-rules --store "$IT_TMP/db" --json --ring-mb 1 --duration 300 --metrics "127.0.0.1:$PORT" \
	>"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!
it_agent_ready "$AGENT" "$IT_TMP/err"

# wait_for SECS JQ-FILTER: until an alert on stdout matches (bounded); 0 or 1
wait_for() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(jq -c "select($2)" "$IT_TMP/out" 2>/dev/null | wc -l)" -ge 1 ] && return 0
		kill -0 "$AGENT" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
flood_of() { # CONTAINER: the jq filter of a flood alert naming it
	echo ".rule == \"Container flooding the sensor\" and .output_fields[\"container.name\"] == \"$1\""
}

# --- A floods: 6 processes for at most 120 s (removed once B is seen)
vg_podman run --rm --network none --name "$A" -v "$FLOOD:/flood:ro" "$IT_IMAGE" /flood 6 120 \
	>"$IT_TMP/flood.out" 2>&1 </dev/null &
FLOODER=$!
wait_for 90 "$(flood_of "$A")" ||
	it_die "no flood alert for $A within 90 s (the flood did not overrun the sensor?): $(tail -5 "$IT_TMP/err"; cat "$IT_TMP/flood.out")"
kill -0 "$FLOODER" 2>/dev/null || it_die "the flood ended before B ran: $(cat "$IT_TMP/flood.out")"

# --- B attacks during the flood
it_bounded 90 vg_podman run --rm -t --network none --name "$B" "$IT_IMAGE" \
	sh -c 'echo "root:x:::::::" >/etc/shadow && cat /etc/shadow >/dev/null' \
	</dev/null >"$IT_TMP/b.out" 2>&1 || it_fail "container B failed: $(cat "$IT_TMP/b.out")"
read_alert=".rule == \"Sensitive file read by unexpected program\" and .output_fields[\"container.name\"] == \"$B\" and .output_fields[\"fd.name\"] == \"/etc/shadow\""
shell_alert=".rule == \"Interactive shell in container\" and .output_fields[\"container.name\"] == \"$B\""
wait_for 60 "$read_alert" || it_fail "B's /etc/shadow read was not alerted during the flood"
wait_for 30 "$shell_alert" || it_fail "B's shell was not alerted during the flood"
still=no
kill -0 "$FLOODER" 2>/dev/null && still=yes
# the metrics count A's shed records (refreshed once a second: bounded wait)
end=$((SECONDS + 20))
until curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$IT_TMP/metrics" 2>/dev/null &&
	grep -q "^vigil_records_dropped_total{container=\"$A\",reason=\"shed\"} [1-9]" "$IT_TMP/metrics"; do
	[ "$SECONDS" -ge "$end" ] && { it_fail "no vigil_records_dropped_total of $A: $(grep dropped "$IT_TMP/metrics")"; break; }
	sleep 0.5
done

vg_podman rm -f -t 0 "$A" >/dev/null 2>&1
wait "$FLOODER" 2>/dev/null
FLOODER=""
kill -INT "$AGENT"
end=$((SECONDS + 60))
while kill -0 "$AGENT" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
kill -0 "$AGENT" 2>/dev/null && it_die "vigil run did not stop within 60 s of SIGINT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
AGENT=""
[ "$still" = yes ] || it_fail "A stopped flooding before B's alerts came: the test proves nothing"

# --- the losses are A's, never B's
n=$(jq -c "select($(flood_of "$A") and (.output_fields[\"evt.arg.shed\"] | tonumber) > 0)" "$IT_TMP/out" | wc -l)
[ "$n" -ge 1 ] || it_fail "no flood alert for $A with records shed: $(grep -m3 flooding "$IT_TMP/out")"
[ "$(jq -c "select($(flood_of "$B"))" "$IT_TMP/out" | wc -l)" -eq 0 ] ||
	it_fail "B was reported as flooding: $(grep "$B" "$IT_TMP/out" | grep -m2 flooding)"
grep -q "records lost to the sensor from $A " "$IT_TMP/err" ||
	it_fail "the exit summary does not attribute losses to $A: $(grep 'lost to the sensor' "$IT_TMP/err")"
grep -q "records lost to the sensor from $B " "$IT_TMP/err" &&
	it_fail "the exit summary attributes losses to $B: $(grep 'lost to the sensor' "$IT_TMP/err")"
# control: the flood did overrun the sensor (the fairness had something to do)
shed=$(jq -s "[.[] | select($(flood_of "$A")) | .output_fields[\"evt.arg.shed\"] | tonumber] | add // 0" "$IT_TMP/out")
echo "flood of $A: $shed records shed over its share; $(grep -m1 'received=' "$IT_TMP/err" | sed 's/^vigil: //')"
[ "$shed" -gt 0 ] || it_fail "no record of $A was shed: the fairness never acted"
it_finish
