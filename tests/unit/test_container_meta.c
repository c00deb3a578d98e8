/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/container_meta: cgroup path parsing for every runtime
 * layout, loading metadata from fixture trees under
 * $VIGIL_SRCDIR/tests/fixtures/containers/<runtime>/ (the podman one copied
 * from a real podman 4.3.1 on the test machine kind, trimmed), and the JSON
 * round trip with malformed input.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/container_meta.h"
#include "test_tmp.h"

/* Container ids used in the fixtures. */
#define PODMAN_WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define PODMAN_PRIV "5e3130dcc325c47673a35fda1d5fee8efbb7a66c32cef7f702c995de18532af7"
#define PODMAN_IMAGE_ID "304b6fc3bc18b6bb3f34a8cbbfc8576000b33e1d2b238a404b945bb125efafa2"
#define CTRD_SANDBOX "5550d5cbaae48003015e9ff02cc3b36eda5b89e0326dd3437073ee0e4913f120"
#define CTRD_NGINX "b1f831f4898d30f51f80074bddc740b0da277c0217aa5521f6ef86283c16ac33"
#define CTRD_CALICO "740fe46e6e1939a88551ef03b442768bb7c555441fa29a0dee2f195f2575e71c"
#define CTRD_PLAIN "116823297e50022c34b0bd500652b3738f1f7b584b01e19c79e6274d5c0a9277"
#define CRIO_SANDBOX "f959a4d92048860bc7bcb60bfce839c209314f242efcf53bc9a0b743df05f8f3"
#define CRIO_COREDNS "4957b578bd4152d51429d77e4968f87ec903dec067da2537601a038636347220"
#define CRIO_GONE "897f8c47e235d95ab216d1fa2a390a8934f0c7ab44d7cc2fdaf47cd4aac8034a"
#define CRIO_IMAGE_ID "f263067c4585546b375211f8e6a5721210238e137623a77c196fa6b8bc6a30eb"
#define DOCKER_WEB "f31f384749f9115acf01fcf82f5a966b59dcc0a4cbd7c9740888c0bf32aa2bbb"
#define DOCKER_DIND "4fda69159414f7ed59816232b2439b08f03c9c506e89d55216d97700cf0ce56c"
#define DOCKER_SHIM "dea65bb08d2e81b65a013953bb0f12df968861ce1dbada29b85c3fc6365e7190"
#define DOCKER_NOHOST "d428b4ef9ee4314f506af2a0f369af133625d6cc8fd360814f80b128c0f1520a"
#define BROKEN_DOCKER "f526795c95399cea27c055c842c3d6ab018ed0fa4f66f701c28ab22dec28237b"
#define BROKEN_PODMAN "c179516d80877c8efc71bd1462588858dc91e1e637da90d57ee83707bb5389dc"

#define ID_A "0f14d3ece0fb2f5baa86b8ae6276f67fbf618c281b7ea2e4c2abd137c7b710a2"
#define ID_B "3d3c25cd3a6405cca457d0099c0dc05349fe6af054391327499c7cc3cb5d2af8"
#define POD_ID "5ad610f2ffb713d6e91251a66fef9443857a65e62a60bb11873fb20ecf1fa6af"
#define UID_DASH "3f0c8c4e-5b7a-4d8e-9a61-2b1e0f6c7d21"
#define UID_US "3f0c8c4e_5b7a_4d8e_9a61_2b1e0f6c7d21"

/* ---- helpers ---- */

static const char *fixture_root(const char *runtime)
{
	static char buf[PATH_MAX];
	const char *src = getenv("VIGIL_SRCDIR");
	if (!src || !*src)
		src = ".";
	snprintf(buf, sizeof buf, "%s/tests/fixtures/containers/%s", src, runtime);
	return buf;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* ---- cgroup paths ---- */

struct cg_case {
	const char *path;
	int ret;
	const char *id;
	enum vg_runtime rt;
};

static const struct cg_case cg_cases[] = {
	/* podman, as observed here (cgroupfs manager), in a pod, systemd manager */
	{ "/libpod_parent/libpod-" ID_A, 1, ID_A, VG_RT_PODMAN },
	{ "0::/libpod_parent/libpod-" ID_A, 1, ID_A, VG_RT_PODMAN },
	{ "4:memory:/libpod_parent/libpod-" ID_A, 1, ID_A, VG_RT_PODMAN },
	{ "/libpod_parent/" POD_ID "/libpod-" ID_B, 1, ID_B, VG_RT_PODMAN },
	{ "/machine.slice/libpod-" ID_A ".scope", 1, ID_A, VG_RT_PODMAN },
	{ "/machine.slice/libpod-" ID_A ".scope/container", 1, ID_A, VG_RT_PODMAN },
	{ "/machine.slice/libpod-" ID_A ".scope/init.scope", 1, ID_A, VG_RT_PODMAN },
	{ "/libpod_parent/libpod-" ID_A "/system.slice/nginx.service", 1, ID_A, VG_RT_PODMAN },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_A ".scope", 1, ID_A, VG_RT_PODMAN },
	/* podman: not containers */
	{ "/libpod_parent/" POD_ID, 0, "", VG_RT_NONE },
	{ "/libpod_parent/conmon", 0, "", VG_RT_NONE },
	{ "/libpod_parent/" POD_ID "/conmon", 0, "", VG_RT_NONE },
	{ "/machine.slice/libpod-conmon-" ID_A ".scope", 0, "", VG_RT_NONE },
	{ "/libpod_parent", 0, "", VG_RT_NONE },
	/* docker */
	{ "/system.slice/docker-" ID_A ".scope", 1, ID_A, VG_RT_DOCKER },
	{ "/docker/" ID_A, 1, ID_A, VG_RT_DOCKER },
	{ "/docker/" ID_A "/docker/" ID_B, 1, ID_B, VG_RT_DOCKER },
	{ "/system.slice/docker-" ID_A ".scope/system.slice/systemd-journald.service", 1, ID_A, VG_RT_DOCKER },
	{ "/system.slice/docker-0f14d3ece0fb.scope", 1, "0f14d3ece0fb", VG_RT_DOCKER },
	{ "/system.slice/docker.service", 0, "", VG_RT_NONE },
	{ "/docker", 0, "", VG_RT_NONE },
	{ "/docker/0f14d3ece0fb", 0, "", VG_RT_NONE }, /* bare ids must be full */
	/* kubernetes, cgroupfs driver: containerd or dockershim */
	{ "/kubepods/burstable/pod" UID_DASH "/" ID_A, 1, ID_A, VG_RT_UNKNOWN },
	{ "/kubepods/pod" UID_DASH "/" ID_A, 1, ID_A, VG_RT_UNKNOWN },
	{ "/kubepods/besteffort/pod" UID_DASH "/" ID_A "/sub", 1, ID_A, VG_RT_UNKNOWN },
	{ "/kubepods/burstable/pod" UID_DASH, 0, "", VG_RT_NONE },
	{ "/kubepods/burstable/pod" UID_DASH "/crio-" ID_A, 1, ID_A, VG_RT_CRIO },
	/* kubernetes, systemd driver */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US ".slice/cri-containerd-" ID_A ".scope",
	  1, ID_A, VG_RT_CONTAINERD },
	{ "/system.slice/containerd.service/kubepods-burstable-pod" UID_US ".slice:cri-containerd:" ID_A, 1, ID_A,
	  VG_RT_CONTAINERD },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US ".slice/crio-" ID_A ".scope", 1,
	  ID_A, VG_RT_CRIO },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US ".slice/crio-" ID_A
	  ".scope/container",
	  1, ID_A, VG_RT_CRIO },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_US ".slice/crio-conmon-" ID_A
	  ".scope",
	  0, "", VG_RT_NONE },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_US ".slice/docker-" ID_A ".scope", 1,
	  ID_A, VG_RT_DOCKER },
	{ "kubepods-burstable-pod" UID_US ".slice:crio:" ID_A, 1, ID_A, VG_RT_CRIO },
	{ "system.slice:docker:" ID_A, 1, ID_A, VG_RT_DOCKER },
	{ "machine.slice:libpod:" ID_A, 1, ID_A, VG_RT_PODMAN },
	{ "machine.slice:libpod:conmon", 0, "", VG_RT_NONE },
	{ "crio-conmon-" ID_A ".scope", 0, "", VG_RT_NONE },
	{ "crio-" ID_A ".scope", 1, ID_A, VG_RT_CRIO },
	{ "/kubepods.slice/kubepods-burstable.slice", 0, "", VG_RT_NONE },
	/* host */
	{ "/", 0, "", VG_RT_NONE },
	{ "", 0, "", VG_RT_NONE },
	{ "//", 0, "", VG_RT_NONE },
	{ "0::/", 0, "", VG_RT_NONE },
	{ "/user.slice/user-0.slice/session-1.scope", 0, "", VG_RT_NONE },
	{ "/system.slice/sshd.service", 0, "", VG_RT_NONE },
	{ "/system.slice/containerd.service", 0, "", VG_RT_NONE },
	{ "/init.scope", 0, "", VG_RT_NONE },
	{ "/process_api/2019d728413b3a62db025e08e3515dca", 0, "", VG_RT_NONE }, /* seen on this machine */
	{ "/" ID_A, 0, "", VG_RT_NONE },
	/* malformed ids */
	{ "/docker/0F14D3ECE0FB2F5BAA86B8AE6276F67FBF618C281B7EA2E4C2ABD137C7B710A2", 0, "", VG_RT_NONE },
	{ "/libpod_parent/libpod-" ID_A "0", 0, "", VG_RT_NONE },
	{ "/libpod_parent/libpod-0f14d3ece0f", 0, "", VG_RT_NONE },
	{ "/system.slice/docker-" ID_A ".service", 0, "", VG_RT_NONE },
	{ "/x:cri-containerd:", 0, "", VG_RT_NONE },
	{ "/x:y", 0, "", VG_RT_NONE },
	{ ":::", 0, "", VG_RT_NONE },
};

static void test_parse_cgroup_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cg_cases / sizeof cg_cases[0]; i++) {
		char id[65];
		enum vg_runtime rt = VG_RT_PODMAN;
		memset(id, 'x', sizeof id);
		int r = container_meta_parse_cgroup(cg_cases[i].path, id, &rt);
		if (r != cg_cases[i].ret || strcmp(id, cg_cases[i].id) || rt != cg_cases[i].rt)
			fail_msg("case %zu %s: got %d %s %s", i, cg_cases[i].path, r, id,
				 container_meta_runtime_name(rt));
	}
}

static void test_parse_cgroup_null(void **state)
{
	(void)state;
	char id[65] = "junk";
	enum vg_runtime rt = VG_RT_DOCKER;
	assert_int_equal(container_meta_parse_cgroup(NULL, id, &rt), 0);
	assert_string_equal(id, "");
	assert_int_equal(rt, VG_RT_NONE);
	/* rt may be NULL */
	assert_int_equal(container_meta_parse_cgroup("/docker/" ID_A, id, NULL), 1);
	assert_string_equal(id, ID_A);
}

static void test_runtime_names(void **state)
{
	(void)state;
	assert_string_equal(container_meta_runtime_name(VG_RT_NONE), "");
	assert_string_equal(container_meta_runtime_name(VG_RT_DOCKER), "docker");
	assert_string_equal(container_meta_runtime_name(VG_RT_CONTAINERD), "containerd");
	assert_string_equal(container_meta_runtime_name(VG_RT_CRIO), "cri-o");
	assert_string_equal(container_meta_runtime_name(VG_RT_PODMAN), "podman");
	assert_string_equal(container_meta_runtime_name(VG_RT_UNKNOWN), "unknown");
	assert_string_equal(container_meta_runtime_name((enum vg_runtime)77), "");
	for (int rt = VG_RT_NONE; rt <= VG_RT_UNKNOWN; rt++)
		assert_int_equal(container_meta_runtime_from_name(container_meta_runtime_name((enum vg_runtime)rt)), rt);
	assert_int_equal(container_meta_runtime_from_name("lxc"), VG_RT_UNKNOWN);
}

/* ---- loading ---- */

struct want {
	const char *id;
	enum vg_runtime rt;
	const char *name, *image, *image_id;
	int privileged;
	const char *pod, *ns, *uid, *cname;
};

static void check_load(const char *fixture, const char *id, enum vg_runtime rt, const struct want *w)
{
	struct vg_container_meta m;
	memset(&m, 0xa5, sizeof m); /* load must not depend on prior contents */
	assert_int_equal(container_meta_load(&m, id, rt, fixture_root(fixture)), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.id, w->id);
	assert_int_equal(m.runtime, w->rt);
	assert_str_or_null(m.name, w->name);
	assert_str_or_null(m.image, w->image);
	assert_str_or_null(m.image_id, w->image_id);
	assert_int_equal(m.privileged, w->privileged);
	assert_str_or_null(m.k8s_pod_name, w->pod);
	assert_str_or_null(m.k8s_namespace, w->ns);
	assert_str_or_null(m.k8s_pod_uid, w->uid);
	assert_str_or_null(m.k8s_container_name, w->cname);
	container_meta_free(&m);
	assert_null(m.name);
	assert_int_equal(m.metadata_found, 0);
}

static void check_not_found(const char *fixture, const char *id, enum vg_runtime rt)
{
	struct vg_container_meta m;
	assert_int_equal(container_meta_load(&m, id, rt, fixture_root(fixture)), 0);
	assert_int_equal(m.metadata_found, 0);
	assert_null(m.name);
	assert_int_equal(m.privileged, -1);
	container_meta_free(&m);
}

static void check_not_found_in(const char *root, const char *id, enum vg_runtime rt)
{
	struct vg_container_meta m;
	assert_int_equal(container_meta_load(&m, id, rt, root), 0);
	assert_int_equal(m.metadata_found, 0);
	assert_null(m.name);
	container_meta_free(&m);
}

static void test_load_podman(void **state)
{
	(void)state;
	struct want web = { PODMAN_WEB, VG_RT_PODMAN, "vigil-web", "localhost/vigil-busybox:test", PODMAN_IMAGE_ID, 0,
			    NULL, NULL, NULL, NULL };
	check_load("podman", PODMAN_WEB, VG_RT_PODMAN, &web);
	check_load("podman", PODMAN_WEB, VG_RT_UNKNOWN, &web);
	check_load("podman", "5ad505f6c2d4", VG_RT_PODMAN, &web); /* short id resolved */

	struct want priv = { PODMAN_PRIV, VG_RT_PODMAN, "vigil-priv", "localhost/vigil-busybox:test", PODMAN_IMAGE_ID, 1,
			     NULL, NULL, NULL, NULL };
	check_load("podman", PODMAN_PRIV, VG_RT_PODMAN, &priv);
	check_load("podman", PODMAN_PRIV, VG_RT_NONE, &priv);

	/* a container podman already removed (--rm): not an error */
	check_not_found("podman", ID_A, VG_RT_PODMAN);
	/* wrong runtime: nothing in docker's place */
	check_not_found("podman", PODMAN_WEB, VG_RT_DOCKER);
}

static void test_load_containerd(void **state)
{
	(void)state;
	struct want nginx = { CTRD_NGINX, VG_RT_CONTAINERD, "nginx", "docker.io/library/nginx:1.25", NULL, 0,
			      "nginx-7c5ddbdf54-x8kqz", "default", UID_DASH, "nginx" };
	check_load("containerd", CTRD_NGINX, VG_RT_CONTAINERD, &nginx);
	check_load("containerd", CTRD_NGINX, VG_RT_UNKNOWN, &nginx);
	check_load("containerd", "b1f831f4898d30f5", VG_RT_CONTAINERD, &nginx);

	struct want sandbox = { CTRD_SANDBOX, VG_RT_CONTAINERD, "nginx-7c5ddbdf54-x8kqz", NULL, NULL, 0,
				"nginx-7c5ddbdf54-x8kqz", "default", UID_DASH, NULL };
	check_load("containerd", CTRD_SANDBOX, VG_RT_CONTAINERD, &sandbox);

	/* privileged, and an older containerd without sandbox-uid: uid from cgroupsPath */
	struct want calico = { CTRD_CALICO, VG_RT_CONTAINERD, "calico-node", "docker.io/calico/node:v3.26.1", NULL, 1,
			       "calico-node-4xk2p", "kube-system", "9b2d7f10-0c4e-4a55-8f3b-6d1a2c3e4f50",
			       "calico-node" };
	check_load("containerd", CTRD_CALICO, VG_RT_CONTAINERD, &calico);

	/* ctr run in namespace "default": no CRI annotations */
	struct want plain = { CTRD_PLAIN, VG_RT_CONTAINERD, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL };
	check_load("containerd", CTRD_PLAIN, VG_RT_CONTAINERD, &plain);

	/* a bundle in namespace "moby" is docker's */
	struct want moby = { DOCKER_NOHOST, VG_RT_DOCKER, NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL };
	check_load("containerd", DOCKER_NOHOST, VG_RT_UNKNOWN, &moby);

	check_not_found("containerd", ID_A, VG_RT_CONTAINERD);
	check_not_found("containerd", ID_A, VG_RT_UNKNOWN);
}

static void test_load_crio(void **state)
{
	(void)state;
	struct want coredns = { CRIO_COREDNS,
				VG_RT_CRIO,
				"k8s_coredns_coredns-5d78c9869d-7wz8j_kube-system_c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f_0",
				"registry.k8s.io/coredns/coredns:v1.10.1",
				CRIO_IMAGE_ID,
				0,
				"coredns-5d78c9869d-7wz8j",
				"kube-system",
				"c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
				"coredns" };
	check_load("crio", CRIO_COREDNS, VG_RT_CRIO, &coredns);
	check_load("crio", CRIO_COREDNS, VG_RT_UNKNOWN, &coredns);

	/* bundle gone, storage entry left: what containers.json has, privileged unknown */
	struct want gone = { CRIO_GONE,
			     VG_RT_CRIO,
			     "k8s_kube-proxy_kube-proxy-8w5tq_kube-system_5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9_1",
			     "registry.k8s.io/kube-proxy:v1.28.2",
			     "6a2da31f4a12c2cebe4c15752c423695b705b36ceb7c057c525318091eaebfec",
			     -1,
			     NULL,
			     NULL,
			     NULL,
			     NULL };
	check_load("crio", CRIO_GONE, VG_RT_UNKNOWN, &gone);

	struct vg_container_meta m;
	/* the sandbox has a storage entry only */
	assert_int_equal(container_meta_load(&m, CRIO_SANDBOX, VG_RT_CRIO, fixture_root("crio")), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.image, "registry.k8s.io/pause:3.9");
	container_meta_free(&m);
}

static void test_load_docker(void **state)
{
	(void)state;
	struct vg_container_meta m;
	assert_int_equal(container_meta_load(&m, DOCKER_WEB, VG_RT_DOCKER, fixture_root("docker")), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.name, "web");
	assert_string_equal(m.image, "nginx:1.25");
	/* "sha256:" stripped */
	assert_string_equal(m.image_id, "72e04f57f9deafa860b76a62e4f5bc696733431a79e80d5e92fb25ba4d96a1c4");
	assert_int_equal(m.privileged, 0);
	assert_null(m.k8s_pod_name);
	container_meta_free(&m);

	assert_int_equal(container_meta_load(&m, DOCKER_DIND, VG_RT_UNKNOWN, fixture_root("docker")), 0);
	assert_int_equal(m.runtime, VG_RT_DOCKER);
	assert_string_equal(m.name, "dind");
	assert_string_equal(m.image, "docker:24-dind");
	assert_int_equal(m.privileged, 1);
	container_meta_free(&m);

	/* dockershim: kubernetes fields from container labels */
	assert_int_equal(container_meta_load(&m, DOCKER_SHIM, VG_RT_DOCKER, fixture_root("docker")), 0);
	assert_string_equal(m.name, "k8s_redis_redis-0_cache_7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d_0");
	assert_string_equal(m.k8s_pod_name, "redis-0");
	assert_string_equal(m.k8s_namespace, "cache");
	assert_string_equal(m.k8s_pod_uid, "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d");
	assert_string_equal(m.k8s_container_name, "redis");
	assert_int_equal(m.privileged, 0);
	container_meta_free(&m);

	/* no hostconfig.json: privileged from the OCI bundle in containerd's "moby" namespace */
	assert_int_equal(container_meta_load(&m, DOCKER_NOHOST, VG_RT_DOCKER, fixture_root("docker")), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.name, "tools");
	assert_int_equal(m.privileged, 1);
	container_meta_free(&m);

	check_not_found("docker", ID_A, VG_RT_DOCKER);
}

static void test_load_broken(void **state)
{
	(void)state;
	/* both docker files unparseable: skipped, nothing found, no error */
	check_not_found("broken", BROKEN_DOCKER, VG_RT_DOCKER);
	/* containers.json corrupt, bundle fine */
	struct want bp = { BROKEN_PODMAN, VG_RT_PODMAN, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL };
	check_load("broken", BROKEN_PODMAN, VG_RT_UNKNOWN, &bp);
}

static void test_load_args(void **state)
{
	(void)state;
	struct vg_container_meta m;
	const char *root = fixture_root("podman");
	assert_int_equal(container_meta_load(NULL, PODMAN_WEB, VG_RT_PODMAN, root), -EINVAL);
	assert_int_equal(container_meta_load(&m, NULL, VG_RT_PODMAN, root), -EINVAL);
	container_meta_free(&m);
	assert_int_equal(container_meta_load(&m, "../../../../etc/passwd", VG_RT_PODMAN, root), -EINVAL);
	container_meta_free(&m);
	assert_int_equal(container_meta_load(&m, "5ad505f6c2d", VG_RT_PODMAN, root), -EINVAL); /* < 12 */
	container_meta_free(&m);
	assert_int_equal(container_meta_load(&m, PODMAN_WEB "0", VG_RT_PODMAN, root), -EINVAL);
	container_meta_free(&m);
	assert_int_equal(container_meta_load(&m, "5AD505F6C2D4", VG_RT_PODMAN, root), -EINVAL);
	container_meta_free(&m);
	assert_int_equal(container_meta_load(&m, PODMAN_WEB, (enum vg_runtime)42, root), -EINVAL);
	container_meta_free(&m);
	/* the host */
	assert_int_equal(container_meta_load(&m, "", VG_RT_NONE, root), 0);
	assert_int_equal(m.metadata_found, 0);
	container_meta_free(&m);
	/* a root that does not exist */
	check_not_found("no-such-runtime", PODMAN_WEB, VG_RT_UNKNOWN);

	/* trailing slashes on root */
	char r2[PATH_MAX + 8];
	snprintf(r2, sizeof r2, "%s//", fixture_root("podman"));
	assert_int_equal(container_meta_load(&m, PODMAN_WEB, VG_RT_PODMAN, r2), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.name, "vigil-web");
	container_meta_free(&m);
}

static void write_file(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, n), (ssize_t)n);
	close(fd);
}

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Files over 4 MiB and non-regular files are skipped, without blocking. */
static void test_load_bounds(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/vigil-cm-XXXXXX";
	char *root = mkdtemp(tmpl);
	assert_non_null(root);
	char dir[512], cfg[600], host[600];
	snprintf(dir, sizeof dir, "%s/var/lib/docker/containers/%s", root, DOCKER_WEB);
	snprintf(cfg, sizeof cfg, "%s/config.v2.json", dir);
	snprintf(host, sizeof host, "%s/hostconfig.json", dir);
	mkdir_p(dir);

	size_t big = (4u << 20) + 64;
	char *s = malloc(big);
	assert_non_null(s);
	memset(s, ' ', big);
	const char *head = "{\"Name\":\"/big\",\"Pad\":\"";
	memcpy(s, head, strlen(head));
	memcpy(s + big - 3, "\"}\n", 3);
	write_file(cfg, s, big);
	assert_int_equal(mkfifo(host, 0600), 0);

	struct vg_container_meta m;
	assert_int_equal(container_meta_load(&m, DOCKER_WEB, VG_RT_DOCKER, root), 0);
	assert_int_equal(m.metadata_found, 0);
	container_meta_free(&m);

	/* exactly at the limit is read */
	size_t ok = 4u << 20;
	memcpy(s + ok - 3, "\"}\n", 3);
	write_file(cfg, s, ok);
	assert_int_equal(container_meta_load(&m, DOCKER_WEB, VG_RT_DOCKER, root), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_string_equal(m.name, "big");
	assert_int_equal(m.privileged, -1);
	container_meta_free(&m);

	free(s);
	assert_int_equal(tmp_remove_tree(root), 0);
}

/* Write root + rel (directories made on the way) with text s. */
static void put(const char *root, const char *rel, const char *s)
{
	char path[1024], dir[1024];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	write_file(path, s, strlen(s));
}

static void rm_tree(const char *root, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	assert_int_equal(tmp_remove_tree(path), 0);
}

/*
 * One id known to every runtime: a runtime asked for reads only its own
 * state, and VG_RT_UNKNOWN probes docker, containerd, then
 * containers/storage, the first one that knows the id winning.
 */
static void test_load_dispatch(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/vigil-cm-XXXXXX";
	char *root = mkdtemp(tmpl);
	assert_non_null(root);
	put(root, "var/lib/docker/containers/" ID_A "/config.v2.json", "{\"Name\":\"/from-docker\"}");
	put(root, "var/lib/docker/containers/" ID_A "/hostconfig.json", "{\"Privileged\":false}");
	put(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID_A "/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"from-containerd\"}}");
	put(root, "var/lib/containers/storage/overlay-containers/containers.json",
	    "[{\"id\":\"" ID_A "\",\"names\":[\"from-storage\"]}]");

	static const struct {
		enum vg_runtime ask, got;
		const char *name;
	} cases[] = {
		{ VG_RT_DOCKER, VG_RT_DOCKER, "from-docker" },
		{ VG_RT_CONTAINERD, VG_RT_CONTAINERD, "from-containerd" },
		{ VG_RT_PODMAN, VG_RT_PODMAN, "from-storage" },
		{ VG_RT_CRIO, VG_RT_CRIO, "from-storage" }, /* the runtime asked for is kept */
		{ VG_RT_UNKNOWN, VG_RT_DOCKER, "from-docker" },
	};
	struct vg_container_meta m;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(container_meta_load(&m, ID_A, cases[i].ask, root), 0);
		assert_int_equal(m.metadata_found, 1);
		assert_int_equal(m.runtime, cases[i].got);
		assert_string_equal(m.name, cases[i].name);
		container_meta_free(&m);
	}

	rm_tree(root, "var/lib/docker");
	assert_int_equal(container_meta_load(&m, ID_A, VG_RT_UNKNOWN, root), 0);
	assert_int_equal(m.runtime, VG_RT_CONTAINERD);
	assert_string_equal(m.name, "from-containerd");
	container_meta_free(&m);
	check_not_found_in(root, ID_A, VG_RT_DOCKER);

	rm_tree(root, "run");
	assert_int_equal(container_meta_load(&m, ID_A, VG_RT_NONE, root), 0);
	assert_int_equal(m.runtime, VG_RT_PODMAN); /* no CRI-O marks: podman */
	assert_string_equal(m.name, "from-storage");
	container_meta_free(&m);

	/* CRI-O's storage metadata names the pod: CRI-O, from volatile-containers.json too */
	rm_tree(root, "var/lib/containers");
	put(root, "run/containers/storage/vfs-containers/volatile-containers.json",
	    "[{\"id\":\"" ID_A "\",\"names\":[\"k8s_x\"],\"metadata\":\"{\\\"pod-name\\\":\\\"p\\\",\\\"image-name\\\":\\\"i:1\\\"}\"}]");
	assert_int_equal(container_meta_load(&m, ID_A, VG_RT_UNKNOWN, root), 0);
	assert_int_equal(m.runtime, VG_RT_CRIO);
	assert_string_equal(m.name, "k8s_x");
	assert_string_equal(m.image, "i:1");
	container_meta_free(&m);

	assert_int_equal(tmp_remove_tree(root), 0);
}

/* The OCI bundle's root path and mounts (what the file guard and drift use). */
static void test_load_oci_mounts(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/vigil-cm-XXXXXX";
	char *root = mkdtemp(tmpl);
	assert_non_null(root);
	put(root, "run/containerd/io.containerd.runtime.v2.task/default/" ID_A "/config.json",
	    "{\"root\":{\"path\":\"/run/containerd/rootfs/" ID_A "\"},\"mounts\":["
	    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\"]},"
	    "{\"destination\":\"/etc/hosts\",\"source\":\"/var/lib/x/hosts\",\"options\":[\"rbind\",\"ro\"]},"
	    "{\"destination\":\"/data\"}]}");
	/* a root path relative to the bundle is not resolved */
	put(root, "run/containerd/io.containerd.runtime.v2.task/default/" ID_B "/config.json",
	    "{\"root\":{\"path\":\"rootfs\"},\"mounts\":[{\"destination\":\"/x\"}]}");

	struct vg_container_meta m;
	assert_int_equal(container_meta_load(&m, ID_A, VG_RT_CONTAINERD, root), 0);
	assert_string_equal(m.rootfs, "/run/containerd/rootfs/" ID_A);
	assert_int_equal(m.nmounts, 3);
	assert_string_equal(m.mounts[0].dest, "/proc");
	assert_string_equal(m.mounts[0].source, "proc");
	assert_int_equal(m.mounts[0].ro, 0);
	assert_string_equal(m.mounts[1].dest, "/etc/hosts");
	assert_string_equal(m.mounts[1].source, "/var/lib/x/hosts");
	assert_int_equal(m.mounts[1].ro, 1);
	assert_string_equal(m.mounts[2].source, ""); /* no source: "" */
	container_meta_free(&m);

	assert_int_equal(container_meta_load(&m, ID_B, VG_RT_CONTAINERD, root), 0);
	assert_int_equal(m.metadata_found, 1);
	assert_null(m.rootfs);
	assert_int_equal(m.nmounts, 1);
	assert_string_equal(m.mounts[0].dest, "/x");
	container_meta_free(&m);

	/* more than VG_MOUNTS_MAX mounts: the first VG_MOUNTS_MAX are kept */
	char *cfg = malloc(64 * (VG_MOUNTS_MAX + 10) + 64);
	assert_non_null(cfg);
	size_t n = (size_t)sprintf(cfg, "{\"mounts\":[");
	for (int i = 0; i < VG_MOUNTS_MAX + 10; i++)
		n += (size_t)sprintf(cfg + n, "%s{\"destination\":\"/m%d\"}", i ? "," : "", i);
	strcpy(cfg + n, "]}");
	put(root, "run/containerd/io.containerd.runtime.v2.task/default/" ID_B "/config.json", cfg);
	free(cfg);
	assert_int_equal(container_meta_load(&m, ID_B, VG_RT_CONTAINERD, root), 0);
	assert_int_equal(m.nmounts, VG_MOUNTS_MAX);
	assert_string_equal(m.mounts[VG_MOUNTS_MAX - 1].dest, "/m127");
	assert_null(m.rootfs);
	container_meta_free(&m);

	assert_int_equal(tmp_remove_tree(root), 0);
}

/* ---- JSON ---- */

static void fill_meta(struct vg_container_meta *m)
{
	memset(m, 0, sizeof *m);
	strcpy(m->id, ID_A);
	m->runtime = VG_RT_CONTAINERD;
	m->name = strdup("web \"quoted\" \xc3\xa9t\xc3\xa9 \\ /");
	m->image = strdup("docker.io/library/nginx:1.25");
	m->image_id = strdup(PODMAN_IMAGE_ID);
	m->privileged = 1;
	m->k8s_pod_name = strdup("nginx-7c5ddbdf54-x8kqz");
	m->k8s_namespace = strdup("default");
	m->k8s_pod_uid = strdup(UID_DASH);
	m->k8s_container_name = strdup("nginx");
	m->metadata_found = 1;
}

static void assert_meta_equal(const struct vg_container_meta *a, const struct vg_container_meta *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->runtime, b->runtime);
	assert_str_or_null(a->name, b->name);
	assert_str_or_null(a->image, b->image);
	assert_str_or_null(a->image_id, b->image_id);
	assert_int_equal(a->privileged, b->privileged);
	assert_str_or_null(a->k8s_pod_name, b->k8s_pod_name);
	assert_str_or_null(a->k8s_namespace, b->k8s_namespace);
	assert_str_or_null(a->k8s_pod_uid, b->k8s_pod_uid);
	assert_str_or_null(a->k8s_container_name, b->k8s_container_name);
	assert_int_equal(a->metadata_found, b->metadata_found);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	struct vg_container_meta a, b;
	fill_meta(&a);
	char *js = container_meta_to_json(&a);
	assert_non_null(js);
	assert_null(strchr(js, '\n')); /* compact */
	assert_int_equal(container_meta_from_json(&b, js, strlen(js)), 0);
	assert_meta_equal(&a, &b);
	container_meta_free(&b);
	free(js);
	container_meta_free(&a);

	/* the host: empty id, no strings, privileged unknown */
	memset(&a, 0, sizeof a);
	a.privileged = -1;
	js = container_meta_to_json(&a);
	assert_non_null(js);
	assert_string_equal(js, "{\"id\":\"\",\"runtime\":\"\",\"privileged\":-1,\"metadata_found\":0}");
	assert_int_equal(container_meta_from_json(&b, js, strlen(js)), 0);
	assert_meta_equal(&a, &b);
	container_meta_free(&b);
	free(js);

	/* a loaded fixture */
	assert_int_equal(container_meta_load(&a, CRIO_COREDNS, VG_RT_UNKNOWN, fixture_root("crio")), 0);
	js = container_meta_to_json(&a);
	assert_non_null(js);
	assert_int_equal(container_meta_from_json(&b, js, strlen(js)), 0);
	assert_meta_equal(&a, &b);
	container_meta_free(&a);
	container_meta_free(&b);
	free(js);
}

static void test_json_invalid_utf8(void **state)
{
	(void)state;
	struct vg_container_meta a, b;
	memset(&a, 0, sizeof a);
	a.name = strdup("bad\xff\xfe name");
	a.privileged = 0;
	char *js = container_meta_to_json(&a);
	assert_non_null(js);
	assert_int_equal(container_meta_from_json(&b, js, strlen(js)), 0);
	assert_string_equal(b.name, "bad?? name");
	container_meta_free(&a);
	container_meta_free(&b);
	free(js);
}

static void test_json_extras(void **state)
{
	(void)state;
	struct vg_container_meta m;
	const char *js = "{\"id\":\"" ID_A "\",\"runtime\":\"kata\",\"future\":[1,2],\"privileged\":true,"
			 "\"metadata_found\":false,\"name\":null}";
	assert_int_equal(container_meta_from_json(&m, js, strlen(js)), 0);
	assert_string_equal(m.id, ID_A);
	assert_int_equal(m.runtime, VG_RT_UNKNOWN);
	assert_int_equal(m.privileged, 1);
	assert_int_equal(m.metadata_found, 0);
	assert_null(m.name);
	container_meta_free(&m);

	/* missing privileged reads as unknown; len bounds the input */
	js = "{}garbage";
	assert_int_equal(container_meta_from_json(&m, js, 2), 0);
	assert_int_equal(m.privileged, -1);
	assert_string_equal(m.id, "");
	container_meta_free(&m);
}

static void test_json_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"null",
		"42",
		"\"str\"",
		"{\"id\":5}",
		"{\"id\":\"xyz\"}",
		"{\"id\":\"" ID_A "0\"}",
		"{\"id\":\"0F14D3ECE0FB\"}",
		"{\"id\":\"../etc\"}",
		"{\"runtime\":7}",
		"{\"privileged\":2}",
		"{\"privileged\":-2}",
		"{\"privileged\":\"yes\"}",
		"{\"privileged\":1.0}",
		"{\"privileged\":99999999999999999999}",
		"{\"metadata_found\":2}",
		"{\"name\":[]}",
		"{\"name\":{}}",
		"{\"image\":1}",
		"{\"name\":\"a\",\"name\":\"b\"}",
		"{\"name\":\"a\\u0000b\"}",
		"{\"name\":\"\xff\"}",
		"{\"id\":\"\"} trailing",
	};
	struct vg_container_meta m, zero;
	memset(&zero, 0, sizeof zero);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = container_meta_from_json(&m, bad[i], strlen(bad[i]));
		if (r != -EINVAL)
			fail_msg("case %zu %s: got %d", i, bad[i], r);
		assert_memory_equal(&m, &zero, sizeof m);
	}
	assert_int_equal(container_meta_from_json(&m, NULL, 10), -EINVAL);
	assert_int_equal(container_meta_from_json(NULL, "{}", 2), -EINVAL);

	/* an overlong string */
	size_t n = 5000;
	char *big = malloc(n + 32);
	assert_non_null(big);
	strcpy(big, "{\"name\":\"");
	memset(big + 9, 'a', n);
	strcpy(big + 9 + n, "\"}");
	assert_int_equal(container_meta_from_json(&m, big, strlen(big)), -EINVAL);
	free(big);

	/* every truncation and every single-byte corruption of a valid document */
	struct vg_container_meta a;
	fill_meta(&a);
	char *js = container_meta_to_json(&a);
	assert_non_null(js);
	size_t len = strlen(js);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(container_meta_from_json(&m, js, i), -EINVAL);
		container_meta_free(&m);
	}
	char *c = strdup(js);
	assert_non_null(c);
	for (size_t i = 0; i < len; i++) {
		for (int v = 0; v < 256; v += 17) {
			memcpy(c, js, len + 1);
			c[i] = (char)v;
			int r = container_meta_from_json(&m, c, len);
			assert_true(r == 0 || r == -EINVAL);
			container_meta_free(&m);
		}
	}
	free(c);
	free(js);
	container_meta_free(&a);
}

static void test_meta_free(void **state)
{
	(void)state;
	struct vg_container_meta m;
	memset(&m, 0, sizeof m);
	container_meta_free(&m);
	container_meta_free(&m);
	container_meta_free(NULL);
	fill_meta(&m);
	container_meta_free(&m);
	struct vg_container_meta zero;
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&m, &zero, sizeof m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cgroup_cases),
		cmocka_unit_test(test_parse_cgroup_null),
		cmocka_unit_test(test_runtime_names),
		cmocka_unit_test(test_load_podman),
		cmocka_unit_test(test_load_containerd),
		cmocka_unit_test(test_load_crio),
		cmocka_unit_test(test_load_docker),
		cmocka_unit_test(test_load_broken),
		cmocka_unit_test(test_load_args),
		cmocka_unit_test(test_load_bounds),
		cmocka_unit_test(test_load_dispatch),
		cmocka_unit_test(test_load_oci_mounts),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_invalid_utf8),
		cmocka_unit_test(test_json_extras),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_meta_free),
	};
	return cmocka_run_group_tests_name("container_meta", tests, NULL, NULL);
}
