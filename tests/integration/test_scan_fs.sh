#!/usr/bin/env bash
# vigil scan fs: a project tree the test writes (lockfiles in subdirectories,
# vendored node_modules that .gitignore ignores, ignored build output, .git,
# a secret), with .gitignore rules, --skip, --no-ignore, the report formats
# and --exit-code as for images.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
IT_TMP=$(mktemp -d "/tmp/scan_fs.$$.XXXXXX")
trap 'rm -rf "$IT_TMP"' EXIT
P=$IT_TMP/app
mkdir -p "$P/svc/api" "$P/node_modules/left-pad" "$P/node_modules/@scope/util" "$P/build/out" \
	"$P/.git/objects" "$P/logs" "$P/tools/vendor/github.com/x" "$P/docs"
cat >"$P/package-lock.json" <<'J'
{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
 "packages": {"": {"name": "app", "version": "1.0.0"},
  "node_modules/left-pad": {"version": "1.3.0"},
  "node_modules/@scope/util": {"version": "2.0.1"}}}
J
echo '{"name": "left-pad", "version": "1.3.0"}' >"$P/node_modules/left-pad/package.json"
echo '{"name": "@scope/util", "version": "2.0.1"}' >"$P/node_modules/@scope/util/package.json"
crate() { printf 'version = 3\n\n[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' "$1" "$2"; }
crate serde 1.0.100 >"$P/svc/api/Cargo.lock"
crate in-build 0.1.0 >"$P/build/out/Cargo.lock"
crate in-git 0.1.0 >"$P/.git/objects/Cargo.lock"
crate in-docs 0.1.0 >"$P/docs/Cargo.lock"
printf 'aws_access_key_id = AKIAIOSFODNN7EXAMPLQ\n' >"$P/logs/debug.log"
printf 'token = AKIAIOSFODNN7EXAMPLZ\n' >"$P/svc/config.ini"
ln -s /etc "$P/svc/etc-link"
# node_modules is ignored, and scanned all the same (vendored); build/ and *.log are not;
# docs/ is ignored, and a file under an ignored directory cannot be re-included (as in git)
printf 'node_modules/\n/build/\n*.log\ndocs/\n!docs/Cargo.lock\n' >"$P/.gitignore"
printf '# nested rules apply below svc\nconfig.ini\n' >"$P/svc/.gitignore"

scan() { "$VIGIL" scan fs "$P" --no-db "$@"; }
scan -f json >"$IT_TMP/a.json" 2>"$IT_TMP/a.err" || it_fail "scan fs: exit $?: $(cat "$IT_TMP/a.err")"
got=$(jq -r '[.packages[] | "\(.name)@\(.version)"] | unique | join(" ")' "$IT_TMP/a.json")
[ "$got" = "@scope/util@2.0.1 left-pad@1.3.0 serde@1.0.100" ] || it_fail "packages: $got"
jq -e '.kind == "fs" and .os == null' "$IT_TMP/a.json" >/dev/null || it_fail "kind/os: $(jq -c '{kind, os}' "$IT_TMP/a.json")"
jq -e '[.packages[].path] | index("svc/api/Cargo.lock") != null and index("node_modules/left-pad/package.json") != null' \
	"$IT_TMP/a.json" >/dev/null || it_fail "paths: $(jq -c '[.packages[].path]' "$IT_TMP/a.json")"
jq -e '.secrets == []' "$IT_TMP/a.json" >/dev/null || it_fail "ignored files searched for secrets: $(jq -c '[.secrets[].path]' "$IT_TMP/a.json")"

# --no-ignore: everything but .git
scan --no-ignore -f json >"$IT_TMP/b.json" || it_fail "--no-ignore"
got=$(jq -r '[.packages[] | .name] | unique | join(" ")' "$IT_TMP/b.json")
[ "$got" = "@scope/util in-build in-docs left-pad serde" ] || it_fail "--no-ignore packages: $got"
got=$(jq -r '[.secrets[].path] | sort | join(" ")' "$IT_TMP/b.json")
[ "$got" = "logs/debug.log svc/config.ini" ] || it_fail "--no-ignore secrets: $got"

# --skip applies everywhere, vendored directories included
scan --skip node_modules --skip 'svc/**/Cargo.lock' -f json >"$IT_TMP/c.json" || it_fail "--skip"
got=$(jq -r '[.packages[] | .path] | unique | join(" ")' "$IT_TMP/c.json")
[ "$got" = "package-lock.json" ] || it_fail "--skip packages: $got"

# the same reports and --exit-code as image scans
scan --no-ignore --exit-code 7 -f table >"$IT_TMP/t.txt"; rc=$?
[ $rc -eq 7 ] || it_fail "--exit-code with secrets: exit $rc"
grep -q 'aws-access-key-id' "$IT_TMP/t.txt" || it_fail "table lacks the secret"
scan --exit-code 7 >/dev/null; rc=$?
[ $rc -eq 0 ] || it_fail "--exit-code without findings: exit $rc"
scan --no-ignore -f sarif | jq -e '.version == "2.1.0" and (.runs[0].results | length == 2)' >/dev/null ||
	it_fail "sarif"
scan -f cyclonedx | jq -e '.bomFormat == "CycloneDX" and (.components | length >= 3)' >/dev/null ||
	it_fail "cyclonedx"

# a hostile ignore file: many rules with many stars stay bounded and the scan ends
awk 'BEGIN { for (i = 0; i < 20000; i++) print "*a*a*a*a*a*a*a*a*a*a*a*a*b" i }' >"$P/.gitignore"
timeout 60 "$VIGIL" scan fs "$P" --no-db -f json >"$IT_TMP/h.json" 2>"$IT_TMP/h.err"; rc=$?
[ $rc -eq 0 ] || it_fail "hostile .gitignore: exit $rc"
grep -q 'rules in a file' "$IT_TMP/h.err" || it_fail "no warning for too many rules: $(head -c 300 "$IT_TMP/h.err")"
"$VIGIL" scan fs "$IT_TMP/nope" >/dev/null 2>&1; [ $? -eq 1 ] || it_fail "missing directory: exit 1"
it_finish
