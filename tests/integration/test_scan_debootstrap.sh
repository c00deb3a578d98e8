#!/usr/bin/env bash
# A minimal Debian root file system built with debootstrap from the mirror apt
# is configured with: the dpkg inventory of `vigil scan rootfs` must equal
# `dpkg-query -W` run inside it (names, versions, source packages and their
# versions). The same rootfs imported into podman and saved as docker-archive
# and oci-archive must give the same inventory.
#
# The rootfs is built once and cached under $VIGIL_TEST_CACHE
# (/var/cache/vigil-test); delete that directory to rebuild it. Skips when
# debootstrap is missing or cannot reach the mirror.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
it_need_vigil
it_need_jq
it_need_root
command -v debootstrap >/dev/null || it_skip "debootstrap is not installed (scripts/install-deps)"
command -v flock >/dev/null || it_skip "flock is not installed"

CACHE=${VIGIL_TEST_CACHE:-/var/cache/vigil-test}
SUITE=bookworm
ROOTFS=$CACHE/debootstrap-$SUITE-minbase

# apt_mirror SUITE: print the URI of the first apt source (one-line or deb822
# format) that serves SUITE.
apt_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$1" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: paragraphs separated by blank lines; Types, URIs and Suites fields
		awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" }
			{ t = u = ok = ""; for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) t = 1
				if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
				if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 } }
			  if (t && ok && u != "") { print u; exit } }' "$f"
	done
}

# build_rootfs: debootstrap into a temporary directory next to the cache and
# rename it into place, under a lock, so a half-built tree is never used.
build_rootfs() {
	local mirror tmp
	mirror=$(apt_mirror "$SUITE" | head -n 1)
	[ -n "$mirror" ] || it_skip "no apt source for $SUITE in /etc/apt/sources.list*"
	tmp=$(mktemp -d "$CACHE/.build.XXXXXX") || it_die "mktemp in $CACHE"
	echo "debootstrap --variant=minbase $SUITE from $mirror (once; cached in $ROOTFS)"
	if ! timeout 240 debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
		rm -rf "$tmp"
		it_skip "debootstrap $SUITE from $mirror failed (no route to the mirror?): $(tail -n 2 "$CACHE/debootstrap.log" | tr '\n' ' ')"
	fi
	chmod 755 "$tmp" && mv "$tmp" "$ROOTFS" || it_die "cannot rename $tmp to $ROOTFS"
}

mkdir -p "$CACHE" || it_die "cannot create $CACHE"
exec 9>"$CACHE/.lock"
flock 9 || it_die "cannot lock $CACHE/.lock"
[ -x "$ROOTFS/usr/bin/dpkg-query" ] || build_rootfs
flock -u 9

it_mktemp
IMG=localhost/vigil-debootstrap-test:$$
cleanup() {
	podman rmi -f "$IMG" >/dev/null 2>&1
	it_cleanup_common
}
trap cleanup EXIT

# what dpkg itself says is installed in that rootfs
chroot "$ROOTFS" dpkg-query -W -f '${db:Status-Status} ${Package} ${Version} ${source:Package} ${source:Version}\n' |
	awk '$1 == "installed" { print $2, $3, $4, $5 }' | sort >"$IT_TMP/want" ||
	it_die "dpkg-query in the chroot failed"
[ "$(wc -l <"$IT_TMP/want")" -gt 50 ] || it_die "too few packages in $ROOTFS: $(wc -l <"$IT_TMP/want")"

# inventory NAME JSON: compare the scan's deb packages with the chroot's
inventory() {
	jq -r '.packages[] | select(.type == "deb") |
		"\(.name) \(.version) \(.source.name // .name) \(.source.version // .version)"' "$2" |
		sort >"$IT_TMP/got-$1"
	diff -u "$IT_TMP/want" "$IT_TMP/got-$1" >"$IT_TMP/diff-$1" ||
		it_fail "$1: dpkg inventory differs from dpkg-query -W: $(head -n 20 "$IT_TMP/diff-$1")"
	jq -e '.os.ecosystem == "Debian:12"' "$2" >/dev/null || it_fail "$1: OS ecosystem: $(jq -c .os "$2")"
}

"$VIGIL" scan rootfs "$ROOTFS" --no-db --no-secrets -f json >"$IT_TMP/rootfs.json" 2>"$IT_TMP/rootfs.err" ||
	it_fail "scan rootfs: $(cat "$IT_TMP/rootfs.err")"
inventory rootfs "$IT_TMP/rootfs.json"

# the same tree as a one-layer podman image, saved in both archive formats
. tests/lib/containers.sh
if why=$(vg_podman_skip_reason); then
	tar --numeric-owner -C "$ROOTFS" -cf "$IT_TMP/rootfs.tar" . || it_die "tar of $ROOTFS"
	podman import --quiet "$IT_TMP/rootfs.tar" "$IMG" >/dev/null 2>"$IT_TMP/import.err" ||
		it_die "podman import: $(cat "$IT_TMP/import.err")"
	rm -f "$IT_TMP/rootfs.tar"
	for fmt in docker-archive oci-archive; do
		podman save --quiet --format "$fmt" -o "$IT_TMP/img-$fmt" "$IMG" 2>"$IT_TMP/save.err" ||
			{ it_fail "podman save --format $fmt: $(cat "$IT_TMP/save.err")"; continue; }
		"$VIGIL" scan image "$IT_TMP/img-$fmt" --no-db --no-secrets -f json >"$IT_TMP/$fmt.json" 2>"$IT_TMP/$fmt.err" ||
			{ it_fail "scan $fmt: $(cat "$IT_TMP/$fmt.err")"; continue; }
		inventory "$fmt" "$IT_TMP/$fmt.json"
		jq -e '[.layers[] | .verified] | length == 1 and all' "$IT_TMP/$fmt.json" >/dev/null ||
			it_fail "$fmt: one verified layer expected: $(jq -c .layers "$IT_TMP/$fmt.json")"
		rm -f "$IT_TMP/img-$fmt"
	done
	echo "$(wc -l <"$IT_TMP/want") dpkg packages compared: rootfs, docker-archive, oci-archive"
else
	[ "$IT_FAILS" -eq 0 ] || it_finish
	it_skip "the rootfs inventory matched ($(wc -l <"$IT_TMP/want") packages) but the image part cannot run: $why"
fi
it_finish
