#!/usr/bin/env bash
# Registry pulls against Debian's docker-registry (distribution 2.8) on
# loopback, over TLS with a CA this test makes: an image pushed with podman is
# pulled by `vigil scan image docker://...` and must give the inventory that
# `podman save` of the same image gives; first with htpasswd (Basic)
# authentication, then with token (Bearer) authentication through
# tests/tools/tokensrv.py; a multi-arch index picks linux/amd64; wrong
# credentials, an unverified certificate, an unknown digest, a size limit and
# a corrupted blob in the registry's storage fail with the object named.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
it_need_root
command -v docker-registry >/dev/null || it_skip "docker-registry is not installed (scripts/install-deps)"
command -v openssl >/dev/null || it_skip "openssl is not installed"
command -v curl >/dev/null || it_skip "curl is not installed"
python3 -c 'import crypt' 2>/dev/null || it_skip "python3 without the crypt module (bcrypt for htpasswd)"
. tests/lib/containers.sh
why=$(vg_podman_skip_reason) || it_skip "$why"
it_mktemp
IMG=localhost/vigil-registry-test:$$
REG_PID="" TOK_PID=""
stop_servers() {
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
	[ -n "$TOK_PID" ] && kill "$TOK_PID" 2>/dev/null && wait "$TOK_PID" 2>/dev/null
	REG_PID="" TOK_PID=""
}
cleanup() {
	stop_servers
	podman rmi -f "$IMG" "$IMG-base" >/dev/null 2>&1
	podman manifest rm "$IMG-list" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT
T=$IT_TMP
USER_=vigil PASS=s3cret-$$
# pulls go to private directories under TMPDIR, which must be empty after each scan
export TMPDIR=$T/pulltmp
mkdir -m 0700 "$TMPDIR"

# --- a CA, the servers' certificate for 127.0.0.1, the token signing certificate
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vigil-test-ca \
	-keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null || it_die "openssl: CA"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/srv.key" -out "$T/srv.csr" \
	2>/dev/null || it_die "openssl: server key"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/san.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/san.ext" -out "$T/srv.crt" 2>/dev/null || it_die "openssl: server certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vigil-test-token \
	-keyout "$T/sign.key" -out "$T/sign.crt" 2>/dev/null || it_die "openssl: token certificate"
python3 -W ignore -c 'import crypt, sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
	"$USER_" "$PASS" >"$T/htpasswd" || it_die "htpasswd"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
HOST=127.0.0.1:$PORT

# start_registry AUTH-YAML: (re)start the registry on $PORT with that auth section
start_registry() {
	cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $T/store
http:
  addr: 127.0.0.1:$PORT
  secret: vigil-test-$$
  tls:
    certificate: $T/srv.crt
    key: $T/srv.key
auth:
$1
EOF
	docker-registry serve "$T/registry.yml" >>"$T/registry.log" 2>&1 &
	REG_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$REG_PID" 2>/dev/null || it_die "docker-registry exited: $(tail -n 5 "$T/registry.log")"
		curl -s -o /dev/null --cacert "$T/ca.crt" "https://$HOST/v2/" && return 0
		sleep 0.1
	done
	it_die "docker-registry did not answer on $HOST"
}

start_registry "  htpasswd:
    realm: vigil-test
    path: $T/htpasswd"

# --- an image: this machine's dpkg database plus an npm package, two layers
. tests/integration/scan_lib.sh
scan_dpkg_image "$IMG" "$T/img"
podman save --quiet --format oci-archive -o "$T/saved.tar" "$IMG" || it_die "podman save"
"$VIGIL" scan image "$T/saved.tar" --no-db --no-secrets -f json >"$T/saved.json" || it_die "scan of the saved image"
pkgs() { jq -r '.packages[] | "\(.type) \(.name) \(.version) \(.layer)"' "$1" | sort; }
pkgs "$T/saved.json" >"$T/want"

podman push --quiet --tls-verify=false --creds "$USER_:$PASS" "$IMG" "docker://$HOST/vigil/app:1" \
	2>"$T/push.err" || it_die "podman push: $(cat "$T/push.err")"

# scan_ok NAME REF ARGS...: scan must succeed; its inventory must be the saved image's
scan_ok() {
	local name=$1 ref=$2
	shift 2
	if ! "$VIGIL" scan image "$ref" --no-db --no-secrets -f json "$@" >"$T/$name.json" 2>"$T/$name.err"; then
		it_fail "$name: scan of $ref failed: $(cat "$T/$name.err")"
		return 1
	fi
	pkgs "$T/$name.json" >"$T/got-$name"
	diff -u "$T/want" "$T/got-$name" >"$T/diff-$name" ||
		it_fail "$name: inventory differs from the saved image's: $(head -n 20 "$T/diff-$name")"
	jq -e --arg r "$ref" '.target == $r and .kind == "registry" and ([.layers[] | .verified] | length == 2 and all)' \
		"$T/$name.json" >/dev/null || it_fail "$name: target, kind or layers: $(jq -c '{target, kind, layers}' "$T/$name.json")"
}
# scan_fails NAME PATTERN REF ARGS...: scan must exit 1 with PATTERN in its message
scan_fails() {
	local name=$1 pat=$2 ref=$3 rc
	shift 3
	"$VIGIL" scan image "$ref" --no-db --no-secrets -f json "$@" >/dev/null 2>"$T/$name.err"
	rc=$?
	[ "$rc" -eq 1 ] || it_fail "$name: exit $rc, want 1"
	grep -q -- "$pat" "$T/$name.err" || it_fail "$name: message lacks '$pat': $(cat "$T/$name.err")"
}

# --- Basic authentication: credentials from the environment or an auth file
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_ok basic-env "docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$HOST" "$(printf '%s:%s' "$USER_" "$PASS" | base64 -w0)" >"$T/auth.json"
scan_ok basic-file "docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt" --authfile "$T/auth.json"
digest=$(curl -s -D - -o /dev/null --cacert "$T/ca.crt" -u "$USER_:$PASS" \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
	"https://$HOST/v2/vigil/app/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" {print $2}')
[ -n "$digest" ] || it_fail "registry gave no Docker-Content-Digest"
jq -e --arg d "$digest" '.digest == $d and .tag == "1"' "$T/basic-file.json" >/dev/null ||
	it_fail "the report does not carry the manifest digest $digest: $(jq -c '{digest, tag}' "$T/basic-file.json")"
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_ok by-digest "docker://$HOST/vigil/app@$digest" --ca-file "$T/ca.crt"
# --insecure skips verification; without the CA the certificate is refused
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_ok insecure "docker://$HOST/vigil/app:1" --insecure
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_fails no-ca "certificate" "docker://$HOST/vigil/app:1"
VIGIL_REGISTRY_AUTH="$USER_:wrong" scan_fails wrong-pass "HTTP 401" "docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"
scan_fails no-creds "needs credentials" "docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_fails unknown-tag "manifest nope.*HTTP 404 MANIFEST_UNKNOWN" \
	"docker://$HOST/vigil/app:nope" --ca-file "$T/ca.crt"
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_fails unknown-digest "HTTP 404" \
	"docker://$HOST/vigil/app@sha256:$(printf '0%.0s' {1..64})" --ca-file "$T/ca.crt"
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_fails too-big "more than the 1000 allowed" \
	"docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt" --max-pull-bytes 1000
scan_fails bad-ref "bad repository name" "docker://$HOST/Vigil/App:1"
left=$(ls -A "$TMPDIR")
[ -z "$left" ] || it_fail "temporary pull directories left behind in $TMPDIR: $left"

# --- a multi-arch index: the linux/amd64 entry is scanned, the index digest reported
if podman manifest create "$IMG-list" >/dev/null 2>&1 &&
	podman manifest add "$IMG-list" "containers-storage:$IMG" >/dev/null 2>"$T/manifest.err" &&
	podman manifest push --quiet --all --tls-verify=false --creds "$USER_:$PASS" "$IMG-list" \
		"docker://$HOST/vigil/multi:1" >/dev/null 2>>"$T/manifest.err"; then
	VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_ok index "docker://$HOST/vigil/multi:1" --ca-file "$T/ca.crt"
	curl -s -D "$T/index.hdr" -o "$T/index.body" --cacert "$T/ca.crt" -u "$USER_:$PASS" \
		-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
		"https://$HOST/v2/vigil/multi/manifests/1"
	idx=$(tr -d '\r' <"$T/index.hdr" | awk -F': ' 'tolower($1) == "docker-content-digest" {print $2}')
	jq -e '.manifests | length >= 1' "$T/index.body" >/dev/null || it_fail "vigil/multi:1 is not an index"
	jq -e --arg d "$idx" '.digest == $d' "$T/index.json" >/dev/null ||
		it_fail "index: the report's digest is not the index's ($idx): $(jq -c .digest "$T/index.json")"
else
	it_fail "podman manifest push: $(cat "$T/manifest.err")"
fi

# --- Bearer tokens: the registry trusts tokens signed by sign.crt, issued by tokensrv.py
stop_servers
python3 tests/tools/tokensrv.py --port-file "$T/tokport" --cert "$T/srv.crt" --key "$T/srv.key" \
	--sign-key "$T/sign.key" --sign-cert "$T/sign.crt" --issuer vigil-test-issuer \
	--user "$USER_" --password "$PASS" --log "$T/token.log" 2>"$T/tokensrv.err" &
TOK_PID=$!
for ((i = 0; i < 100; i++)); do [ -s "$T/tokport" ] && break; sleep 0.1; done
[ -s "$T/tokport" ] || it_die "token server did not start: $(cat "$T/tokensrv.err")"
start_registry "  token:
    realm: https://127.0.0.1:$(cat "$T/tokport")/token
    service: vigil-test-registry
    issuer: vigil-test-issuer
    rootcertbundle: $T/sign.crt"
: >"$T/token.log"
VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_ok bearer "docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"
grep -q "scope=repository%3Avigil%2Fapp%3Apull.* user=$USER_ status=200" "$T/token.log" ||
	it_fail "no token was issued for vigil/app pull: $(cat "$T/token.log")"
VIGIL_REGISTRY_AUTH="$USER_:wrong" scan_fails bearer-wrong "token server .* answered HTTP 401" \
	"docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"

# --- a corrupted layer in the registry's storage: the pull names the blob
layer=$(jq -r '.layers[1].digest' "$T/basic-file.json")
data=$T/store/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data
if [ -f "$data" ]; then
	printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
	VIGIL_REGISTRY_AUTH="$USER_:$PASS" scan_fails corrupt "layer 2 blob $layer: digest mismatch" \
		"docker://$HOST/vigil/app:1" --ca-file "$T/ca.crt"
else
	it_fail "layer 2 ($layer) not found in the registry's storage at $data"
fi
echo "pulled vigil/app:1 ($(wc -l <"$T/want") packages) with Basic and Bearer authentication"
it_finish
