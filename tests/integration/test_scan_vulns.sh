#!/usr/bin/env bash
# vigil db import/status, vigil scan --db matching against the real OSV data of
# ../shared/data/osv (cross-checked by independent code), Debian and Alpine
# fixture records, withdrawn records, CI exit codes, and vigil vercmp against
# dpkg --compare-versions.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
command -v python3 >/dev/null || it_skip "python3 is not installed (cross-checks)"
DATA=${VIGIL_SHARED_DATA:-../shared/data}
[ -d "$DATA/osv/go" ] && [ -d "$DATA/osv/pypi" ] || it_skip "$DATA/osv absent"
it_mktemp
trap it_cleanup_common EXIT
DB=$IT_TMP/v.db
FIX=$DATA/osv/debian-alpine/other-fixtures

"$VIGIL" db import --db "$DB" "$DATA/osv/go" "$DATA/osv/pypi" "$FIX" >"$IT_TMP/imp" ||
	it_die "import failed"
grep -q "osv/go: 4291 records imported, 0 skipped" "$IT_TMP/imp" || it_fail "go import: $(cat "$IT_TMP/imp")"
grep -q "osv/pypi: 2661 records imported, 0 skipped" "$IT_TMP/imp" || it_fail "pypi import"
"$VIGIL" db status --db "$DB" >"$IT_TMP/st" || it_fail "db status"
grep -q "records: 6956 (withdrawn: 27)" "$IT_TMP/st" || it_fail "status counts: $(cat "$IT_TMP/st")"
grep -Eq "^Go +4274 " "$IT_TMP/st" || it_fail "Go count (4291 records less 17 withdrawn)"
# re-import updates in place
"$VIGIL" db import --db "$DB" "$DATA/osv/go" >/dev/null || it_fail "re-import"
"$VIGIL" db status --db "$DB" | grep -q "records: 6956 (withdrawn: 27)" || it_fail "re-import duplicated records"
# an osv.dev-style zip
python3 - "$DATA/osv/pypi" "$IT_TMP/all.zip" <<'PY' || it_fail "cannot build all.zip"
import os, sys, zipfile
src, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(src))[:200]:
        if n.endswith(".json"):
            z.write(os.path.join(src, n), n)
    z.writestr("broken.json", "{not json")
PY
"$VIGIL" db import --db "$IT_TMP/zip.db" "$IT_TMP/all.zip" >"$IT_TMP/zip.out" 2>"$IT_TMP/zip.err" || it_fail "zip import"
grep -q "records imported, 1 skipped" "$IT_TMP/zip.out" || it_fail "zip import: $(cat "$IT_TMP/zip.out")"
grep -q "cannot parse .*all.zip:broken.json:1:" "$IT_TMP/zip.err" || it_fail "bad record message: $(cat "$IT_TMP/zip.err")"
"$VIGIL" db status --db "$IT_TMP/missing.db" >/dev/null 2>&1 && it_fail "status of a missing db succeeded"

# --- Alpine and Debian fixture records (OS packages match by source package)
mkroot() { # DIR OS-RELEASE
	mkdir -p "$1/etc" "$1/lib/apk/db" "$1/var/lib/dpkg"
	printf '%s\n' "$2" >"$1/etc/os-release"
}
mkroot "$IT_TMP/alp" $'ID=alpine\nVERSION_ID=3.10.9'
printf 'P:libexif\nV:0.6.20-r0\no:libexif\n\nP:libexif-dev\nV:0.6.21-r0\no:libexif\n\nP:openssl\nV:1.0.2p-r0\n' \
	>"$IT_TMP/alp/lib/apk/db/installed"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" -f json >"$IT_TMP/alp.json" || it_fail "scan alpine rootfs"
got=$(jq -c '[.vulnerabilities[] | [.id, .package, .fixed]]' "$IT_TMP/alp.json")
# CVE-2018-5407 lists Alpine v3.3-v3.16 except v3.10: nothing for openssl here
[ "$got" = '[["CVE-2012-2812","libexif","0.6.21-r0"]]' ] || it_fail "alpine matches: $got"
mkroot "$IT_TMP/deb" $'ID=debian\nVERSION_ID="7"'
printf 'Package: nginx-full\nStatus: install ok installed\nSource: nginx\nVersion: 1.2.1-2.2+wheezy2\n\nPackage: nginx-common\nStatus: install ok installed\nSource: nginx\nVersion: 1.2.1-2.2+wheezy3\n' \
	>"$IT_TMP/deb/var/lib/dpkg/status"
"$VIGIL" scan rootfs "$IT_TMP/deb" --db "$DB" -f json >"$IT_TMP/deb.json" || it_fail "scan debian rootfs"
got=$(jq -c '[.vulnerabilities[] | [.id, .package, .version, .fixed]]' "$IT_TMP/deb.json")
[ "$got" = '[["DSA-3029-1","nginx-full","1.2.1-2.2+wheezy2","1.2.1-2.2+wheezy3"]]' ] || it_fail "debian matches: $got"
sed -i 's/VERSION_ID="7"/VERSION_ID="8"/' "$IT_TMP/deb/etc/os-release"
"$VIGIL" scan rootfs "$IT_TMP/deb" --db "$DB" -f json | jq -e '.vulnerabilities == []' >/dev/null ||
	it_fail "a Debian:7 record matched Debian 8"

# --- withdrawn records are not reported
mkdir -p "$IT_TMP/wd"
cat >"$IT_TMP/wd/W-1.json" <<'J'
{"id":"W-1","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
 "affected":[{"package":{"ecosystem":"Alpine:v3.10","name":"openssl"},
 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}
J
cat >"$IT_TMP/wd/A-1.json" <<'J'
{"id":"A-1","modified":"2024-01-01T00:00:00Z",
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected":[{"package":{"ecosystem":"Alpine:v3.10","name":"openssl"},
 "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0.2a-r0"},{"last_affected":"1.0.2p-r0"}]}]}]}
J
"$VIGIL" db import --db "$DB" "$IT_TMP/wd" >/dev/null || it_fail "import wd"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" -f json >"$IT_TMP/alp.json"
got=$(jq -c '[.vulnerabilities[] | [.id, .severity, .score]]' "$IT_TMP/alp.json")
[ "$got" = '[["CVE-2012-2812","UNKNOWN",null],["A-1","CRITICAL",9.8]]' ] || it_fail "withdrawn/last_affected: $got"

# --- the admission webhook's vulnerability gate reads what --store writes
python3 tests/tools/mkimage.py "$IT_TMP/img" >/dev/null || it_die "mkimage.py failed"
"$VIGIL" scan image "$IT_TMP/img/vuln-oci" --db "$DB" --store "$IT_TMP/scans.db" -f json >"$IT_TMP/vo.json" ||
	it_fail "scan --store"
"$VIGIL" scan image "$IT_TMP/img/multi-oci" --db "$DB" --store "$IT_TMP/scans.db" -f json >"$IT_TMP/mo.json" ||
	it_fail "scan --store (clean image)"
jq -e '[.vulnerabilities[].id] == ["A-1","CVE-2012-2812"]' "$IT_TMP/vo.json" >/dev/null ||
	it_fail "vuln-oci: $(jq -c '[.vulnerabilities[].id]' "$IT_TMP/vo.json")"
printf 'vulnerabilities:\n  database: %s\n  maxSeverity: high\n  unscanned: deny\n' "$IT_TMP/scans.db" >"$IT_TMP/policy.yaml"
admit() { # IMAGE -> prints .response.allowed
	jq -n --arg img "$1" '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
	  request: {uid: "u1", kind: {group: "", version: "v1", kind: "Pod"}, namespace: "default",
	  operation: "CREATE", userInfo: {username: "alice"},
	  object: {apiVersion: "v1", kind: "Pod", metadata: {name: "p"},
	  spec: {containers: [{name: "c", image: $img}]}}}}' >"$IT_TMP/review.json"
	"$VIGIL" admission review --policy "$IT_TMP/policy.yaml" "$IT_TMP/review.json" | jq -c '.response.allowed'
}
[ "$(admit "registry.example.com/app@$(jq -r .digest "$IT_TMP/vo.json")")" = false ] ||
	it_fail "the webhook admitted an image with a CRITICAL vulnerability"
[ "$(admit "registry.example.com/app@$(jq -r .digest "$IT_TMP/mo.json")")" = true ] ||
	it_fail "the webhook refused a scanned clean image"
[ "$(admit "registry.example.com/app@sha256:$(printf 'e%.0s' {1..64})")" = false ] ||
	it_fail "an unscanned image passed 'unscanned: deny'"

# --- CI gate: --severity, --ignore-unfixed, --exit-code
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --no-secrets --exit-code 7 >/dev/null; rc=$?
[ $rc -eq 7 ] || it_fail "--exit-code with findings: $rc"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --no-secrets --severity CRITICAL --ignore-unfixed \
	--exit-code 7 -f json >"$IT_TMP/g.json"; rc=$?
[ $rc -eq 0 ] || it_fail "--ignore-unfixed leaves the CRITICAL without a fix: exit $rc"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --severity CRITICAL -f json --exit-code 3 >"$IT_TMP/g.json"; rc=$?
[ $rc -eq 3 ] && jq -e '[.vulnerabilities[].id] == ["A-1"]' "$IT_TMP/g.json" >/dev/null ||
	it_fail "--severity CRITICAL: exit $rc, $(jq -c '[.vulnerabilities[].id]' "$IT_TMP/g.json")"
"$VIGIL" scan rootfs "$IT_TMP/alp" --severity bogus >/dev/null 2>&1; [ $? -eq 2 ] || it_fail "bad --severity"

# --- ignore file: ids with expiry dates, paths
printf '# accepted risk\nCVE-2012-2812 exp:2999-01-01\nA-1 exp:2000-01-01\n' >"$IT_TMP/ignore"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --ignore-file "$IT_TMP/ignore" -f json |
	jq -e '[.vulnerabilities[].id] == ["A-1"]' >/dev/null || it_fail "--ignore-file (an expired entry must not apply)"
printf 'path:lib/apk/*\n' >"$IT_TMP/ignore2"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --ignore-file "$IT_TMP/ignore2" -f json |
	jq -e '.vulnerabilities == []' >/dev/null || it_fail "--ignore-file path glob"
printf 'CVE-2012-2812   # fixed by our own backport\n' >"$IT_TMP/ignore4"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --ignore-file "$IT_TMP/ignore4" -f json |
	jq -e --arg f "$IT_TMP/ignore4" '.suppressed == [{"id": "CVE-2012-2812", "target": "libexif@0.6.20-r0",
		"source": ("ignore " + $f + ":1"), "reason": "fixed by our own backport"}]' >/dev/null ||
	it_fail "--ignore-file: the suppressed finding and its reason"

# --- VEX: OpenVEX not_affected takes a finding out, CycloneDX exploitable annotates one
cat >"$IT_TMP/vex.json" <<'J'
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "it",
 "timestamp": "2026-12-01T00:00:00Z", "version": 1, "statements": [
  {"vulnerability": {"name": "CVE-2012-2812"},
   "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:apk/alpine/libexif@0.6.20-r0"}]}],
   "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}
J
printf '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "vulnerabilities": [
  {"id": "A-1", "analysis": {"state": "exploitable", "detail": "reachable from the API"}}]}\n' >"$IT_TMP/vex.cdx.json"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --vex "$IT_TMP/vex.json" --vex "$IT_TMP/vex.cdx.json" -f json \
	--exit-code 5 >"$IT_TMP/vex.out"; rc=$?
[ $rc -eq 5 ] || it_fail "--vex: A-1 is still a finding: exit $rc"
jq -e '[.vulnerabilities[] | [.id, .vex]] == [["A-1", "exploitable: reachable from the API"]] and
	[.suppressed[] | [.id, .target, .reason]] == [["CVE-2012-2812", "libexif@0.6.20-r0",
		"not_affected: vulnerable_code_not_in_execute_path"]]' "$IT_TMP/vex.out" >/dev/null ||
	it_fail "--vex: $(jq -c '{v: [.vulnerabilities[] | [.id, .vex]], s: .suppressed}' "$IT_TMP/vex.out")"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --vex "$IT_TMP/vex.json" | grep -q 'SUPPRESSED' ||
	it_fail "--vex: the table lists suppressed findings"
printf '{"statements": [{"vulnerability": "X", "status": "maybe"}]}' >"$IT_TMP/vex.bad"
"$VIGIL" scan rootfs "$IT_TMP/alp" --db "$DB" --vex "$IT_TMP/vex.bad" >/dev/null 2>"$IT_TMP/vex.err"; rc=$?
[ $rc -eq 1 ] && grep -q "vex.bad: statement 1: status" "$IT_TMP/vex.err" || it_fail "bad VEX: $rc $(cat "$IT_TMP/vex.err")"
printf 'CVE-1 until-tomorrow\n' >"$IT_TMP/ignore3"
"$VIGIL" scan rootfs "$IT_TMP/alp" --ignore-file "$IT_TMP/ignore3" >/dev/null 2>"$IT_TMP/ign.err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot parse .*ignore3:1:7:" "$IT_TMP/ign.err" || it_fail "bad ignore file: $rc $(cat "$IT_TMP/ign.err")"

# --- Python packages installed from Debian's python3-* packages, against PyPI advisories
if ls /usr/lib/python3/dist-packages/*.*-info >/dev/null 2>&1 &&
	python3 -c 'import sys; sys.path.insert(0,"/usr/lib/python3/dist-packages"); import pip._vendor.packaging' 2>/dev/null; then
	"$VIGIL" scan rootfs /usr/lib/python3/dist-packages --no-secrets --db "$DB" -f json >"$IT_TMP/py.json" ||
		it_fail "scan dist-packages"
	python3 tests/tools/xcheck.py pypi "$DATA/osv/pypi" "$IT_TMP/py.json" || it_fail "PyPI matches differ"
else
	echo "note: no Debian python3 packages with pip's packaging here, PyPI cross-check skipped"
fi

# --- a Go program built with Debian's golang: the stdlib vulnerabilities of its toolchain
if command -v go >/dev/null; then
	mkdir -p "$IT_TMP/go/src" "$IT_TMP/go/root/usr/bin"
	printf 'package main\nimport "fmt"\nfunc main() { fmt.Println("hi") }\n' >"$IT_TMP/go/src/main.go"
	printf 'module example.com/hello\n\ngo 1.19\n' >"$IT_TMP/go/src/go.mod"
	(cd "$IT_TMP/go/src" && HOME=$IT_TMP/go GOCACHE=$IT_TMP/go/cache GOFLAGS=-buildvcs=false GOPROXY=off \
		go build -o "$IT_TMP/go/root/usr/bin/hello" .) || it_fail "go build"
	toolchain=$(go env GOVERSION | sed 's/^go//')
	"$VIGIL" scan rootfs "$IT_TMP/go/root" --db "$DB" -f json >"$IT_TMP/go.json" || it_fail "scan go"
	jq -e --arg v "$toolchain" '.packages[] | select(.name=="stdlib") | .version == $v and .path == "usr/bin/hello"' \
		"$IT_TMP/go.json" >/dev/null || it_fail "Go toolchain version $toolchain not found"
	python3 tests/tools/xcheck.py go "$DATA/osv/go" "$IT_TMP/go.json" || it_fail "Go matches differ"
	jq -e '.vulnerabilities | length > 0' "$IT_TMP/go.json" >/dev/null || it_fail "no stdlib vulnerabilities for go$toolchain"
else
	echo "note: go is not installed (apt-get install golang-go), Go binary check skipped"
fi

# --- vercmp against dpkg --compare-versions on every pair of real and tricky versions
if command -v dpkg >/dev/null; then
	{
		grep -h '^Version:' "$DATA"/images/pkgdb/trivy/dpkg/valid.txtar 2>/dev/null | cut -d' ' -f2
		grep -v '^#' tests/golden/vercmp/dpkg.txt | awk '{print $1; print $3}'
	} | sort -u | head -120 >"$IT_TMP/vers"
	while read -r a; do while read -r b; do echo "$a $b"; done <"$IT_TMP/vers"; done <"$IT_TMP/vers" >"$IT_TMP/pairs"
	"$VIGIL" vercmp dpkg - <"$IT_TMP/pairs" >"$IT_TMP/ours" || it_fail "vercmp batch"
	paste -d' ' "$IT_TMP/pairs" "$IT_TMP/ours" | awk 'NR % 3 == 0' | while read -r a b op; do
		case $op in '<') rel=lt ;; '>') rel=gt ;; *) rel=eq ;; esac
		dpkg --compare-versions "$a" "$rel" "$b" || echo "$a $op $b"
	done >"$IT_TMP/bad"
	[ -s "$IT_TMP/bad" ] && it_fail "vercmp disagrees with dpkg: $(head -5 "$IT_TMP/bad")"
	echo "vercmp agrees with dpkg on $(awk 'NR % 3 == 0' "$IT_TMP/pairs" | wc -l) pairs"
fi
[ "$("$VIGIL" vercmp Debian:12 1.0~rc1 1.0)" = "<" ] || it_fail "vercmp CLI"
[ "$("$VIGIL" vercmp Go v2.0.0+incompatible v2.0.0)" = "=" ] || it_fail "vercmp Go"
"$VIGIL" vercmp Nope 1 2 >/dev/null 2>&1; [ $? -eq 2 ] || it_fail "vercmp unknown ecosystem"
it_finish
