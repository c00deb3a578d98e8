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

trap it_cleanup_common EXIT
trap 'exit 1' INT TERM

it_mktemp
OUT=$IT_TMP/trace.json
VIGIL_FORCE_RAW_TP=1 it_trace_start "$OUT" "$IT_TMP/err" --json
(cd "$IT_TMP" && mkdir "rawtp-$$" && sh -c 'exit 3')
it_trace_sync "$OUT" "$IT_TMP/err"
it_trace_stop
[ "$IT_TRACER_RC" = 0 ] || it_fail "vigil trace exited $IT_TRACER_RC: $(cat "$IT_TMP/err")"

grep -q "using raw tracepoints" "$IT_TMP/err" || it_fail "the agent did not say it used raw tracepoints: $(cat "$IT_TMP/err")"
got=$(jq -c --arg p "$IT_TMP/rawtp-$$" 'select(.type == "mkdir" and .args.path == $p) | [.process.name, .args.path_raw, .result, .container.id]' "$OUT")
[ "$got" = "[\"mkdir\",\"rawtp-$$\",0,\"\"]" ] || it_fail "mkdir event: got '$got'"
got=$(jq -c 'select(.type == "procexit" and .process.name == "sh" and .exit_code == 3) | .exit_code' "$OUT" | head -1)
[ "$got" = 3 ] || it_fail "procexit with exit code 3 not seen (got '$got')"
got=$(jq -c 'select(.type == "execve" and .process.args == ["mkdir", "rawtp-'$$'"]) | .args.exe' "$OUT")
[ -n "$got" ] || it_fail "execve of mkdir with its argv not seen"
it_finish
