#!/bin/bash
# test_deploy_webhook.sh: deploy/kubernetes. make-certs.sh makes a CA and a
# serving certificate that verifies for vigil-webhook.vigil-system.svc, a TLS
# Secret and a webhook configuration whose caBundle is that CA; the webhook
# serves with those files and curl, trusting only the CA and resolving the
# service name to loopback, gets /healthz; the manifests pass `vigil scan
# config` at restricted (the webhook runs under the level it enforces).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

it_need_vigil
for t in openssl curl base64; do
	command -v "$t" >/dev/null 2>&1 || it_skip "$t is not installed"
done
cleanup() { it_cleanup_common; }
trap cleanup EXIT
it_mktemp
O=$IT_TMP/certs
deploy/kubernetes/make-certs.sh --out "$O" --days 2 >"$IT_TMP/out" 2>&1 || it_die "make-certs.sh failed: $(cat "$IT_TMP/out")"
deploy/kubernetes/make-certs.sh --out "$O" >/dev/null 2>&1 && it_fail "make-certs.sh overwrote existing files"
deploy/kubernetes/make-certs.sh --namespace 'a;b' --out "$IT_TMP/x" >/dev/null 2>&1 && it_fail "a bad namespace was accepted"

openssl verify -CAfile "$O/ca.crt" "$O/tls.crt" >/dev/null 2>&1 || it_fail "tls.crt does not verify against ca.crt"
openssl x509 -in "$O/tls.crt" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:vigil-webhook.vigil-system.svc' ||
	it_fail "tls.crt lacks the service name"
bundle=$(sed -n 's/^ *caBundle: *//p' "$O/webhook-configuration.yaml")
[ "$(printf '%s' "$bundle" | base64 -d)" = "$(cat "$O/ca.crt")" ] || it_fail "caBundle is not the CA"
grep -q '@' "$O/webhook-configuration.yaml" && it_fail "unrendered placeholder in the webhook configuration"
[ "$(stat -c %a "$O/tls.key")" = 600 ] || it_fail "tls.key is not private"

"$VIGIL" scan config --format json "$O/webhook-configuration.yaml" "$O/tls-secret.yaml" >"$IT_TMP/scan" 2>&1 ||
	it_fail "rendered manifests do not parse: $(head -c 300 "$IT_TMP/scan")"
"$VIGIL" scan config --pss restricted --checks pss --exit-code 1 deploy/kubernetes >"$IT_TMP/scan" 2>&1 ||
	it_fail "deploy/kubernetes violates restricted: $(head -c 500 "$IT_TMP/scan")"

it_webhook_start "$IT_TMP/server.err" --tls-cert "$O/tls.crt" --tls-key "$O/tls.key"
PORT=$IT_PORT
H=vigil-webhook.vigil-system.svc
got=$(curl -sS --max-time 10 --cacert "$O/ca.crt" --resolve "$H:$PORT:127.0.0.1" "https://$H:$PORT/healthz" 2>&1)
[ "$got" = ok ] || it_fail "https://$H/healthz with the generated CA: $got"
it_webhook_stop || it_fail "server exit status $? after SIGTERM"
it_finish
