# shellcheck shell=bash
# scan_lib.sh: helpers of the image scanning tests (test_scan_*.sh). Source it
# after lib.sh; it needs podman (see tests/lib/containers.sh).

# scan_dpkg_image IMG DIR: build the podman image IMG of two layers, in DIR (a
# scratch directory): layer 1 is this machine's dpkg database and os-release,
# layer 2 adds opt/app/node_modules/left-pad (npm 1.3.0). Dies on failure.
scan_dpkg_image() {
	local img=$1 dir=$2
	mkdir -p "$dir/root/var/lib/dpkg" "$dir/root/etc" "$dir/extra/opt/app/node_modules/left-pad"
	cp /var/lib/dpkg/status "$dir/root/var/lib/dpkg/status"
	cp -L /etc/os-release "$dir/root/etc/os-release"
	printf '{"name":"left-pad","version":"1.3.0"}' >"$dir/extra/opt/app/node_modules/left-pad/package.json"
	tar -C "$dir/root" -cf "$dir/root.tar" . || it_die "tar"
	podman import --quiet "$dir/root.tar" "$img-base" >/dev/null || it_die "podman import failed"
	printf 'FROM %s\nCOPY opt /opt\n' "$img-base" >"$dir/extra/Containerfile"
	podman build --quiet -t "$img" "$dir/extra" >/dev/null 2>"$dir/build.err" ||
		it_die "podman build failed: $(cat "$dir/build.err")"
	podman rmi "$img-base" >/dev/null 2>&1
	rm -f "$dir/root.tar"
}
