/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AdmissionReview handling. The body goes through the same YAML/JSON tree as
 * manifests, so the pod a webhook judges is read by exactly the code that
 * reads it in `vigil scan config`.
 *
 * Modes follow the Pod Security Admission labels: an enforce violation
 * rejects, an audit violation adds the audit annotation "audit-violations",
 * a warn violation adds a warning; exempt namespaces, users and runtime
 * classes are not evaluated. PSA enforces only on Pods; with
 * enforceWorkloads (the default) Vigil also rejects a Deployment, CronJob,
 * ... whose template violates the enforce level, so the failure appears at
 * `kubectl apply` rather than later as a ReplicaSet that cannot make pods.
 * Like PSA, a Pod update that changes nothing but images, tolerations or
 * activeDeadlineSeconds (and not the annotations) is not judged again, and
 * subresources other than ephemeralcontainers are not judged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "admission/admission_review.h"
#include "common/yaml.h"
#include "policy/k8s_practice.h"
#include "policy/manifest.h"
#include "policy/pss.h"
#include "scan/reports/results_db.h"

void admission_decision_free(struct admission_decision *d)
{
	buf_free(&d->response);
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void bad_request(struct admission_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bad_request(struct admission_decision *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct vg_json j;
	d->http_status = 400;
	d->allowed = 0;
	copy(d->reason, sizeof(d->reason), "bad request");
	buf_reset(&d->response);
	jw_init(&j, &d->response);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "error", msg);
	jw_obj_end(&j);
}

/* ---- PSA's "significant update" --------------------------------------- */

static int node_equal(const struct yaml_node *a, const struct yaml_node *b, int in_container,
		      int in_spec);

static int ignored_key(const struct yaml_node *k, int in_container, int in_spec)
{
	return (in_container && yaml_is(k, "image")) ||
	       (in_spec && (yaml_is(k, "activeDeadlineSeconds") || yaml_is(k, "tolerations")));
}

/* Mappings equal as sets of keys (order free), ignoring the keys PSA ignores. */
static int map_equal(const struct yaml_node *a, const struct yaml_node *b, int in_container, int in_spec)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct yaml_node *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->n; i++) {
			const struct yaml_node *k = x->items[2 * i];
			if (k->kind != YAML_SCALAR)
				return 0;
			if (ignored_key(k, in_container, in_spec))
				continue;
			const struct yaml_node *v = manifest_get(y, k->str);
			if (!v)
				return 0;
			if (!pass) {
				int child_container = in_spec && (yaml_is(k, "containers") ||
								  yaml_is(k, "initContainers") ||
								  yaml_is(k, "ephemeralContainers"));
				if (!node_equal(manifest_get(x, k->str), v, child_container, 0))
					return 0;
			}
		}
	}
	return 1;
}

static int node_equal(const struct yaml_node *a, const struct yaml_node *b, int in_container, int in_spec)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return 0;
	if (a->kind == YAML_SCALAR)
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	if (a->kind == YAML_SEQ) {
		if (a->n != b->n)
			return 0;
		/* items of a container list are containers */
		for (size_t i = 0; i < a->n; i++)
			if (!node_equal(a->items[i], b->items[i], 0, 0) &&
			    !(in_container && a->items[i]->kind == YAML_MAP && b->items[i]->kind == YAML_MAP &&
			      map_equal(a->items[i], b->items[i], 1, 0)))
				return 0;
		return 1;
	}
	return map_equal(a, b, 0, in_spec);
}

static int insignificant_pod_update(const struct yaml_node *obj, const struct yaml_node *old)
{
	if (!old || old->kind != YAML_MAP)
		return 0;
	const struct yaml_node *ma = manifest_get(manifest_get(obj, "metadata"), "annotations");
	const struct yaml_node *mb = manifest_get(manifest_get(old, "metadata"), "annotations");
	if (!node_equal(ma, mb, 0, 0))
		return 0;
	const struct yaml_node *sa = manifest_get(obj, "spec"), *sb = manifest_get(old, "spec");
	if (!sa || !sb || sa->kind != YAML_MAP || sb->kind != YAML_MAP)
		return 0;
	return map_equal(sa, sb, 0, 1);
}

/* ---- images ------------------------------------------------------------ */

/* "nginx" -> "docker.io/library/nginx" (without tag/digest) into out */
static void normalize_repo(const char *ref, char *out, size_t len)
{
	char reg[1024], tag[1024], dig[1024];
	k8s_practice_parse_image(ref, reg, tag, dig);
	size_t n = strcspn(ref, "@");
	const char *slash = memchr(ref, '/', n);
	const char *path = ref;
	if (slash && !strncmp(ref, reg, (size_t)(slash - ref)) && (size_t)(slash - ref) == strlen(reg))
		path = slash + 1;
	size_t pl = n - (size_t)(path - ref);
	if (*tag)
		pl -= strlen(tag) + 1;
	if (!strcmp(reg, "docker.io") && !memchr(path, '/', pl))
		snprintf(out, len, "docker.io/library/%.*s", (int)pl, path);
	else
		snprintf(out, len, "%s/%.*s", reg, (int)pl, path);
}

static int registry_allowed(const struct admission_policy *p, const char *repo)
{
	if (!p->nregistries)
		return 1;
	for (size_t i = 0; i < p->nregistries; i++) {
		const char *e = p->registries[i];
		size_t el = strlen(e);
		while (el && e[el - 1] == '/')
			el--;
		if (!strncmp(repo, e, el) && (repo[el] == '/' || repo[el] == 0))
			return 1;
	}
	return 0;
}

struct img_ctx {
	const struct admission_policy *p;
	struct policy_findings *deny, *warn;
	char error[256]; /* an internal error (database) */
};

static void check_image(struct img_ctx *c, const struct yaml_node *img, const char *container)
{
	char msg[600], repo[1200], reg[1024], tag[1024], dig[1024];
	if (!img || img->kind != YAML_SCALAR || !img->len || img->len >= 1024) {
		findings_add(c->deny, "image/invalid", SEV_HIGH, img ? img->line : 0, img ? img->col : 0,
			     container, "container image is missing or not a valid reference", NULL);
		return;
	}
	k8s_practice_parse_image(img->str, reg, tag, dig);
	normalize_repo(img->str, repo, sizeof(repo));
	if (!registry_allowed(c->p, repo)) {
		snprintf(msg, sizeof(msg), "image %.300s is not from an allowed registry", img->str);
		findings_add(c->deny, "image/registry", SEV_HIGH, img->line, img->col, container, msg,
			     "use an image from one of images.allowedRegistries");
	}
	if (c->p->require_digest && !*dig) {
		snprintf(msg, sizeof(msg), "image %.300s is not pinned by digest", img->str);
		findings_add(c->deny, "image/digest", SEV_MEDIUM, img->line, img->col, container, msg,
			     "reference the image as name@sha256:...");
	}
	if (!c->p->store || c->error[0])
		return;
	int max = -1, found = 0;
	if (*dig) {
		found = results_db_max_severity(c->p->store, dig, &max, c->error, sizeof(c->error));
		if (found < 0)
			return;
	}
	if (found && c->p->max_severity >= 0 && max > c->p->max_severity) {
		snprintf(msg, sizeof(msg), "image %.300s has %s vulnerabilities (allowed at most %s)",
			 img->str, severity_name((enum vg_severity)max),
			 severity_name((enum vg_severity)c->p->max_severity));
		findings_add(c->deny, "image/vulnerabilities", (enum vg_severity)max, img->line,
			     img->col, container, msg, "rebuild the image with fixed packages and rescan it");
	} else if (!found && c->p->unscanned != UNSCANNED_ALLOW) {
		snprintf(msg, sizeof(msg), "image %.300s has no stored scan%s", img->str,
			 *dig ? "" : " (no digest to look it up by)");
		findings_add(c->p->unscanned == UNSCANNED_DENY ? c->deny : c->warn, "image/unscanned",
			     SEV_MEDIUM, img->line, img->col, container, msg,
			     "scan the image with vigil scan image and store the result");
	}
}

static void check_images(struct img_ctx *c, const struct yaml_node *spec)
{
	static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
	for (size_t l = 0; l < 3; l++) {
		const struct yaml_node *seq = manifest_get(spec, lists[l]);
		if (!seq || seq->kind != YAML_SEQ)
			continue;
		for (size_t i = 0; i < seq->n; i++)
			check_image(c, manifest_get(seq->items[i], "image"), manifest_str(seq->items[i], "name"));
	}
}

/* ---- response ---------------------------------------------------------- */

static void level_label(struct pss_mode m, char *out, size_t len)
{
	if (m.version == PSS_VERSION_LATEST)
		snprintf(out, len, "%s:latest", pss_level_name(m.level));
	else
		snprintf(out, len, "%s:v1.%d", pss_level_name(m.level), m.version);
}

/* "id: message; id: message" bounded to ADMISSION_MAX_MESSAGE */
static void join_findings(struct vg_buf *b, const struct policy_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *id = f->v[i].check;
		if (!strncmp(id, "pss/", 4))
			id += 4;
		if (b->len > ADMISSION_MAX_MESSAGE) {
			buf_printf(b, "; ... (%zu more)", f->n - i);
			return;
		}
		buf_printf(b, "%s%s: %s", i ? "; " : "", id, f->v[i].message);
	}
}

struct reply {
	const char *api_version, *uid;
	int allowed, code;
	struct vg_buf message;
	struct vg_buf warnings[64];
	size_t nwarn;
	const char *ann_keys[4];
	struct vg_buf ann_vals[4];
	size_t nann;
};

static void add_warning(struct reply *r, const char *s)
{
	if (r->nwarn < 64) {
		memset(&r->warnings[r->nwarn], 0, sizeof(r->warnings[0]));
		buf_adds(&r->warnings[r->nwarn++], s);
	}
}

/* At most 4 annotations (enforce-policy, audit-violations, exempt): callers stay below. */
static struct vg_buf *add_annotation(struct reply *r, const char *key)
{
	memset(&r->ann_vals[r->nann], 0, sizeof(r->ann_vals[0]));
	r->ann_keys[r->nann] = key;
	return &r->ann_vals[r->nann++];
}

/* One warning per PSS finding: `would violate PodSecurity "LEVEL:VERSION": ID: MESSAGE`. */
static void warn_findings(struct reply *r, const char *label, const struct policy_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct vg_buf w = { 0 };
		buf_printf(&w, "would violate PodSecurity \"%s\": %s: %s", label, f->v[i].check + 4,
			   f->v[i].message);
		add_warning(r, w.data);
		buf_free(&w);
	}
}

static void write_reply(struct admission_decision *d, struct reply *r)
{
	struct vg_json j;
	buf_reset(&d->response);
	jw_init(&j, &d->response);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "apiVersion", r->api_version);
	jw_str(&j, "kind", "AdmissionReview");
	jw_obj_begin(&j, "response");
	jw_str(&j, "uid", r->uid);
	jw_bool(&j, "allowed", r->allowed);
	if (!r->allowed || r->message.len) {
		jw_obj_begin(&j, "status");
		if (!r->allowed) {
			jw_int(&j, "code", r->code);
			jw_str(&j, "reason", r->code == 403   ? "Forbidden"
					     : r->code == 400 ? "BadRequest"
							      : "InternalError");
		}
		jw_str(&j, "message", r->message.data ? r->message.data : "");
		jw_obj_end(&j);
	}
	if (r->nwarn) {
		jw_arr_begin(&j, "warnings");
		for (size_t i = 0; i < r->nwarn; i++)
			jw_str(&j, NULL, r->warnings[i].data);
		jw_arr_end(&j);
	}
	if (r->nann) {
		jw_obj_begin(&j, "auditAnnotations");
		for (size_t i = 0; i < r->nann; i++)
			jw_str(&j, r->ann_keys[i], r->ann_vals[i].data ? r->ann_vals[i].data : "");
		jw_obj_end(&j);
	}
	jw_obj_end(&j);
	jw_obj_end(&j);
	d->http_status = 200;
	d->allowed = r->allowed;
}

static void reply_free(struct reply *r)
{
	buf_free(&r->message);
	for (size_t i = 0; i < r->nwarn; i++)
		buf_free(&r->warnings[i]);
	for (size_t i = 0; i < r->nann; i++)
		buf_free(&r->ann_vals[i]);
}

/* ---- the decision ------------------------------------------------------- */

static void decide(const struct admission_policy *p, const struct yaml_node *req,
		   struct admission_decision *d, struct reply *r)
{
	const char *op = manifest_str(req, "operation");
	const char *sub = manifest_str(req, "subResource");
	const char *ns = manifest_str(req, "namespace");
	const char *user = manifest_str(manifest_get(req, "userInfo"), "username");
	const char *kind = manifest_str(manifest_get(req, "kind"), "kind");
	const struct yaml_node *obj = manifest_get(req, "object");
	copy(d->operation, sizeof(d->operation), op);
	copy(d->user, sizeof(d->user), user);
	copy(d->kind, sizeof(d->kind), kind);

	if (!op || (strcmp(op, "CREATE") && strcmp(op, "UPDATE"))) {
		copy(d->reason, sizeof(d->reason), "operation not judged");
		return;
	}
	if (sub && *sub && strcmp(sub, "ephemeralcontainers")) {
		copy(d->reason, sizeof(d->reason), "subresource not judged");
		return;
	}
	if (!obj || obj->kind != YAML_MAP) {
		r->allowed = 0;
		r->code = 400;
		buf_adds(&r->message, "request.object is missing or not an object");
		copy(d->reason, sizeof(d->reason), "no object");
		return;
	}
	struct manifest_obj o;
	manifest_obj_init(&o, obj, kind);
	if (!ns)
		ns = o.ns;
	copy(d->ns, sizeof(d->ns), ns);
	copy(d->name, sizeof(d->name), o.name);
	if (!o.pod_spec || o.pod_spec->kind != YAML_MAP) {
		if (!manifest_kind_has_pod(o.kind)) {
			char w[160];
			snprintf(w, sizeof(w), "vigil: kind %.64s carries no pod; not checked", o.kind);
			add_warning(r, w);
			copy(d->reason, sizeof(d->reason), "not a pod kind");
			return;
		}
		/* a pod kind without a spec (mapping) can never be valid: nothing to admit */
		r->allowed = 0;
		r->code = 400;
		buf_printf(&r->message, "%s has no pod spec", o.kind);
		copy(d->reason, sizeof(d->reason), "no pod spec");
		return;
	}
	const char *exempt = NULL;
	const char *rc = manifest_str(o.pod_spec, "runtimeClassName");
	if (admission_policy_list_has(p->exempt_ns, p->nexempt_ns, ns))
		exempt = "namespace";
	else if (admission_policy_list_has(p->exempt_users, p->nexempt_users, user))
		exempt = "user";
	else if (admission_policy_list_has(p->exempt_rc, p->nexempt_rc, rc))
		exempt = "runtimeClass";
	if (exempt) {
		buf_adds(add_annotation(r, "exempt"), exempt);
		snprintf(d->reason, sizeof(d->reason), "exempt: %s", exempt);
		return;
	}
	int is_pod = !strcmp(o.kind, "Pod");
	if (is_pod && !strcmp(op, "UPDATE") && !(sub && *sub) &&
	    insignificant_pod_update(obj, manifest_get(req, "oldObject"))) {
		copy(d->reason, sizeof(d->reason), "insignificant pod update");
		return;
	}
	int enforce_applies = is_pod || p->enforce_templates;

	struct policy_findings f[MODE_COUNT] = { { 0 } };
	struct pss_mode m[MODE_COUNT];
	char label[MODE_COUNT][48];
	for (int k = 0; k < MODE_COUNT; k++) {
		m[k] = admission_policy_mode(p, ns, (enum pss_mode_kind)k);
		level_label(m[k], label[k], sizeof(label[k]));
		pss_check_pod(o.pod_meta, o.pod_spec, m[k].level, m[k].version, &f[k]);
	}
	d->enforce_violations = f[MODE_ENFORCE].n;
	d->audit_violations = f[MODE_AUDIT].n;
	d->warn_violations = f[MODE_WARN].n;

	buf_adds(add_annotation(r, "enforce-policy"), label[MODE_ENFORCE]);
	if (f[MODE_AUDIT].n) {
		struct vg_buf *a = add_annotation(r, "audit-violations");
		buf_printf(a, "would violate PodSecurity \"%s\": ", label[MODE_AUDIT]);
		join_findings(a, &f[MODE_AUDIT]);
	}
	warn_findings(r, label[MODE_WARN], &f[MODE_WARN]);
	/* an enforce violation of a workload that is not enforced is still worth a warning */
	if (!enforce_applies)
		warn_findings(r, label[MODE_ENFORCE], &f[MODE_ENFORCE]);

	struct policy_findings img_deny = { 0 }, img_warn = { 0 };
	struct img_ctx ic = { p, &img_deny, &img_warn, "" };
	check_images(&ic, o.pod_spec);
	for (size_t i = 0; i < img_warn.n; i++)
		add_warning(r, img_warn.v[i].message);

	if (ic.error[0]) {
		d->internal_error = 1;
		copy(d->reason, sizeof(d->reason), "internal error");
		if (p->fail_open) {
			struct vg_buf w = { 0 };
			buf_printf(&w, "vigil: internal error, admitted by failurePolicy fail-open: %s", ic.error);
			add_warning(r, w.data);
			buf_free(&w);
		} else {
			r->allowed = 0;
			r->code = 500;
			buf_printf(&r->message, "vigil: internal error (failurePolicy fail-closed): %s", ic.error);
		}
	}
	if (enforce_applies && (f[MODE_ENFORCE].n || img_deny.n) && r->allowed) {
		r->allowed = 0;
		r->code = 403;
		if (f[MODE_ENFORCE].n) {
			buf_printf(&r->message, "%s \"%s\" violates PodSecurity \"%s\": ", o.kind, o.name,
				   label[MODE_ENFORCE]);
			join_findings(&r->message, &f[MODE_ENFORCE]);
		}
		if (img_deny.n) {
			buf_printf(&r->message, "%s%s \"%s\" violates the image policy: ",
				   f[MODE_ENFORCE].n ? "; " : "", o.kind, o.name);
			join_findings(&r->message, &img_deny);
		}
		copy(d->reason, sizeof(d->reason), f[MODE_ENFORCE].n ? "pss" : "images");
	} else if (r->allowed && !d->reason[0]) {
		copy(d->reason, sizeof(d->reason), "compliant");
	}
	for (int k = 0; k < MODE_COUNT; k++)
		findings_free(&f[k]);
	findings_free(&img_deny);
	findings_free(&img_warn);
}

void admission_review_handle(const struct admission_policy *p, const char *body, size_t len,
			     struct admission_decision *d)
{
	struct yaml_stream s;
	char err[300];
	memset(d, 0, sizeof(*d));
	/* JSON has no aliases: a tree larger than the body is an alias bomb */
	if (yaml_parse_bounded(body, len, len / 2 + 64, &s, err, sizeof(err))) {
		bad_request(d, "cannot parse AdmissionReview: %s", err);
		return;
	}
	const struct yaml_node *root = s.ndocs == 1 ? s.docs[0] : NULL;
	const char *api = manifest_str(root, "apiVersion");
	const char *kind = manifest_str(root, "kind");
	const struct yaml_node *req = manifest_get(root, "request");
	const char *uid = manifest_str(req, "uid");
	if (!root || root->kind != YAML_MAP)
		bad_request(d, "body is not one AdmissionReview object");
	else if (!api || (strcmp(api, "admission.k8s.io/v1") && strcmp(api, "admission.k8s.io/v1beta1")))
		bad_request(d, "unsupported apiVersion '%.64s' (admission.k8s.io/v1 or v1beta1)",
			    api ? api : "");
	else if (!kind || strcmp(kind, "AdmissionReview"))
		bad_request(d, "unsupported kind '%.64s' (AdmissionReview)", kind ? kind : "");
	else if (!req || req->kind != YAML_MAP)
		bad_request(d, "AdmissionReview has no request");
	else if (!uid || !*uid || strlen(uid) >= sizeof(d->uid))
		bad_request(d, "AdmissionReview request has no valid uid");
	else {
		struct reply r = { 0 };
		r.api_version = api;
		r.uid = uid;
		r.allowed = 1;
		copy(d->uid, sizeof(d->uid), uid);
		decide(p, req, d, &r);
		write_reply(d, &r);
		reply_free(&r);
	}
	yaml_stream_free(&s);
}
