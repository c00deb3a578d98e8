/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output sink interface: where the agent's records, events, alerts and
 * response actions go. Each output is one file behind one table of functions
 * (as event sources are behind struct vg_source_ops): the alert store
 * (sink_store.c), stdout as text or JSON lines (sink_stdout.c), the capture
 * file (sink_capture.c). An operation a sink does not take is NULL.
 *
 * Batches: the agent hands a poll's alerts and actions to every sink, then
 * flushes the sinks in the order it opened them. It opens the store before
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

struct vg_sink_ops {
	const char *name;
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

/* The SQLite alert store at path (output/alert_store.c): alerts, actions, committed
 * on flush. A store that fails later is reported once; alerts are still shown.
 * NULL with the reason in err. */
struct vg_sink *sink_store_open(const char *path, char *err, size_t errlen);

/* stdout: events and alerts as JSON lines (json) or one line of text each.
 * Alerts are held until flush, events written at once. Cannot fail. */
struct vg_sink *sink_stdout_new(bool json);

/* A capture file of every record (sensor/capture.c). NULL with the reason logged. */
struct vg_sink *sink_capture_open(const char *path, uint64_t boot_to_realtime, const char *hostname);

#endif
