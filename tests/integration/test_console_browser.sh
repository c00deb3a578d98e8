#!/bin/bash
# test_console_browser.sh: the hub's web console (docs/console.md) in a real
# headless Chromium driven through chromedriver (WebDriver HTTP,
# tests/tools/console_browser.py). A nats-server (JetStream, loopback, started
# here) carries alerts that fleetgen publishes as nodes do, among them one whose
# command line and output hold <img onerror> and <script>; a hub with a TLS
# certificate made here stores them. The browser: a wrong token is refused; a
# viewer logs in (first render time printed), filters by rule, MITRE tactic,
# priority and node, opens the alert, sees its process tree, its container and
# Kubernetes context, its actions and the other alerts of its container; the HTML
# is text and no script runs; the viewer has no ack/release and the API refuses
# its ack (403); logout; a responder acknowledges (shown in the page and the
# table) and presses release; a new alert arrives live through the stream; the
# nodes page; the service map when the hub has that route.
# Screenshots: $CONSOLE_ARTIFACTS (default build/test-artifacts/console_browser).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

# shellcheck source=tests/integration/console_lib.sh
. tests/integration/console_lib.sh

cl_need
command -v chromium >/dev/null 2>&1 || it_skip "chromium is not installed (scripts/install-deps: chromium chromium-driver)"
CHROMEDRIVER=$(command -v chromedriver || echo /usr/lib/chromium/chromedriver)
[ -x "$CHROMEDRIVER" ] || it_skip "chromedriver is not installed (scripts/install-deps: chromium-driver)"
OUT=${CONSOLE_ARTIFACTS:-$BUILD/test-artifacts/console_browser}
rm -rf "$OUT"
mkdir -p "$OUT" || it_die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

NATS_PID="" HUB=""
trap cl_cleanup EXIT
trap 'exit 1' INT TERM
cl_setup
# the console over the test's own CA (curl verifies it)
hdr=$(curl -sS --cacert "$T/ca.pem" -D- -o /dev/null "$URL/")
echo "$hdr" | grep -qi "^content-security-policy: default-src 'self'; script-src 'self'" || it_fail "no strict CSP on /"

# an image scan and two admission decisions as a scanner and a webhook publish them (docs/fleet.md,
# "Scan results and admission decisions"), with HTML and script in the attacker's fields
SDIG=sha256:$(printf 'ab%.0s' {1..32})
SBOM='{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}'
jq -nc --arg d "$SDIG" --arg sbom "$SBOM" --arg t "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" \
	'{uuid: "consolescan0000001", time: $t, reference: "registry.local/<img src=x onerror=\"window.__xss=5\">:1", digest: $d,
	  report: {os: {id: "alpine", version: "3.10.4"},
	    packages: [{name: "<script>window.__xss=6</script>", version: "1.0", type: "apk", path: "lib/apk/db/installed", purl: "pkg:apk/x@1.0"},
	               {name: "musl", version: "1.1.22-r3", type: "apk", path: "lib/apk/db/installed", purl: "pkg:apk/alpine/musl@1.1.22-r3"}],
	    vulnerabilities: [{id: "CVE-2026-0001", severity: "CRITICAL", package: "musl", version: "1.1.22-r3", fixed: "1.1.22-r4",
	                       summary: "<img src=x onerror=\"window.__xss=7\">"}],
	    secrets: [], config: [{id: "DS002", severity: "HIGH", message: "runs as root"}]},
	  sbom_format: "cyclonedx", sbom: $sbom}' >"$T/scan.jsonl"
printf '%s' "$SBOM" >"$T/sbom.expected"
adm() { # uuid name allowed message
	jq -nc --arg u "$1" --arg n "$2" --argjson a "$3" --arg m "$4" --arg t "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" \
		'{uuid: $u, time: $t, uid: ("uid-" + $u), operation: "CREATE", kind: "Pod", namespace: "shop", name: $n,
		  user: "alice", allowed: $a, reason: (if $a then "compliant" else "pss" end), message: $m, policy_version: "builtin"}'
}
{
	adm consoleadm00000001 '<img src=x onerror="window.__xss=8">web-0' false $'baseline:latest: privileged (container "c")\nsecond line'
	adm consoleadm00000002 web-1 true ""
} >"$T/adm.jsonl"
"$GEN" --nats "$NATS" --from "$T/scan.jsonl" --kind scan --node scanner-1 --cluster prod >/dev/null || it_die "cannot publish the scan"
"$GEN" --nats "$NATS" --from "$T/adm.jsonl" --kind admission --node webhook-1 --cluster prod >/dev/null ||
	it_die "cannot publish the decisions"
for ((i = 0; i < 300; i++)); do
	[ "$(cl_api /api/v1/admissions | jq '.admissions | length' 2>/dev/null)" = 2 ] &&
		[ "$(cl_api /api/v1/images | jq '.images | length' 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
[ "$(cl_api /api/v1/images | jq '.images | length')" = 1 ] || it_die "the hub did not store the scan: $(tail -3 "$T/hub.log")"

python3 tests/tools/console_browser.py --url "$URL" --viewer "$VTOKEN" --responder "$RTOKEN" --out "$OUT" \
	--xss-rule "$XSS_RULE" --publish "$T/publish" --chromedriver "$CHROMEDRIVER" \
	--image-digest "$SDIG" --sbom-bytes "$(wc -c <"$T/sbom.expected")" 2>&1 | tee "$T/browser.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || it_fail "the browser checks failed (screenshots in $OUT)"
grep -q '^ok   no injected script ran' "$T/browser.out" || it_fail "the XSS check did not run"
# the acknowledgement is in the hub's store
ack=$(cl_api /api/v1/alerts/consolexss00000001 | jq -r '.ack.by')
[ "$ack" = bob ] && echo "ok   the acknowledgement is stored (by bob)" || it_fail "ack in the store: '$ack'"
n=$(find "$OUT" -name '*.png' | wc -l)
[ "$n" -ge 8 ] && echo "ok   $n screenshots in $OUT" || it_fail "only $n screenshots in $OUT"
it_finish
