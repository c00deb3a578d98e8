/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics: one process-wide registry of families (counters,
 * gauges, histograms), each with named labels and, per set of label values,
 * one series; rendered in the text exposition format 0.0.4 (metrics_render)
 * and served by metrics_http.c. docs/metrics.md lists what Vigil exports.
 *
 * Cost: a series is looked up once (a mutex, a hash) and its pointer kept by
 * the caller; updating it is one relaxed atomic operation, or a plain store
 * for a series only one thread ever writes (metrics_inc_single). Every
 * update function takes NULL and does nothing, so code can count
 * unconditionally and cost nothing when metrics are off.
 *
 * Bounded: at most METRICS_SERIES_MAX series per family; label values past
 * that go to one series whose every label is "_other_" (counted in
 * vigil_metrics_series_dropped_total), and a label value is cut at 128 bytes.
 */
#ifndef VIGIL_OUTPUT_METRICS_H
#define VIGIL_OUTPUT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"

#define METRICS_SERIES_MAX 2048
#define METRICS_LABELS_MAX 4

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct vg_metric;
struct vg_series;

/*
 * A family, created once (the same name again returns the first, which must
 * have the same type and labels). labels: comma-separated label names, or
 * NULL. Histograms: bounds, ascending, the +Inf bucket added. name and help
 * must be static strings. Can't fail (a bad call is a programming error: it aborts).
 */
struct vg_metric *metrics_family(enum metric_type type, const char *name, const char *help, const char *labels,
				 const double *bounds, size_t nbounds);
/* The series of these label values (as many as the family has labels), created on first use. */
struct vg_series *metrics_series(struct vg_metric *m, const char *const *values);
/* Shorthands for families of no label, one and two labels. */
struct vg_series *metrics_series0(struct vg_metric *m);
struct vg_series *metrics_series1(struct vg_metric *m, const char *v1);
struct vg_series *metrics_series2(struct vg_metric *m, const char *v1, const char *v2);

/* Counters: add n; metrics_inc_single when only one thread ever writes this series. */
void metrics_add(struct vg_series *s, uint64_t n);
void metrics_inc_single(struct vg_series *s);
/* A counter kept elsewhere (the kernel's per-CPU counts): its current total. */
void metrics_counter_set(struct vg_series *s, uint64_t total);
/* Gauges. */
void metrics_set(struct vg_series *s, double v);
/* Histograms: one observation. */
void metrics_observe(struct vg_series *s, double v);

/*
 * The outbox's gauges, per output (forwarder name): records not yet
 * delivered and the age of the oldest of them (publish lag), in seconds.
 */
void metrics_outbox_set(const char *output, uint64_t depth, double lag_seconds);

/* Everything, in the text exposition format 0.0.4, appended to out (RSS read now). */
void metrics_render(struct vg_buf *out);

/* Latency buckets, in seconds: 100 us to 10 s. */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

#endif
