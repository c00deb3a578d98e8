#!/bin/bash
# test_console_api.sh: the hub's routes for the web console (docs/console.md),
# with curl against a hub fed through a real nats-server (console_lib.sh):
# the static files are public, GET only, with a strict CSP and their content
# types; every API route needs a token (401); whoami; MITRE tactic/technique
# filters; bucketed counts (sums, by rule/priority, bounds, malformed → 400);
# paging bounds; acknowledgements (viewer 403, responder once, 404/400/405);
# the alert stream (auth, its first event, a new alert arriving, filters, 400s).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/console_lib.sh
. tests/integration/console_lib.sh

cl_need
NATS_PID="" HUB="" SPID=""
trap 'kill $SPID 2>/dev/null; cl_cleanup' EXIT
trap 'exit 1' INT TERM
cl_setup

# code METHOD PATH [TOKEN]: the HTTP status
code() {
	local auth=()
	[ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
	curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' -X "$1" "${auth[@]}" "$URL$2"
}
expect() { # WHAT WANT GOT
	[ "$2" = "$3" ] && echo "ok   $1 ($3)" || it_fail "$1: want $2, got $3"
}

# --- static files: public, GET only, strict headers ---------------------------------
for f in / /console/ /console/index.html /console/app.js /console/style.css; do
	expect "GET $f without a token" 200 "$(code GET "$f")"
done
h=$(curl -sS --cacert "$T/ca.pem" -D- -o /dev/null "$URL/console/app.js")
for want in "content-type: text/javascript; charset=utf-8" "x-content-type-options: nosniff" \
	"content-security-policy: default-src 'self'; script-src 'self'; style-src 'self';" "frame-ancestors 'none'"; do
	echo "$h" | tr -d '\r' | grep -qiF "$want" && echo "ok   app.js: $want" || it_fail "app.js lacks '$want'"
done
ct() { curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{content_type}' "$URL$1"; }
expect "index content type" "text/html; charset=utf-8" "$(ct /)"
expect "css content type" "text/css; charset=utf-8" "$(ct /console/style.css)"
csp=$(echo "$h" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p')
case $csp in *unsafe-inline* | *unsafe-eval* | *'*'*) it_fail "the CSP allows too much: $csp" ;; *) echo "ok   the CSP has no unsafe-inline, unsafe-eval or wildcard" ;; esac
diff <(curl -sS --cacert "$T/ca.pem" "$URL/console/app.js") web/console/app.js >/dev/null &&
	echo "ok   app.js served is the file of the tree (compiled in)" || it_fail "app.js served differs from web/console/app.js"
expect "an unknown static file" 404 "$(code GET /console/nope.js)"
expect "a path out of /console" 404 "$(code GET /console/..%2Fhub.db)"
expect "POST to a static file" 405 "$(code POST /console/app.js)"
expect "a static file with a query" 404 "$(code GET '/console/app.js?x=1')"
grep -rn '<script>\|onclick=\|onload=\|style="' web/console/*.html && it_fail "inline script or style in web/console" ||
	echo "ok   no inline script or style in the HTML"
grep -v '^ *//' web/console/*.js | grep -n 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write\|eval(\|new Function' &&
	it_fail "HTML from strings in app.js" || echo "ok   app.js builds no HTML from strings"

# --- every API route needs a token --------------------------------------------------
for r in "GET /api/v1/whoami" "GET /api/v1/alerts/counts" "GET /api/v1/alerts/stream" \
	"POST /api/v1/alerts/consolexss00000001/ack" "GET /api/v1/alerts" "GET /api/v1/nodes"; do
	expect "$r without a token" 401 "$(code "${r%% *}" "${r#* }")"
	expect "$r with a wrong token" 401 "$(code "${r%% *}" "${r#* }" not-a-token-of-this-hub-0000)"
done

# --- whoami -----------------------------------------------------------------------------
expect "whoami (viewer)" '{"role":"viewer","name":"alice"}' "$(cl_api /api/v1/whoami)"
expect "whoami (responder)" '{"role":"responder","name":"bob"}' "$(curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $RTOKEN" "$URL/api/v1/whoami")"
expect "whoami with a parameter" 400 "$(code GET '/api/v1/whoami?x=1' "$VTOKEN")"
expect "POST whoami" 405 "$(code POST /api/v1/whoami "$VTOKEN")"

# --- MITRE filters ------------------------------------------------------------------------
uuids() { cl_api "$1" | jq -r '[.alerts[].uuid] | sort | join(",")'; }
expect "tactic=execution" "consoleshell0000002,consolexss00000001" "$(uuids '/api/v1/alerts?tactic=execution')"
expect "tactic=mitre_persistence" "consolefile00000003" "$(uuids '/api/v1/alerts?tactic=mitre_persistence')"
expect "technique=T1059 (sub-techniques too)" "consolexss00000001" "$(uuids '/api/v1/alerts?technique=T1059')"
expect "technique=T1059.004" "consolexss00000001" "$(uuids '/api/v1/alerts?technique=T1059.004')"
expect "technique=T1059.005" "" "$(uuids '/api/v1/alerts?technique=T1059.005')"
for bad in 'tactic=Execution' 'tactic=exec%20ution' 'technique=T12' 'technique=t1059' 'technique=T1059.4' 'tactic=a&tactic=b'; do
	expect "malformed: $bad" 400 "$(code GET "/api/v1/alerts?$bad" "$VTOKEN")"
done

# --- paging bounds --------------------------------------------------------------------------
for bad in limit=0 limit=1001 limit=-1 limit=x cursor=-1 cursor=abc since=yesterday bogus=1 'rule=a&rule=b'; do
	expect "malformed: $bad" 400 "$(code GET "/api/v1/alerts?$bad" "$VTOKEN")"
done
expect "limit=1000" 123 "$(cl_api '/api/v1/alerts?limit=1000' | jq '.alerts | length')"
p1=$(cl_api '/api/v1/alerts?limit=50')
c1=$(echo "$p1" | jq -r .next_cursor)
p3=$(cl_api "/api/v1/alerts?limit=50&cursor=$(cl_api "/api/v1/alerts?limit=50&cursor=$c1" | jq -r .next_cursor)")
expect "three pages of 50 hold 123" "50 23 null" "$(echo "$p1" | jq '.alerts|length') $(echo "$p3" | jq '.alerts|length') $(echo "$p3" | jq -r .next_cursor)"

# --- counts --------------------------------------------------------------------------------
c=$(cl_api "/api/v1/alerts/counts?by=rule&since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)")
total=$(cl_api '/api/v1/alerts/counts?by=rule' | jq '[.counts[].count] | add')
expect "counts by rule add up to every alert" 123 "$total"
expect "counts by priority add up too" 123 "$(cl_api '/api/v1/alerts/counts?by=priority' | jq '[.counts[].count] | add')"
expect "counts of one rule" "1 Console XSS probe" \
	"$(cl_api '/api/v1/alerts/counts?by=rule&rule=Console%20XSS%20probe' | jq -r '"\([.counts[].count]|add) \([.counts[].key]|unique|join(","))"')"
expect "counts by priority name the priority" "Critical" \
	"$(cl_api '/api/v1/alerts/counts?by=priority&tactic=execution&priority=critical' | jq -r '[.counts[].key]|unique|join(",")')"
expect "counts with a bucket" 60 "$(cl_api '/api/v1/alerts/counts?bucket=60' | jq .bucket_s)"
s0=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)
expect "counts in a window" 123 "$(cl_api "/api/v1/alerts/counts?since=$s0&bucket=10" | jq '[.counts[].count] | add')"
for bad in by=node bucket=0 bucket=-5 bucket=x 'bucket=1&since=2026-01-01T00:00:00Z' limit=5 cursor=3 \
	'by=rule&by=rule' 'since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z' priority=loud; do
	expect "counts malformed: $bad" 400 "$(code GET "/api/v1/alerts/counts?$bad" "$VTOKEN")"
done
expect "POST counts" 405 "$(code POST /api/v1/alerts/counts "$VTOKEN")"
echo "$c" | jq -e '.since and .until and .by == "rule" and (.counts | type == "array") and .partial == false' >/dev/null &&
	echo "ok   counts have since, until, by and counts" || it_fail "counts shape: $c"

# --- acknowledgements --------------------------------------------------------------------
A=/api/v1/alerts/consoleshell0000002/ack
expect "a viewer may not acknowledge" 403 "$(code POST $A "$VTOKEN")"
expect "still not acknowledged" null "$(cl_api /api/v1/alerts/consoleshell0000002 | jq -c .ack)"
expect "a responder acknowledges" true "$(curl -sS --cacert "$T/ca.pem" -X POST -H "Authorization: Bearer $RTOKEN" "$URL$A" | jq .acknowledged)"
expect "a second time: already" false "$(curl -sS --cacert "$T/ca.pem" -X POST -H "Authorization: Bearer $RTOKEN" "$URL$A" | jq .acknowledged)"
expect "the alert says who acknowledged it" bob "$(cl_api /api/v1/alerts/consoleshell0000002 | jq -r .ack.by)"
expect "the list says it too" bob "$(cl_api '/api/v1/alerts?rule=Console%20shell%20probe' | jq -r '.alerts[0].ack.by')"
expect "ack of an unknown alert" 404 "$(code POST /api/v1/alerts/nosuchalert0000/ack "$RTOKEN")"
expect "ack of a malformed id" 400 "$(code POST '/api/v1/alerts/bad!id!000/ack' "$RTOKEN")"
expect "ack with a parameter" 400 "$(code POST "$A?x=1" "$RTOKEN")"
expect "GET on ack" 405 "$(code GET $A "$RTOKEN")"

# --- the stream ----------------------------------------------------------------------------
expect "stream malformed filter" 400 "$(code GET '/api/v1/alerts/stream?priority=loud' "$VTOKEN")"
expect "stream with a limit" 400 "$(code GET '/api/v1/alerts/stream?limit=5' "$VTOKEN")"
expect "POST stream" 405 "$(code POST /api/v1/alerts/stream "$VTOKEN")"
# the whole store from cursor 0, one rule: its one alert
out=$(curl -sS --cacert "$T/ca.pem" -N --max-time 3 -H "Authorization: Bearer $VTOKEN" \
	"$URL/api/v1/alerts/stream?cursor=0&rule=Console%20file%20probe" 2>/dev/null)
echo "$out" | grep -q '^event: hello' && echo "ok   the stream opens with a hello event" || it_fail "no hello: $out"
expect "from cursor 0 with a rule: its alert" consolefile00000003 \
	"$(echo "$out" | sed -n 's/^data: //p' | jq -r 'select(.alerts) | .alerts[].uuid' 2>/dev/null | paste -sd,)"
# a new alert while the stream is open (and another of a rule the stream does not want)
curl -sS --cacert "$T/ca.pem" -N --max-time 20 -H "Authorization: Bearer $VTOKEN" \
	"$URL/api/v1/alerts/stream?rule=Console%20live%20probe" >"$T/stream.out" 2>/dev/null &
SPID=$!
for ((i = 0; i < 100; i++)); do grep -q '^event: hello' "$T/stream.out" && break; sleep 0.1; done
"$T/publish" >/dev/null || it_fail "cannot publish the live alert"
for ((i = 0; i < 150; i++)); do grep -q consolelive00000004 "$T/stream.out" && break; sleep 0.1; done
grep -q consolelive00000004 "$T/stream.out" && echo "ok   a new alert arrives on the open stream" || it_fail "the stream did not carry the new alert"
expect "the API still answers with a stream open" 200 "$(code GET /api/v1/whoami "$VTOKEN")"
kill $SPID 2>/dev/null
wait $SPID 2>/dev/null
SPID=""
# the hub stops cleanly with a stream open (suspended: nothing to send after its hello)
curl -sS --cacert "$T/ca.pem" -N --max-time 30 -H "Authorization: Bearer $VTOKEN" "$URL/api/v1/alerts/stream" >"$T/s2" 2>/dev/null &
SPID=$!
for ((i = 0; i < 100; i++)); do grep -q '^event: hello' "$T/s2" && break; sleep 0.1; done
kill -TERM "$HUB"
rc=0
for ((i = 0; i < 100; i++)); do kill -0 "$HUB" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$HUB" 2>/dev/null; then
	it_fail "the hub did not stop within 10 s with a stream open"
else
	wait "$HUB"
	rc=$?
	expect "the hub stops cleanly with a stream open" 0 "$rc"
fi
HUB=""
it_finish
