#!/bin/bash
# test_raw_tp_fallback.sh: the raw tracepoint programs, which the agent loads
# when a kernel refuses tp_btf, must capture the same events. Forced here with
# VIGIL_FORCE_RAW_TP=1, since this kernel accepts tp_btf.
# shellcheck disable=SC2016,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_root
it_need_bpf
it_need_jq
it_need_vigil

TPID=""
cleanup() {
	[ -n "$TPID" ] && kill -KILL "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	it_cleanup_common
}
trap cleanup EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
VIGIL_FORCE_RAW_TP=1 "$VIGIL" trace --json --duration 5 >"$OUT" 2>"$IT_TMP/err" &
TPID=$!
sleep 2
(cd "$IT_TMP" && mkdir "rawtp-$$" && sh -c 'exit 3')
wait "$TPID"
TPID=""

grep -q "using raw tracepoints" "$IT_TMP/err" || it_fail "the agent did not say it used raw tracepoints: $(cat "$IT_TMP/err")"
got=$(jq -c --arg p "$IT_TMP/rawtp-$$" 'select(.type == "mkdir" and .args.path == $p) | [.process.name, .args.path_raw, .result, .container.id]' "$OUT")
[ "$got" = "[\"mkdir\",\"rawtp-$$\",0,\"\"]" ] || it_fail "mkdir event: got '$got'"
got=$(jq -c 'select(.type == "procexit" and .process.name == "sh" and .exit_code == 3) | .exit_code' "$OUT" | head -1)
[ "$got" = 3 ] || it_fail "procexit with exit code 3 not seen (got '$got')"
got=$(jq -c 'select(.type == "execve" and .process.args == ["mkdir", "rawtp-'$$'"]) | .args.exe' "$OUT")
[ -n "$got" ] || it_fail "execve of mkdir with its argv not seen"
it_finish
