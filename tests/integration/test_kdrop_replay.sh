#!/bin/bash
# test_kdrop_replay.sh: every golden rule-language case (tests/rules/*.test,
# the default rules' cases included) replayed with --kernel-filter-sim, which
# leaves out what `vigil run`'s in-kernel filter would drop: the alerts must be
# exactly the expected ones (docs/performance.md).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
[ -x build/tests/evgen ] || it_skip "build/tests/evgen is not built"
it_mktemp
VIGIL_RULES_REPLAY_OPTS=--kernel-filter-sim tests/rules/run build tests/rules/*.test >"$IT_TMP/out" 2>&1
n=$(grep -c '^PASS' "$IT_TMP/out")
[ "$n" -ge 50 ] || it_fail "only $n cases passed: $(head -c 2000 "$IT_TMP/out")"
grep -q '^FAIL' "$IT_TMP/out" && it_fail "with the filter simulated: $(grep -A20 '^FAIL' "$IT_TMP/out" | head -c 3000)"
it_finish
