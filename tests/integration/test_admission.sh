#!/bin/bash
# test_admission.sh: `vigil admission serve` as a real HTTPS webhook. A CA and
# a server certificate are made with openssl for this run; curl POSTs real
# AdmissionReview bodies (v1 and v1beta1; Pods, Deployments, CronJobs;
# CREATE, UPDATE, DELETE) and checks allowed/status/warnings/audit
# annotations, namespace modes and exemptions, the image and vulnerability
# rules (a real SQLite file), bad bodies (400), oversized bodies (413),
# concurrent clients, health/readiness/metrics, a policy reload by SIGHUP
# (and a broken one that keeps the old policy), the decision log and a clean
# stop.
# shellcheck disable=SC2016
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
it_need_jq
for t in openssl curl sqlite3; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
cleanup() { it_cleanup_common; }
trap cleanup EXIT
trap 'exit 1' INT TERM
it_mktemp
T=$IT_TMP

# --- a CA and a serving certificate for 127.0.0.1, made now ---------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 1 \
	-subj "/CN=vigil test CA" >/dev/null 2>&1 || it_die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/tls.key" -out "$T/tls.csr" \
	-subj "/CN=vigil-webhook" >/dev/null 2>&1 || it_die "openssl: cannot make the key"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$T/ext"
openssl x509 -req -in "$T/tls.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-out "$T/tls.crt" -days 1 -extfile "$T/ext" >/dev/null 2>&1 || it_die "openssl: cannot sign"

# --- stored scan results -------------------------------------------------
DIG_CRIT=sha256:$(printf 'c%.0s' {1..64})
DIG_HIGH=sha256:$(printf 'b%.0s' {1..64})
DIG_NONE=sha256:$(printf 'a%.0s' {1..64})
DIG_UNSCANNED=sha256:$(printf 'd%.0s' {1..64})
sqlite3 "$T/scans.db" "
CREATE TABLE image_scans (digest TEXT PRIMARY KEY, image TEXT, scanned_at INTEGER NOT NULL,
  critical INTEGER NOT NULL DEFAULT 0, high INTEGER NOT NULL DEFAULT 0,
  medium INTEGER NOT NULL DEFAULT 0, low INTEGER NOT NULL DEFAULT 0);
INSERT INTO image_scans VALUES ('$DIG_CRIT', 'registry.example.com/crit', 1, 2, 5, 0, 0);
INSERT INTO image_scans VALUES ('$DIG_HIGH', 'registry.example.com/high', 1, 0, 3, 1, 0);
INSERT INTO image_scans VALUES ('$DIG_NONE', 'registry.example.com/clean', 1, 0, 0, 0, 0);" ||
	it_die "sqlite3: cannot make the scan database"

cat >"$T/policy.yaml" <<Y
defaults:
  enforce: baseline
  warn: restricted
  audit: restricted
namespaces:
  prod:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.30
  old: {enforce: restricted, enforce-version: v1.21}
exemptions:
  namespaces: [kube-system]
  usernames: ["system:serviceaccount:kube-system:daemon-set-controller"]
  runtimeClasses: [kata]
images:
  allowedRegistries: [registry.example.com, docker.io/library]
vulnerabilities:
  database: $T/scans.db
  maxSeverity: high
  unscanned: warn
Y

it_webhook_start "$T/server.err" --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" \
	--policy "$T/policy.yaml" --max-body 65536 --threads 4 --decision-log "$T/decisions.log"
PORT=$IT_PORT
URL=https://127.0.0.1:$PORT

# post FILE -> $T/resp, HTTP status in CODE (verifies the server certificate against our CA)
post() {
	CODE=$(curl -sS --cacert "$T/ca.pem" --max-time 10 -o "$T/resp" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @"$1" "$URL/validate") || CODE=curl-failed
}
# review OUT API OP NS KIND OBJECT_JSON [OLD_JSON] [USER]
review() {
	jq -n --arg api "$2" --arg op "$3" --arg ns "$4" --arg kind "$5" --argjson obj "$6" \
		--argjson old "${7:-null}" --arg user "${8:-alice}" --arg uid "uid-$RANDOM-$RANDOM" \
		'{apiVersion: $api, kind: "AdmissionReview", request: {uid: $uid,
		  kind: {group: "", version: "v1", kind: $kind}, namespace: $ns, operation: $op,
		  userInfo: {username: $user}, object: $obj, oldObject: $old}}' >"$1"
}
# check DESC JQ: the last response satisfies JQ (with $uid = the request's uid)
check() {
	local uid
	uid=$(jq -r '.request.uid' "$REQ")
	if [ "$CODE" != 200 ] || ! jq -e --arg uid "$uid" "$2" "$T/resp" >/dev/null 2>&1; then
		it_fail "$1: HTTP $CODE: $(head -c 600 "$T/resp")"
	fi
}
REQ=$T/req.json
pod() { # NAME SPEC_JSON
	jq -n --arg n "$1" --argjson s "$2" '{apiVersion: "v1", kind: "Pod", metadata: {name: $n}, spec: $s}'
}
C='{"name":"c","image":"registry.example.com/app:1"}'
PRIV='{"containers":[{"name":"c","image":"registry.example.com/app:1","securityContext":{"privileged":true}}]}'
BASE="{\"containers\":[$C]}"
RESTRICTED='{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
 "containers":[{"name":"c","image":"registry.example.com/app:1","securityContext":
 {"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}'

# 1. enforce baseline denies a privileged pod; uid echoed; v1 and v1beta1
for api in admission.k8s.io/v1 admission.k8s.io/v1beta1; do
	review "$REQ" "$api" CREATE default Pod "$(pod p "$PRIV")"
	post "$REQ"
	check "privileged pod ($api)" '.apiVersion == "'"$api"'" and .kind == "AdmissionReview" and
		.response.uid == $uid and .response.allowed == false and .response.status.code == 403 and
		(.response.status.message | test("baseline:latest.*privileged"))'
done
# 2. a baseline pod is admitted with restricted warnings and audit annotations
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(pod ok "$BASE")"
post "$REQ"
check "baseline pod" '.response.allowed == true and
	([.response.warnings[] | select(startswith("would violate PodSecurity \"restricted:latest\""))] | length) >= 3
	and (.response.auditAnnotations["audit-violations"] | test("runAsNonRoot"))
	and .response.auditAnnotations["enforce-policy"] == "baseline:latest"'
# 3. workloads: the template is judged (Deployment, CronJob; create and update)
DEP=$(jq -n --argjson s "$PRIV" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "d"},
	spec: {template: {spec: $s}}}')
review "$REQ" admission.k8s.io/v1 CREATE default Deployment "$DEP"
post "$REQ"
check "privileged Deployment" '.response.allowed == false and (.response.status.message | test("Deployment \"d\""))'
CJ=$(jq -n --argjson s '{"hostPID":true,"containers":[{"name":"c","image":"registry.example.com/j:1"}]}' \
	'{apiVersion: "batch/v1", kind: "CronJob", metadata: {name: "cj"},
	  spec: {schedule: "* * * * *", jobTemplate: {spec: {template: {spec: $s}}}}}')
for op in CREATE UPDATE; do
	review "$REQ" admission.k8s.io/v1 "$op" default CronJob "$CJ" "$CJ"
	post "$REQ"
	check "hostPID CronJob $op" '.response.allowed == false and (.response.status.message | test("hostNamespaces"))'
done
# 4. namespace levels: prod enforces restricted v1.30, old enforces restricted v1.21
review "$REQ" admission.k8s.io/v1 CREATE prod Pod "$(pod r "$RESTRICTED")"
post "$REQ"
check "restricted pod in prod" '.response.allowed == true and
	([.response.warnings[]? | select(startswith("would violate"))] | length) == 0'
review "$REQ" admission.k8s.io/v1 CREATE prod Pod "$(pod b "$BASE")"
post "$REQ"
check "baseline pod in prod" '.response.allowed == false and (.response.status.message | test("restricted:v1.30"))'
RUNASROOT='{"securityContext":{"runAsNonRoot":true,"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
 "containers":[{"name":"c","image":"registry.example.com/app:1","securityContext":{"allowPrivilegeEscalation":false}}]}'
review "$REQ" admission.k8s.io/v1 CREATE old Pod "$(pod u "$RUNASROOT")"
post "$REQ"
check "runAsUser=0 and no drop ALL under restricted v1.21" '.response.allowed == true'
review "$REQ" admission.k8s.io/v1 CREATE prod Pod "$(pod u "$RUNASROOT")"
post "$REQ"
check "runAsUser=0 under restricted v1.30" '.response.allowed == false and
	(.response.status.message | test("runAsUser")) and (.response.status.message | test("capabilities_restricted"))'
# 5. exemptions: namespace, user, runtime class
review "$REQ" admission.k8s.io/v1 CREATE kube-system Pod "$(pod p "$PRIV")"
post "$REQ"
check "exempt namespace" '.response.allowed == true and .response.auditAnnotations.exempt == "namespace"'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(pod p "$PRIV")" null \
	"system:serviceaccount:kube-system:daemon-set-controller"
post "$REQ"
check "exempt user" '.response.allowed == true and .response.auditAnnotations.exempt == "user"'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(pod p "$(jq '.runtimeClassName = "kata"' <<<"$PRIV")")"
post "$REQ"
check "exempt runtime class" '.response.allowed == true and .response.auditAnnotations.exempt == "runtimeClass"'
# 6. updates: an image-only change of a violating pod is not judged again; adding hostNetwork is
OLD=$(pod p "$PRIV")
NEW=$(jq '.spec.containers[0].image = "registry.example.com/app:2"' <<<"$OLD")
review "$REQ" admission.k8s.io/v1 UPDATE default Pod "$NEW" "$OLD"
post "$REQ"
check "image-only pod update" '.response.allowed == true'
NEW=$(pod p "$(jq '.hostNetwork = true' <<<"$BASE")")
review "$REQ" admission.k8s.io/v1 UPDATE default Pod "$NEW" "$(pod p "$BASE")"
post "$REQ"
check "pod update adding hostNetwork" '.response.allowed == false'
review "$REQ" admission.k8s.io/v1 DELETE default Pod null "$(pod p "$PRIV")"
post "$REQ"
check "delete" '.response.allowed == true'
review "$REQ" admission.k8s.io/v1 CREATE default ConfigMap '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}'
post "$REQ"
check "a kind without a pod" '.response.allowed == true and (.response.warnings[0] | test("carries no pod"))'
# 7. images: registry, vulnerabilities by digest, unscanned
img_pod() { pod i "{\"containers\":[{\"name\":\"c\",\"image\":\"$1\"}]}"; }
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(img_pod quay.io/evil/miner:1)"
post "$REQ"
check "registry not allowed" '.response.allowed == false and (.response.status.message | test("image/registry"))'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(img_pod nginx:1.25)"
post "$REQ"
check "docker.io/library allowed, unscanned warns" '.response.allowed == true and
	(.response.warnings | any(test("no stored scan")))'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(img_pod "registry.example.com/crit@$DIG_CRIT")"
post "$REQ"
check "critical vulnerabilities" '.response.allowed == false and (.response.status.message | test("CRITICAL"))'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(img_pod "registry.example.com/high@$DIG_HIGH")"
post "$REQ"
check "high vulnerabilities at maxSeverity high" '.response.allowed == true and
	(.response.warnings | any(test("no stored scan")) | not)'
# 8. bad bodies: 400 with an error, never a crash
printf '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {' >"$T/bad1"
printf '{"apiVersion": "admission.k8s.io/v1", "kind": "Pod", "request": {"uid": "x"}}' >"$T/bad2"
printf '{"apiVersion": "v1", "kind": "AdmissionReview", "request": {"uid": "x"}}' >"$T/bad3"
printf '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}' >"$T/bad4"
printf '[1, 2, 3]' >"$T/bad5"
: >"$T/bad6"
# an alias bomb (YAML, not JSON): refused before the tree grows past the body
printf 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' >"$T/bad7"
for b in bad1 bad2 bad3 bad4 bad5 bad6 bad7; do
	post "$T/$b"
	[ "$CODE" = 400 ] && jq -e '.error | length > 0' "$T/resp" >/dev/null ||
		it_fail "$b: expected 400 with an error, got $CODE: $(head -c 200 "$T/resp")"
done
# `vigil admission review` judges a file offline exactly as the server does
review "$REQ" admission.k8s.io/v1 CREATE prod Pod "$(pod b "$BASE")"
post "$REQ"
"$VIGIL" admission review --policy "$T/policy.yaml" "$REQ" >"$T/offline" 2>"$T/offline.err" ||
	it_fail "admission review: exit $?: $(cat "$T/offline.err")"
jq -e --slurpfile online "$T/resp" '.response.allowed == $online[0].response.allowed and
	.response.status.message == $online[0].response.status.message' "$T/offline" >/dev/null ||
	it_fail "admission review differs from the server: $(head -c 300 "$T/offline")"
"$VIGIL" admission review "$T/bad2" >/dev/null 2>&1 && it_fail "admission review accepted a non-review"
# 9. oversized body: refused with 413
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
post "$T/big"
[ "$CODE" = 413 ] || it_fail "oversized body: expected 413, got $CODE"
# ... answered before the body when the client waits for a go-ahead (Expect: 100-continue)
CODE=$(curl -sS --cacert "$T/ca.pem" --max-time 10 -o "$T/resp" -w '%{http_code}' \
	-H 'Expect: 100-continue' --data-binary @"$T/big" "$URL/validate") || CODE=curl-failed
[ "$CODE" = 413 ] || it_fail "oversized body after Expect: 100-continue: expected 413, got $CODE"
# ... also when streamed without a declared length (chunked): counted, never buffered past the limit
CODE=$(curl -sS --cacert "$T/ca.pem" --max-time 10 -o "$T/resp" -w '%{http_code}' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$URL/validate") || CODE=curl-failed
[ "$CODE" = 413 ] || it_fail "oversized chunked body: expected 413, got $CODE"
# 10. concurrent clients: 64 requests, 16 at a time, every answer right (odd: allowed)
review "$T/tpl0" admission.k8s.io/v1 CREATE default Pod "$(pod p "$PRIV")"
review "$T/tpl1" admission.k8s.io/v1 CREATE default Pod "$(pod p "$BASE")"
for i in $(seq 64); do
	sed "s/\"uid\": *\"[^\"]*\"/\"uid\": \"c-$i\"/" "$T/tpl$((i % 2))" >"$T/c$i"
done
seq 64 | xargs -P 16 -I{} sh -c 'curl -sS --cacert "$1/ca.pem" --max-time 20 \
	--data-binary @"$1/c{}" "$2/validate" >"$1/r{}"' _ "$T" "$URL"
for i in $(seq 64); do cat "$T/r$i"; echo; done >"$T/all"
jq -s -e '[to_entries[] | .value.response.uid == "c-\(.key + 1)" and
	.value.response.allowed == ((.key + 1) % 2 == 1)] | length == 64 and all' "$T/all" >/dev/null ||
	it_fail "concurrent requests: wrong or missing answers: $(head -c 300 "$T/all")"
# 11. health, readiness, metrics; plain HTTP on the TLS port is refused
[ "$(curl -sS --cacert "$T/ca.pem" "$URL/healthz")" = ok ] || it_fail "/healthz"
[ "$(curl -sS --cacert "$T/ca.pem" "$URL/readyz")" = ready ] || it_fail "/readyz"
curl -sS --cacert "$T/ca.pem" "$URL/metrics" >"$T/metrics"
grep -qE '^vigil_admission_decisions_total\{decision="denied"\} [1-9]' "$T/metrics" || it_fail "metrics: no denials"
grep -qE '^vigil_admission_decisions_total\{decision="too_large"\} 3$' "$T/metrics" || it_fail "metrics: too_large"
grep -qE '^vigil_admission_review_duration_seconds_count [1-9]' "$T/metrics" || it_fail "metrics: latency"
if curl -sS --max-time 5 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
	it_fail "plain HTTP answered on the HTTPS port"
fi
# wait_metric TEXT: wait (bounded) until /metrics contains TEXT
wait_metric() {
	for _ in $(seq 50); do
		curl -sS --cacert "$T/ca.pem" "$URL/metrics" | grep -qF "$1" && return 0
		sleep 0.1
	done
	it_fail "metrics never showed $1"
}
# 12. reload: requireDigest makes a tag-only image fail; a broken policy keeps the last good one
printf 'defaults: {enforce: baseline}\nimages: {requireDigest: true}\n' >"$T/policy.yaml"
kill -HUP "$IT_SERVER_PID"
wait_metric 'reloads_total{result="ok"} 1'
review "$REQ" admission.k8s.io/v1 CREATE default Pod "$(img_pod registry.example.com/app:1)"
post "$REQ"
check "after reload: digest required" '.response.allowed == false and (.response.status.message | test("image/digest"))'
echo 'bogus: key' >"$T/policy.yaml"
kill -HUP "$IT_SERVER_PID"
wait_metric 'reloads_total{result="failed"} 1'
grep -q "cannot parse $T/policy.yaml:1:1: unknown key 'bogus'" "$T/server.err" ||
	it_fail "broken policy not reported: $(tail -3 "$T/server.err")"
post "$REQ"
check "after a failed reload the old policy stays" '.response.allowed == false'
# 13. clean stop; the decision log has one line per review
it_webhook_stop || it_fail "server exit status $? after SIGTERM"
grep -qE 'Sanitizer|runtime error:' "$T/server.err" && it_fail "sanitizer: $(grep -m2 -E 'Sanitizer|runtime error' "$T/server.err")"
n=$(wc -l <"$T/decisions.log")
[ "$n" -ge 90 ] || it_fail "decision log has $n lines"
jq -s -e 'any(.[]; .reason == "exempt: user" and (.user | startswith("system:serviceaccount")))' \
	"$T/decisions.log" >/dev/null ||
	it_fail "decision log lacks the exempt user decision"
# 14. a request trickled in (slowloris) is dropped once older than --timeout, though never idle
printf 'defaults: {enforce: baseline}\n' >"$T/policy2.yaml"
it_webhook_start "$T/server2.err" --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" --policy "$T/policy2.yaml" --timeout 1
URL=https://127.0.0.1:$IT_PORT
{
	printf 'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n'
	for _ in 1 2 3 4 5 6 7 8; do printf '{'; sleep 0.4; done
} | timeout 15 openssl s_client -quiet -connect "127.0.0.1:$IT_PORT" -CAfile "$T/ca.pem" >/dev/null 2>&1
wait_metric 'decision="timed_out"} 1'
it_webhook_stop || it_fail "second server exit status $?"
it_finish
