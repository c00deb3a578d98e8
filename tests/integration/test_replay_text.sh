#!/bin/bash
# test_replay_text.sh: `vigil replay` (no root needed) of a capture made from
# code by tests/tools/mkcapture: the JSON output equals the golden file
# tests/golden/replay-fixture.jsonl, the text output shows each event's own
# arguments, and --container keeps the right events.
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_jq
it_need_vigil
it_mktemp
CAP=$IT_TMP/fixture.vcap
"$BUILD/tests/mkcapture" "$CAP" || it_die "mkcapture failed (make tests)"

"$VIGIL" replay "$CAP" >"$IT_TMP/text" 2>"$IT_TMP/err" || it_fail "text replay failed: $(cat "$IT_TMP/err")"
"$VIGIL" replay --json "$CAP" >"$IT_TMP/json" 2>>"$IT_TMP/err" || it_fail "json replay failed: $(cat "$IT_TMP/err")"
[ "$(wc -l <"$IT_TMP/text")" -eq "$(wc -l <"$IT_TMP/json")" ] || it_fail "text and JSON replays have different event counts"
jq -e . "$IT_TMP/json" >/dev/null || it_fail "JSON replay is not valid JSON lines"
diff -u tests/golden/replay-fixture.jsonl "$IT_TMP/json" >"$IT_TMP/diff" ||
	it_fail "replay differs from tests/golden/replay-fixture.jsonl: $(head -c 3000 "$IT_TMP/diff")"

# an openat line ends with its own arguments object
line=$(grep -m1 ' openat ' "$IT_TMP/text")
case $line in
*'{"dirfd":'*'"path":'*'"flags":'*) ;;
*) it_fail "openat text line lacks its arguments: $line" ;;
esac
# an execve line shows argv among its arguments
line=$(grep -m1 ' execve ' "$IT_TMP/text")
case $line in
*'{"exe":'*'"argv":['*) ;;
*) it_fail "execve text line lacks exe/argv arguments: $line" ;;
esac
n=$("$VIGIL" replay --json --container host "$CAP" | jq -c 'select(.container.id != "")' | wc -l)
[ "$n" -eq 0 ] || it_fail "--container host let $n container events through"
got=$("$VIGIL" replay --json --container web "$CAP" | jq -r .type | tr '\n' ' ')
[ "$got" = "clone execve openat connect procexit " ] || it_fail "--container web (by name) gave: $got"
got=$("$VIGIL" replay --json --container 4f2a9c "$CAP" | wc -l)
[ "$got" -eq 5 ] || it_fail "--container 4f2a9c (id prefix) gave $got events, expected 5"
"$VIGIL" replay "$CAP" extra >/dev/null 2>&1
[ $? -eq 2 ] || it_fail "an extra argument is not a usage error"
it_finish
