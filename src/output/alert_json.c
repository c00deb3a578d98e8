/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "output/alert_json.h"
#include "output/event_json.h"
#include "respond/action.h"

#define ANCESTRY_MAX 16

void alert_time_iso(char *buf, size_t size, uint64_t ts, uint64_t b2r)
{
	uint64_t wall = ts + b2r;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09lluZ", (unsigned long long)(wall % 1000000000ULL));
}

void alert_text(struct vg_buf *out, const struct alert *a, uint64_t b2r)
{
	uint64_t wall = a->ev->hdr.ts + b2r;
	time_t sec = wall / 1000000000ULL;
	struct tm tm;
	char t[32];
	gmtime_r(&sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	buf_printf(out, "%s.%09llu: %s ", t, (unsigned long long)(wall % 1000000000ULL),
		   priority_name(a->priority));
	buf_add(out, a->output, a->output_len);
}

static void put_field(struct vg_json *j, const struct alert_field *f)
{
	if (f->n == 0) {
		jw_null(j, f->name);
		return;
	}
	if (f->n == 1) {
		switch (f->ref->type) {
		case FT_INT:
		case FT_PORT:
			jw_int(j, f->name, f->vals[0].i);
			return;
		case FT_BOOL:
			jw_bool(j, f->name, f->vals[0].i != 0);
			return;
		default:
			break;
		}
	}
	jw_strn(j, f->name, f->text, f->len);
}

static void put_ancestry(struct vg_json *j, const struct alert *a)
{
	const struct vg_proc *p = a->st ? state_proc(a->st, a->ev->hdr.pid) : NULL;
	jw_arr_begin(j, "ancestry");
	for (unsigned int i = 1; p && i <= ANCESTRY_MAX; i++) {
		const struct vg_proc *anc = proc_table_ancestor(&a->st->procs, p, i);
		if (!anc)
			break;
		jw_obj_begin(j, NULL);
		jw_uint(j, "pid", anc->pid);
		jw_str(j, "name", anc->comm);
		jw_str(j, "exe", anc->exe);
		jw_args_line(j, "cmdline", anc->args, anc->args_len);
		jw_obj_end(j);
	}
	jw_arr_end(j);
}

void alert_json(struct vg_buf *out, const struct alert *a, const char *hostname, uint64_t b2r)
{
	alert_json_responses(out, a, hostname, b2r, NULL, 0);
}

void alert_json_responses(struct vg_buf *out, const struct alert *a, const char *hostname, uint64_t b2r,
			  const struct action_result *res, size_t nres)
{
	struct vg_json j;
	struct vg_buf text = { 0 }, ev = { 0 };
	char iso[64];

	alert_time_iso(iso, sizeof(iso), a->ev->hdr.ts, b2r);
	alert_text(&text, a, b2r);
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "time", iso);
	jw_str(&j, "rule", a->name);
	jw_str(&j, "priority", priority_name(a->priority));
	jw_strn(&j, "output", text.data, text.len);
	jw_obj_begin(&j, "output_fields");
	for (size_t i = 0; i < a->nfields; i++)
		put_field(&j, &a->fields[i]);
	jw_obj_end(&j);
	jw_str(&j, "source", a->source && a->source[0] ? a->source : "syscall");
	jw_arr_begin(&j, "tags");
	for (size_t i = 0; i < a->ntags; i++)
		jw_str(&j, NULL, a->tags[i]);
	jw_arr_end(&j);
	jw_str(&j, "hostname", hostname ? hostname : "");
	jw_obj_begin(&j, "vigil");
	event_json(&ev, a->ev, a->st, b2r);
	jw_raw(&j, "event", ev.data);
	put_ancestry(&j, a);
	jw_arr_begin(&j, "actions");
	for (size_t i = 0; i < a->nactions; i++)
		jw_str(&j, NULL, a->actions[i]);
	jw_arr_end(&j);
	jw_uint(&j, "suppressed_before", a->suppressed);
	if (nres) {
		jw_arr_begin(&j, "responses");
		for (size_t i = 0; i < nres; i++) {
			jw_obj_begin(&j, NULL);
			jw_str(&j, "action", action_name(res[i].action));
			jw_str(&j, "target", res[i].target);
			jw_str(&j, "outcome", action_outcome_name(res[i].outcome));
			jw_str(&j, "detail", res[i].detail);
			jw_str(&j, "path", res[i].path);
			jw_uint(&j, "latency_us", res[i].latency_ns / 1000);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
	}
	jw_obj_end(&j);
	jw_obj_end(&j);
	buf_free(&text);
	buf_free(&ev);
}
