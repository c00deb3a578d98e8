/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod Security Standards. Each control is a function over the pod; the table
 * `checks` says at which level and from which policy version it applies and
 * which baseline control a restricted one replaces (PSA's "override": the
 * restricted capabilities, volumes and seccomp controls are stricter forms of
 * baseline ones, so a pod is reported once, by the stricter rule).
 *
 * Values are judged as the API server would decode them: a boolean field is
 * "undefined" when absent or null; a value of the wrong type (a quoted
 * "true", a list where a scalar belongs) can never be admitted by the API
 * server, so here it counts as a violation rather than as unset (fail closed).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "policy/manifest.h"
#include "policy/pss.h"

struct pss_ctx;
typedef void (*check_fn)(struct pss_ctx *c);

struct check {
	const char *id;            /* PSA's check id, reported as "pss/<id>" */
	enum pss_level level;
	int since;                 /* first policy minor version (1.<since>) */
	enum vg_severity sev;
	const char *overrides;     /* baseline check id this one replaces, or NULL */
	int windows_exempt_since;  /* pods with spec.os.name=windows pass from 1.<this> (0: never) */
	check_fn fn;
	const char *hint;
};

struct pss_ctx {
	const struct yaml_node *meta, *spec;
	const struct yaml_node *psc; /* spec.securityContext */
	int version;
	struct policy_findings *out;
	const struct check *cur;
	int pod_ok; /* pod-level runAsNonRoot=true / valid seccompProfile, inherited by containers */
};

/* ---- value helpers ---------------------------------------------------- */

enum tri { T_UNSET = -1, T_FALSE = 0, T_TRUE = 1, T_INVALID = 2 };

static enum tri field_bool(const struct yaml_node *n)
{
	if (!n || yaml_is_null(n))
		return T_UNSET;
	int b = yaml_bool(n);
	return b < 0 ? T_INVALID : (enum tri)b;
}

/* 0 unset, 1 set with *v, 2 not an integer */
static int field_int(const struct yaml_node *n, long long *v)
{
	if (!n || yaml_is_null(n))
		return 0;
	if (n->kind != YAML_SCALAR || !n->plain || !n->len)
		return 2;
	char *end;
	errno = 0;
	*v = strtoll(n->str, &end, 10);
	if (errno || *end)
		return 2;
	return 1;
}

/* A scalar's text; "" for unset; NULL for a non-scalar (invalid). */
static const char *field_str(const struct yaml_node *n)
{
	if (!n || yaml_is_null(n))
		return "";
	if (n->kind != YAML_SCALAR)
		return NULL;
	return n->str;
}

static int present(const struct yaml_node *n)
{
	return n && !yaml_is_null(n);
}

/* A printable form of a scalar for messages (bounded). */
static void show(const struct yaml_node *n, char *buf, size_t len)
{
	if (!n)
		snprintf(buf, len, "<unset>");
	else if (n->kind == YAML_SCALAR)
		snprintf(buf, len, "%.*s", (int)(n->len > 80 ? 80 : n->len), n->str);
	else
		snprintf(buf, len, n->kind == YAML_MAP ? "<mapping>" : "<list>");
}

static void report(struct pss_ctx *c, const struct yaml_node *at, const char *container,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct pss_ctx *c, const struct yaml_node *at, const char *container,
		   const char *fmt, ...)
{
	char msg[512], id[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(id, sizeof(id), "pss/%s", c->cur->id);
	if (!at)
		at = c->spec;
	findings_add(c->out, id, c->cur->sev, at ? at->line : 0, at ? at->col : 0, container,
		     msg, c->cur->hint);
}

/*
 * Whether the pod runs in its own user namespace (spec.hostUsers: false):
 * from policy version 1.35 PSA relaxes procMount (baseline), runAsNonRoot
 * and runAsUser (restricted) for such pods, root in them being unprivileged
 * on the host.
 */
static int userns_relaxed(const struct pss_ctx *c)
{
	return c->version >= 35 && field_bool(manifest_get(c->spec, "hostUsers")) == T_FALSE;
}

/* ---- containers ------------------------------------------------------- */

struct ctr {
	const struct yaml_node *node, *sc; /* the container and its securityContext */
	const char *name;
	const char *list;                  /* "containers", "initContainers", "ephemeralContainers" */
	size_t index;
};

typedef void (*ctr_fn)(struct pss_ctx *c, const struct ctr *k);

/* Calls fn for every container, init container and ephemeral container. */
static void visit_containers(struct pss_ctx *c, ctr_fn fn)
{
	static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
	for (size_t l = 0; l < 3; l++) {
		const struct yaml_node *seq = manifest_get(c->spec, lists[l]);
		if (!seq || seq->kind != YAML_SEQ)
			continue;
		for (size_t i = 0; i < seq->n; i++) {
			struct ctr k = { seq->items[i], NULL, NULL, lists[l], i };
			k.sc = manifest_get(k.node, "securityContext");
			k.name = manifest_str(k.node, "name");
			if (!k.name)
				k.name = "";
			fn(c, &k);
		}
	}
}

/* "containers[0] \"app\"" for messages */
static const char *where(const struct ctr *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s[%zu] \"%.64s\"", k->list, k->index, k->name);
	return buf;
}

/* Reports a boolean field that must be false or unset. */
static void must_not_be_true(struct pss_ctx *c, const struct yaml_node *v, const char *container,
			     const char *who, const char *field)
{
	enum tri t = field_bool(v);
	char val[96];
	if (t == T_TRUE || t == T_INVALID) {
		show(v, val, sizeof(val));
		report(c, v, container, "%s sets %s=%s (allowed: false or unset)", who, field, val);
	}
}

/* ---- baseline controls ------------------------------------------------ */

static void hostprocess_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	must_not_be_true(c, manifest_get(manifest_get(k->sc, "windowsOptions"), "hostProcess"),
			 k->name, where(k, w, sizeof(w)), "securityContext.windowsOptions.hostProcess");
}

static void check_windows_host_process(struct pss_ctx *c)
{
	must_not_be_true(c, manifest_get(manifest_get(c->psc, "windowsOptions"), "hostProcess"), NULL,
			 "pod", "securityContext.windowsOptions.hostProcess");
	visit_containers(c, hostprocess_ctr);
}

static void check_host_namespaces(struct pss_ctx *c)
{
	static const char *const f[] = { "hostNetwork", "hostPID", "hostIPC" };
	for (size_t i = 0; i < 3; i++)
		must_not_be_true(c, manifest_get(c->spec, f[i]), NULL, "pod", f[i]);
}

static void privileged_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	must_not_be_true(c, manifest_get(k->sc, "privileged"), k->name, where(k, w, sizeof(w)),
			 "securityContext.privileged");
}

static void check_privileged(struct pss_ctx *c)
{
	visit_containers(c, privileged_ctr);
}

static const char *const baseline_caps[] = {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", NULL,
};

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/*
 * Reports capabilities.add entries not in `allowed` for one container (the
 * baseline and restricted controls differ only in the list).
 */
static void caps_add(struct pss_ctx *c, const struct ctr *k, const char *const *allowed,
		     const char *allowed_text)
{
	const struct yaml_node *add = manifest_get(manifest_get(k->sc, "capabilities"), "add");
	char w[128];
	if (!present(add))
		return;
	if (add->kind != YAML_SEQ) {
		report(c, add, k->name, "%s: securityContext.capabilities.add is not a list",
		       where(k, w, sizeof(w)));
		return;
	}
	for (size_t i = 0; i < add->n; i++) {
		const char *cap = field_str(add->items[i]);
		char val[96];
		if (!cap || !in_list(cap, allowed)) {
			show(add->items[i], val, sizeof(val));
			report(c, add->items[i], k->name,
			       "%s adds capability %s (allowed: %s)", where(k, w, sizeof(w)), val,
			       allowed_text);
		}
	}
}

static void caps_baseline_ctr(struct pss_ctx *c, const struct ctr *k)
{
	caps_add(c, k, baseline_caps, "the default set: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, "
				      "FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, "
				      "SETPCAP, SETUID, SYS_CHROOT");
}

static void check_capabilities_baseline(struct pss_ctx *c)
{
	visit_containers(c, caps_baseline_ctr);
}

/* Calls fn(c, volume, name) for each volume of the pod. */
static void for_each_volume(struct pss_ctx *c,
			    void (*fn)(struct pss_ctx *c, const struct yaml_node *v, const char *name))
{
	const struct yaml_node *vols = manifest_get(c->spec, "volumes");
	if (!vols || vols->kind != YAML_SEQ)
		return;
	for (size_t i = 0; i < vols->n; i++) {
		const char *name = manifest_str(vols->items[i], "name");
		fn(c, vols->items[i], name ? name : "");
	}
}

static void hostpath_vol(struct pss_ctx *c, const struct yaml_node *v, const char *name)
{
	const struct yaml_node *hp = manifest_get(v, "hostPath");
	if (present(hp))
		report(c, hp, NULL, "volume \"%.64s\" is a hostPath volume (%.128s)", name,
		       manifest_str(hp, "path") ? manifest_str(hp, "path") : "no path");
}

static void check_host_path_volumes(struct pss_ctx *c)
{
	for_each_volume(c, hostpath_vol);
}

static void hostports_ctr(struct pss_ctx *c, const struct ctr *k)
{
	const struct yaml_node *ports = manifest_get(k->node, "ports");
	char w[128], val[96];
	if (!ports || ports->kind != YAML_SEQ)
		return;
	for (size_t i = 0; i < ports->n; i++) {
		const struct yaml_node *hp = manifest_get(ports->items[i], "hostPort");
		long long v = 0;
		int r = field_int(hp, &v);
		if (r == 2 || (r == 1 && v != 0)) {
			show(hp, val, sizeof(val));
			report(c, hp, k->name, "%s uses hostPort %s (allowed: 0 or unset)",
			       where(k, w, sizeof(w)), val);
		}
	}
}

static void check_host_ports(struct pss_ctx *c)
{
	visit_containers(c, hostports_ctr);
}

/* Reports handler.{httpGet,tcpSocket}.host when set to anything but "". */
static void host_field(struct pss_ctx *c, const struct ctr *k, const struct yaml_node *handler,
		       const char *what)
{
	static const char *const kinds[] = { "httpGet", "tcpSocket" };
	char w[128], val[96];
	for (size_t i = 0; i < 2; i++) {
		const struct yaml_node *h = manifest_get(manifest_get(handler, kinds[i]), "host");
		const char *s = field_str(h);
		if (!s || *s) {
			show(h, val, sizeof(val));
			report(c, h, k->name, "%s sets %s.%s.host=%s (allowed: \"\" or unset)",
			       where(k, w, sizeof(w)), what, kinds[i], val);
		}
	}
}

static void probes_ctr(struct pss_ctx *c, const struct ctr *k)
{
	static const char *const probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
	for (size_t i = 0; i < 3; i++)
		host_field(c, k, manifest_get(k->node, probes[i]), probes[i]);
	const struct yaml_node *lc = manifest_get(k->node, "lifecycle");
	host_field(c, k, manifest_get(lc, "postStart"), "lifecycle.postStart");
	host_field(c, k, manifest_get(lc, "preStop"), "lifecycle.preStop");
}

static void check_host_probes(struct pss_ctx *c)
{
	visit_containers(c, probes_ctr);
}

#define APPARMOR_PREFIX "container.apparmor.security.beta.kubernetes.io/"

/* securityContext.appArmorProfile: unset, or type RuntimeDefault / Localhost */
static void apparmor_field(struct pss_ctx *c, const struct yaml_node *sc, const char *container,
			   const char *who)
{
	const struct yaml_node *p = manifest_get(sc, "appArmorProfile");
	if (!present(p))
		return;
	const struct yaml_node *t = manifest_get(p, "type");
	const char *s = field_str(t);
	char val[96];
	if (!s || (strcmp(s, "RuntimeDefault") && strcmp(s, "Localhost"))) {
		show(t, val, sizeof(val));
		report(c, t ? t : p, container,
		       "%s sets securityContext.appArmorProfile.type=%s (allowed: RuntimeDefault, "
		       "Localhost or unset)", who, val);
	}
}

static void apparmor_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	apparmor_field(c, k->sc, k->name, where(k, w, sizeof(w)));
}

static void check_apparmor(struct pss_ctx *c)
{
	const struct yaml_node *ann = manifest_get(c->meta, "annotations");
	if (ann && ann->kind == YAML_MAP) {
		for (size_t i = 0; i < ann->n; i++) {
			const struct yaml_node *k = ann->items[2 * i], *v = ann->items[2 * i + 1];
			if (k->kind != YAML_SCALAR || strncmp(k->str, APPARMOR_PREFIX, strlen(APPARMOR_PREFIX)))
				continue;
			const char *s = field_str(v);
			if (s && (!*s || !strcmp(s, "runtime/default") || !strncmp(s, "localhost/", 10)))
				continue;
			char val[96];
			show(v, val, sizeof(val));
			report(c, v, k->str + strlen(APPARMOR_PREFIX),
			       "annotation %.160s=%s (allowed: runtime/default, localhost/* or unset)",
			       k->str, val);
		}
	}
	apparmor_field(c, c->psc, NULL, "pod");
	visit_containers(c, apparmor_ctr);
}

static void selinux_opts(struct pss_ctx *c, const struct yaml_node *sc, const char *container,
			 const char *who)
{
	static const char *const types[] = { "", "container_t", "container_init_t", "container_kvm_t",
					     NULL };
	const struct yaml_node *o = manifest_get(sc, "seLinuxOptions");
	char val[96];
	if (!present(o))
		return;
	const struct yaml_node *t = manifest_get(o, "type");
	const char *s = field_str(t);
	/* container_engine_t joined the allowed types in policy version 1.31 */
	if (!s || !(in_list(s, types) || (c->version >= 31 && !strcmp(s, "container_engine_t")))) {
		show(t, val, sizeof(val));
		report(c, t, container,
		       "%s sets securityContext.seLinuxOptions.type=%s (allowed: container_t, "
		       "container_init_t, container_kvm_t%s or unset)",
		       who, val, c->version >= 31 ? ", container_engine_t" : "");
	}
	static const char *const fixed[] = { "user", "role" };
	for (size_t i = 0; i < 2; i++) {
		const struct yaml_node *f = manifest_get(o, fixed[i]);
		s = field_str(f);
		if (!s || *s) {
			show(f, val, sizeof(val));
			report(c, f, container, "%s sets securityContext.seLinuxOptions.%s=%s (must be unset)",
			       who, fixed[i], val);
		}
	}
}

static void selinux_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	selinux_opts(c, k->sc, k->name, where(k, w, sizeof(w)));
}

static void check_selinux(struct pss_ctx *c)
{
	selinux_opts(c, c->psc, NULL, "pod");
	visit_containers(c, selinux_ctr);
}

static void procmount_ctr(struct pss_ctx *c, const struct ctr *k)
{
	const struct yaml_node *p = manifest_get(k->sc, "procMount");
	const char *s = field_str(p);
	char w[128], val[96];
	if (!present(p) || (s && !strcmp(s, "Default")))
		return;
	show(p, val, sizeof(val));
	report(c, p, k->name, "%s sets securityContext.procMount=%s (allowed: Default or unset)",
	       where(k, w, sizeof(w)), val);
}

static void check_proc_mount(struct pss_ctx *c)
{
	if (userns_relaxed(c))
		return; /* v1.35+: any procMount in a user namespace */
	visit_containers(c, procmount_ctr);
}

/* restricted: procMount Default or unset, user namespace or not */
static void check_proc_mount_restricted(struct pss_ctx *c)
{
	visit_containers(c, procmount_ctr);
}

#define SECCOMP_POD_ANNOTATION "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CTR_ANNOTATION "container.seccomp.security.alpha.kubernetes.io/"

static int seccomp_annotation_ok(const char *s)
{
	return s && (!strcmp(s, "runtime/default") || !strcmp(s, "docker/default") ||
		     !strncmp(s, "localhost/", 10));
}

static void seccomp_annotation_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char key[320], val[96];
	snprintf(key, sizeof(key), SECCOMP_CTR_ANNOTATION "%.250s", k->name);
	const struct yaml_node *v = manifest_get(manifest_get(c->meta, "annotations"), key);
	if (v && !seccomp_annotation_ok(field_str(v))) {
		show(v, val, sizeof(val));
		report(c, v, k->name, "annotation %s=%s (allowed: runtime/default, docker/default, "
				      "localhost/* or unset)", key, val);
	}
}

static int seccomp_type_ok(const char *s)
{
	return s && (!strcmp(s, "RuntimeDefault") || !strcmp(s, "Localhost"));
}

/* The seccompProfile of a securityContext: 0 unset, 1 valid, 2 a forbidden type (reported). */
static int seccomp_field(struct pss_ctx *c, const struct yaml_node *sc, const char *container,
			 const char *who)
{
	const struct yaml_node *p = manifest_get(sc, "seccompProfile");
	if (!present(p))
		return 0;
	const struct yaml_node *t = manifest_get(p, "type");
	if (seccomp_type_ok(field_str(t)))
		return 1;
	char val[96];
	show(t, val, sizeof(val));
	report(c, t ? t : p, container,
	       "%s sets securityContext.seccompProfile.type=%s (allowed: RuntimeDefault, Localhost)",
	       who, val);
	return 2;
}

static void seccomp_field_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	seccomp_field(c, k->sc, k->name, where(k, w, sizeof(w)));
}

static void check_seccomp_baseline(struct pss_ctx *c)
{
	if (c->version < 19) {
		/* v1.0-v1.18: the alpha annotations were the only way to set a profile */
		const struct yaml_node *v = manifest_get(manifest_get(c->meta, "annotations"),
							 SECCOMP_POD_ANNOTATION);
		char val[96];
		if (v && !seccomp_annotation_ok(field_str(v))) {
			show(v, val, sizeof(val));
			report(c, v, NULL, "annotation " SECCOMP_POD_ANNOTATION "=%s (allowed: "
					   "runtime/default, docker/default, localhost/* or unset)", val);
		}
		visit_containers(c, seccomp_annotation_ctr);
		return;
	}
	seccomp_field(c, c->psc, NULL, "pod");
	visit_containers(c, seccomp_field_ctr);
}

static const char *const sysctls_1_0[] = {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", NULL,
};
static const char *const sysctls_1_27[] = { "net.ipv4.ip_local_reserved_ports", NULL };
static const char *const sysctls_1_29[] = {
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", NULL,
};
static const char *const sysctls_1_32[] = { "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", NULL };
static const char *const sysctls_1_37[] = {
	"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat", NULL,
};

static void check_sysctls(struct pss_ctx *c)
{
	const struct yaml_node *list = manifest_get(c->psc, "sysctls");
	char val[96];
	if (!present(list))
		return;
	if (list->kind != YAML_SEQ) {
		report(c, list, NULL, "pod: securityContext.sysctls is not a list");
		return;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct yaml_node *n = manifest_get(list->items[i], "name");
		const char *s = field_str(n);
		if (s && (in_list(s, sysctls_1_0) || (c->version >= 27 && in_list(s, sysctls_1_27)) ||
			  (c->version >= 29 && in_list(s, sysctls_1_29)) ||
			  (c->version >= 32 && in_list(s, sysctls_1_32)) ||
			  (c->version >= 37 && in_list(s, sysctls_1_37))))
			continue;
		show(n, val, sizeof(val));
		report(c, n ? n : list->items[i], NULL, "pod sets forbidden sysctl %s", val);
	}
}

/* ---- restricted controls ---------------------------------------------- */

static void restricted_vol(struct pss_ctx *c, const struct yaml_node *v, const char *name)
{
	/* image: allowed by PSA's restricted check since Kubernetes 1.33, at every policy version */
	static const char *const ok[] = { "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
					  "image", "persistentVolumeClaim", "projected", "secret" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		if (present(manifest_get(v, ok[i])))
			return;
	/* name the type: the first key set to something that is not "name" */
	const char *type = NULL;
	if (v && v->kind == YAML_MAP)
		for (size_t i = 0; i < v->n; i++)
			if (v->items[2 * i]->kind == YAML_SCALAR && !yaml_is(v->items[2 * i], "name") &&
			    present(v->items[2 * i + 1])) {
				type = v->items[2 * i]->str;
				break;
			}
	/*
	 * No source at all: the API server defaults the volume to an emptyDir
	 * before admission runs, so PSA sees (and allows) an emptyDir.
	 */
	if (!type && v && v->kind == YAML_MAP)
		return;
	report(c, v, NULL, "volume \"%.64s\" has restricted type %.64s (allowed: configMap, csi, "
			   "downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, "
			   "secret)",
	       name, type ? type : "unknown");
}

static void check_restricted_volumes(struct pss_ctx *c)
{
	for_each_volume(c, restricted_vol);
}

static void ape_ctr(struct pss_ctx *c, const struct ctr *k)
{
	const struct yaml_node *v = manifest_get(k->sc, "allowPrivilegeEscalation");
	char w[128], val[96];
	if (field_bool(v) == T_FALSE)
		return;
	show(v, val, sizeof(val));
	report(c, v ? v : k->node, k->name,
	       "%s must set securityContext.allowPrivilegeEscalation=false (is %s)",
	       where(k, w, sizeof(w)), val);
}

static void check_allow_privilege_escalation(struct pss_ctx *c)
{
	visit_containers(c, ape_ctr);
}

static void ranr_ctr(struct pss_ctx *c, const struct ctr *k)
{
	const struct yaml_node *v = manifest_get(k->sc, "runAsNonRoot");
	enum tri t = field_bool(v);
	char w[128], val[96];
	if (t == T_TRUE || (t == T_UNSET && c->pod_ok))
		return;
	if (t == T_UNSET)
		report(c, k->node, k->name,
		       "pod or %s must set securityContext.runAsNonRoot=true", where(k, w, sizeof(w)));
	else {
		show(v, val, sizeof(val));
		report(c, v, k->name, "%s sets securityContext.runAsNonRoot=%s (must be true)",
		       where(k, w, sizeof(w)), val);
	}
}

static void check_run_as_non_root(struct pss_ctx *c)
{
	if (userns_relaxed(c))
		return; /* v1.35+: root in a user namespace is not root on the host */
	const struct yaml_node *v = manifest_get(c->psc, "runAsNonRoot");
	enum tri t = field_bool(v);
	char val[96];
	if (t == T_FALSE || t == T_INVALID) {
		show(v, val, sizeof(val));
		report(c, v, NULL, "pod sets securityContext.runAsNonRoot=%s (must be true)", val);
	}
	/* containers inherit only a valid pod-level true */
	c->pod_ok = t == T_TRUE;
	visit_containers(c, ranr_ctr);
}

static void run_as_user_field(struct pss_ctx *c, const struct yaml_node *sc, const char *container,
			      const char *who)
{
	const struct yaml_node *v = manifest_get(sc, "runAsUser");
	long long uid = 0;
	int r = field_int(v, &uid);
	char val[96];
	if (r == 2 || (r == 1 && uid == 0)) {
		show(v, val, sizeof(val));
		report(c, v, container, "%s sets securityContext.runAsUser=%s (must not be 0)", who, val);
	}
}

static void rau_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	run_as_user_field(c, k->sc, k->name, where(k, w, sizeof(w)));
}

static void check_run_as_user(struct pss_ctx *c)
{
	if (userns_relaxed(c))
		return; /* v1.35+: uid 0 in a user namespace is not root on the host */
	run_as_user_field(c, c->psc, NULL, "pod");
	visit_containers(c, rau_ctr);
}

static void seccomp_restricted_ctr(struct pss_ctx *c, const struct ctr *k)
{
	char w[128];
	int r = seccomp_field(c, k->sc, k->name, where(k, w, sizeof(w)));
	if (r == 0 && !c->pod_ok)
		report(c, k->node, k->name,
		       "pod or %s must set securityContext.seccompProfile.type to RuntimeDefault or "
		       "Localhost", where(k, w, sizeof(w)));
}

static void check_seccomp_restricted(struct pss_ctx *c)
{
	c->pod_ok = seccomp_field(c, c->psc, NULL, "pod") == 1;
	visit_containers(c, seccomp_restricted_ctr);
}

static const char *const restricted_caps[] = { "NET_BIND_SERVICE", NULL };

static void caps_restricted_ctr(struct pss_ctx *c, const struct ctr *k)
{
	const struct yaml_node *drop = manifest_get(manifest_get(k->sc, "capabilities"), "drop");
	int all = 0;
	char w[128];
	if (drop && drop->kind == YAML_SEQ)
		for (size_t i = 0; i < drop->n; i++)
			if (yaml_is(drop->items[i], "ALL"))
				all = 1;
	if (!all)
		report(c, present(drop) ? drop : k->node, k->name,
		       "%s must set securityContext.capabilities.drop=[\"ALL\"]", where(k, w, sizeof(w)));
	caps_add(c, k, restricted_caps, "NET_BIND_SERVICE only");
}

static void check_capabilities_restricted(struct pss_ctx *c)
{
	visit_containers(c, caps_restricted_ctr);
}

/* ---- the table -------------------------------------------------------- */

static const struct check checks[] = {
	{ "windowsHostProcess", PSS_BASELINE, 0, SEV_CRITICAL, NULL, 0, check_windows_host_process,
	  "remove securityContext.windowsOptions.hostProcess or set it to false" },
	{ "hostNamespaces", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_host_namespaces,
	  "remove hostNetwork, hostPID and hostIPC or set them to false" },
	{ "privileged", PSS_BASELINE, 0, SEV_CRITICAL, NULL, 0, check_privileged,
	  "remove securityContext.privileged or set it to false" },
	{ "capabilities_baseline", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_capabilities_baseline,
	  "add only capabilities of the default set (or none)" },
	{ "hostPathVolumes", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_host_path_volumes,
	  "replace the hostPath volume with a configMap, secret, emptyDir or persistentVolumeClaim" },
	{ "hostPorts", PSS_BASELINE, 0, SEV_MEDIUM, NULL, 0, check_host_ports,
	  "remove hostPort; expose the port with a Service" },
	{ "hostProbesAndHostLifecycle", PSS_BASELINE, 34, SEV_MEDIUM, NULL, 0, check_host_probes,
	  "remove the host field of probes and lifecycle handlers" },
	{ "appArmorProfile", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_apparmor,
	  "use the RuntimeDefault or a Localhost AppArmor profile, never Unconfined" },
	{ "seLinuxOptions", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_selinux,
	  "remove seLinuxOptions user/role and use a container_* SELinux type" },
	{ "procMount", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_proc_mount,
	  "remove securityContext.procMount or set it to Default" },
	{ "seccompProfile_baseline", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_seccomp_baseline,
	  "use seccompProfile type RuntimeDefault or Localhost, never Unconfined" },
	{ "sysctls", PSS_BASELINE, 0, SEV_HIGH, NULL, 0, check_sysctls,
	  "set only the safe, namespaced sysctls" },
	{ "procMount_restricted", PSS_RESTRICTED, 0, SEV_HIGH, "procMount", 0,
	  check_proc_mount_restricted,
	  "remove securityContext.procMount or set it to Default (restricted: also with hostUsers: false)" },
	{ "restrictedVolumes", PSS_RESTRICTED, 0, SEV_MEDIUM, "hostPathVolumes", 0,
	  check_restricted_volumes,
	  "use only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, "
	  "projected or secret volumes" },
	{ "allowPrivilegeEscalation", PSS_RESTRICTED, 8, SEV_MEDIUM, NULL, 25,
	  check_allow_privilege_escalation, "set securityContext.allowPrivilegeEscalation: false" },
	{ "runAsNonRoot", PSS_RESTRICTED, 0, SEV_MEDIUM, NULL, 0, check_run_as_non_root,
	  "set securityContext.runAsNonRoot: true on the pod or on every container" },
	{ "runAsUser", PSS_RESTRICTED, 23, SEV_MEDIUM, NULL, 0, check_run_as_user,
	  "set runAsUser to a non-zero UID or leave it unset" },
	{ "seccompProfile_restricted", PSS_RESTRICTED, 19, SEV_MEDIUM, "seccompProfile_baseline", 25,
	  check_seccomp_restricted,
	  "set securityContext.seccompProfile.type: RuntimeDefault on the pod" },
	{ "capabilities_restricted", PSS_RESTRICTED, 22, SEV_MEDIUM, "capabilities_baseline", 25,
	  check_capabilities_restricted,
	  "set securityContext.capabilities.drop: [\"ALL\"] and add at most NET_BIND_SERVICE" },
};
#define NCHECKS (sizeof(checks) / sizeof(*checks))

int pss_level_parse(const char *s)
{
	if (!strcmp(s, "privileged"))
		return PSS_PRIVILEGED;
	if (!strcmp(s, "baseline"))
		return PSS_BASELINE;
	if (!strcmp(s, "restricted"))
		return PSS_RESTRICTED;
	return -1;
}

const char *pss_level_name(enum pss_level l)
{
	return l == PSS_RESTRICTED ? "restricted" : l == PSS_BASELINE ? "baseline" : "privileged";
}

int pss_version_parse(const char *s)
{
	if (!strcmp(s, "latest") || !strcmp(s, ""))
		return PSS_VERSION_LATEST;
	if (*s == 'v')
		s++;
	if (strncmp(s, "1.", 2) || !s[2])
		return -1;
	char *end;
	errno = 0;
	long minor = strtol(s + 2, &end, 10);
	if (errno || *end || minor < 0 || minor >= PSS_VERSION_LATEST || s[2] == '-' || s[2] == '+')
		return -1;
	return (int)minor;
}

int pss_is_check(const char *check)
{
	return !strncmp(check, "pss/", 4);
}

static int applies(const struct check *k, enum pss_level level, int version)
{
	return k->level <= level && version >= k->since;
}

size_t pss_check_pod(const struct yaml_node *meta, const struct yaml_node *spec,
		     enum pss_level level, int version, struct policy_findings *out)
{
	size_t before = out->n;
	if (level == PSS_PRIVILEGED)
		return 0;
	struct pss_ctx c = { meta, spec, manifest_get(spec, "securityContext"), version, out, NULL, 0 };
	const char *os = manifest_str(manifest_get(spec, "os"), "name");
	int windows = os && !strcmp(os, "windows");

	for (size_t i = 0; i < NCHECKS; i++) {
		const struct check *k = &checks[i];
		if (!applies(k, level, version))
			continue;
		/* replaced by a stricter restricted control at this level and version? */
		int replaced = 0;
		for (size_t j = 0; j < NCHECKS; j++)
			if (checks[j].overrides && !strcmp(checks[j].overrides, k->id) &&
			    applies(&checks[j], level, version))
				replaced = 1;
		if (replaced)
			continue;
		if (windows && k->windows_exempt_since && version >= k->windows_exempt_since)
			continue;
		c.cur = k;
		k->fn(&c);
	}
	return out->n - before;
}
