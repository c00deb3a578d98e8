#!/bin/bash
# test_agent_lifecycle.sh: `vigil run` with a rules file: alerts appear live
# and in the store; SIGHUP swaps in new rules, and a broken file keeps the old
# ones with an error; SIGINT stops cleanly with every printed alert stored;
# `vigil alerts` filters by rule, time and priority.
# shellcheck disable=SC2016,SC2317
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
M1=$IT_TMP/marker-one
M2=$IT_TMP/marker-two
echo 1 >"$M1"
echo 2 >"$M2"
rules() { # NAME PATH PRIORITY
	cat <<EOR
- rule: $1
  desc: a read of $2
  condition: evt.type in (open, openat) and fd.name = $2
  output: $1 read %fd.name by %proc.name
  priority: $3
  tags: [test]
EOR
}
rules "Rule one" "$M1" WARNING >"$IT_TMP/rules.yaml"
"$VIGIL" run --rules "$IT_TMP/rules.yaml" --store "$IT_TMP/db" --json --duration 60 >"$IT_TMP/out" 2>"$IT_TMP/err" &
AGENT=$!

wait_for() { # JQ-FILTER FILE-TO-READ: read the file until an alert matches (10 s)
	for ((i = 0; i < 50; i++)); do
		cat "$2" >/dev/null
		[ "$(jq -c "select($1)" "$IT_TMP/out" 2>/dev/null | wc -l)" -gt 0 ] && return 0
		sleep 0.2
	done
	return 1
}
wait_for '.rule == "Rule one"' "$M1" || it_die "no alert from the first rules: $(cat "$IT_TMP/err")"

rules "Rule two" "$M2" CRITICAL >"$IT_TMP/rules.yaml"
kill -HUP "$AGENT"
for ((i = 0; i < 50; i++)); do grep -q 'rules reloaded' "$IT_TMP/err" && break; sleep 0.1; done
grep -q 'rules reloaded' "$IT_TMP/err" || it_fail "no 'rules reloaded' after SIGHUP: $(cat "$IT_TMP/err")"
before=$(jq -c 'select(.rule == "Rule one")' "$IT_TMP/out" | wc -l)
wait_for '.rule == "Rule two"' "$M2" || it_fail "the reloaded rule does not alert"
cat "$M1" >/dev/null
sleep 0.5

echo "- rule: [broken" >"$IT_TMP/rules.yaml"
kill -HUP "$AGENT"
for ((i = 0; i < 50; i++)); do grep -q 'rules not reloaded' "$IT_TMP/err" && break; sleep 0.1; done
grep -q 'rules not reloaded' "$IT_TMP/err" || it_fail "a broken reload was not reported: $(cat "$IT_TMP/err")"
grep -q "rules.yaml:[0-9]*:[0-9]*: " "$IT_TMP/err" || it_fail "the reload error lacks file:line: $(cat "$IT_TMP/err")"
n=$(jq -c 'select(.rule == "Rule two")' "$IT_TMP/out" | wc -l)
wait_for ".rule == \"Rule two\" and (input_line_number > $n)" "$M2" 2>/dev/null ||
	{ cat "$M2" >/dev/null; sleep 1; }
m=$(jq -c 'select(.rule == "Rule two")' "$IT_TMP/out" | wc -l)
[ "$m" -gt "$n" ] || it_fail "after a broken reload the running rules stopped alerting"

kill -INT "$AGENT"
wait "$AGENT"
rc=$?
AGENT=""
[ "$rc" -eq 0 ] || it_fail "vigil run exited $rc after SIGINT"
after=$(jq -c 'select(.rule == "Rule one")' "$IT_TMP/out" | wc -l)
[ "$after" -eq "$before" ] || it_fail "the replaced rule kept alerting ($before, then $after)"

printed=$(wc -l <"$IT_TMP/out")
stored=$("$VIGIL" alerts --store "$IT_TMP/db" --json | wc -l)
[ "$printed" -eq "$stored" ] && [ "$stored" -gt 2 ] || it_fail "printed $printed alerts, stored $stored"
n=$("$VIGIL" alerts --store "$IT_TMP/db" --json --rule "Rule two" | jq -r .rule | sort -u)
[ "$n" = "Rule two" ] || it_fail "--rule filter gave: $n"
n=$("$VIGIL" alerts --store "$IT_TMP/db" --json --priority critical | jq -r .rule | sort -u)
[ "$n" = "Rule two" ] || it_fail "--priority critical gave: $n"
n=$("$VIGIL" alerts --store "$IT_TMP/db" --since 10m --json | wc -l)
[ "$n" -eq "$stored" ] || it_fail "--since 10m gave $n of $stored"
n=$("$VIGIL" alerts --store "$IT_TMP/db" --since 2000-01-01T00:00:00Z --container host --json | wc -l)
[ "$n" -eq "$stored" ] || it_fail "--since TIME --container host gave $n of $stored"
"$VIGIL" alerts --store "$IT_TMP/db" --since yesterday >/dev/null 2>&1
[ $? -eq 2 ] || it_fail "a bad --since is not a usage error"
"$VIGIL" alerts --store "$IT_TMP/none.db" >/dev/null 2>"$IT_TMP/e"
[ $? -eq 1 ] && grep -q "cannot open store" "$IT_TMP/e" || it_fail "a missing store: $(cat "$IT_TMP/e")"
"$VIGIL" alerts --store "$IT_TMP/db" | grep -q "Critical Rule two read" || it_fail "text listing lacks the alert"
it_finish
