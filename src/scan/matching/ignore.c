/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/matching/ignore.h"

#define IGNORE_MAX (4u << 20)

void ignore_free(struct ignore_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].id);
		free(l->e[i].glob);
		free(l->e[i].reason);
	}
	free(l->e);
	free(l->name);
	l->e = NULL;
	l->n = 0;
	l->name = NULL;
}

static bool valid_date(const char *s, size_t n)
{
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int ignore_parse(const char *text, size_t len, const char *name, struct ignore_list *l,
		 struct vg_buf *err)
{
	unsigned lineno = 0;

	memset(l, 0, sizeof(*l));
	l->name = xstrdup(name);
	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + 1;
		lineno++;
		const char *hash = memchr(line, '#', n), *why = "";
		size_t whyn = 0;
		if (hash) {
			why = hash + 1;
			whyn = n - (size_t)(hash - line) - 1;
			while (whyn && isspace((unsigned char)*why))
				why++, whyn--;
			while (whyn && isspace((unsigned char)why[whyn - 1]))
				whyn--;
			n = (size_t)(hash - line);
		}
		/* tokens: the entry, then optional exp:DATE */
		const char *tok[3];
		size_t tl[3], nt = 0;
		for (size_t i = 0; i < n && nt < 3;) {
			while (i < n && isspace((unsigned char)line[i]))
				i++;
			if (i >= n)
				break;
			size_t s = i;
			while (i < n && !isspace((unsigned char)line[i]))
				i++;
			tok[nt] = line + s;
			tl[nt++] = i - s;
		}
		if (!nt)
			continue;
		struct ignore_entry e = { .line = lineno };
		if (nt == 3 || (nt == 2 && (tl[1] < 4 || memcmp(tok[1], "exp:", 4)))) {
			buf_printf(err, "cannot parse %s:%u:%zu: expected 'ID [exp:YYYY-MM-DD]'", name,
				   lineno, (size_t)(tok[nt - 1] - line) + 1);
			ignore_free(l);
			return -1;
		}
		if (nt == 2) {
			if (!valid_date(tok[1] + 4, tl[1] - 4)) {
				buf_printf(err, "cannot parse %s:%u:%zu: bad date '%.*s' (YYYY-MM-DD)",
					   name, lineno, (size_t)(tok[1] - line) + 5, (int)tl[1] - 4,
					   tok[1] + 4);
				ignore_free(l);
				return -1;
			}
			memcpy(e.exp, tok[1] + 4, 10);
		}
		e.reason = xstrndup(why, whyn);
		if (tl[0] > 5 && !memcmp(tok[0], "path:", 5))
			e.glob = xstrndup(tok[0] + 5, tl[0] - 5);
		else
			e.id = xstrndup(tok[0], tl[0]);
		l->e = xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
		l->e[l->n++] = e;
	}
	return 0;
}

int ignore_load(const char *path, struct ignore_list *l, struct vg_buf *err)
{
	FILE *f = fopen(path, "r");
	struct vg_buf b = { 0 };
	char chunk[8192];
	size_t n;

	if (!f) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= IGNORE_MAX)
		buf_add(&b, chunk, n);
	fclose(f);
	if (b.len > IGNORE_MAX) {
		buf_printf(err, "cannot read %s: larger than 4 MiB", path);
		buf_free(&b);
		return -1;
	}
	int rc = ignore_parse(b.data ? b.data : "", b.len, path, l, err);
	buf_free(&b);
	return rc;
}

static bool id_in_list(const char *id, const char *list)
{
	size_t n = strlen(id);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t k = c ? (size_t)(c - p) : strlen(p);
		if (k == n && !memcmp(p, id, n))
			return true;
		p += k + (c ? 1 : 0);
	}
	return false;
}

/* The entry that ignores a finding (ids: its id, its aliases; path may be NULL), or NULL. */
static const struct ignore_entry *ignored_by(const struct ignore_list *l, const char *id,
					     const char *aliases, const char *path,
					     const char *today)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ignore_entry *e = &l->e[i];
		if (e->exp[0] && strcmp(e->exp, today) < 0)
			continue; /* expired */
		if (e->id && (!strcmp(e->id, id) || id_in_list(e->id, aliases)))
			return e;
		if (e->glob && path && !fnmatch(e->glob, path, 0))
			return e;
	}
	return NULL;
}

/* Whether the finding is ignored; if so it is listed in r->suppressed. */
static bool ignored(const struct ignore_list *l, struct scan_result *r, const char *id,
		   const char *aliases, const char *path, const char *what, const char *today)
{
	const struct ignore_entry *e = ignored_by(l, id, aliases, path, today);
	char src[1024];

	if (!e)
		return false;
	snprintf(src, sizeof(src), "ignore %s:%u", l->name ? l->name : "-", e->line);
	scan_add_suppressed(r, id, what, src, e->reason ? e->reason : "");
	return true;
}

size_t ignore_apply(const struct ignore_list *l, struct scan_result *r, const char *today)
{
	size_t k = 0, removed = 0;

	for (size_t i = 0; i < r->nvulns; i++) {
		struct scan_vuln *v = &r->vulns[i];
		char what[1024];
		snprintf(what, sizeof(what), "%s@%s", r->pkgs[v->pkg].name, r->pkgs[v->pkg].version);
		if (!ignored(l, r, v->id, v->aliases, r->pkgs[v->pkg].path, what, today)) {
			r->vulns[k++] = *v;
			continue;
		}
		scan_vuln_free(v);
		removed++;
	}
	r->nvulns = k;
	k = 0;
	for (size_t i = 0; i < r->nsecrets; i++) {
		struct scan_secret *s = &r->secrets[i];
		if (!ignored(l, r, s->rule, NULL, s->path, s->path, today)) {
			r->secrets[k++] = *s;
			continue;
		}
		scan_secret_free(s);
		removed++;
	}
	r->nsecrets = k;
	k = 0;
	for (size_t i = 0; i < r->nconfig; i++) {
		struct scan_config_finding *c = &r->config[i];
		if (!ignored(l, r, c->id, NULL, NULL, "", today)) {
			r->config[k++] = *c;
			continue;
		}
		scan_config_free(c);
		removed++;
	}
	r->nconfig = k;
	return removed;
}
