/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: a rules file through the loader and the compiler (YAML tree,
 * append/override, exceptions, condition parser, fields, outputs). Whatever
 * compiles is then run on a few events, so evaluation of odd conditions
 * (regexes, globs, pmatch, transformers) is fuzzed too, and the engine's
 * specialised rules are checked against the compiled conditions on each.
 */
#include <stdint.h>
#include <string.h>
#include "engine/engine.h"

static void on_alert(void *ctx, const struct alert *a)
{
	(void)ctx;
	(void)a;
}

static void run_events(struct engine *e)
{
	/* paths that meet the prefilter's tables at their edges: nested prefixes and
	 * suffixes, component boundaries, first components of pmatch globs */
	static const char *paths[] = { "/etc/shadow", "../a/b", "", "/proc/self/exe", "/", "/etc", "/etcx/passwd",
				       "/home/a/.ssh/id_rsa", "//root//.aws/x", "/tmp/a/../b" };
	struct vg_state_opts so = { 0 };
	struct vg_state *st = state_new(&so);
	for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		struct {
			struct vg_event_hdr h;
			uint16_t l1;
			uint64_t dirfd;
			uint16_t l2;
			char path[32];
		} __attribute__((packed)) rec = { 0 };
		struct vg_event ev;
		char err[128];
		size_t plen = strlen(paths[k]) + 2; /* path\0base\0 */
		rec.h.type = VG_EVT_OPENAT;
		rec.h.pid = rec.h.tid = 100;
		rec.h.ts = 1000 + k;
		rec.h.retval = 3;
		rec.h.nparams = 2;
		rec.l1 = 8;
		rec.dirfd = (uint64_t)-100;
		rec.l2 = (uint16_t)plen;
		memcpy(rec.path, paths[k], plen - 2);
		rec.h.len = sizeof(rec.h) + 2 + 8 + 2 + plen;
		if (event_decode(&rec, rec.h.len, &ev, err, sizeof(err)) == 0) {
			state_ingest(st, &ev);
			engine_process(e, &ev, st, on_alert, NULL);
			if (engine_selfcheck(e, &ev, st)) /* the fast path must agree with the conditions */
				__builtin_trap();
			state_done(st, &ev);
		}
	}
	state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs;
	char err[512];
	struct engine_opts eo = { .min_priority = PRIO_DEBUG, .match_all = true };

	ruleset_init(&rs);
	if (ruleset_load_buf(&rs, "fuzz.yaml", (const char *)data, size, err, sizeof(err)) == 0) {
		struct engine *e = engine_compile(&rs, &eo, err, sizeof(err));
		if (e) {
			run_events(e);
			engine_free(e);
		}
	}
	ruleset_free(&rs);
	return 0;
}
