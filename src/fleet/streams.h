/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet's JetStream objects (docs/fleet.md): the streams VIGIL_ALERTS
 * (alerts, actions, loss records), VIGIL_HEARTBEATS (the latest heartbeat
 * per node), VIGIL_FLOWS (the flow rollups' deltas, docs/fleet.md "Flows"), and the key-value bucket VIGIL_POLICY (central policy, with
 * history). fleet_streams_init creates what is missing and updates what
 * differs from what was asked, idempotently, and says what it did.
 */
#ifndef VIGIL_FLEET_STREAMS_H
#define VIGIL_FLEET_STREAMS_H

#include <stdint.h>
#include "common/buf.h"
#include "fleet/nats_conn.h"

#define FLEET_STREAM_ALERTS "VIGIL_ALERTS"
#define FLEET_STREAM_HEARTBEATS "VIGIL_HEARTBEATS"
#define FLEET_STREAM_FLOWS "VIGIL_FLOWS"

/* A value of 0 (or -2 for the sizes) is "not given": kept on update, the default on create. */
struct fleet_stream_opts {
	int replicas;           /* 1 or 3; default 1 */
	int64_t max_age_ns;     /* default 7 days; -1: unlimited */
	int64_t max_bytes;      /* default -1: unlimited; -2: not given */
	int64_t dup_window_ns;  /* default 2 minutes */
	int64_t flows_max_age_ns; /* VIGIL_FLOWS's max age: default 1 day; -1: unlimited */
};

/* One line per object into report ("VIGIL_ALERTS: created ...", "... unchanged"). 0 or -1 with err. */
int fleet_streams_init(struct fleet_conn *c, const struct fleet_stream_opts *o, struct vg_buf *report, char *err,
		       size_t errlen);

/* "7d", "12h", "30m", "90s", "500ms", "0"/"none" (-1: unlimited) into ns. -1 on bad text → returns -2. */
int64_t fleet_parse_duration(const char *s);
/* "10G", "512M", "64K", "1234", "none" (-1). Returns -2 on bad text. */
int64_t fleet_parse_size(const char *s);

#endif
