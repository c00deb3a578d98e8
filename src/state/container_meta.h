/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata: which container a process belongs to (from its cgroup
 * path) and what the container runtime knows about it (name, image,
 * privileged, Kubernetes pod), read from the runtime's own files on disk.
 *
 * Nothing here talks to a runtime daemon or API: the state files are read
 * directly, so this works for podman (daemonless), containerd, CRI-O and
 * docker alike and needs no socket access. All functions are thread-safe
 * (no global state).
 */
#ifndef VIGIL_CONTAINER_META_H
#define VIGIL_CONTAINER_META_H

#include <stddef.h>

enum vg_runtime { VG_RT_NONE = 0, VG_RT_DOCKER, VG_RT_CONTAINERD, VG_RT_CRIO, VG_RT_PODMAN, VG_RT_UNKNOWN };

/* "docker", "containerd", "cri-o", "podman", "unknown"; "" for VG_RT_NONE and
 * for values outside the enum. Never NULL; static storage. */
const char *container_meta_runtime_name(enum vg_runtime rt);

/* Inverse of container_meta_runtime_name: "" gives VG_RT_NONE, any name not
 * listed above gives VG_RT_UNKNOWN. name must not be NULL. */
enum vg_runtime container_meta_runtime_from_name(const char *name);

struct vg_container_meta {
	char id[65];              /* full container id, lowercase hex, NUL-terminated; "" for host */
	enum vg_runtime runtime;
	char *name;               /* container name, or NULL if unknown; all strings owned by the struct */
	char *image;              /* image reference as the user named it (e.g. localhost/x:tag), or NULL */
	char *image_id;           /* image id (sha256 hex, no "sha256:" prefix), or NULL */
	int privileged;           /* 1, 0, or -1 if unknown */
	char *k8s_pod_name, *k8s_namespace, *k8s_pod_uid, *k8s_container_name;  /* from CRI annotations, or NULL */
	int metadata_found;       /* 1 if any runtime state file was found and parsed */
	struct vg_mount {         /* the OCI bundle's mounts, in order (at most VG_MOUNTS_MAX) */
		char *source, *dest;
		int ro;
	} *mounts;
	size_t nmounts;
};

#define VG_MOUNTS_MAX 128

/*
 * Find the container id and runtime in a cgroup path (as in /proc/PID/cgroup,
 * e.g. "/libpod_parent/libpod-<64hex>", "/machine.slice/libpod-<64hex>.scope",
 * "/system.slice/docker-<64hex>.scope", "/docker/<64hex>",
 * "/kubepods/burstable/pod<uid>/<64hex>",
 * ".../kubepods-burstable-pod<uid>.slice/cri-containerd-<64hex>.scope",
 * ".../kubepods-burstable-pod<uid>.slice:cri-containerd:<64hex>",
 * ".../crio-<64hex>.scope"). A whole /proc/PID/cgroup line ("0::/path") is
 * accepted too. The innermost path component that names a container wins, so
 * sub-cgroups below a container (".../libpod-<id>.scope/container", a
 * systemd tree inside the container) map to that container, and a container
 * nested in another maps to the inner one.
 *
 * Not containers: conmon ("crio-conmon-<id>.scope", "libpod-conmon-<id>.scope",
 * "/libpod_parent/conmon"), a podman pod's own cgroup ("/libpod_parent/<64hex
 * pod id>"), host slices and services.
 *
 * Ids: prefixed forms ("libpod-", "docker-", "cri-containerd-", "crio-",
 * colon form) accept 12..64 lowercase hex; a bare component must be exactly 64
 * hex and sit directly below "docker" (VG_RT_DOCKER) or below a "pod<uid>"
 * component of a "kubepods" tree (VG_RT_UNKNOWN: that layout is used by both
 * containerd's cgroupfs driver and dockershim; container_meta_load probes).
 *
 * Returns 1 and fills id / *rt for a container, 0 (id "" and *rt VG_RT_NONE)
 * for the host or a NULL path. Never reads files; cannot fail otherwise.
 */
int container_meta_parse_cgroup(const char *cgroup_path, char id[65], enum vg_runtime *rt);

/*
 * Load metadata for container id (12..64 lowercase hex; a short id is
 * resolved when it is the prefix of exactly one container) from the
 * runtime's own state on disk, every path prefixed by root ("/" in
 * production, a fixture directory in tests; NULL means "/").
 *
 * rt selects where to look; VG_RT_UNKNOWN (or VG_RT_NONE) probes docker,
 * containerd, then the containers/storage runtimes (CRI-O and podman share
 * that layout and are told apart by annotations) and sets meta->runtime to
 * the one found. Sources:
 *   podman/CRI-O  {/run,/var/lib}/containers/storage/<driver>-containers/<id>/userdata/config.json
 *                 and .../<driver>-containers/{containers,volatile-containers}.json
 *                 (name = names[0], image id = "image", image = metadata "image-name")
 *   containerd    /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/config.json
 *                 (and the v1 shim's io.containerd.runtime.v1.linux), every <ns>
 *   docker        /var/lib/docker/containers/<id>/config.v2.json, hostconfig.json
 * Kubernetes fields come from CRI annotations (containerd io.kubernetes.cri.*,
 * CRI-O io.kubernetes.pod.* / io.kubernetes.container.name) or dockershim
 * labels; the pod uid falls back to the "pod<uid>" in linux.cgroupsPath.
 *
 * privileged: the runtime's own record where it has one (podman annotation
 * io.podman.annotations.privileged, docker HostConfig.Privileged); otherwise
 * from the OCI config: 1 when the bounding set holds CAP_SYS_ADMIN and at least
 * 38 capabilities (all of them as of Linux 3.16) and linux.maskedPaths is
 * absent or empty (every runtime's privileged mode unmasks /proc paths, and no
 * ordinary container does); 0 otherwise; -1 without a capabilities record.
 *
 * meta is overwritten (its previous strings are not freed). Every file read is
 * bounded: files over 4 MiB, non-regular files and unparseable JSON are
 * skipped. Returns 0 with meta->metadata_found = 1 when state was found, 0 with
 * metadata_found = 0 when nothing was (the container may be gone), -EINVAL for
 * a bad argument, -ENOMEM, or another -errno (e.g. -EACCES) when a state file
 * or directory could not be read and nothing was found elsewhere. On any
 * return meta is valid for container_meta_free().
 */
int container_meta_load(struct vg_container_meta *meta, const char *id, enum vg_runtime rt, const char *root);

/* Frees the strings and leaves the struct zeroed; safe on a zeroed struct. */
void container_meta_free(struct vg_container_meta *meta);

/*
 * Serialise to a compact JSON object (stored inside capture files):
 * {"id":..,"runtime":..,"name":..,"image":..,"image_id":..,"privileged":N,
 *  "k8s_pod_name":..,"k8s_namespace":..,"k8s_pod_uid":..,
 *  "k8s_container_name":..,"metadata_found":N}; NULL strings are omitted.
 * Returns a malloc'd NUL-terminated string (caller frees) or NULL on
 * allocation failure.
 */
char *container_meta_to_json(const struct vg_container_meta *meta);

/*
 * Parse what container_meta_to_json wrote, from json[0..len) (need not be
 * NUL-terminated). Unknown keys are ignored and an unknown runtime name reads
 * as VG_RT_UNKNOWN (newer writers); wrong types, an id that is not 0..64
 * lowercase hex, strings over 4096 bytes or out-of-range integers give
 * -EINVAL (-ENOMEM if a copy cannot be allocated). meta is overwritten; on
 * success the caller owns it, on error it is left zeroed. Any input is safe
 * (fuzzed).
 */
int container_meta_from_json(struct vg_container_meta *meta, const char *json, size_t len);

#endif
