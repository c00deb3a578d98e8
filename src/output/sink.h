/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output sink interface: where the agent's records, events, alerts and
 * response actions go. Each output is one file behind one table of functions
 * (as event sources are behind struct vg_source_ops): the alert store
 * (sink_store.c), stdout as text or JSON lines (sink_stdout.c), the capture
 * file (sink_capture.c). An operation a sink does not take is NULL. A new
 * output is a new file, its ops in sink_table (sink.c) and, if it needs one,
 * a setting in struct vg_sink_config.
 *
 * Batches: the agent hands a poll's alerts and actions to every sink, then
 * flushes the sinks in the order of sink_table. The store comes before
 * stdout, so an alert is committed to the store before it is printed: what
 * is shown is stored.
 */
#ifndef VIGIL_SINK_H
#define VIGIL_SINK_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "engine/engine.h"
#include "respond/action.h"
#include "sensor/decode.h"
#include "state/state.h"

struct vg_sink;

/* One alert of the batch, formatted once for every sink. */
struct vg_sink_alert {
	const struct alert *a;
	const char *json;          /* alert_json_responses(): one object, no newline */
	size_t json_len;
	uint64_t boot_to_realtime;
};

/* What the outputs are asked for; each sink opens when its part is set. */
struct vg_sink_config {
	bool show;                 /* events or alerts on stdout */
	bool json;                 /* ... as JSON lines, else text */
	const char *store_path;    /* the alert store, or NULL */
	const char *capture_path;  /* a capture file of every record, or NULL */
	uint64_t boot_to_realtime; /* the source's, for the capture file's header */
	const char *hostname;
	void (*on_commit)(void *ctx); /* the store committed a batch (the outbox wakes), or NULL */
	void *on_commit_ctx;
};

struct vg_sink_ops {
	const char *name;
	/* Open the sink if c asks for it: 0 with *out set, 0 with *out NULL (not asked
	 * for), or -1 with the reason in err ("" when it was logged already). */
	int (*open)(const struct vg_sink_config *c, struct vg_sink **out, char *err, size_t errlen);
	/* Every record the agent reads or synthesises, raw, in order (a capture file). */
	void (*record)(struct vg_sink *s, const void *rec, size_t len);
	/* An event to show (trace, replay without rules). 0, or an errno: output is broken. */
	int (*event)(struct vg_sink *s, const struct vg_event *ev, const struct vg_state *st,
		     uint64_t boot_to_realtime);
	/* An alert of the current batch. 0, or an errno: output is broken. */
	int (*alert)(struct vg_sink *s, const struct vg_sink_alert *al);
	/* A response action carried out for alert a; m: its container's metadata or NULL. */
	void (*action)(struct vg_sink *s, const struct alert *a, const struct action_result *res,
		       const struct vg_container_meta *m, uint64_t boot_to_realtime);
	/* The batch is complete: make it durable or visible. 0, or an errno: output is broken. */
	int (*flush)(struct vg_sink *s);
	/* Append " key=value" counters to the agent's exit summary line. */
	void (*stats)(struct vg_sink *s, struct vg_buf *out);
	/* Finish and free. 0, or -1: what was written is incomplete. */
	int (*close)(struct vg_sink *s);
};

struct vg_sink {
	const struct vg_sink_ops *ops;
};

/* The SQLite alert store (output/alert_store.c): alerts and actions, committed on
 * flush. A store that fails later is reported once; alerts are still shown. */
extern const struct vg_sink_ops sink_store_ops;
/* stdout: events and alerts as JSON lines or one line of text each. Alerts are
 * held until flush, events written at once. */
extern const struct vg_sink_ops sink_stdout_ops;
/* A capture file of every record (sensor/capture.c). */
extern const struct vg_sink_ops sink_capture_ops;

/* Every output, in flush order (the store before stdout), NULL-terminated. */
extern const struct vg_sink_ops *const sink_table[];

#endif
