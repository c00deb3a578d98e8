#!/bin/bash
# test_replay_alerts.sh: `vigil run -w CAPTURE` with the default rules while a
# host process does things they watch; `vigil replay CAPTURE --default-rules`
# must print exactly the alerts the live agent printed, byte for byte.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil
AGENT=""
cleanup() {
	[ -n "$AGENT" ] && kill -KILL "$AGENT" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
it_mktemp
cp /bin/true "$IT_TMP/run-from-tmp"
"$VIGIL" run --no-store --json -w "$IT_TMP/cap.vcap" --duration 60 >"$IT_TMP/live" 2>"$IT_TMP/err" &
AGENT=$!
for ((i = 0; i < 100; i++)); do
	"$IT_TMP/run-from-tmp"
	grep -q run-from-tmp "$IT_TMP/live" 2>/dev/null && break
	sleep 0.2
done
grep -q run-from-tmp "$IT_TMP/live" || it_die "the agent reported nothing: $(cat "$IT_TMP/err")"
# a few more rules' worth: sensitive reads, a setuid bit, history removal
for i in 1 2 3; do cat /etc/shadow >/dev/null; done
cp /bin/true "$IT_TMP/suid" && chmod u+s "$IT_TMP/suid"
echo ls >"$IT_TMP/.bash_history" && rm "$IT_TMP/.bash_history"
# the last of them reported: the agent has seen everything before it
for ((i = 0; i < 100; i++)); do
	grep -q 'Shell history tampering' "$IT_TMP/live" 2>/dev/null && break
	sleep 0.2
done
kill -INT "$AGENT"
wait "$AGENT" || it_fail "vigil run exited $?: $(tail -3 "$IT_TMP/err")"
AGENT=""
n=$(wc -l <"$IT_TMP/live")
[ "$n" -ge 6 ] || it_fail "only $n live alerts"
"$VIGIL" replay "$IT_TMP/cap.vcap" --default-rules --json >"$IT_TMP/replayed" 2>"$IT_TMP/err2" ||
	it_fail "replay failed: $(cat "$IT_TMP/err2")"
diff "$IT_TMP/live" "$IT_TMP/replayed" >"$IT_TMP/diff" ||
	it_fail "replay differs from the live run: $(head -c 2000 "$IT_TMP/diff")"
for r in "Sensitive file read by unexpected program" "Setuid or setgid bit set" "Shell history tampering"; do
	jq -c --arg r "$r" 'select(.rule == $r)' "$IT_TMP/live" | grep -q . || it_fail "no live alert of '$r'"
done
it_finish
