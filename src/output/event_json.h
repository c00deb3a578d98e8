/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_EVENT_JSON_H
#define VIGIL_EVENT_JSON_H

#include <stdint.h>
#include "common/buf.h"
#include "sensor/decode.h"
#include "state/state.h"

/*
 * One enriched event as a JSON object (no newline), appended to out:
 * type, time, process, parent, user, container, k8s, namespaces, cgroup,
 * args and result. The schema is documented in docs/events.md. The output
 * depends only on the event and the state, so live and replay agree.
 */
void event_json(struct vg_buf *out, const struct vg_event *ev, const struct vg_state *st,
		uint64_t boot_to_realtime);

/* Only the event's arguments, as the JSON object event_json puts under "args". */
void event_json_args(struct vg_buf *out, const struct vg_event *ev);

#endif
