/* SPDX-License-Identifier: Apache-2.0 */
/* Output of `vigil scan config`: table, JSON and SARIF 2.1.0. */
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "policy/config_scan.h"

void config_report_free(struct config_report *r)
{
	findings_free(&r->f);
	findings_free(&r->excepted);
	for (size_t i = 0; i < r->nerrs; i++) {
		free(r->errs[i].file);
		free(r->errs[i].msg);
	}
	free(r->errs);
	memset(r, 0, sizeof(*r));
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void config_report_table(FILE *f, const struct config_report *r)
{
	size_t count[SEV_COUNT] = { 0 };
	for (size_t i = 0; i < r->f.n; i++) {
		const struct policy_finding *x = &r->f.v[i];
		char obj[256] = "-";
		if (x->kind && *x->kind)
			snprintf(obj, sizeof(obj), "%s/%s", x->kind, or_empty(x->name));
		fprintf(f, "%s:%u:%u  %s  %s  %-8s  %s  %s\n", or_empty(x->file), x->line, x->col, obj,
			x->container && *x->container ? x->container : "-", severity_name(x->severity),
			x->check, x->message);
		if (x->hint)
			fprintf(f, "    fix: %s\n", x->hint);
		count[x->severity]++;
	}
	/* what the objects' own annotations except: shown, not counted */
	for (size_t i = 0; i < r->excepted.n; i++) {
		const struct policy_finding *x = &r->excepted.v[i];
		fprintf(f, "%s:%u:%u  %s/%s  %s  EXCEPTED  %s  %s\n", or_empty(x->file), x->line, x->col,
			or_empty(x->kind), or_empty(x->name), x->container && *x->container ? x->container : "-",
			x->check, x->message);
	}
	fprintf(f, "%zu finding%s (%zu critical, %zu high, %zu medium, %zu low) in %zu file%s, "
		   "%zu object%s; %zu error%s",
		r->f.n, r->f.n == 1 ? "" : "s", count[SEV_CRITICAL], count[SEV_HIGH], count[SEV_MEDIUM],
		count[SEV_LOW], r->files, r->files == 1 ? "" : "s", r->objects,
		r->objects == 1 ? "" : "s", r->nerrs, r->nerrs == 1 ? "" : "s");
	if (r->excepted.n)
		fprintf(f, "; %zu excepted (" CONFIG_EXCEPTIONS_ANNOTATION ")", r->excepted.n);
	fputc('\n', f);
}

static void json_str_or_null(struct vg_json *j, const char *key, const char *s)
{
	if (s)
		jw_str(j, key, s);
	else
		jw_null(j, key);
}

void config_report_json(FILE *f, const struct config_report *r, const struct config_opts *o)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	char ver[16];
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_int(&j, "schemaVersion", 1);
	jw_str(&j, "pssLevel", pss_level_name(o->level));
	if (o->version == PSS_VERSION_LATEST)
		snprintf(ver, sizeof(ver), "latest");
	else
		snprintf(ver, sizeof(ver), "v1.%d", o->version);
	jw_str(&j, "pssVersion", ver);
	jw_uint(&j, "files", r->files);
	jw_uint(&j, "objects", r->objects);
	jw_arr_begin(&j, "findings");
	for (size_t i = 0; i < r->f.n; i++) {
		const struct policy_finding *x = &r->f.v[i];
		jw_obj_begin(&j, NULL);
		jw_str(&j, "file", or_empty(x->file));
		jw_uint(&j, "line", x->line);
		jw_uint(&j, "column", x->col);
		json_str_or_null(&j, "kind", x->kind);
		json_str_or_null(&j, "name", x->name);
		json_str_or_null(&j, "namespace", x->ns);
		json_str_or_null(&j, "container", x->container);
		jw_str(&j, "check", x->check);
		jw_str(&j, "severity", severity_name(x->severity));
		jw_str(&j, "message", x->message);
		json_str_or_null(&j, "fix", x->hint);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	if (r->excepted.n) { /* only when there are some: older readers see the same document */
		jw_arr_begin(&j, "excepted");
		for (size_t i = 0; i < r->excepted.n; i++) {
			const struct policy_finding *x = &r->excepted.v[i];
			jw_obj_begin(&j, NULL);
			jw_str(&j, "file", or_empty(x->file));
			jw_uint(&j, "line", x->line);
			jw_uint(&j, "column", x->col);
			json_str_or_null(&j, "kind", x->kind);
			json_str_or_null(&j, "name", x->name);
			json_str_or_null(&j, "container", x->container);
			jw_str(&j, "check", x->check);
			jw_str(&j, "severity", severity_name(x->severity));
			jw_str(&j, "message", x->message);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
	}
	jw_arr_begin(&j, "errors");
	for (size_t i = 0; i < r->nerrs; i++) {
		jw_obj_begin(&j, NULL);
		jw_str(&j, "file", r->errs[i].file);
		jw_uint(&j, "line", r->errs[i].line);
		jw_uint(&j, "column", r->errs[i].col);
		jw_str(&j, "message", r->errs[i].msg);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, f);
	buf_free(&b);
}

void config_report_sarif(FILE *f, const struct config_report *r, const char *tool_version)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	jw_str(&j, "version", "2.1.0");
	jw_arr_begin(&j, "runs");
	jw_obj_begin(&j, NULL);
	jw_obj_begin(&j, "tool");
	jw_obj_begin(&j, "driver");
	jw_str(&j, "name", "vigil");
	jw_str(&j, "version", tool_version);
	jw_arr_begin(&j, "rules");
	/* one rule per distinct check id, in first-seen order; results refer to it by index */
	size_t *rule_of = xcalloc(r->f.n ? r->f.n : 1, sizeof(*rule_of));
	const struct policy_finding **rules = xcalloc(r->f.n ? r->f.n : 1, sizeof(*rules));
	size_t nrules = 0;
	for (size_t i = 0; i < r->f.n; i++) {
		size_t k = 0;
		while (k < nrules && strcmp(rules[k]->check, r->f.v[i].check))
			k++;
		if (k == nrules) {
			const struct policy_finding *x = &r->f.v[i];
			rules[nrules++] = x;
			jw_obj_begin(&j, NULL);
			jw_str(&j, "id", x->check);
			jw_obj_begin(&j, "shortDescription");
			jw_str(&j, "text", x->check);
			jw_obj_end(&j);
			jw_obj_begin(&j, "help");
			jw_str(&j, "text", x->hint ? x->hint : x->check);
			jw_obj_end(&j);
			jw_obj_begin(&j, "defaultConfiguration");
			jw_str(&j, "level", severity_sarif_level(x->severity));
			jw_obj_end(&j);
			jw_obj_begin(&j, "properties");
			jw_str(&j, "security-severity", severity_sarif_score(x->severity));
			jw_obj_end(&j);
			jw_obj_end(&j);
		}
		rule_of[i] = k;
	}
	jw_arr_end(&j);
	jw_obj_end(&j); /* driver */
	jw_obj_end(&j); /* tool */
	jw_arr_begin(&j, "results");
	for (size_t i = 0; i < r->f.n; i++) {
		const struct policy_finding *x = &r->f.v[i];
		struct vg_buf msg = { 0 };
		buf_adds(&msg, x->message);
		if (x->kind && *x->kind)
			buf_printf(&msg, " [%s/%s]", x->kind, or_empty(x->name));
		jw_obj_begin(&j, NULL);
		jw_str(&j, "ruleId", x->check);
		jw_uint(&j, "ruleIndex", rule_of[i]);
		jw_str(&j, "level", severity_sarif_level(x->severity));
		jw_obj_begin(&j, "message");
		jw_str(&j, "text", msg.data);
		jw_obj_end(&j);
		jw_arr_begin(&j, "locations");
		jw_obj_begin(&j, NULL);
		jw_obj_begin(&j, "physicalLocation");
		jw_obj_begin(&j, "artifactLocation");
		jw_str(&j, "uri", or_empty(x->file));
		jw_obj_end(&j);
		if (x->line) {
			jw_obj_begin(&j, "region");
			jw_uint(&j, "startLine", x->line);
			if (x->col)
				jw_uint(&j, "startColumn", x->col);
			jw_obj_end(&j);
		}
		jw_obj_end(&j);
		jw_obj_end(&j);
		jw_arr_end(&j);
		jw_obj_end(&j);
		buf_free(&msg);
	}
	jw_arr_end(&j);
	jw_arr_begin(&j, "invocations");
	jw_obj_begin(&j, NULL);
	jw_bool(&j, "executionSuccessful", r->nerrs == 0);
	jw_arr_begin(&j, "toolExecutionNotifications");
	for (size_t i = 0; i < r->nerrs; i++) {
		jw_obj_begin(&j, NULL);
		jw_str(&j, "level", "error");
		jw_obj_begin(&j, "message");
		jw_str(&j, "text", r->errs[i].msg);
		jw_obj_end(&j);
		jw_arr_begin(&j, "locations");
		jw_obj_begin(&j, NULL);
		jw_obj_begin(&j, "physicalLocation");
		jw_obj_begin(&j, "artifactLocation");
		jw_str(&j, "uri", r->errs[i].file);
		jw_obj_end(&j);
		if (r->errs[i].line) {
			jw_obj_begin(&j, "region");
			jw_uint(&j, "startLine", r->errs[i].line);
			jw_uint(&j, "startColumn", r->errs[i].col ? r->errs[i].col : 1);
			jw_obj_end(&j);
		}
		jw_obj_end(&j);
		jw_obj_end(&j);
		jw_arr_end(&j);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	jw_arr_end(&j);
	jw_obj_end(&j); /* run */
	jw_arr_end(&j);
	jw_obj_end(&j);
	buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, f);
	buf_free(&b);
	free(rule_of);
	free(rules);
}
