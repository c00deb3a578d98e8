# shellcheck shell=bash
# containers.sh: helpers for tests that run real podman containers.
# Source it; it defines functions only and changes no shell options.
#
# Facts about podman on the test machine kind (Debian 12, podman 4.3.1, runc
# 1.1.5, conmon 2.1.6, hybrid cgroup layout, root; checked by hand with
# vg_podman below; ID is the full 64-hex container id):
#
# cgroups (cgroupfs manager; this machine has no systemd as PID 1)
#   /proc/PID/cgroup of a container process (and of `podman exec` processes):
#     0::/libpod_parent/libpod-ID                      v2 (unified) line
#     N:<ctrl>:/libpod_parent/libpod-ID                every v1 line, name=systemd too
#   in a pod (podman pod create, infra container included):
#     .../libpod_parent/<64-hex POD id>/libpod-ID      (a bare 64-hex component
#     here is the pod, not a container)
#   conmon (the per-container monitor) is NOT in the container's cgroup:
#     v1 controllers: /libpod_parent/conmon (or /libpod_parent/<pod id>/conmon),
#     name=systemd and v2 "0::": "/" (the root, unchanged from its parent).
#   With the systemd manager the path would be /machine.slice/libpod-ID.scope
#   (not available here).
#
# storage: driver "overlay"; graphRoot /var/lib/containers/storage, runRoot
#   /run/containers/storage (podman info).
#
# per-container state on disk:
#   /var/lib/containers/storage/overlay-containers/ID/userdata/config.json
#     the OCI bundle config.json (conmon/runc -b is that userdata dir; it is
#     under graphRoot, NOT under /run). No config.json under /run for podman:
#     /run/containers/storage/overlay-containers/ID/userdata/ holds conmon.pid,
#     pidfile (container init pid), hostname, hosts, resolv.conf, .containerenv.
#   /var/lib/containers/storage/overlay-containers/containers.json
#     a JSON array, one object per container: "id" (64 hex), "names" (array;
#     [0] is the container name), "image" (image id, 64 hex), "layer",
#     "metadata" (a STRING holding JSON: {"image-name":"localhost/x:tag",
#     "image-id":"<64 hex>","name":"<name>","created-at":<unix s>}),
#     "created", "flags".
#   OCI annotations in config.json:
#     io.container.manager=libpod, io.podman.annotations.privileged=TRUE|FALSE,
#     io.podman.annotations.autoremove=TRUE|FALSE (--rm),
#     io.podman.annotations.init, io.podman.annotations.publish-all,
#     org.opencontainers.image.stopSignal, and CRI-O-named ones:
#     io.kubernetes.cri-o.Created, io.kubernetes.cri-o.TTY, plus in a pod
#     io.kubernetes.cri-o.ContainerType=container and
#     io.kubernetes.cri-o.SandboxID=<infra container id>. There is no name or
#     image annotation: those come from containers.json only.
#   --privileged: annotation privileged=TRUE, no maskedPaths/readonlyPaths,
#     40 capabilities in the bounding set, no linux.seccomp.
#   Lifetime: `podman create` adds the containers.json entry and the userdata
#   dirs but no config.json; `podman start` writes config.json before the
#   process exists. Without --rm everything stays after exit until `podman rm`.
#   With --rm, config.json, the /run userdata dir and the containers.json entry
#   all vanish ~0.1-0.2 s after the container's process exits: an agent must
#   look the metadata up while the container runs (at its first event), not at
#   exit. (The libpod BoltDB /var/lib/containers/storage/libpod/bolt_state.db
#   has the same data; Vigil does not read it.)
#
# exe path: the container's root is an overlay mount, visible in the host
#   mount namespace at /var/lib/containers/storage/overlay/<layer id>/merged
#   (<layer id> = containers.json "layer"). readlink /proc/PID/exe from the
#   host gives the in-container path (/bin/busybox), not the merged path; its
#   st_dev is the overlay's (0:NN), the same device as that merged mount in the
#   host's /proc/self/mountinfo, and /proc/PID/mountinfo shows "/" as overlay
#   with lowerdir/upperdir under /var/lib/containers/storage/overlay/.
#
# Directory of this file, absolute (resolved once at source time).
VG_CONTAINERS_LIB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
VG_BUSYBOX_IMAGE=localhost/vigil-busybox:test

# vg_podman_skip_reason: print why real containers cannot run here and return
# 1; return 0 silently when they can.
vg_podman_skip_reason() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "real containers need root"
		return 1
	fi
	if ! command -v podman >/dev/null 2>&1; then
		echo "podman is not installed"
		return 1
	fi
	if ! command -v runc >/dev/null 2>&1; then
		echo "runc is not installed"
		return 1
	fi
	if ! command -v jq >/dev/null 2>&1; then
		echo "jq is not installed (needed by runc-wrapper)"
		return 1
	fi
	if [ ! -x "$VG_CONTAINERS_LIB_DIR/runc-wrapper" ]; then
		echo "runc-wrapper is missing or not executable"
		return 1
	fi
	return 0
}

# vg_podman ARGS...: run podman with the runtime and cgroup manager this
# machine kind needs. Global options must precede the subcommand, so they go
# first. Why always the wrapper: the test machines lack CAP_SYS_RESOURCE, so
# every container with OCI rlimits (podman always adds them) fails under plain
# runc; the wrapper is harmless where the quirk is absent (it only drops the
# rlimits, which tests do not rely on). It also fixes `podman exec`, whose
# process JSON carries the same rlimits. runc because crun refuses the hybrid
# cgroup layout; cgroupfs because there is no systemd to manage scopes.
vg_podman() {
	podman --runtime "$VG_CONTAINERS_LIB_DIR/runc-wrapper" \
		--cgroup-manager cgroupfs "$@"
}

# vg_busybox_image: build (once) a local image of busybox-static and print its
# name. Returns non-zero, with a message on stderr, if it cannot be built.
vg_busybox_image() {
	local img=$VG_BUSYBOX_IMAGE
	if podman image exists "$img" 2>/dev/null; then
		echo "$img"
		return 0
	fi
	local bb=/bin/busybox
	if [ ! -x "$bb" ] || ! vg__busybox_is_static "$bb"; then
		echo "vg_busybox_image: /bin/busybox (busybox-static) not found" >&2
		return 1
	fi
	local tmp
	tmp=$(mktemp -d /tmp/vigil-busybox.XXXXXX) || return 1
	local root="$tmp/rootfs"
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
		"$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" \
		"$root/root" "$root/var/tmp" "$root/run" || { rm -rf -- "$tmp"; return 1; }
	chmod 1777 "$root/tmp" "$root/var/tmp"
	cp -- "$bb" "$root/bin/busybox" || { rm -rf -- "$tmp"; return 1; }
	# Every applet becomes a symlink in /bin (the whole image has one binary).
	local applet
	while IFS= read -r applet; do
		case "$applet" in ""|busybox) continue ;; esac
		ln -sf busybox "$root/bin/$applet"
	done < <("$bb" --list)
	# Scripts with #!/usr/bin/env work too.
	ln -s ../../bin/busybox "$root/usr/bin/env"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nobody:x:65534:' >"$root/etc/group"
	if ! tar -C "$root" -cf "$tmp/rootfs.tar" . ||
		! podman import --quiet "$tmp/rootfs.tar" "$img" >/dev/null; then
		echo "vg_busybox_image: podman import failed" >&2
		rm -rf -- "$tmp"
		return 1
	fi
	rm -rf -- "$tmp"
	echo "$img"
}

# vg__busybox_is_static PATH: true if PATH is a busybox that runs with no
# dynamic loader (a dynamically linked one would not run inside the image).
vg__busybox_is_static() {
	"$1" --list >/dev/null 2>&1 || return 1
	! LC_ALL=C ldd "$1" 2>/dev/null | grep -q '=>'
}
