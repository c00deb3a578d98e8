/* SPDX-License-Identifier: Apache-2.0 */
/* vigil rules check|list: validate rule files and show what they hold. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "engine/engine.h"
#include "sensor/event_table.h"

static void usage(FILE *f)
{
	fputs("usage: vigil rules check FILE...\n"
	      "       vigil rules list [--json] [FILE...]\n"
	      "       vigil rules fields\n"
	      "\n"
	      "check   load and compile rule files in order (Falco's format); print\n"
	      "        'N rules, N macros, N lists loaded', warnings to stderr;\n"
	      "        exit 1 with file:line:column on the first error\n"
	      "list    the rules (Vigil's defaults when no file is given) with priority,\n"
	      "        tags and the event types each one runs on\n"
	      "fields  the filter fields rules can use\n",
	      f);
}

static void types_text(struct vg_buf *b, const struct evtset *s)
{
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		if (!evtset_has(s, t))
			continue;
		if (b->len)
			buf_addc(b, ',');
		buf_adds(b, event_table_get(t)->name);
	}
}

static int list(struct engine *e, bool json)
{
	for (size_t i = 0; i < engine_rule_count(e); i++) {
		struct engine_rule_info ri;
		struct vg_buf b = { 0 }, t = { 0 };
		engine_rule_info(e, i, &ri);
		types_text(&t, &ri.types);
		if (json) {
			struct vg_json j;
			jw_init(&j, &b);
			jw_obj_begin(&j, NULL);
			jw_str(&j, "rule", ri.name);
			jw_str(&j, "priority", priority_name(ri.priority));
			jw_bool(&j, "enabled", ri.enabled);
			jw_str(&j, "source", ri.source);
			jw_arr_begin(&j, "tags");
			for (size_t k = 0; k < ri.ntags; k++)
				jw_str(&j, NULL, ri.tags[k]);
			jw_arr_end(&j);
			jw_arr_begin(&j, "actions");
			for (size_t k = 0; k < ri.nactions; k++)
				jw_str(&j, NULL, ri.actions[k]);
			jw_arr_end(&j);
			jw_arr_begin(&j, "event_types");
			for (char *p = t.data, *q; p && *p; p = q ? q + 1 : p + strlen(p)) {
				q = strchr(p, ',');
				jw_strn(&j, NULL, p, q ? (size_t)(q - p) : strlen(p));
				if (!q)
					break;
			}
			jw_arr_end(&j);
			/* whether a kill for this rule happens in the kernel (docs/response.md) */
			if (ri.kernel) {
				jw_bool(&j, "kernel_decidable", !kfilter_reason(ri.kernel));
				if (kfilter_reason(ri.kernel))
					jw_str(&j, "kernel_reason", kfilter_reason(ri.kernel));
			}
			jw_str(&j, "desc", ri.desc);
			jw_obj_end(&j);
			printf("%s\n", b.data);
		} else {
			printf("%-13s %-8s %s\n    events: %s\n", priority_name(ri.priority),
			       ri.enabled ? "enabled" : "disabled", ri.name, t.data ? t.data : "");
			if (ri.kernel)
				printf("    kernel: %s\n", kfilter_reason(ri.kernel) ? kfilter_reason(ri.kernel)
									 : "decidable (a kill happens on the syscall)");
		}
		buf_free(&b);
		buf_free(&t);
	}
	return VG_EXIT_OK;
}

static int fields(void)
{
	static const char *types[] = { "string", "number", "bool", "ip", "net", "port" };
	size_t n;
	const struct fdef *f = field_table(&n);
	for (size_t i = 0; i < n; i++) {
		char name[96];
		snprintf(name, sizeof(name), "%s%s", f[i].name,
			 f[i].arg == FA_NONE ? "" : f[i].arg_index ? "[N]" : "[ARG]");
		printf("%-42s %-7s %s\n", name, types[f[i].type], f[i].desc);
	}
	return VG_EXIT_OK;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;

	if (argc < 2) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		usage(stdout);
		return VG_EXIT_OK;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	if (!strcmp(sub, "fields"))
		return fields();
	if (strcmp(sub, "check") && strcmp(sub, "list")) {
		fprintf(stderr, "vigil: unknown rules command '%s'\n", sub);
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(sub, "check") && optind == argc) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	struct engine_opts eo = { .min_priority = PRIO_DEBUG };
	struct engine_counts counts;
	struct vg_buf warnings = { 0 };
	char err[1024];
	struct engine *e = engine_load((const char *const *)argv + optind, argc - optind, false, &eo, &counts,
				       &warnings, err, sizeof(err));
	if (warnings.len)
		fputs(warnings.data, stderr);
	buf_free(&warnings);
	if (!e) {
		fprintf(stderr, "vigil: %s\n", err);
		return VG_EXIT_ERROR;
	}
	int rc = VG_EXIT_OK;
	if (!strcmp(sub, "check")) {
		printf("%zu rules, %zu macros, %zu lists loaded\n", counts.rules, counts.macros, counts.lists);
		if (counts.skipped_source)
			printf("%zu rules of other sources skipped\n", counts.skipped_source);
	} else {
		rc = list(e, json);
	}
	engine_free(e);
	return rc;
}
