#!/usr/bin/env bash
# vigil scan image/rootfs: the shared Alpine and OCI images, images built here
# (multi-layer with whiteouts in three formats, hostile archives) and a rootfs.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
command -v python3 >/dev/null || it_skip "python3 is not installed (builds the test images)"
command -v zstd >/dev/null || it_skip "zstd is not installed (builds a zstd layer)"
it_mktemp
trap it_cleanup_common EXIT
DATA=${VIGIL_SHARED_DATA:-../shared/data}

python3 tests/tools/mkimage.py "$IT_TMP/img" || it_die "mkimage.py failed"

# --- shared images: the inventory equals the apk database of the layer
if [ -r "$DATA/images/alpine-310.tar.gz" ]; then
	for v in 310 311; do
		img=$DATA/images/alpine-$v.tar.gz
		"$VIGIL" scan image "$img" -f json >"$IT_TMP/a.json" || it_fail "scan alpine-$v"
		layer=$(tar tzf "$img" | grep layer.tar)
		tar xzf "$img" -O "$layer" | tar x -O lib/apk/db/installed >"$IT_TMP/installed" ||
			it_fail "cannot extract the apk database of alpine-$v"
		want=$(paste -d' ' <(grep '^P:' "$IT_TMP/installed" | cut -c3-) \
			<(grep '^V:' "$IT_TMP/installed" | cut -c3-) | sort)
		got=$(jq -r '.packages[] | select(.type=="apk") | "\(.name) \(.version)"' "$IT_TMP/a.json" | sort)
		[ "$want" = "$got" ] || it_fail "alpine-$v inventory differs from its apk db"
		[ "$(echo "$got" | wc -l)" -eq 14 ] || it_fail "alpine-$v: expected 14 packages"
		jq -e '.layers | length == 1 and .[0].verified' "$IT_TMP/a.json" >/dev/null ||
			it_fail "alpine-$v layer digest not verified"
	done
	jq -e '.os.ecosystem == "Alpine:v3.11" and .os.version == "3.11.5"' "$IT_TMP/a.json" >/dev/null ||
		it_fail "alpine-311 OS not detected"
	jq -e '.packages[] | select(.name=="musl") | .purl == "pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=3.11.5"' \
		"$IT_TMP/a.json" >/dev/null || it_fail "alpine-311 musl purl"
	"$VIGIL" scan image "$DATA/images/test.oci" -f json >"$IT_TMP/o.json" || it_fail "scan test.oci"
	jq -e '.kind == "oci-layout" and (.layers | length == 1) and .layers[0].verified and .layers[0].entries == 1' \
		"$IT_TMP/o.json" >/dev/null || it_fail "test.oci layout not read"
else
	echo "note: $DATA/images absent, shared-image checks skipped"
fi

# --- a three-layer image: whiteouts, opaque dirs, replaced files, all three formats
for f in multi.tar multi-oci multi-oci.tar; do
	"$VIGIL" scan image "$IT_TMP/img/$f" -f json >"$IT_TMP/m.json" 2>"$IT_TMP/m.err" ||
		{ it_fail "scan $f: $(cat "$IT_TMP/m.err")"; continue; }
	got=$(jq -c '[.packages[] | [.name, .version, .layer, .type]]' "$IT_TMP/m.json")
	want='[["lodash","4.17.20",1,"npm"],["libc6","2.36-9+deb12u4",1,"deb"],["openssl","3.0.11-1~deb12u2",1,"deb"],["libssl3","3.0.11-1~deb12u2",1,"deb"],["@scope/pkg","1.0.0",2,"npm"],["minimist","1.2.5",2,"npm"],["b","2.0.0",2,"npm"],["requests","2.31.0",3,"pypi"]]'
	[ "$got" = "$want" ] || it_fail "$f packages: $got"
	jq -e '.os.ecosystem == "Debian:12"' "$IT_TMP/m.json" >/dev/null || it_fail "$f: OS via symlinked os-release"
	jq -e '[.layers[].verified] == [true,true,true]' "$IT_TMP/m.json" >/dev/null || it_fail "$f: digests"
	jq -e '.packages[] | select(.name=="libssl3") | .source == {"name":"openssl","version":"3.0.11-1~deb12u2"} and .purl == "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"' \
		"$IT_TMP/m.json" >/dev/null || it_fail "$f: dpkg source package / purl"
	jq -e '.packages[] | select(.name=="@scope/pkg") | .purl == "pkg:npm/%40scope/pkg@1.0.0"' \
		"$IT_TMP/m.json" >/dev/null || it_fail "$f: npm scoped purl"
	# a secret deleted by layer 2 is still reported, marked deleted, redacted
	jq -e '[.secrets[] | [.rule, .layer, .path, .line, .deleted]] == [["aws-access-key-id",1,"root/.aws/credentials",1,true],["private-key",3,"etc/ssl/private/key.pem",1,false]]' \
		"$IT_TMP/m.json" >/dev/null || it_fail "$f secrets: $(jq -c .secrets "$IT_TMP/m.json")"
	grep -q 'AKIAIOSFODNN7Q2W3E4R' "$IT_TMP/m.json" && it_fail "$f: secret not redacted"
done
"$VIGIL" scan image "$IT_TMP/img/multi.tar" --no-secrets -f json | jq -e '.secrets == []' >/dev/null ||
	it_fail "--no-secrets"
"$VIGIL" scan image "$IT_TMP/img/multi-oci" --select 1.0 -f json >/dev/null || it_fail "--select by ref name"
"$VIGIL" scan image "$IT_TMP/img/multi-oci" --select nope -f json >/dev/null 2>"$IT_TMP/e" &&
	it_fail "--select of a missing tag succeeded"

# a repeated layer stored once, the second layer.tar a symlink to the first
"$VIGIL" scan image "$IT_TMP/img/symlayer.tar" -f json >"$IT_TMP/sl.json" || it_fail "symlayer.tar"
jq -e '[.layers[] | .verified] == [true, true] and [.packages[] | [.name, .layer]] == [["zlib", 2]]' \
	"$IT_TMP/sl.json" >/dev/null || it_fail "symlinked layer: $(jq -c '[.layers, .packages]' "$IT_TMP/sl.json")"

# names with terminal escapes never reach the terminal raw (table and messages)
"$VIGIL" scan image "$IT_TMP/img/escapes.tar" >"$IT_TMP/esc.out" 2>&1 || it_fail "escapes.tar"
grep -q $'\x1b' "$IT_TMP/esc.out" && it_fail "an escape sequence from the image reached the output"
grep -q 'evil?]0;pwned?' "$IT_TMP/esc.out" || it_fail "escapes.tar: package not shown: $(head -c 300 "$IT_TMP/esc.out")"

# --- hostile archives: refused with the layer and the entry named, nothing written
expect_error() { # FILE PATTERN [ARGS...]
	local f=$1 pat=$2 rc
	shift 2
	"$VIGIL" scan image "$IT_TMP/img/$f" "$@" >"$IT_TMP/h.out" 2>"$IT_TMP/h.err"
	rc=$?
	[ "$rc" -eq 1 ] || it_fail "$f: exit $rc, expected 1"
	grep -q -- "$pat" "$IT_TMP/h.err" || it_fail "$f: error '$(cat "$IT_TMP/h.err")' lacks '$pat'"
}
expect_error dotdot.tar "layer 1 .*entry '../../escape': path leaves the image root"
expect_error hardlink.tar "entry 'x': hardlink target '../../etc/shadow' leaves the image root"
expect_error badsum-oci "layer 1 .*digest mismatch"
expect_error big.tar "entry 'big': layer expands beyond 1000000 bytes" --max-layer-bytes 1000000
expect_error many.tar "more than 1000 entries" --max-entries 1000
expect_error notar.tar "cannot read layer 1 (l/layer.tar)"
[ -e /escape ] && it_fail "an entry was written outside the scan"
# symlinks are resolved inside the image root, never on the host
"$VIGIL" scan image "$IT_TMP/img/escape.tar" -f json >"$IT_TMP/x.json" || it_fail "escape.tar"
jq -e '.os == null' "$IT_TMP/x.json" >/dev/null || it_fail "escape.tar: OS read through a symlink leaving the root"
# duplicate entries: the last one wins
"$VIGIL" scan image "$IT_TMP/img/dup.tar" -f json | jq -e '[.packages[].name] == ["second"]' >/dev/null ||
	it_fail "dup.tar: the later duplicate entry must win"

# --- rootfs: a directory tree; a symlink pointing at the host's /etc is not followed
root=$IT_TMP/root
mkdir -p "$root/lib/apk/db" "$root/etc" "$root/usr/lib/node_modules/left-pad"
printf 'P:zlib\nV:1.2.11-r3\nA:x86_64\n\nP:busybox\nV:1.31.1-r9\no:busybox\n' >"$root/lib/apk/db/installed"
printf '3.12.0\n' >"$root/etc/alpine-release"
ln -s /etc/os-release "$root/etc/os-release"
ln -s /etc "$root/hostetc"
printf '{"name":"left-pad","version":"1.3.0"}' >"$root/usr/lib/node_modules/left-pad/package.json"
mkfifo "$root/fifo"
"$VIGIL" scan rootfs "$root" -f json >"$IT_TMP/r.json" || it_fail "scan rootfs"
jq -e '[.packages[] | "\(.name)@\(.version)"] == ["zlib@1.2.11-r3","busybox@1.31.1-r9","left-pad@1.3.0"]' \
	"$IT_TMP/r.json" >/dev/null || it_fail "rootfs packages: $(jq -c '[.packages[].name]' "$IT_TMP/r.json")"
jq -e '.os.id == "alpine" and .os.ecosystem == "Alpine:v3.12"' "$IT_TMP/r.json" >/dev/null ||
	it_fail "rootfs OS: $(jq -c .os "$IT_TMP/r.json")"

# --- image config checks
"$VIGIL" scan image "$IT_TMP/img/badconfig.tar" -f json >"$IT_TMP/c.json" || it_fail "badconfig.tar"
got=$(jq -c '[.config[].id]' "$IT_TMP/c.json")
[ "$got" = '["root-user","ssh-port","secret-env","no-healthcheck","curl-pipe-shell"]' ] || it_fail "config checks: $got"
jq -e '.config[] | select(.id=="secret-env") | .message | contains("DB_PASSWORD") and (contains("hunter2") | not)' \
	"$IT_TMP/c.json" >/dev/null || it_fail "secret-env must name the variable, not the value"
"$VIGIL" scan image "$IT_TMP/img/goodconfig.tar" -f json | jq -e '.config == []' >/dev/null || it_fail "goodconfig.tar"
"$VIGIL" scan image "$IT_TMP/img/goodconfig.tar" --exit-code 4 >/dev/null; [ $? -eq 0 ] || it_fail "clean image: exit 0"
"$VIGIL" scan image "$IT_TMP/img/badconfig.tar" --severity HIGH --exit-code 4 >/dev/null; [ $? -eq 4 ] ||
	it_fail "config findings at HIGH must trip --exit-code"

# --- formats
for fmt in table cyclonedx spdx sarif; do
	"$VIGIL" scan image "$IT_TMP/img/multi.tar" -f $fmt >"$IT_TMP/f.$fmt" || it_fail "format $fmt"
done
grep -q 'libssl3' "$IT_TMP/f.table" || it_fail "table lacks packages"
jq -e '.bomFormat == "CycloneDX" and .specVersion == "1.5" and (.components | map(select(.purl)) | length == 8)' \
	"$IT_TMP/f.cyclonedx" >/dev/null || it_fail "cyclonedx"
jq -e '.spdxVersion == "SPDX-2.3" and (.packages | length == 9) and .packages[1].externalRefs[0].referenceType == "purl"' \
	"$IT_TMP/f.spdx" >/dev/null || it_fail "spdx"
jq -e '.version == "2.1.0" and .runs[0].results[0].locations[0].physicalLocation.region.startLine == 1' \
	"$IT_TMP/f.sarif" >/dev/null || it_fail "sarif"
# SARIF has every finding the JSON report has: vulnerabilities, secrets and image configuration
for img in multi badconfig; do
	"$VIGIL" scan image "$IT_TMP/img/$img.tar" -f json >"$IT_TMP/n.json"
	"$VIGIL" scan image "$IT_TMP/img/$img.tar" -f sarif >"$IT_TMP/n.sarif"
	want=$(jq '(.vulnerabilities | length) + (.secrets | length) + (.config | length)' "$IT_TMP/n.json")
	jq -e --argjson n "$want" --slurpfile J "$IT_TMP/n.json" '(.runs[0].results | length) == $n and
		([.runs[0].results[].ruleId] | contains([$J[0].config[].id]))' "$IT_TMP/n.sarif" >/dev/null ||
		it_fail "sarif of $img.tar: not the $want findings of the JSON report (config: $(jq -c '[.config[].id]' "$IT_TMP/n.json"))"
done
jq -e '.config | length > 0' "$IT_TMP/n.json" >/dev/null || it_fail "badconfig.tar has no config findings"

# --- the scan store: look an image up by manifest digest or image ID
"$VIGIL" scan image "$IT_TMP/img/multi-oci" --store "$IT_TMP/store.db" -f json >"$IT_TMP/s.json" || it_fail "--store"
for key in "$(jq -r .digest "$IT_TMP/s.json")" "$(jq -r .image_id "$IT_TMP/s.json")"; do
	"$VIGIL" scan lookup "$key" --store "$IT_TMP/store.db" >"$IT_TMP/l.json" || it_fail "lookup $key"
	cmp -s <(jq -S 'del(.config)' "$IT_TMP/s.json") <(jq -S 'del(.config)' "$IT_TMP/l.json") ||
		it_fail "stored report differs for $key"
done
"$VIGIL" scan lookup sha256:0000 --store "$IT_TMP/store.db" >/dev/null 2>&1; [ $? -eq 3 ] || it_fail "lookup of an unknown digest: exit 3"
"$VIGIL" scan image "$IT_TMP/img/multi.tar" --store "$IT_TMP/store.db" >/dev/null || it_fail "--store of a docker-archive"

# --- usage errors
"$VIGIL" scan image >/dev/null 2>&1; [ $? -eq 2 ] || it_fail "missing PATH must be a usage error"
"$VIGIL" scan image x -f nope >/dev/null 2>&1; [ $? -eq 2 ] || it_fail "bad format must be a usage error"
"$VIGIL" scan image "$IT_TMP/nonexistent" >/dev/null 2>&1; [ $? -eq 1 ] || it_fail "missing file: exit 1"
"$VIGIL" scan image "$root" 2>&1 | grep -q "use 'vigil scan rootfs'" || it_fail "a plain dir as image: hint"
it_finish
