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

python3 tests/tools/console_browser.py --url "$URL" --viewer "$VTOKEN" --responder "$RTOKEN" --out "$OUT" \
	--xss-rule "$XSS_RULE" --publish "$T/publish" --chromedriver "$CHROMEDRIVER" 2>&1 | tee "$T/browser.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || it_fail "the browser checks failed (screenshots in $OUT)"
grep -q '^ok   no injected script ran' "$T/browser.out" || it_fail "the XSS check did not run"
# the acknowledgement is in the hub's store
ack=$(cl_api /api/v1/alerts/consolexss00000001 | jq -r '.ack.by')
[ "$ack" = bob ] && echo "ok   the acknowledgement is stored (by bob)" || it_fail "ack in the store: '$ack'"
n=$(find "$OUT" -name '*.png' | wc -l)
[ "$n" -ge 8 ] && echo "ok   $n screenshots in $OUT" || it_fail "only $n screenshots in $OUT"
it_finish
