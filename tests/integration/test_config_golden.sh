#!/bin/bash
# test_config_golden.sh: `vigil scan config` against golden files. Every
# tests/golden/config/NAME.{yaml,json,Dockerfile} is scanned with the options
# on its first line (`# args: ...`) or in NAME.EXT.args, and the findings
# (line:column object container check) and errors must equal NAME.EXT.expected.
# UPDATE=1 rewrites the expected files (review the diff before committing).
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
it_need_jq
cleanup() { it_cleanup_common; }
trap cleanup EXIT
it_mktemp

n=0
for f in tests/golden/config/*.yaml tests/golden/config/*.json tests/golden/config/*.Dockerfile; do
	[ -f "$f" ] || continue
	if [ -f "$f.args" ]; then
		args=$(cat "$f.args")
	else
		args=$(sed -n '1s/^# args: *//p' "$f")
	fi
	# shellcheck disable=SC2086 # args are words
	"$VIGIL" scan config --format json $args "$f" >"$IT_TMP/out.json" 2>"$IT_TMP/err"
	rc=$?
	if [ "$rc" -gt 1 ] || grep -qE 'Sanitizer|runtime error:' "$IT_TMP/err"; then
		it_fail "$f: exit $rc: $(head -c 300 "$IT_TMP/err")"
		continue
	fi
	jq -r '(.findings[] | "\(.line):\(.column) \(.name // "-") \(.container // "-") \(.check)"),
	       (.errors[] | "error \(.line):\(.column) \(.message)")' "$IT_TMP/out.json" >"$IT_TMP/got" ||
		{ it_fail "$f: output is not the JSON report"; continue; }
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$IT_TMP/got" "$f.expected"
	elif ! diff -u "$f.expected" "$IT_TMP/got"; then
		it_fail "$f: findings differ from $f.expected"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || it_die "no golden files found"
echo "$n golden files compared"
it_finish
