/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include "scan/reports/report.h"
#include "scan/reports/sbom.h"

int report_format_parse(const char *name)
{
	static const char *const names[] = { "table", "json", "cyclonedx", "spdx", "sarif" };

	for (int i = 0; i < 5; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

static void report_json(const struct scan_result *r, struct vg_buf *out)
{
	struct vg_json j;

	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "target", r->target);
	jw_str(&j, "kind", r->kind);
	if (r->tag)
		jw_str(&j, "tag", r->tag);
	if (r->image_digest)
		jw_str(&j, "digest", r->image_digest);
	if (r->image_id)
		jw_str(&j, "image_id", r->image_id);
	if (r->os_id) {
		jw_obj_begin(&j, "os");
		jw_str(&j, "id", r->os_id);
		jw_str(&j, "version", r->os_version);
		if (r->os_ecosystem)
			jw_str(&j, "ecosystem", r->os_ecosystem);
		jw_obj_end(&j);
	}
	jw_arr_begin(&j, "layers");
	for (size_t i = 0; i < r->nlayers; i++) {
		const struct scan_layer_info *l = &r->layers[i];
		jw_obj_begin(&j, NULL);
		jw_uint(&j, "index", i + 1);
		jw_str(&j, "digest", l->digest ? l->digest : "");
		jw_str(&j, "path", l->path ? l->path : "");
		jw_uint(&j, "size", l->size);
		jw_uint(&j, "entries", l->files);
		jw_bool(&j, "verified", l->verified);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "packages");
	for (size_t i = 0; i < r->npkgs; i++) {
		const struct scan_pkg *p = &r->pkgs[i];
		jw_obj_begin(&j, NULL);
		jw_str(&j, "name", p->name);
		jw_str(&j, "version", p->version);
		jw_str(&j, "type", p->type);
		if (p->ecosystem)
			jw_str(&j, "ecosystem", p->ecosystem);
		if (p->src_name) {
			jw_obj_begin(&j, "source");
			jw_str(&j, "name", p->src_name);
			jw_str(&j, "version", p->src_version ? p->src_version : p->version);
			jw_obj_end(&j);
		}
		if (p->arch)
			jw_str(&j, "arch", p->arch);
		if (p->license)
			jw_str(&j, "license", p->license);
		jw_str(&j, "purl", p->purl ? p->purl : "");
		jw_uint(&j, "layer", p->layer + 1);
		jw_str(&j, "path", p->path);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "vulnerabilities");
	for (size_t i = 0; i < r->nvulns; i++) {
		const struct scan_vuln *v = &r->vulns[i];
		const struct scan_pkg *p = &r->pkgs[v->pkg];
		jw_obj_begin(&j, NULL);
		jw_str(&j, "id", v->id);
		jw_arr_begin(&j, "aliases");
		for (const char *a = v->aliases; a && *a;) {
			const char *c = strchr(a, ',');
			size_t n = c ? (size_t)(c - a) : strlen(a);
			jw_strn(&j, NULL, a, n);
			a += n + (c ? 1 : 0);
		}
		jw_arr_end(&j);
		jw_str(&j, "severity", severity_name(v->severity));
		if (v->score >= 0) {
			char s[16];
			snprintf(s, sizeof(s), "%.1f", v->score);
			jw_raw(&j, "score", s);
		}
		jw_str(&j, "package", p->name);
		jw_str(&j, "version", p->version);
		jw_str(&j, "ecosystem", p->ecosystem ? p->ecosystem : "");
		jw_str(&j, "purl", p->purl ? p->purl : "");
		jw_str(&j, "fixed", v->fixed ? v->fixed : "");
		jw_uint(&j, "layer", p->layer + 1);
		jw_str(&j, "path", p->path);
		jw_str(&j, "summary", v->summary ? v->summary : "");
		if (v->note)
			jw_str(&j, "vex", v->note);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "secrets");
	for (size_t i = 0; i < r->nsecrets; i++) {
		const struct scan_secret *s = &r->secrets[i];
		jw_obj_begin(&j, NULL);
		jw_str(&j, "rule", s->rule);
		jw_str(&j, "title", s->title);
		jw_str(&j, "severity", severity_name(s->severity));
		jw_uint(&j, "layer", s->layer + 1);
		jw_str(&j, "path", s->path);
		jw_uint(&j, "line", s->line);
		jw_str(&j, "match", s->match);
		jw_bool(&j, "deleted", s->deleted);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "config");
	for (size_t i = 0; i < r->nconfig; i++) {
		jw_obj_begin(&j, NULL);
		jw_str(&j, "id", r->config[i].id);
		jw_str(&j, "severity", severity_name(r->config[i].severity));
		jw_str(&j, "message", r->config[i].message);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	/* findings a VEX statement or an ignore entry took out, and why */
	jw_arr_begin(&j, "suppressed");
	for (size_t i = 0; i < r->nsuppressed; i++) {
		const struct scan_suppressed *x = &r->suppressed[i];
		jw_obj_begin(&j, NULL);
		jw_str(&j, "id", x->id);
		jw_str(&j, "target", x->what);
		jw_str(&j, "source", x->source);
		jw_str(&j, "reason", x->reason);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(out, '\n');
}

/* A table cell: s with control characters replaced (names come from the image). */
static const char *cell(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s ? s : "");
	scan_sanitize(buf);
	return buf;
}

static const char *sev_colour(enum vg_severity sev)
{
	switch (sev) {
	case SEV_CRITICAL: return "\033[1;31m";
	case SEV_HIGH: return "\033[31m";
	case SEV_MEDIUM: return "\033[33m";
	case SEV_LOW: return "\033[36m";
	default: return "\033[0m";
	}
}

static void report_table(const struct scan_result *r, bool colour, struct vg_buf *out)
{
	const char *reset = colour ? "\033[0m" : "";

	char t1[4096], t2[512], t3[256];
	buf_printf(out, "%s (%s)", cell(r->target, t1, sizeof(t1)), r->kind);
	if (r->tag)
		buf_printf(out, " %s", cell(r->tag, t2, sizeof(t2)));
	buf_printf(out, "\nos: %s %s%s%s%s\nlayers: %zu, packages: %zu, vulnerabilities: %zu, "
			"secrets: %zu\n",
		   r->os_id ? cell(r->os_id, t3, sizeof(t3)) : "unknown",
		   r->os_version ? cell(r->os_version, t2, sizeof(t2)) : "",
		   r->os_ecosystem ? " (" : "", r->os_ecosystem ? r->os_ecosystem : "",
		   r->os_ecosystem ? ")" : "", r->nlayers, r->npkgs, r->nvulns, r->nsecrets);
	if (r->nvulns) {
		buf_printf(out, "\n%-9s %-22s %-28s %-20s %-20s %s\n", "SEVERITY", "ID", "PACKAGE",
			   "VERSION", "FIXED", "ALIASES");
		/* grouped by severity, most severe first */
		for (int sev = SEV_CRITICAL; sev >= SEV_UNKNOWN; sev--)
			for (size_t i = 0; i < r->nvulns; i++) {
				const struct scan_vuln *v = &r->vulns[i];
				const struct scan_pkg *p = &r->pkgs[v->pkg];
				if ((int)v->severity != sev)
					continue;
				char c1[256], c2[256], c3[256], c4[128], c5[512];
				buf_printf(out, "%s%-9s%s %-22s %-28s %-20s %-20s %s\n",
					   colour ? sev_colour(v->severity) : "", severity_name(v->severity), reset,
					   cell(v->id, c1, sizeof(c1)), cell(p->name, c2, sizeof(c2)),
					   cell(p->version, c3, sizeof(c3)),
					   v->fixed && v->fixed[0] ? cell(v->fixed, c4, sizeof(c4)) : "-",
					   cell(v->aliases, c5, sizeof(c5)));
			}
	}
	if (r->nsecrets) {
		buf_printf(out, "\n%-9s %-22s %-6s %s\n", "SEVERITY", "SECRET", "LAYER", "PATH:LINE");
		for (size_t i = 0; i < r->nsecrets; i++) {
			const struct scan_secret *s = &r->secrets[i];
			char c1[4096], c2[256];
			buf_printf(out, "%s%-9s%s %-22s %-6u /%s:%u %s%s\n",
				   colour ? sev_colour(s->severity) : "", severity_name(s->severity), reset,
				   s->rule,
				   s->layer + 1, cell(s->path, c1, sizeof(c1)), s->line,
				   cell(s->match, c2, sizeof(c2)),
				   s->deleted ? " (deleted in a later layer)" : "");
		}
	}
	if (r->nconfig) {
		buf_printf(out, "\n%-9s %-22s %s\n", "SEVERITY", "CONFIG", "MESSAGE");
		for (size_t i = 0; i < r->nconfig; i++) {
			char c1[1024];
			buf_printf(out, "%-9s %-22s %s\n", severity_name(r->config[i].severity),
				   r->config[i].id,
				   cell(r->config[i].message, c1, sizeof(c1)));
		}
	}
	if (r->nsuppressed) {
		buf_printf(out, "\n%-22s %-30s %-28s %s\n", "SUPPRESSED", "TARGET", "BY", "REASON");
		for (size_t i = 0; i < r->nsuppressed; i++) {
			const struct scan_suppressed *x = &r->suppressed[i];
			char c1[256], c2[512], c3[512], c4[1024];
			buf_printf(out, "%-22s %-30s %-28s %s\n", cell(x->id, c1, sizeof(c1)),
				   cell(x->what, c2, sizeof(c2)), cell(x->source, c3, sizeof(c3)),
				   cell(x->reason, c4, sizeof(c4)));
		}
	}
	if (r->npkgs && !r->nvulns) {
		buf_printf(out, "\n%-34s %-28s %-12s %s\n", "PACKAGE", "VERSION", "TYPE", "PATH");
		for (size_t i = 0; i < r->npkgs; i++) {
			const struct scan_pkg *p = &r->pkgs[i];
			char c1[512], c2[256], c3[4096];
			buf_printf(out, "%-34s %-28s %-12s /%s\n", cell(p->name, c1, sizeof(c1)),
				   cell(p->version, c2, sizeof(c2)), p->type,
				   cell(p->path, c3, sizeof(c3)));
		}
	}
}

void report_write(const struct scan_result *r, enum report_format f, bool colour,
		  struct vg_buf *out)
{
	switch (f) {
	case REPORT_TABLE: report_table(r, colour, out); break;
	case REPORT_JSON: report_json(r, out); break;
	case REPORT_CYCLONEDX: sbom_cyclonedx(r, out); break;
	case REPORT_SPDX: sbom_spdx(r, out); break;
	case REPORT_SARIF: sbom_sarif(r, out); break;
	}
}
