#!/usr/bin/env bash
# vigil scan rootfs: secrets through the real walk, which reads files in 64 KiB
# chunks: keywords and secrets cut by a chunk boundary, a NUL inside the first
# 8 KiB (binary: skipped) and after it (searched), files of exactly 8 MiB
# (searched) and one byte more (skipped), many keywords with no secret, and the
# exact findings (rule, path, line) of the whole tree.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
command -v python3 >/dev/null || it_skip "python3 is not installed (writes the tree)"
it_mktemp
trap it_cleanup_common EXIT
T=$IT_TMP/tree
mkdir -p "$T/etc" "$T/srv"

python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
aws = b"AKIAZ7Q2W3E4R5T6Y7U8"
ghp = b"ghp_0123456789abcdefghijABCDEFGHIJ012345"
pem = b"-----BEGIN RSA PRIVATE KEY-----"
url = b"postgres://app:S3cr3tPw0rd@db.internal:5432/app"
gen = b'api_key = "Zx8Qm2Lp9Vt4Rw7Ks1Nd"'
line = b"the token is read; see http://host/x (private) eyJhbG sk_test_ password = 'short'\n"

def filler(n):
    """n bytes of lines full of keywords that match nothing, ending with a newline"""
    b = (line * (n // len(line) + 1))[:n]
    return b[:-1] + b"\n" if n else b

def put(name, data):
    open(t + "/" + name, "wb").write(data)

# each secret cut by the first 64 KiB chunk boundary at every place inside it
for s, name in ((aws, "aws"), (ghp, "ghp"), (pem, "pem"), (url, "url"), (gen, "gen")):
    for cut in (1, len(s) // 2, len(s) - 1):
        put("srv/%s-cut%d" % (name, cut), filler(65536 - cut) + s + b"\n")
# a keyword across the second boundary, on line 3 of its file
put("srv/pem-128k", b"x\ny\n" + b"-" * (131072 - 4 - 16) + b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
# NUL in the first 8 KiB: binary, skipped; NUL after it: text, searched
put("srv/binary", b"\0" + filler(100) + aws + b"\n")
put("srv/nul-late", filler(8192) + b"\0\n" + aws + b"\n")
# 8 MiB exactly: searched (secret at the very end); one byte more: skipped
put("srv/eight-mib", filler(8 * 1048576 - len(aws)) + aws)
put("srv/eight-mib-plus", filler(8 * 1048576 + 1 - len(aws)) + aws)
# thousands of keywords (every rule's), no secret
put("etc/noise", filler(3 * 1048576))
PY
[ -s "$T/srv/eight-mib" ] || it_die "the tree was not written"

"$VIGIL" scan rootfs "$T" --no-db -f json >"$IT_TMP/s.json" || it_fail "scan rootfs exit $?"
got=$(jq -c '[.secrets[] | [.rule, .path, .line]] | sort' "$IT_TMP/s.json")
lines() { # FILE: the line number of the file's last line
	local n; n=$(wc -l <"$T/$1"); echo $((n + 0))
}
want=$(
	for n in aws ghp pem url gen; do
		case $n in
		aws) r=aws-access-key-id ;; ghp) r=github-token ;; pem) r=private-key ;;
		url) r=password-in-url ;; gen) r=generic-secret ;;
		esac
		for f in "$T"/srv/$n-cut*; do
			printf '["%s","srv/%s",%d]\n' "$r" "${f##*/}" "$(lines "srv/${f##*/}")"
		done
	done
	printf '["private-key","srv/pem-128k",3]\n'
	printf '["aws-access-key-id","srv/nul-late",%d]\n' "$(lines srv/nul-late)"
	printf '["aws-access-key-id","srv/eight-mib",%d]\n' $(($(lines srv/eight-mib) + 1))
)
want=$(echo "$want" | jq -sc 'sort')
[ "$got" = "$want" ] || it_fail "findings:
got:  $got
want: $want"
# the same tree without the AVX2 pass cannot be asked for from the CLI; the unit test
# and fuzz_secrets compare both passes with the plain search
"$VIGIL" scan rootfs "$T" --no-db --no-secrets -f json | jq -e '.secrets == []' >/dev/null ||
	it_fail "--no-secrets"
it_finish
