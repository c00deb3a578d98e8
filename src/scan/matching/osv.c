/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scan/matching/cvss.h"
#include "scan/matching/osv.h"
#include "scan/reports/purl.h"
#include "scan/scan.h"

static char *jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

char *osv_name_key(const char *ecosystem, const char *name)
{
	return strcmp(ecosystem, "PyPI") ? xstrdup(name) : purl_pypi_name(name);
}

void osv_record_free(struct osv_record *r)
{
	free(r->id);
	free(r->modified);
	free(r->published);
	free(r->withdrawn);
	free(r->summary);
	free(r->aliases);
	for (size_t i = 0; i < r->naffected; i++) {
		free(r->affected[i].ecosystem);
		free(r->affected[i].name);
		free(r->affected[i].ranges);
		free(r->affected[i].versions);
	}
	free(r->affected);
	memset(r, 0, sizeof(*r));
}

/* Severity: the highest CVSS v3.x or v4.0 score of the record, else a database's own rating. */
static void osv_severity(json_t *root, struct osv_record *r)
{
	json_t *sev = json_object_get(root, "severity"), *e;
	size_t i;

	r->score = -1;
	json_array_foreach(sev, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *score = json_string_value(json_object_get(e, "score"));
		if (!type || !score)
			continue;
		double s = -1;
		if (!strcmp(type, "CVSS_V3"))
			s = cvss3_base_score(score);
		else if (!strcmp(type, "CVSS_V4"))
			s = cvss4_score(score);
		if (s > r->score)
			r->score = s;
	}
	if (r->score >= 0) {
		r->severity = cvss_severity(r->score);
		return;
	}
	/* GHSA and others: database_specific.severity; Ubuntu/Debian: per affected entry */
	const char *ds = json_string_value(
		json_object_get(json_object_get(root, "database_specific"), "severity"));
	json_t *aff = json_object_get(root, "affected");
	json_array_foreach(aff, i, e) {
		if (ds)
			break;
		ds = json_string_value(json_object_get(json_object_get(e, "ecosystem_specific"),
						       "severity"));
		if (!ds)
			ds = json_string_value(json_object_get(
				json_object_get(e, "database_specific"), "severity"));
	}
	int rated = severity_parse(ds); /* any case */
	if (ds && !strcasecmp(ds, "MODERATE"))
		rated = SEV_MEDIUM;
	if (ds && !strcasecmp(ds, "IMPORTANT"))
		rated = SEV_HIGH;
	r->severity = rated < 0 ? SEV_UNKNOWN : (enum vg_severity)rated;
}

int osv_parse(const char *data, size_t len, const char *name, struct osv_record *r,
	      struct vg_buf *err)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je);
	size_t i;
	json_t *e;

	memset(r, 0, sizeof(*r));
	if (!root) {
		buf_printf(err, "cannot parse %s:%d:%d: %s", name, je.line, je.column, je.text);
		return -1;
	}
	r->id = jdup(root, "id");
	if (!json_is_object(root) || !r->id || !r->id[0]) {
		buf_printf(err, "cannot parse %s: not an OSV record (no \"id\")", name);
		json_decref(root);
		osv_record_free(r);
		return -1;
	}
	r->modified = jdup(root, "modified");
	r->published = jdup(root, "published");
	r->withdrawn = jdup(root, "withdrawn");
	r->summary = jdup(root, "summary");
	if (!r->summary) {
		const char *d = json_string_value(json_object_get(root, "details"));
		r->summary = xstrndup(d ? d : "", d ? strcspn(d, "\n") : 0);
	}
	struct vg_buf al = { 0 };
	json_array_foreach(json_object_get(root, "aliases"), i, e) {
		if (json_is_string(e) && !strchr(json_string_value(e), ','))
			buf_printf(&al, "%s%s", al.len ? "," : "", json_string_value(e));
	}
	r->aliases = al.data ? al.data : xstrdup("");
	osv_severity(root, r);
	json_t *aff = json_object_get(root, "affected");
	if (json_is_array(aff) && json_array_size(aff))
		r->affected = xcalloc(json_array_size(aff), sizeof(*r->affected));
	json_array_foreach(aff, i, e) {
		json_t *pkg = json_object_get(e, "package");
		const char *eco = json_string_value(json_object_get(pkg, "ecosystem"));
		const char *nm = json_string_value(json_object_get(pkg, "name"));
		if (!eco || !nm)
			continue; /* e.g. an entry naming only a purl */
		struct osv_affected *a = &r->affected[r->naffected++];
		a->ecosystem = xstrdup(eco);
		a->name = osv_name_key(eco, nm);
		json_t *ranges = json_object_get(e, "ranges");
		json_t *versions = json_object_get(e, "versions");
		a->ranges = json_is_array(ranges) ? json_dumps(ranges, JSON_COMPACT) : xstrdup("[]");
		a->versions = json_is_array(versions) ? json_dumps(versions, JSON_COMPACT) :
							xstrdup("[]");
	}
	json_decref(root);
	return 0;
}

struct ev {
	const char *kind; /* introduced fixed last_affected limit */
	const char *ver;
};

/* The scheme comes as qsort_r's argument, not a global: osv_affects may run in several threads. */
static int ev_cmp(const void *a, const void *b, void *scheme)
{
	const struct ev *x = a, *y = b;
	bool xz = !strcmp(x->ver, "0"), yz = !strcmp(y->ver, "0");

	if (xz || yz)
		return yz - xz; /* "0" is below every version */
	return vercmp(*(const enum vercmp_scheme *)scheme, x->ver, y->ver);
}

/* One range: walk its events in version order; the last one at or below v decides. */
static bool range_affects(enum vercmp_scheme s, const char *v, json_t *events, char **fixed)
{
	size_t n = json_array_size(events), k = 0, i;
	struct ev *ev = xcalloc(n ? n : 1, sizeof(*ev));
	json_t *e;
	bool affected = false, has_limit = false, below_limit = false;

	json_array_foreach(events, i, e) {
		const char *key;
		json_t *val;
		json_object_foreach(e, key, val) {
			if (!json_is_string(val))
				continue;
			if (!strcmp(key, "limit")) {
				has_limit = true;
				if (!strcmp(json_string_value(val), "*") ||
				    vercmp(s, v, json_string_value(val)) < 0)
					below_limit = true;
				continue;
			}
			if (strcmp(key, "introduced") && strcmp(key, "fixed") &&
			    strcmp(key, "last_affected"))
				continue;
			ev[k].kind = key;
			ev[k].ver = json_string_value(val);
			k++;
			break;
		}
	}
	qsort_r(ev, k, sizeof(*ev), ev_cmp, &s);
	for (i = 0; i < k; i++) {
		if (!strcmp(ev[i].kind, "introduced")) {
			if (!strcmp(ev[i].ver, "0") || vercmp(s, v, ev[i].ver) >= 0)
				affected = true;
		} else if (!strcmp(ev[i].kind, "fixed")) {
			if (vercmp(s, v, ev[i].ver) >= 0)
				affected = false;
		} else if (vercmp(s, v, ev[i].ver) > 0) { /* last_affected */
			affected = false;
		}
	}
	if (has_limit && !below_limit)
		affected = false;
	if (affected && fixed && !*fixed)
		for (i = 0; i < k; i++)
			if (!strcmp(ev[i].kind, "fixed") && vercmp(s, ev[i].ver, v) > 0) {
				*fixed = xstrdup(ev[i].ver);
				break;
			}
	free(ev);
	return affected;
}

bool osv_affects(enum vercmp_scheme s, const char *v, const char *ranges, const char *versions,
		 char **fixed)
{
	json_t *rs = json_loads(ranges, 0, NULL), *vs = json_loads(versions, 0, NULL), *e;
	size_t i;
	bool hit = false;

	json_array_foreach(vs, i, e) {
		const char *x = json_string_value(e);
		if (x && (!strcmp(x, v) || (s != VERCMP_NONE && !vercmp(s, x, v))))
			hit = true;
	}
	json_array_foreach(rs, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		if (!type || (strcmp(type, "ECOSYSTEM") && strcmp(type, "SEMVER")))
			continue;
		enum vercmp_scheme rs_s = !strcmp(type, "SEMVER") ? VERCMP_SEMVER : s;
		if (rs_s == VERCMP_NONE)
			continue; /* no way to order this ecosystem's versions */
		if (range_affects(rs_s, v, json_object_get(e, "events"), fixed))
			hit = true;
	}
	json_decref(rs);
	json_decref(vs);
	return hit;
}
