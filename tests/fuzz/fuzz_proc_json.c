/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: STATE_PROC records (proc_from_json), checked against jansson.
 * proc_from_json reads the form proc_to_json writes without jansson and leaves
 * anything else to it; whichever way it went, the entry must be the one
 * jansson's reading of the same bytes gives.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "state/proc_table.h"
#include "vigil/event.h"

static uint64_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_proc_table t;
	const char *json = (const char *)data;
	json_t *o = json_loadb(json, size, JSON_REJECT_DUPLICATES, NULL);
	bool ok = json_is_object(o) && json_is_integer(json_object_get(o, "pid"));

	proc_table_init(&t, 4);
	int rc = proc_from_json(&t, json, size);
	if (rc != (ok ? 0 : -1))
		abort();
	if (ok) {
		struct vg_proc *p = proc_table_get(&t, (uint32_t)num(o, "pid"));
		char comm[16];
		struct vg_buf args = { 0 };
		size_t i;
		json_t *v;
		if (!p)
			abort();
		snprintf(comm, sizeof(comm), "%s", str(o, "comm"));
		json_array_foreach(json_object_get(o, "args"), i, v)
			if (json_string_value(v))
				buf_add(&args, json_string_value(v), strlen(json_string_value(v)) + 1);
		size_t alen = args.len;
		if (alen > VG_ARGV_MAX)
			alen = VG_ARGV_MAX;
		while (alen > 0 && args.data[alen - 1] == 0)
			alen--;
		if (p->ppid != (uint32_t)num(o, "ppid") || p->vpid != (uint32_t)num(o, "vpid") ||
		    p->sid != (uint32_t)num(o, "sid") || p->tty != (uint32_t)num(o, "tty") ||
		    p->uid != (uint32_t)num(o, "uid") || p->gid != (uint32_t)num(o, "gid") ||
		    p->euid != (uint32_t)num(o, "euid") || p->egid != (uint32_t)num(o, "egid") ||
		    p->loginuid != (uint32_t)num(o, "loginuid") || p->cgroup_id != num(o, "cgroup_id") ||
		    p->exe_ino != num(o, "exe_ino") || p->exe_flags != (uint32_t)num(o, "exe_flags") ||
		    p->start_ns != num(o, "start_ns") || strcmp(p->comm, comm) || strcmp(p->exe, str(o, "exe")) ||
		    strcmp(p->cwd, str(o, "cwd")) || p->args_len != alen ||
		    (alen && memcmp(p->args, args.data, alen)))
			abort();
		buf_free(&args);
	}
	json_decref(o);
	proc_table_free(&t);
	return 0;
}
