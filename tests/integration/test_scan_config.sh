#!/bin/bash
# test_scan_config.sh: the `vigil scan config` command line. Exit codes
# (--exit-code N only when something is found; with --checks pss exactly when
# the workload violates the chosen level), directory recursion, a broken file
# reported with file:line:column while the scan goes on, JSON/SARIF/table
# output, usage errors.
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
O=$IT_TMP/out
E=$IT_TMP/err

run() {
	"$VIGIL" "$@" >"$O" 2>"$E"
	RC=$?
	if grep -qE 'Sanitizer|runtime error:' "$E"; then
		it_fail "vigil $*: sanitizer report: $(head -c 300 "$E")"
	fi
}
expect_rc() { [ "$RC" -eq "$1" ] || it_fail "$2: exit $RC, expected $1 (stderr: $(head -c 300 "$E"))"; }

G=tests/golden/config
# baseline-clean but not restricted-clean
mkdir -p "$IT_TMP/tree/sub/.hidden" "$IT_TMP/tree/deeper"
cat >"$IT_TMP/tree/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: app, image: "nginx:1.25"}]
Y
cp "$G/bad.Dockerfile" "$IT_TMP/tree/sub/Dockerfile"
cp "$G/pss-privileged.yaml" "$IT_TMP/tree/sub/.hidden/skipped.yaml"
echo 'not: [closed' >"$IT_TMP/tree/deeper/broken.yml"
echo 'ignored' >"$IT_TMP/tree/notes.txt"
# links met while walking are not followed (the target holds a privileged pod), a FIFO is not read
mkdir -p "$IT_TMP/outside"
cp "$G/pss-privileged.yaml" "$IT_TMP/outside/priv.yaml"
ln -s "$IT_TMP/outside/priv.yaml" "$IT_TMP/tree/link.yaml"
ln -s "$IT_TMP/outside" "$IT_TMP/tree/linkdir"
mkfifo "$IT_TMP/fifo.yaml"

run scan config --checks pss --exit-code 1 "$IT_TMP/tree/pod.yaml"
expect_rc 0 "baseline-clean pod at baseline"
run scan config --checks pss --pss restricted --exit-code 1 "$IT_TMP/tree/pod.yaml"
expect_rc 1 "baseline-clean pod at restricted"
run scan config --checks pss --pss restricted --exit-code 7 "$G/pss-restricted-ok.yaml"
expect_rc 0 "restricted-clean pods at restricted"
run scan config --checks pss --pss privileged --exit-code 7 "$G/pss-privileged.yaml"
expect_rc 0 "privileged level checks nothing"
run scan config --exit-code 9 --checks pss "$G/pss-privileged.yaml"
expect_rc 9 "--exit-code 9 with findings"
run scan config --checks pss "$G/pss-privileged.yaml"
expect_rc 0 "findings without --exit-code"

# a directory: recursion, hidden entries skipped, the broken file reported, scan goes on
run scan config --format json "$IT_TMP/tree"
expect_rc 1 "tree with a broken file"
[ "$(jq '.files' "$O")" = 3 ] || it_fail "tree: expected 3 files scanned, got $(jq '.files' "$O")"
jq -e '.errors[0] | .file and .line >= 1 and .column > 0' "$O" >/dev/null ||
	it_fail "tree: the broken file has no positioned error: $(jq -c '.errors' "$O")"
grep -qE "cannot parse $IT_TMP/tree/deeper/broken.yml:[0-9]+:[0-9]+: " "$E" ||
	it_fail "tree: no 'cannot parse file:line:col' message on stderr: $(cat "$E")"
jq -e '[.findings[].file] | any(endswith("sub/Dockerfile"))' "$O" >/dev/null ||
	it_fail "tree: the Dockerfile after the broken file was not scanned"
jq -e '[.findings[].file] | any(contains(".hidden")) | not' "$O" >/dev/null ||
	it_fail "tree: a hidden directory was scanned"
jq -e '[.findings[].file] | any(contains("link")) | not' "$O" >/dev/null ||
	it_fail "tree: a symbolic link was followed"
jq -e 'any(.findings[]; .check == "df/sudo" and .line == 7 and .severity == "MEDIUM" and (.fix | length > 0))' "$O" >/dev/null ||
	it_fail "tree: df/sudo finding without line 7, severity or fix"
run scan config --checks pss --exit-code 4 "$G/broken.Dockerfile" "$IT_TMP/tree/pod.yaml"
expect_rc 0 "--checks pss ignores Dockerfiles, broken or not"
run scan config --exit-code 4 "$IT_TMP/tree"
expect_rc 4 "findings and errors: --exit-code wins"
run scan config --checks pss --exit-code 5 "$IT_TMP/tree/link.yaml"
expect_rc 5 "a link named on the command line is followed"
run scan config "$IT_TMP/fifo.yaml"
expect_rc 1 "a FIFO is refused, not read"
grep -q "not a regular file" "$E" || it_fail "FIFO: $(cat "$E")"

# SARIF
run scan config --format sarif --pss restricted "$G/pss-run-as-user.yaml" "$G/broken.yaml"
jq -e '.version == "2.1.0" and (.runs[0].results | length) > 0 and
       (.runs[0].results[0].locations[0].physicalLocation.region.startLine > 0) and
       (.runs[0].tool.driver.rules | length) > 0 and
       (.runs[0].invocations[0].executionSuccessful == false)' "$O" >/dev/null ||
	it_fail "sarif: not a SARIF 2.1.0 log with located results: $(head -c 400 "$O")"
jq -e '[.runs[0].results[] | .ruleIndex as $i | .ruleId == $R[0].runs[0].tool.driver.rules[$i].id] | all' \
	--slurpfile R "$O" "$O" >/dev/null || it_fail "sarif: ruleIndex does not match ruleId"

# table
run scan config --pss restricted "$G/pss-run-as-user.yaml"
grep -qE "^$G/pss-run-as-user.yaml:8:57  Pod/bad  root  MEDIUM +pss/runAsUser" "$O" ||
	it_fail "table: no row for runAsUser: $(head -3 "$O")"
grep -q "fix: " "$O" || it_fail "table: no fix hint"

# usage errors
for bad in "--pss strict" "--pss-version 2.0" "--format xml" "--exit-code x" "--checks nope" ""; do
	# shellcheck disable=SC2086
	run scan config $bad "$G/pss-privileged.yaml"
	[ -n "$bad" ] || run scan config
	expect_rc 2 "usage error '$bad'"
done
run scan config --help
expect_rc 0 "--help"
grep -q -- "--exit-code" "$O" || it_fail "--help does not go to stdout"
run scan config /nonexistent/file.yaml
expect_rc 1 "missing file"
grep -q "cannot scan /nonexistent/file.yaml" "$E" || it_fail "missing file not named: $(cat "$E")"
it_finish
