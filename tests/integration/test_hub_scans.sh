#!/bin/bash
# test_hub_scans.sh: image scan results and admission decisions reach the hub
# (docs/hub.md "Images and admissions", docs/fleet.md "Scan results and
# admission decisions"). A real nats-server and hub on loopback (console_lib.sh);
# the shared Alpine image scanned against OSV records written here, published
# with `vigil scan image --nats`: the hub lists it with the counts of `-f json`
# of the same scan, its detail holds the same vulnerabilities and packages, the
# SBOM download is byte for byte `-f cyclonedx`; the same scan published again
# is a duplicate; --max-msg refuses a message too large; decisions of `vigil
# admission serve --nats` (real HTTPS) land in /api/v1/admissions with their
# filters; malformed scan/admission messages are refused and counted while the
# hub keeps running; every new route needs a token; paging bounds; with NATS
# down the webhook answers as one without --nats, promptly.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=tests/integration/console_lib.sh
. tests/integration/console_lib.sh

DATA=${VIGIL_SHARED_DATA:-../shared/data}
ALPINE=$DATA/images/alpine-310.tar.gz
OCI=$DATA/images/test.oci
[ -r "$ALPINE" ] && [ -d "$OCI" ] || it_skip "$DATA/images (alpine-310.tar.gz, test.oci) absent"
cl_need
NATS_PID="" HUB="" WH2=""
trap 'kill $WH2 2>/dev/null; cl_cleanup' EXIT
trap 'exit 1' INT TERM
cl_setup

code() { # PATH [TOKEN]: the HTTP status of a GET
	local auth=()
	[ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
	curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' "${auth[@]}" "$URL$1"
}
expect() { # WHAT WANT GOT
	[ "$2" = "$3" ] && echo "ok   $1 ($3)" || it_fail "$1: want $2, got $3"
}

# --- OSV records for packages of the Alpine 3.10 image, one per severity (and one without a fix)
mkdir -p "$T/osv"
osv() { # ID SOURCE-PACKAGE FIXED SEVERITY SUMMARY
	local ev='[{"introduced":"0"}]'
	[ -n "$3" ] && ev="[{\"introduced\":\"0\"},{\"fixed\":\"$3\"}]"
	jq -n --arg id "$1" --arg p "$2" --argjson ev "$ev" --arg s "$4" --arg sum "$5" \
		'{id: $id, modified: "2026-12-01T00:00:00Z", summary: $sum, database_specific: {severity: $s},
		  affected: [{package: {ecosystem: "Alpine:v3.10", name: $p}, ranges: [{type: "ECOSYSTEM", events: $ev}]}]}' \
		>"$T/osv/$1.json"
}
osv HUBSCAN-0001 musl 1.1.22-r4 CRITICAL "musl: a critical flaw"
osv HUBSCAN-0002 openssl 1.1.1d-r3 HIGH 'openssl: <img src=x onerror="window.__xss=4">'
osv HUBSCAN-0003 zlib 1.2.11-r2 MEDIUM "zlib: a medium flaw"
osv HUBSCAN-0004 busybox "" LOW "busybox: no fix yet"
"$VIGIL" db import --db "$T/vulns.db" "$T/osv" >/dev/null || it_die "cannot import the OSV records"

# --- the scan as -f json and -f cyclonedx print it, then published --------------------
"$VIGIL" scan image "$ALPINE" --db "$T/vulns.db" -f json >"$T/a.json" || it_die "scan -f json failed"
"$VIGIL" scan image "$ALPINE" --db "$T/vulns.db" -f cyclonedx >"$T/a.cdx" || it_die "scan -f cyclonedx failed"
sev() { jq --arg s "$2" '[.vulnerabilities[] | select(.severity == $s)] | length' "$1"; }
want=$(printf '%s ' "$(sev "$T/a.json" CRITICAL)" "$(sev "$T/a.json" HIGH)" "$(sev "$T/a.json" MEDIUM)" \
	"$(sev "$T/a.json" LOW)" "$(sev "$T/a.json" UNKNOWN)" "$(jq '.packages | length' "$T/a.json")" \
	"$(jq '.secrets | length' "$T/a.json")" "$(jq '.config | length' "$T/a.json")")
[ "$(sev "$T/a.json" CRITICAL)" -ge 1 ] && [ "$(sev "$T/a.json" HIGH)" -ge 1 ] && [ "$(sev "$T/a.json" LOW)" -ge 1 ] ||
	it_die "the OSV records matched nothing: $(jq -c '.vulnerabilities' "$T/a.json")"
DIG=$(jq -r '.digest // .image_id' "$T/a.json")
"$VIGIL" scan image "$ALPINE" --db "$T/vulns.db" -f json -o "$T/b.json" --nats "$NATS" --node scanner-1 --cluster prod \
	2>"$T/pub.err" || it_fail "scan --nats failed: $(cat "$T/pub.err")"
cmp -s "$T/a.json" "$T/b.json" && echo "ok   --nats leaves the report as it was" || it_fail "the report differs with --nats"
grep -q "published on vigil.prod.scanner-1.scan (.*compressed)" "$T/pub.err" && echo "ok   $(cat "$T/pub.err")" ||
	it_fail "no publish line: $(cat "$T/pub.err")"

wait_api() { # PATH JQ: until the answer satisfies JQ (bounded, 30 s)
	local i
	for ((i = 0; i < 300; i++)); do
		cl_api "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
wait_api /api/v1/images "[.images[] | select(.digest == \"$DIG\")] | length == 1" ||
	it_die "the hub did not list the image: $(cl_api /api/v1/images) $(tail -3 "$T/hub.log")"
cl_api "/api/v1/images" | jq --arg d "$DIG" '.images[] | select(.digest == $d)' >"$T/img.json"
got=$(jq -r '[.vulnerabilities.critical, .vulnerabilities.high, .vulnerabilities.medium, .vulnerabilities.low,
	.vulnerabilities.unknown, .packages, .secrets, .misconfigurations] | map(tostring) | join(" ")' "$T/img.json")
expect "the hub's counts (critical high medium low unknown packages secrets misconfigurations) = scan -f json" \
	"${want% }" "$got"
jq -e --arg r "$ALPINE" '.reference == $r and .cluster == "prod" and .node == "scanner-1" and .sbom_format == "cyclonedx"
	and (.scanned | endswith("Z")) and (.os | startswith("alpine 3.10"))' "$T/img.json" >/dev/null &&
	echo "ok   reference, node, OS and scan time listed" || it_fail "image fields: $(cat "$T/img.json")"
cl_api "/api/v1/images/$DIG" >"$T/detail.json"
jq -e --slurpfile a "$T/a.json" '.report.vulnerabilities == $a[0].vulnerabilities and .report.packages == $a[0].packages
	and .image.digest == $a[0].image_id' "$T/detail.json" >/dev/null &&
	echo "ok   the detail holds the scan's vulnerabilities and packages" || it_fail "detail differs: $(head -c 400 "$T/detail.json")"
jq -e '.report.vulnerabilities[] | select(.id == "HUBSCAN-0001") | .severity == "CRITICAL" and .fixed == "1.1.22-r4"' \
	"$T/detail.json" >/dev/null && echo "ok   a vulnerability with its severity and fix" || it_fail "HUBSCAN-0001 not in the detail"
h=$(curl -sS --cacert "$T/ca.pem" -H "Authorization: Bearer $VTOKEN" -D "$T/sbom.h" -o "$T/sbom.json" \
	-w '%{http_code}' "$URL/api/v1/images/$DIG/sbom")
expect "GET /api/v1/images/<digest>/sbom" 200 "$h"
cmp -s "$T/sbom.json" "$T/a.cdx" && echo "ok   the SBOM download is byte for byte scan -f cyclonedx" ||
	it_fail "the SBOM differs from -f cyclonedx ($(wc -c <"$T/sbom.json") vs $(wc -c <"$T/a.cdx") bytes)"
tr -d '\r' <"$T/sbom.h" | grep -qi '^content-type: application/vnd.cyclonedx+json' &&
	tr -d '\r' <"$T/sbom.h" | grep -qi '^content-disposition: attachment; filename=' &&
	echo "ok   SBOM content type and attachment" || it_fail "SBOM headers: $(cat "$T/sbom.h")"

# the same scan again: the same Nats-Msg-Id, a duplicate for the stream; still one image row
"$VIGIL" scan image "$ALPINE" --db "$T/vulns.db" -f json -o /dev/null --nats "$NATS" --node scanner-1 --cluster prod \
	2>"$T/pub2.err" || it_fail "second publish failed: $(cat "$T/pub2.err")"
grep -q "the stream already had it" "$T/pub2.err" && echo "ok   the same scan again is a duplicate" ||
	it_fail "second publish: $(cat "$T/pub2.err")"
# a message over --max-msg is refused before it is sent, with a clear error
"$VIGIL" scan image "$ALPINE" --db "$T/vulns.db" -o /dev/null --nats "$NATS" --max-msg 2K 2>"$T/big.err"
rc=$?
expect "scan --nats --max-msg 2K exit status" 1 "$rc"
grep -q "over the limit of 2048 bytes (--max-msg" "$T/big.err" && echo "ok   $(cat "$T/big.err")" ||
	it_fail "--max-msg error: $(cat "$T/big.err")"
"$VIGIL" scan rootfs "$T/osv" --nats "$NATS" >/dev/null 2>&1
expect "scan rootfs --nats is a usage error" 2 "$?"

# a second image (an OCI layout) for paging
"$VIGIL" scan image "$OCI" --no-db -o /dev/null --nats "$NATS" --node scanner-2 --cluster prod 2>"$T/pub3.err" ||
	it_fail "publish of test.oci failed: $(cat "$T/pub3.err")"
wait_api /api/v1/images '.images | length == 2' || it_fail "two images not listed: $(cl_api /api/v1/images)"
p1=$(cl_api "/api/v1/images?limit=1")
c1=$(echo "$p1" | jq -r '.next_cursor')
p2=$(cl_api "/api/v1/images?limit=1&cursor=$c1")
[ "$(echo "$p1" | jq '.images | length')" = 1 ] && [ "$c1" != null ] && [ "$(echo "$p2" | jq -r '.next_cursor')" = null ] &&
	[ "$(echo "$p1" | jq -r '.images[0].digest')" != "$(echo "$p2" | jq -r '.images[0].digest')" ] &&
	echo "ok   images paged one at a time" || it_fail "paging: $p1 / $p2"
expect "filter severity=critical" "$DIG" "$(cl_api "/api/v1/images?severity=critical" | jq -r '[.images[].digest] | join(",")')"
expect "filter node=scanner-2" 1 "$(cl_api "/api/v1/images?node=scanner-2" | jq '.images | length')"
expect "filter reference" "$DIG" "$(cl_api "/api/v1/images?reference=alpine-310" | jq -r '[.images[].digest] | join(",")')"
for q in "limit=0" "limit=1001" "cursor=abc" "severity=bad" "node=a.b" "nope=1" "limit=1&limit=2"; do
	expect "GET /api/v1/images?$q" 400 "$(code "/api/v1/images?$q" "$VTOKEN")"
done
expect "unknown digest" 404 "$(code "/api/v1/images/sha256:$(printf '0%.0s' {1..64})" "$VTOKEN")"
expect "malformed digest" 404 "$(code "/api/v1/images/sha256:xyz" "$VTOKEN")"
expect "unknown sub-route" 404 "$(code "/api/v1/images/$DIG/other" "$VTOKEN")"

# --- admission decisions over HTTPS, published with --nats ------------------------------
cat >"$T/policy.yaml" <<Y
defaults:
  enforce: baseline
Y
it_webhook_start "$T/wh.err" --tls-cert "$T/hub.pem" --tls-key "$T/hub.key" --policy "$T/policy.yaml" \
	--nats "$NATS" --node adm-1 --cluster prod
WURL=https://127.0.0.1:$IT_PORT
review() { # OUT NS NAME PRIVILEGED
	jq -n --arg ns "$2" --arg n "$3" --argjson priv "$4" --arg uid "uid-$3-$$" \
		'{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {uid: $uid,
		  kind: {group: "", version: "v1", kind: "Pod"}, namespace: $ns, operation: "CREATE",
		  userInfo: {username: "alice"}, object: {apiVersion: "v1", kind: "Pod", metadata: {name: $n},
		  spec: {containers: [{name: "c", image: "registry.example.com/app:1", securityContext: {privileged: $priv}}]}}}}' >"$1"
}
post() { # URL FILE OUT: the HTTP status and time
	curl -sS --cacert "$T/ca.pem" --max-time 20 -o "$3" -w '%{http_code} %{time_total}' \
		-H 'Content-Type: application/json' --data-binary @"$2" "$1/validate"
}
review "$T/deny.json" shop 'web-<b>1</b>' true
review "$T/allow.json" shop web-2 false
review "$T/other.json" other web-3 false
for r in deny allow other; do
	s=$(post "$WURL" "$T/$r.json" "$T/$r.resp")
	[ "${s%% *}" = 200 ] || it_fail "review $r: $s $(cat "$T/$r.resp")"
done
jq -e '.response.allowed == false' "$T/deny.resp" >/dev/null || it_fail "the privileged pod was not denied"
wait_api /api/v1/admissions '.admissions | length == 3' ||
	it_fail "3 decisions not in /api/v1/admissions: $(cl_api /api/v1/admissions) $(cat "$T/wh.err")"
cl_api "/api/v1/admissions?namespace=shop&allowed=false" >"$T/adm.json"
jq -e --arg uid "uid-web-<b>1</b>-$$" '.admissions | length == 1 and (.[0] | .uid == $uid and .allowed == false
	and .kind == "Pod" and .namespace == "shop" and .name == "web-<b>1</b>" and .operation == "CREATE"
	and .user == "alice" and .node == "adm-1" and .cluster == "prod" and (.reason | length > 0)
	and (.message | test("privileged")) and .policy_version == "sha256:'"$(sha256sum "$T/policy.yaml" | cut -d' ' -f1)"'"
	and (.time | endswith("Z")))' "$T/adm.json" >/dev/null &&
	echo "ok   the denied decision: object, reasons, policy version, time" || it_fail "denied decision: $(cat "$T/adm.json")"
expect "admissions allowed=true" 2 "$(cl_api "/api/v1/admissions?allowed=true" | jq '.admissions | length')"
expect "admissions namespace=shop" 2 "$(cl_api "/api/v1/admissions?namespace=shop" | jq '.admissions | length')"
expect "admissions since=1h" 3 "$(cl_api "/api/v1/admissions?since=1h" | jq '.admissions | length')"
expect "admissions until=1h (ago)" 0 "$(cl_api "/api/v1/admissions?until=1h" | jq '.admissions | length')"
a1=$(cl_api "/api/v1/admissions?limit=2")
a2=$(cl_api "/api/v1/admissions?limit=2&cursor=$(echo "$a1" | jq -r .next_cursor)")
[ "$(echo "$a1" | jq '.admissions | length')" = 2 ] && [ "$(echo "$a2" | jq '.admissions | length')" = 1 ] &&
	[ "$(echo "$a2" | jq -r .next_cursor)" = null ] && echo "ok   admissions paged" || it_fail "admission paging: $a1 / $a2"
for q in "allowed=maybe" "since=yesterday" "limit=0" "limit=5000" "cursor=-1" "since=1h&until=2h" "x=1"; do
	expect "GET /api/v1/admissions?$q" 400 "$(code "/api/v1/admissions?$q" "$VTOKEN")"
done

# --- every new route needs a token; GET only ---------------------------------------------
for p in /api/v1/images "/api/v1/images/$DIG" "/api/v1/images/$DIG/sbom" /api/v1/admissions; do
	expect "GET $p without a token" 401 "$(code "$p")"
	expect "GET $p with a wrong token" 401 "$(code "$p" "not-$VTOKEN")"
done
expect "POST /api/v1/images" 405 "$(curl -sS --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $RTOKEN" "$URL/api/v1/images")"

# --- malformed scan and admission messages: refused, counted; the hub keeps running -------
before=$(cl_api /api/v1/status | jq '[.rejected[]] | add')
{
	printf '{"uuid":"badscan000000001","time":"2026-12-06T10:00:00Z","reference":"x","digest":"sha256:nothex","report":{},"sbom_format":"cyclonedx","sbom":"{}"}\n'
	printf '{"uuid":"badscan000000002","time":"2026-12-06T10:00:00Z","reference":"x","digest":"sha256:%s","report":{"packages":[],"vulnerabilities":[{"id":"X","package":"p","severity":"EVIL"}],"secrets":[],"config":[]},"sbom_format":"cyclonedx","sbom":"{}"}\n' "$(printf 'e%.0s' {1..64})"
	printf '{"uuid":"badscan000000003","time":"2026-12-06T10:00:00Z","reference":"x","digest":"sha256:%s","report":{"packages":[],"vulnerabilities":[],"secrets":[],"config":[]},"sbom_format":"cyclonedx","sbom":"not json"}\n' "$(printf 'e%.0s' {1..64})"
	printf 'not json at all\n'
} >"$T/badscan.jsonl"
printf '{"uuid":"badadm0000000001","time":"2026-12-06T10:00:00Z","uid":"u","operation":"CREATE","kind":"Pod","namespace":"ns","name":"n","user":"u","allowed":"yes","reason":"r","message":"","policy_version":"builtin"}\n{"uuid":"badadm0000000002","time":"2026-12-06T10:00:00Z","allowed":true}\n' \
	>"$T/badadm.jsonl"
"$GEN" --nats "$NATS" --from "$T/badscan.jsonl" --kind scan --node evil --cluster prod >/dev/null || it_fail "fleetgen scan"
"$GEN" --nats "$NATS" --from "$T/badadm.jsonl" --kind admission --node evil --cluster prod >/dev/null || it_fail "fleetgen admission"
wait_api /api/v1/status "([.rejected[]] | add) >= $before + 6" &&
	echo "ok   6 malformed messages refused and counted ($(cl_api /api/v1/status | jq -c .rejected))" ||
	it_fail "malformed messages not counted: $(cl_api /api/v1/status | jq -c .rejected)"
kill -0 "$HUB" 2>/dev/null && expect "the hub still answers" 2 "$(cl_api /api/v1/images | jq '.images | length')" ||
	it_fail "the hub died: $(tail -5 "$T/hub.log")"
expect "no image of node evil" 0 "$(cl_api "/api/v1/images?node=evil" | jq '.images | length')"

# --- NATS down: the webhook answers as one without --nats, promptly ---------------------
"$VIGIL" admission serve --listen 127.0.0.1:0 --tls-cert "$T/hub.pem" --tls-key "$T/hub.key" \
	--policy "$T/policy.yaml" 2>"$T/wh2.err" &
WH2=$!
for ((i = 0; i < 100; i++)); do
	P2=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)$|\1|p' "$T/wh2.err" 2>/dev/null)
	[ -n "$P2" ] && break
	sleep 0.1
done
[ -n "$P2" ] || it_die "the second webhook did not start: $(cat "$T/wh2.err")"
kill -TERM "$NATS_PID"
wait "$NATS_PID" 2>/dev/null
NATS_PID=""
slow=0
for r in deny allow other deny allow; do
	s1=$(post "$WURL" "$T/$r.json" "$T/$r.down")
	post "https://127.0.0.1:$P2" "$T/$r.json" "$T/$r.plain" >/dev/null
	[ "${s1%% *}" = 200 ] && cmp -s "$T/$r.down" "$T/$r.plain" || it_fail "with NATS down, $r answered otherwise: $s1 $(cat "$T/$r.down")"
	awk -v t="${s1#* }" 'BEGIN { exit !(t > 2.0) }' && slow=$((slow + 1))
done
expect "answers slower than 2 s with NATS down (of 5)" 0 "$slow"
for ((i = 0; i < 40; i++)); do
	s=$(post "$WURL" "$T/allow.json" /dev/null)
	[ "${s%% *}" = 200 ] || { it_fail "answer $i with NATS down: $s"; break; }
done
echo "ok   40 more answers with NATS down"
kill -TERM "$IT_SERVER_PID"
fl_rc=124
for ((i = 0; i < 100; i++)); do
	kill -0 "$IT_SERVER_PID" 2>/dev/null || { wait "$IT_SERVER_PID"; fl_rc=$?; break; }
	sleep 0.1
done
IT_SERVER_PID=""
expect "the webhook stops within 10 s with NATS down" 0 "$fl_rc"
grep -q "admission record(s) not published at the stop" "$T/wh.err" && echo "ok   it says what was not published" ||
	it_fail "no word of the unpublished decisions: $(tail -3 "$T/wh.err")"
it_finish
