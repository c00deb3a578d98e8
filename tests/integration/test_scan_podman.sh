#!/usr/bin/env bash
# An image built with podman from this machine's dpkg database, saved in every
# format podman writes (docker-archive, oci-archive, oci-dir): its dpkg
# inventory must equal `dpkg-query -W` here, with source packages. This one
# checks layering (two layers, a package of layer 2) and oci-dir; a real Debian
# rootfs and its images are test_scan_debootstrap.sh's.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
it_need_root
command -v dpkg-query >/dev/null || it_skip "dpkg-query is not installed"
# shellcheck source=tests/lib/containers.sh
. tests/lib/containers.sh
why=$(vg_podman_skip_reason) || it_skip "$why"
it_mktemp
IMG=localhost/vigil-scan-test:$$
cleanup() {
	podman rmi -f "$IMG" "$IMG-base" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT

. tests/integration/scan_lib.sh
scan_dpkg_image "$IMG" "$IT_TMP/img"

dpkg-query -W -f '${db:Status-Status} ${Package} ${Version}\n' | awk '$1 == "installed" {print $2, $3}' |
	sort >"$IT_TMP/want"
[ -s "$IT_TMP/want" ] || it_skip "no installed dpkg packages here"
id=$(. /etc/os-release && echo "$ID")

for fmt in docker-archive oci-archive oci-dir; do
	out=$IT_TMP/img-$fmt
	podman save --quiet --format "$fmt" -o "$out" "$IMG" 2>"$IT_TMP/save.err" ||
		{ it_fail "podman save --format $fmt: $(cat "$IT_TMP/save.err")"; continue; }
	"$VIGIL" scan image "$out" --no-secrets -f json >"$IT_TMP/$fmt.json" 2>"$IT_TMP/$fmt.err" ||
		{ it_fail "scan $fmt: $(cat "$IT_TMP/$fmt.err")"; continue; }
	jq -r '.packages[] | select(.type=="deb") | "\(.name) \(.version)"' "$IT_TMP/$fmt.json" | sort >"$IT_TMP/got"
	diff -u "$IT_TMP/want" "$IT_TMP/got" >"$IT_TMP/diff" || it_fail "$fmt: dpkg inventory differs: $(head -20 "$IT_TMP/diff")"
	jq -e '[.layers[] | .verified] | length == 2 and all' "$IT_TMP/$fmt.json" >/dev/null ||
		it_fail "$fmt: two verified layers expected: $(jq -c .layers "$IT_TMP/$fmt.json")"
	jq -e --arg id "$id" '.os.id == $id' "$IT_TMP/$fmt.json" >/dev/null || it_fail "$fmt: OS"
	jq -e '.packages[] | select(.name=="left-pad") | .layer == 2' "$IT_TMP/$fmt.json" >/dev/null ||
		it_fail "$fmt: npm package of layer 2"
	# source packages as dpkg-query reports them
	src=$(dpkg-query -W -f '${source:Package}' libc6 2>/dev/null)
	if [ -n "$src" ]; then
		jq -e --arg s "$src" '.packages[] | select(.name=="libc6") | .source.name == $s' "$IT_TMP/$fmt.json" \
			>/dev/null || it_fail "$fmt: libc6 source package is not $src"
	fi
done
echo "$(wc -l <"$IT_TMP/want") dpkg packages compared in 3 formats"
it_finish
