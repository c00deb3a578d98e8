/* SPDX-License-Identifier: Apache-2.0 */
/* OpenVEX and CycloneDX VEX statements applied to a scan (vex.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/matching/vex.h"

#define VEX_MAX_BYTES (64u << 20)
#define VEX_MAX_STATEMENTS 100000
#define VEX_MAX_LIST 10000

const char *vex_status_name(enum vex_status s)
{
	static const char *const n[] = { "not_affected", "fixed", "affected", "under_investigation" };
	return s <= VEX_UNDER_INVESTIGATION ? n[s] : "?";
}

static void stmt_free(struct vex_statement *s)
{
	for (size_t i = 0; i < s->nvulns; i++)
		free(s->vulns[i]);
	free(s->vulns);
	for (size_t i = 0; i < s->npurls; i++)
		free(s->purls[i]);
	free(s->purls);
	free(s->reason);
	memset(s, 0, sizeof(*s));
}

void vex_free(struct vex_doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		stmt_free(&d->s[i]);
	free(d->s);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * A purl without qualifiers and subpath, percent-decoded, type lower-cased;
 * NULL if s is not a purl. The caller frees it.
 */
static char *purl_norm(const char *s)
{
	if (strncmp(s, "pkg:", 4))
		return NULL;
	size_t n = strcspn(s, "?#");
	char *o = xmalloc(n + 1), *q = o;
	bool in_type = true;
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			*q++ = (char)(h * 16 + l);
			i += 2;
			continue;
		}
		if (i >= 4 && s[i] == '/')
			in_type = false;
		*q++ = in_type && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	}
	*q = 0;
	return o;
}

/* Whether statement purl a (normalised) names package purl p (normalised). */
static bool purl_matches(const char *a, const char *p)
{
	const char *at = strrchr(a, '@');
	if (at && at > strrchr(a, '/'))
		return !strcmp(a, p);
	size_t n = strlen(a);
	return !strncmp(a, p, n) && (p[n] == 0 || p[n] == '@');
}

/* An OCI image purl, or no purl at all: stands for the target itself. */
static bool is_target(const char *id)
{
	return strncmp(id, "pkg:", 4) || !strncmp(id, "pkg:oci/", 8) || !strncmp(id, "pkg:docker/", 11);
}

static void add_str(char ***v, size_t *n, const char *s)
{
	*v = xgrow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

/* An identifier: a string, or an object's "@id" (OpenVEX 0.2) or identifiers.purl. */
static const char *ident(json_t *x)
{
	if (json_is_string(x))
		return json_string_value(x);
	if (!json_is_object(x))
		return NULL;
	json_t *purl = json_object_get(json_object_get(x, "identifiers"), "purl");
	if (json_is_string(purl))
		return json_string_value(purl);
	json_t *id = json_object_get(x, "@id");
	return json_is_string(id) ? json_string_value(id) : NULL;
}

static void add_product(struct vex_statement *st, const char *id)
{
	if (is_target(id)) {
		st->all = true;
		return;
	}
	char *p = purl_norm(id);
	if (st->npurls < VEX_MAX_LIST) {
		st->purls = xgrow(st->purls, st->npurls, sizeof(*st->purls));
		st->purls[st->npurls++] = p;
	} else {
		free(p);
	}
}

static int bad(struct vg_buf *err, const char *name, size_t i, const char *what)
{
	buf_printf(err, "cannot read VEX %s: statement %zu: %s", name, i + 1, what);
	return -1;
}

static void reason_add(struct vg_buf *b, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v) && json_string_length(v))
		buf_printf(b, "%s%.500s", b->len ? "; " : "", json_string_value(v));
}

static int openvex_statement(json_t *s, size_t i, const char *name, struct vex_statement *st,
			     struct vg_buf *err)
{
	static const char *const statuses[] = { "not_affected", "fixed", "affected",
						"under_investigation" };
	if (!json_is_object(s))
		return bad(err, name, i, "not an object");
	json_t *v = json_object_get(s, "vulnerability");
	const char *vn = json_is_object(v) ? (json_is_string(json_object_get(v, "name")) ?
						      json_string_value(json_object_get(v, "name")) :
						      ident(v)) :
					     ident(v);
	if (!vn || !*vn)
		return bad(err, name, i, "no vulnerability name");
	add_str(&st->vulns, &st->nvulns, vn);
	json_t *al = json_object_get(v, "aliases");
	for (size_t k = 0; json_is_array(al) && k < json_array_size(al) && k < VEX_MAX_LIST; k++)
		if (json_is_string(json_array_get(al, k)))
			add_str(&st->vulns, &st->nvulns, json_string_value(json_array_get(al, k)));
	json_t *status = json_object_get(s, "status");
	size_t si = 0;
	while (si < 4 && !(json_is_string(status) && !strcmp(json_string_value(status), statuses[si])))
		si++;
	if (si == 4)
		return bad(err, name, i, "status is not not_affected, affected, fixed or under_investigation");
	st->status = (enum vex_status)si;
	/* products and their subcomponents; v0.0.1's statement-level subcomponents */
	json_t *products = json_object_get(s, "products"), *subs = json_object_get(s, "subcomponents");
	if (products && !json_is_array(products))
		return bad(err, name, i, "products is not a list");
	if (json_is_array(subs) && json_array_size(subs)) {
		for (size_t k = 0; k < json_array_size(subs); k++)
			if (ident(json_array_get(subs, k)))
				add_product(st, ident(json_array_get(subs, k)));
	} else if (!products || !json_array_size(products)) {
		st->all = true;
	} else {
		for (size_t k = 0; k < json_array_size(products); k++) {
			json_t *p = json_array_get(products, k), *ps = json_object_get(p, "subcomponents");
			const char *id = ident(p);
			if (json_is_array(ps) && json_array_size(ps)) {
				for (size_t m = 0; m < json_array_size(ps); m++)
					if (ident(json_array_get(ps, m)))
						add_product(st, ident(json_array_get(ps, m)));
			} else if (id) {
				add_product(st, id);
			} else {
				return bad(err, name, i, "a product without an identifier");
			}
		}
	}
	struct vg_buf r = { 0 }, full = { 0 };
	reason_add(&r, s, "justification");
	reason_add(&r, s, "impact_statement");
	reason_add(&r, s, "action_statement");
	reason_add(&r, s, "status_notes");
	buf_printf(&full, "%s%s%.*s", statuses[si], r.len ? ": " : "", (int)r.len, r.data ? r.data : "");
	buf_free(&r);
	st->reason = full.data;
	return 0;
}

/* CycloneDX: bom-ref -> purl from the BOM's components (nested ones too), bounded. */
static const char *cdx_ref_purl(json_t *components, const char *ref, int depth)
{
	for (size_t i = 0; json_is_array(components) && i < json_array_size(components); i++) {
		json_t *c = json_array_get(components, i);
		json_t *br = json_object_get(c, "bom-ref"), *pu = json_object_get(c, "purl");
		if (json_is_string(br) && !strcmp(json_string_value(br), ref))
			return json_is_string(pu) ? json_string_value(pu) : NULL;
		if (depth < 8) {
			const char *p = cdx_ref_purl(json_object_get(c, "components"), ref, depth + 1);
			if (p)
				return p;
		}
	}
	return NULL;
}

static int cdx_vuln(json_t *root, json_t *v, size_t i, const char *name, struct vex_statement *st,
		    bool *skip, struct vg_buf *err)
{
	static const struct {
		const char *state;
		enum vex_status s;
	} map[] = {
		{ "not_affected", VEX_NOT_AFFECTED }, { "false_positive", VEX_NOT_AFFECTED },
		{ "resolved", VEX_FIXED },	      { "resolved_with_pedigree", VEX_FIXED },
		{ "exploitable", VEX_AFFECTED },      { "in_triage", VEX_UNDER_INVESTIGATION },
	};
	if (!json_is_object(v))
		return bad(err, name, i, "not an object");
	json_t *id = json_object_get(v, "id"), *an = json_object_get(v, "analysis");
	if (!json_is_string(id) || !json_string_length(id))
		return bad(err, name, i, "no vulnerability id");
	json_t *state = json_object_get(an, "state");
	if (!state) {
		*skip = true; /* a vulnerability listed without an analysis says nothing */
		return 0;
	}
	size_t k = 0, nm = sizeof(map) / sizeof(*map);
	while (k < nm && !(json_is_string(state) && !strcmp(json_string_value(state), map[k].state)))
		k++;
	if (k == nm)
		return bad(err, name, i, "analysis.state is not a CycloneDX impact analysis state");
	st->status = map[k].s;
	add_str(&st->vulns, &st->nvulns, json_string_value(id));
	json_t *refs = json_object_get(v, "references");
	for (size_t m = 0; json_is_array(refs) && m < json_array_size(refs) && m < VEX_MAX_LIST; m++)
		if (json_is_string(json_object_get(json_array_get(refs, m), "id")))
			add_str(&st->vulns, &st->nvulns,
				json_string_value(json_object_get(json_array_get(refs, m), "id")));
	json_t *affects = json_object_get(v, "affects");
	if (!json_is_array(affects) || !json_array_size(affects)) {
		st->all = true;
	} else {
		for (size_t m = 0; m < json_array_size(affects); m++) {
			json_t *ref = json_object_get(json_array_get(affects, m), "ref");
			if (!json_is_string(ref))
				return bad(err, name, i, "an affects entry without a ref");
			const char *r = json_string_value(ref), *hash = strchr(r, '#');
			if (!strncmp(r, "urn:cdx:", 8) && hash)
				r = hash + 1;
			const char *purl = cdx_ref_purl(json_object_get(root, "components"), r, 0);
			add_product(st, purl ? purl : r);
		}
	}
	struct vg_buf b = { 0 };
	buf_adds(&b, json_string_value(state));
	json_t *just = json_object_get(an, "justification"), *det = json_object_get(an, "detail");
	if (json_is_string(just))
		buf_printf(&b, ": %.200s", json_string_value(just));
	if (json_is_string(det) && json_string_length(det))
		buf_printf(&b, "%s%.500s", json_is_string(just) ? "; " : ": ", json_string_value(det));
	st->reason = b.data;
	return 0;
}

int vex_parse(const char *text, size_t len, const char *name, struct vex_doc *d,
	      struct vg_buf *err)
{
	json_error_t je;
	memset(d, 0, sizeof(*d));
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		buf_printf(err, "cannot read VEX %s:%d:%d: %s", name, je.line, je.column, je.text);
		return -1;
	}
	json_t *list = json_object_get(root, "statements");
	bool cdx = false;
	if (!json_is_array(list)) {
		json_t *fmt = json_object_get(root, "bomFormat");
		list = json_object_get(root, "vulnerabilities");
		cdx = json_is_string(fmt) && !strcmp(json_string_value(fmt), "CycloneDX");
		if (!cdx || (list && !json_is_array(list))) {
			buf_printf(err, "cannot read VEX %s: not an OpenVEX document (statements) or a "
					"CycloneDX BOM (vulnerabilities)", name);
			json_decref(root);
			return -1;
		}
	}
	d->name = xstrdup(name);
	size_t n = json_array_size(list);
	if (n > VEX_MAX_STATEMENTS) {
		buf_printf(err, "cannot read VEX %s: more than %u statements", name, VEX_MAX_STATEMENTS);
		json_decref(root);
		vex_free(d);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct vex_statement st = { 0 };
		bool skip = false;
		int rc = cdx ? cdx_vuln(root, json_array_get(list, i), i, name, &st, &skip, err) :
			       openvex_statement(json_array_get(list, i), i, name, &st, err);
		if (rc) {
			stmt_free(&st);
			json_decref(root);
			vex_free(d);
			return -1;
		}
		if (skip) {
			stmt_free(&st);
			continue;
		}
		d->s = xgrow(d->s, d->n, sizeof(*d->s));
		d->s[d->n++] = st;
	}
	json_decref(root);
	return 0;
}

int vex_load(const char *path, struct vex_doc *d, struct vg_buf *err)
{
	FILE *f = fopen(path, "r");
	struct vg_buf b = { 0 };
	char chunk[65536];
	size_t n;

	memset(d, 0, sizeof(*d));
	if (!f) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= VEX_MAX_BYTES)
		buf_add(&b, chunk, n);
	fclose(f);
	if (b.len > VEX_MAX_BYTES) {
		buf_printf(err, "cannot read VEX %s: larger than 64 MiB", path);
		buf_free(&b);
		return -1;
	}
	int rc = vex_parse(b.data ? b.data : "", b.len, path, d, err);
	buf_free(&b);
	return rc;
}

static bool names_vuln(const struct vex_statement *st, const struct scan_vuln *v)
{
	for (size_t i = 0; i < st->nvulns; i++) {
		if (!strcmp(st->vulns[i], v->id))
			return true;
		size_t n = strlen(st->vulns[i]);
		for (const char *a = v->aliases; a && *a;) {
			const char *c = strchr(a, ',');
			size_t k = c ? (size_t)(c - a) : strlen(a);
			if (k == n && !memcmp(a, st->vulns[i], n))
				return true;
			a += k + (c ? 1 : 0);
		}
	}
	return false;
}

static bool names_pkg(const struct vex_statement *st, const char *purl)
{
	if (st->all)
		return true;
	for (size_t i = 0; purl && i < st->npurls; i++)
		if (purl_matches(st->purls[i], purl))
			return true;
	return false;
}

size_t vex_apply(const struct vex_doc *docs, size_t ndocs, struct scan_result *r)
{
	size_t k = 0, removed = 0;

	for (size_t i = 0; i < r->nvulns; i++) {
		struct scan_vuln *v = &r->vulns[i];
		const struct scan_pkg *p = &r->pkgs[v->pkg];
		char *purl = p->purl ? purl_norm(p->purl) : NULL;
		const struct vex_statement *last = NULL;
		const struct vex_doc *from = NULL;
		for (size_t d = 0; d < ndocs; d++)
			for (size_t s = 0; s < docs[d].n; s++)
				if (names_vuln(&docs[d].s[s], v) && names_pkg(&docs[d].s[s], purl))
					last = &docs[d].s[s], from = &docs[d];
		free(purl);
		if (last && (last->status == VEX_NOT_AFFECTED || last->status == VEX_FIXED)) {
			char what[1024], src[1024];
			snprintf(what, sizeof(what), "%s@%s", p->name, p->version);
			snprintf(src, sizeof(src), "vex %s", from->name);
			scan_add_suppressed(r, v->id, what, src, last->reason);
			scan_vuln_free(v);
			removed++;
			continue;
		}
		if (last) {
			free(v->note);
			v->note = xstrdup(last->reason);
		}
		r->vulns[k++] = *v;
	}
	r->nvulns = k;
	return removed;
}
