/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_stages CAPTURE [--rules FILE]... [--default-rules] [--rounds N] [--stages N]
 *
 * Where replay time goes, measured in one process: the capture is replayed
 * in three stages, each the one before plus one step, and each stage's
 * process CPU time is the best of N rounds (default 3):
 *
 *   read+decode   the capture source: reads each record and checks it by
 *                 decoding it (event_decode), once, as `vigil replay` does
 *   +state        state_ingest / state_done: process and container tables
 *   +rules        engine_process with every rule (--match-all, no rate limit)
 *
 * --stages N runs only the first N stages (for a profiler: `perf record`
 * of read+decode+state alone is --stages 2).
 * Rule loading happens before any timing. Prints events per second per
 * core for each stage, the rules' own cost per event, alerts and rule
 * evaluations for the last round, and what loading the rules costs (best of
 * N): reading the files, and compiling them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine/engine.h"
#include "engine/ruleset.h"
#include "sensor/decode.h"
#include "sensor/source.h"
#include "state/state.h"

struct run {
	int stage; /* 0 decode, 1 + state, 2 + rules */
	struct vg_state *st;
	struct engine *e;
	uint64_t events, alerts, evaluated;
};

static void on_alert(void *ctx, const struct alert *a)
{
	struct run *r = ctx;
	(void)a;
	r->alerts++;
}

static int on_event(void *ctx, const struct vg_event *ev)
{
	struct run *r = ctx;
	r->events++;
	if (r->stage == 0)
		return 0;
	bool show = state_ingest(r->st, ev);
	if (show && r->stage == 2)
		engine_process(r->e, ev, r->st, on_alert, r);
	state_done(r->st, ev);
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Rule loading as engine_load does it, in two timed parts: reading the files
 * (YAML and the ruleset: lists, macros, rules) and engine_compile.
 */
static void load_times(const char *const *rules, size_t nrules, bool defaults, const struct engine_opts *eo,
		       double *t_read, double *t_compile)
{
	char err[1024];
	struct ruleset rs;
	int rc = 0;

	ruleset_init(&rs);
	double t0 = cpu_now();
	for (size_t i = 0; defaults && default_rules_names[i] && !rc; i++)
		rc = ruleset_load_buf(&rs, default_rules_names[i], default_rules_texts[i], default_rules_sizes[i], err,
				      sizeof(err));
	for (size_t i = 0; i < nrules && !rc; i++)
		rc = ruleset_load_file(&rs, rules[i], err, sizeof(err));
	double t1 = cpu_now();
	struct engine *e = rc ? NULL : engine_compile(&rs, eo, err, sizeof(err));
	double t2 = cpu_now();
	if (!e) {
		fprintf(stderr, "replay_stages: %s\n", err);
		exit(1);
	}
	engine_free(e);
	ruleset_free(&rs);
	*t_read = t1 - t0;
	*t_compile = t2 - t1;
}

/* One replay of the whole capture at a stage; returns its CPU seconds. */
static double replay(const char *path, struct run *r, const struct engine_opts *eo, const char *const *rules,
		     size_t nrules, bool defaults)
{
	char err[1024];
	struct vg_source *src = source_capture_open(path);
	if (!src)
		exit(1);
	struct vg_state_opts so = { 0 };
	r->st = state_new(&so);
	r->e = NULL;
	if (r->stage == 2) {
		r->e = engine_load(rules, nrules, defaults, eo, NULL, NULL, err, sizeof(err));
		if (!r->e) {
			fprintf(stderr, "replay_stages: %s\n", err);
			exit(1);
		}
		engine_set_source(r->e, src->hostname, src->boot_to_realtime);
	}
	r->events = r->alerts = 0;
	double t0 = cpu_now();
	int n;
	while ((n = src->ops->poll_events(src, 0, on_event, r)) > 0)
		;
	double t = cpu_now() - t0;
	if (n != VG_SOURCE_EOF)
		exit(1);
	source_close(src);
	state_free(r->st);
	if (r->e) {
		struct engine_stats es;
		engine_stats(r->e, &es);
		r->evaluated = es.evaluated;
		engine_free(r->e);
	}
	return t;
}

int main(int argc, char **argv)
{
	const char *rules[64];
	size_t nrules = 0;
	bool defaults = false;
	int rounds = 3, nstages = 3;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rules") && i + 1 < argc && nrules < 64)
			rules[nrules++] = argv[++i];
		else if (!strcmp(argv[i], "--default-rules"))
			defaults = true;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stages") && i + 1 < argc)
			nstages = atoi(argv[++i]);
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "usage: replay_stages CAPTURE [--rules FILE]... [--default-rules] [--rounds N] [--stages N]\n");
			return 2;
		}
	}
	if (!path || rounds < 1 || nstages < 1 || nstages > 3) {
		fprintf(stderr, "usage: replay_stages CAPTURE [--rules FILE]... [--default-rules] [--rounds N] [--stages N]\n");
		return 2;
	}
	struct engine_opts eo = { .match_all = true, .min_priority = PRIO_DEBUG, .rate = 0 };
	static const char *names[] = { "read+decode", "+state", "+rules" };
	double best[3];
	uint64_t events = 0, alerts = 0, evaluated = 0;
	for (int s = 0; s < nstages; s++) {
		struct run r = { .stage = s };
		best[s] = 1e9;
		for (int k = 0; k < rounds; k++) {
			double t = replay(path, &r, &eo, rules, nrules, defaults || !nrules);
			if (t < best[s])
				best[s] = t;
		}
		events = r.events;
		alerts = r.alerts;
		evaluated = r.evaluated;
	}
	printf("%llu events, best of %d rounds, CPU time of this process\n", (unsigned long long)events, rounds);
	for (int s = 0; s < nstages; s++)
		printf("  %-12s %.3f s  %9.0f events/s per core\n", names[s], best[s], (double)events / best[s]);
	if (nstages < 3)
		return 0;
	printf("  rules alone: %.0f ns per event; all stages / read+decode+state: %.2f\n",
	       (best[2] - best[1]) / (double)events * 1e9, best[2] / best[1]);
	printf("  %llu alerts, %llu rule evaluations (%.2f per event)\n", (unsigned long long)alerts,
	       (unsigned long long)evaluated, events ? (double)evaluated / (double)events : 0.0);
	double best_read = 1e9, best_compile = 1e9;
	for (int k = 0; k < rounds; k++) {
		double tr, tc;
		load_times(rules, nrules, defaults || !nrules, &eo, &tr, &tc);
		best_read = tr < best_read ? tr : best_read;
		best_compile = tc < best_compile ? tc : best_compile;
	}
	printf("  rule loading (not in the stages): read %.1f ms (YAML, lists, macros, rules), "
	       "engine_compile %.1f ms\n", best_read * 1e3, best_compile * 1e3);
	return 0;
}
