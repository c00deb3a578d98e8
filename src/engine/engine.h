/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rule engine: a compiled rule set that turns events into alerts.
 *
 *   struct ruleset rs;  ruleset_init(&rs);  ruleset_load_file(&rs, path, ...)...
 *   struct engine *e = engine_compile(&rs, &opts, err, sizeof(err));
 *   for each event: engine_process(e, &ev, state, on_alert, ctx);
 *
 * Rules are indexed by the event types their conditions allow, so an event
 * only meets rules that can match it; engine_event_types() is what the
 * sensor must capture. As in Falco, only the first matching rule (in load
 * order) alerts on an event unless opts.match_all is set.
 */
#ifndef VIGIL_ENGINE_H
#define VIGIL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/filter.h"
#include "engine/kfilter.h"
#include "engine/ruleset.h"

struct engine_opts {
	bool match_all;            /* alert for every matching rule, not only the first */
	enum rs_priority min_priority; /* rules less severe than this are not loaded (default DEBUG) */
	double rate;               /* per-rule alerts per second after the burst; 0: no limit */
	double burst;              /* per-rule burst size */
	const char *hostname;      /* evt.hostname and the alert's hostname */
	uint64_t boot_to_realtime; /* add to CLOCK_BOOTTIME ns for wall time */
	const char *const *disabled_tags; /* rules with any of these tags are disabled (NULL-terminated) */
};

/* One output field of an alert, in the order of the output format. */
struct alert_field {
	const char *name;       /* "proc.aname[2]" */
	const struct fref *ref;
	const char *text;       /* value as text; "<NA>" when absent */
	size_t len;
	int n;                  /* number of values (0: absent) */
	const struct fval *vals;
};

struct engine_rule;

struct alert {
	const struct engine_rule *rule;
	const char *name;
	enum rs_priority priority;
	char *const *tags;
	size_t ntags;
	char *const *actions;
	size_t nactions;
	const char *output;     /* formatted, without time and priority */
	size_t output_len;
	const struct alert_field *fields;
	size_t nfields;
	uint64_t suppressed;    /* alerts of this rule dropped by the rate limit since the last one */
	const struct vg_event *ev;
	const struct vg_state *st;
	const char *seq_trigger; /* sequence rules: the first step's rule text, else NULL */
	const char *source;      /* the rule's source: "syscall" or "flow" */
};

typedef void (*engine_alert_fn)(void *ctx, const struct alert *a);

struct engine_stats {
	uint64_t events;      /* events offered */
	uint64_t evaluated;   /* rule evaluations */
	uint64_t alerts;
	uint64_t suppressed;
};

struct engine;

/*
 * Compile a loaded rule set. Returns the engine, or NULL with
 * "file:line:col: message" in err. Warnings (unused macros, rules matching
 * every event type) are appended to rs->warnings. The rule set may be freed
 * afterwards.
 */
struct engine *engine_compile(struct ruleset *rs, const struct engine_opts *opts, char *err, size_t errlen);
void engine_free(struct engine *e);

/* Evaluate one event (after the state has ingested it); alerts go to cb. */
void engine_process(struct engine *e, const struct vg_event *ev, const struct vg_state *st,
		    engine_alert_fn cb, void *ctx);

/*
 * Testing aid: evaluate every rule (a sequence: its first step) on the event
 * both ways -- the condition as compiled (filter_eval) and as the engine runs
 * it (the type's prefilter: candidate by its primary clause, its other
 * clauses; then the gates and the condition specialised for the type) -- and
 * every prefilter atom grouped and alone; return how many disagree (0: the
 * fast path is exact on this event). Rules of other types are checked to be false.
 * Call after engine_process for the same event. With the environment variable
 * VIGIL_ENGINE_SELFCHECK=1 at engine_compile, engine_process does it itself
 * and aborts on a disagreement (tests/integration/test_engine_selfcheck.sh).
 */
size_t engine_selfcheck(struct engine *e, const struct vg_event *ev, const struct vg_state *st);

/* Where events come from: evt.hostname and wall-clock offset (known once the source is open). */
void engine_set_source(struct engine *e, const char *hostname, uint64_t boot_to_realtime);

/* The event types some enabled rule needs. */
struct evtset engine_event_types(const struct engine *e);
void engine_stats(const struct engine *e, struct engine_stats *out);

/* Introspection for `vigil rules list`. */
size_t engine_rule_count(const struct engine *e);
struct engine_rule_info {
	const char *name, *desc, *source;
	enum rs_priority priority;
	bool enabled;
	char *const *tags;
	size_t ntags;
	char *const *actions;
	size_t nactions;
	struct evtset types;
	uint64_t matches;
	const struct kfilter *kernel; /* enabled rules: the condition in the kernel's form (engine/kfilter.h) */
	const struct kfilter *keep;   /* enabled rules but flow ones: a weaker condition, for engine/kdrop.h */
};
void engine_rule_info(const struct engine *e, size_t i, struct engine_rule_info *out);


/* ---- loading ---- */

/* Vigil's default rules, built into the binary from rules/ (NULL-terminated arrays). */
extern const char *const default_rules_names[];
extern const char *const default_rules_texts[];
extern const size_t default_rules_sizes[];

/*
 * Load rule files in order (after the default rules when n == 0 or
 * with_defaults) and compile
 * them. Counts of what was loaded go to *counts when not NULL; warnings are
 * appended to `warnings` when not NULL. Returns the engine or NULL with the
 * error in err.
 */
struct engine_counts {
	size_t rules, macros, lists, skipped_source, enabled;
};
struct engine *engine_load(const char *const *paths, size_t n, bool with_defaults, const struct engine_opts *opts,
			   struct engine_counts *counts, struct vg_buf *warnings, char *err, size_t errlen);

#endif
