/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/k8s_practice.h"

void k8s_practice_parse_image(const char *ref, char *registry, char *tag, char *digest)
{
	const char *at = strchr(ref, '@');
	size_t namelen = at ? (size_t)(at - ref) : strlen(ref);
	strcpy(digest, at ? at + 1 : "");
	/* the registry is the first path part when it looks like a host (has '.' or ':' or is localhost) */
	const char *slash = memchr(ref, '/', namelen);
	size_t hostlen = slash ? (size_t)(slash - ref) : 0;
	if (slash && (memchr(ref, '.', hostlen) || memchr(ref, ':', hostlen) ||
		      (hostlen == 9 && !memcmp(ref, "localhost", 9)))) {
		memcpy(registry, ref, hostlen);
		registry[hostlen] = 0;
	} else {
		strcpy(registry, "docker.io");
		hostlen = 0;
	}
	/* a tag is after the last ':' that follows the last '/' */
	const char *last_slash = NULL;
	for (const char *p = ref; p < ref + namelen; p++)
		if (*p == '/')
			last_slash = p;
	const char *name = last_slash ? last_slash + 1 : ref;
	const char *colon = memchr(name, ':', namelen - (size_t)(name - ref));
	if (colon) {
		size_t tl = namelen - (size_t)(colon + 1 - ref);
		memcpy(tag, colon + 1, tl);
		tag[tl] = 0;
	} else {
		tag[0] = 0;
	}
}

struct pctx {
	const struct manifest_obj *o;
	struct policy_findings *out;
};

static void add(struct pctx *c, const char *check, enum vg_severity sev,
		const struct yaml_node *at, const char *container, const char *hint, const char *fmt,
		...) __attribute__((format(printf, 7, 8)));

static void add(struct pctx *c, const char *check, enum vg_severity sev,
		const struct yaml_node *at, const char *container, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!at)
		at = c->o->root;
	findings_add(c->out, check, sev, at->line, at->col, container, msg, hint);
}

static const char *const runtime_sockets[] = {
	"/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd/containerd.sock",
	"/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock", "/run/podman/podman.sock",
	"/var/run/podman/podman.sock", "/var/run/dockershim.sock", "/run/k3s/containerd/containerd.sock",
	NULL,
};

/* Whether a hostPath exposes a runtime socket: the socket itself or a directory holding it. */
static int exposes_socket(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	for (const char *const *s = runtime_sockets; *s; s++) {
		size_t l = strlen(*s);
		if (!strcmp(p, *s) || !strcmp(p, "/") || (n < l && !strncmp(*s, p, n) && (*s)[n] == '/'))
			return 1;
	}
	return 0;
}

static int list_has(const struct yaml_node *seq, const char *a, const char *b)
{
	if (!seq || seq->kind != YAML_SEQ)
		return 0;
	for (size_t i = 0; i < seq->n; i++)
		if (yaml_is(seq->items[i], a) || (b && yaml_is(seq->items[i], b)))
			return 1;
	return 0;
}

static void container_checks(struct pctx *c, const struct yaml_node *k, const char *list)
{
	const char *name = manifest_str(k, "name");
	const struct yaml_node *sc = manifest_get(k, "securityContext");
	int regular = !strcmp(list, "containers");
	if (!name)
		name = "";
	if (strcmp(list, "ephemeralContainers")) {
		const struct yaml_node *res = manifest_get(k, "resources");
		const struct yaml_node *req = manifest_get(res, "requests"), *lim = manifest_get(res, "limits");
		if (!manifest_get(req, "cpu") || !manifest_get(req, "memory"))
			add(c, "k8s/requests-missing", SEV_LOW, k, name,
			    "set resources.requests.cpu and resources.requests.memory",
			    "container \"%.64s\" has no CPU or memory request", name);
		if (!manifest_get(lim, "memory") || !manifest_get(lim, "cpu"))
			add(c, "k8s/limits-missing", SEV_MEDIUM, k, name,
			    "set resources.limits.cpu and resources.limits.memory",
			    "container \"%.64s\" has no CPU or memory limit", name);
	}
	const struct yaml_node *img = manifest_get(k, "image");
	if (img && img->kind == YAML_SCALAR && img->len && img->len < 1024) {
		char reg[1024], tag[1024], dig[1024];
		k8s_practice_parse_image(img->str, reg, tag, dig);
		if (!*dig && (!*tag || !strcmp(tag, "latest")))
			add(c, "k8s/image-latest", SEV_MEDIUM, img, name,
			    "pin the image to a version tag and, better, a digest",
			    "container \"%.64s\" image %.200s uses the latest tag", name, img->str);
		if (!*dig)
			add(c, "k8s/image-no-digest", SEV_LOW, img, name,
			    "reference the image by digest (image@sha256:...)",
			    "container \"%.64s\" image %.200s is not pinned by digest", name, img->str);
	}
	if (yaml_bool(manifest_get(sc, "readOnlyRootFilesystem")) != 1)
		add(c, "k8s/writable-rootfs", SEV_MEDIUM, sc ? sc : k, name,
		    "set securityContext.readOnlyRootFilesystem: true and mount emptyDir where writes are needed",
		    "container \"%.64s\" has a writable root filesystem", name);
	const struct yaml_node *drop = manifest_get(manifest_get(sc, "capabilities"), "drop");
	if (!list_has(drop, "NET_RAW", "ALL"))
		add(c, "k8s/net-raw", SEV_MEDIUM, drop ? drop : k, name,
		    "add NET_RAW (or ALL) to securityContext.capabilities.drop",
		    "container \"%.64s\" does not drop NET_RAW", name);
	int batch = !strcmp(c->o->kind, "Job") || !strcmp(c->o->kind, "CronJob");
	if (regular && !batch) {
		if (!manifest_get(k, "livenessProbe"))
			add(c, "k8s/liveness-probe-missing", SEV_LOW, k, name, "add a livenessProbe",
			    "container \"%.64s\" has no liveness probe", name);
		if (!manifest_get(k, "readinessProbe"))
			add(c, "k8s/readiness-probe-missing", SEV_LOW, k, name, "add a readinessProbe",
			    "container \"%.64s\" has no readiness probe", name);
	}
}

size_t k8s_practice_check(const struct manifest_obj *o, struct policy_findings *out)
{
	size_t before = out->n;
	struct pctx c = { o, out };
	if (!o->pod_spec || o->pod_spec->kind != YAML_MAP)
		return 0;
	static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
	for (size_t l = 0; l < 3; l++) {
		const struct yaml_node *seq = manifest_get(o->pod_spec, lists[l]);
		if (seq && seq->kind == YAML_SEQ)
			for (size_t i = 0; i < seq->n; i++)
				container_checks(&c, seq->items[i], lists[l]);
	}
	if (yaml_bool(manifest_get(o->pod_spec, "automountServiceAccountToken")) != 0)
		add(&c, "k8s/sa-token-automount", SEV_LOW, o->pod_spec, NULL,
		    "set automountServiceAccountToken: false unless the pod calls the API server",
		    "the service account token is mounted automatically");
	const struct yaml_node *vols = manifest_get(o->pod_spec, "volumes");
	if (vols && vols->kind == YAML_SEQ)
		for (size_t i = 0; i < vols->n; i++) {
			const char *path = manifest_str(manifest_get(vols->items[i], "hostPath"), "path");
			if (path && exposes_socket(path))
				add(&c, "k8s/runtime-socket", SEV_CRITICAL, vols->items[i], NULL,
				    "do not mount the container runtime socket: it gives root on the node",
				    "volume mounts the container runtime socket (hostPath %.200s)", path);
		}
	if (!o->ns || !strcmp(o->ns, "default"))
		add(&c, "k8s/default-namespace", SEV_LOW, o->root, NULL,
		    "set metadata.namespace to a dedicated namespace",
		    "%s \"%.64s\" is in the default namespace", o->kind, o->name);
	return out->n - before;
}
