/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERT_JSON_H
#define VIGIL_ALERT_JSON_H

#include <stdint.h>
#include "common/buf.h"
#include "engine/engine.h"

/*
 * An alert as one JSON object (no newline) in Falco's shape -- time, rule,
 * priority, output, output_fields, source, tags, hostname -- so existing
 * Falco consumers read it, plus "vigil": the enriched event (process, parent,
 * user, container, Kubernetes, arguments), the process ancestry, the rule's
 * actions and how many alerts of the rule the rate limit suppressed before
 * this one. Documented in docs/alerts.md.
 */
void alert_json(struct vg_buf *out, const struct alert *a, const char *hostname, uint64_t boot_to_realtime);

/* Falco's text line: "HH:MM:SS.nnnnnnnnn: Priority output" (no newline). */
void alert_text(struct vg_buf *out, const struct alert *a, uint64_t boot_to_realtime);

/* "2026-11-28T14:41:45.123456789Z" of a CLOCK_BOOTTIME timestamp. */
void alert_time_iso(char *buf, size_t size, uint64_t ts, uint64_t boot_to_realtime);

#endif
