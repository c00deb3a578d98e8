#!/usr/bin/env bash
# make-certs.sh: make the webhook's serving certificate and fill caBundle.
#
#   deploy/kubernetes/make-certs.sh [--namespace NS] [--service NAME] [--out DIR] [--days N]
#
# Creates in DIR (default ./vigil-certs): a CA (ca.crt, ca.key), a serving
# key and certificate for NAME.NS.svc (tls.key, tls.crt; also NAME, NAME.NS,
# NAME.NS.svc.cluster.local), tls-secret.yaml (Secret vigil-webhook-tls) and
# webhook-configuration.yaml (this directory's template with caBundle set).
# It runs openssl only and never contacts a cluster; apply the results with
#   kubectl apply -f deploy/kubernetes/vigil-webhook.yaml \
#     -f DIR/tls-secret.yaml -f DIR/webhook-configuration.yaml
# Keep ca.key offline (or delete it): it is needed only to sign a new
# serving certificate. Existing files in DIR are not overwritten.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
ns=vigil-system svc=vigil-webhook out=./vigil-certs days=365
while [ $# -gt 0 ]; do
	case $1 in
	--namespace) ns=$2; shift 2 ;;
	--service) svc=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--days) days=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "make-certs.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $ns =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ && $svc =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || {
	echo "make-certs.sh: namespace and service must be DNS labels" >&2
	exit 2
}
[[ $days =~ ^[0-9]+$ ]] || { echo "make-certs.sh: --days takes a number" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
for f in ca.crt ca.key tls.crt tls.key; do
	[ ! -e "$out/$f" ] || { echo "make-certs.sh: $out/$f exists; not overwriting" >&2; exit 1; }
done
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -days "$days" -subj "/CN=vigil webhook CA" \
	-keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj "/CN=$svc.$ns.svc" \
	-keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
	"$svc" "$svc" "$ns" "$svc" "$ns" "$svc" "$ns" >"$out/tls.ext"
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
	-days "$days" -extfile "$out/tls.ext" -out "$out/tls.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/tls.ext" "$out/ca.srl"
ca_b64=$(base64 -w0 <"$out/ca.crt")
cat >"$out/tls-secret.yaml" <<Y
apiVersion: v1
kind: Secret
metadata:
  name: vigil-webhook-tls
  namespace: $ns
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 <"$out/tls.crt")
  tls.key: $(base64 -w0 <"$out/tls.key")
Y
sed -e "s|@CA_BUNDLE@|$ca_b64|" -e "s|@NAMESPACE@|$ns|g" -e "s|@SERVICE@|$svc|g" \
	"$here/webhook-configuration.yaml.in" >"$out/webhook-configuration.yaml"
echo "wrote $out/{ca.crt,ca.key,tls.crt,tls.key,tls-secret.yaml,webhook-configuration.yaml}"
