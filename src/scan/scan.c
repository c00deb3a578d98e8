/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scan/scan.h"

void scan_limits_default(struct scan_limits *l)
{
	l->max_layer_bytes = 16ULL << 30; /* a 16 GiB layer is beyond any sane image */
	l->max_entries = 4000000;
	l->max_file_bytes = 256ULL << 20; /* rpmdb.sqlite of large distributions is ~100 MB */
	l->max_secret_bytes = 8ULL << 20;
	l->max_meta_bytes = 8ULL << 20;
}

void scan_pkg_free(struct scan_pkg *p)
{
	free(p->name);
	free(p->version);
	free(p->type);
	free(p->ecosystem);
	free(p->src_name);
	free(p->src_version);
	free(p->arch);
	free(p->license);
	free(p->path);
	free(p->purl);
	memset(p, 0, sizeof(*p));
}

void scan_vuln_free(struct scan_vuln *v)
{
	free(v->id);
	free(v->aliases);
	free(v->summary);
	free(v->fixed);
	free(v->note);
	memset(v, 0, sizeof(*v));
}

void scan_secret_free(struct scan_secret *s)
{
	free(s->rule);
	free(s->title);
	free(s->path);
	free(s->match);
	memset(s, 0, sizeof(*s));
}

void scan_config_free(struct scan_config_finding *c)
{
	free(c->id);
	free(c->message);
	memset(c, 0, sizeof(*c));
}

void scan_add_suppressed(struct scan_result *r, const char *id, const char *what,
			 const char *source, const char *reason)
{
	r->suppressed = xgrow(r->suppressed, r->nsuppressed, sizeof(*r->suppressed));
	r->suppressed[r->nsuppressed++] = (struct scan_suppressed){
		xstrdup(id ? id : ""), xstrdup(what ? what : ""), xstrdup(source ? source : ""),
		xstrdup(reason ? reason : ""),
	};
}

void scan_result_free(struct scan_result *r)
{
	for (size_t i = 0; i < r->nsuppressed; i++) {
		free(r->suppressed[i].id);
		free(r->suppressed[i].what);
		free(r->suppressed[i].source);
		free(r->suppressed[i].reason);
	}
	free(r->suppressed);
	for (size_t i = 0; i < r->npkgs; i++)
		scan_pkg_free(&r->pkgs[i]);
	free(r->pkgs);
	for (size_t i = 0; i < r->nsecrets; i++)
		scan_secret_free(&r->secrets[i]);
	free(r->secrets);
	for (size_t i = 0; i < r->nvulns; i++)
		scan_vuln_free(&r->vulns[i]);
	free(r->vulns);
	for (size_t i = 0; i < r->nconfig; i++)
		scan_config_free(&r->config[i]);
	free(r->config);
	for (size_t i = 0; i < r->nlayers; i++) {
		free(r->layers[i].digest);
		free(r->layers[i].path);
	}
	free(r->layers);
	free(r->target);
	free(r->kind);
	free(r->image_digest);
	free(r->image_id);
	free(r->tag);
	free(r->os_id);
	free(r->os_version);
	free(r->os_ecosystem);
	free(r->config_json);
	buf_free(&r->warnings);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct scan_pkg *scan_add_pkg(struct scan_result *r, const char *type, const char *name,
			      const char *version, const char *path)
{
	if (r->npkgs == r->cap_pkgs) {
		r->cap_pkgs = r->cap_pkgs ? r->cap_pkgs * 2 : 64;
		r->pkgs = xrealloc(r->pkgs, r->cap_pkgs * sizeof(*r->pkgs));
	}
	struct scan_pkg *p = &r->pkgs[r->npkgs++];
	memset(p, 0, sizeof(*p));
	p->type = xstrdup(type);
	p->name = xstrdup(name);
	p->version = xstrdup(version);
	p->path = dup_or_null(path ? path : "");
	return p;
}

void scan_warn(struct scan_result *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (r->warnings.len > (1 << 20))
		return; /* a hostile image must not grow the warnings without bound */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	scan_sanitize(msg);
	buf_printf(&r->warnings, "vigil: %s\n", msg);
}

void scan_sanitize(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/*
 * Drop vulnerabilities, secrets and config findings below min_rank (and unfixed vulnerabilities
 * when asked); returns how many findings remain.
 */
size_t scan_result_filter(struct scan_result *r, enum vg_severity min, bool ignore_unfixed)
{
	size_t k = 0;

	for (size_t i = 0; i < r->nvulns; i++) {
		struct scan_vuln *v = &r->vulns[i];
		if (v->severity >= min && !(ignore_unfixed && !v->fixed[0])) {
			r->vulns[k++] = *v;
			continue;
		}
		scan_vuln_free(v);
	}
	r->nvulns = k;
	k = 0;
	for (size_t i = 0; i < r->nsecrets; i++) {
		struct scan_secret *s = &r->secrets[i];
		if (s->severity >= min) {
			r->secrets[k++] = *s;
			continue;
		}
		scan_secret_free(s);
	}
	r->nsecrets = k;
	k = 0;
	for (size_t i = 0; i < r->nconfig; i++) {
		struct scan_config_finding *c = &r->config[i];
		if (c->severity >= min) {
			r->config[k++] = *c;
			continue;
		}
		scan_config_free(c);
	}
	r->nconfig = k;
	return r->nvulns + r->nsecrets + r->nconfig;
}
