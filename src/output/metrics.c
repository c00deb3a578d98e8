/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics registry (metrics.h). Families are a list in registration
 * order; each holds its series in a small hash (for lookups) and a list in
 * creation order (for rendering), both append-only: a series, once made,
 * lives as long as the process, so the pointers callers keep stay valid and
 * updates need no lock. Lookups and rendering take the family's mutex.
 *
 * A gauge's value is a double's bits in a uint64_t, so that it is read and
 * written whole with one atomic operation; a histogram's sum is the same,
 * updated by compare-and-swap.
 */
#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output/metrics.h"

#define METRICS_HASH 256
#define METRICS_VALUE_MAX 128

struct vg_series {
	struct vg_series *hnext, *next;
	const struct vg_metric *family;
	uint64_t hash;
	char *values[METRICS_LABELS_MAX];
	uint64_t value;    /* counter: the count; gauge: a double's bits */
	uint64_t *buckets; /* histogram: nbounds + 1 counts, not cumulative */
	uint64_t sum;      /* histogram: the sum, a double's bits */
};

struct vg_metric {
	struct vg_metric *next;
	enum metric_type type;
	const char *name, *help;
	char *labels[METRICS_LABELS_MAX];
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	pthread_mutex_t lock;
	struct vg_series *hash[METRICS_HASH];
	struct vg_series *first, **last;
	size_t nseries;
	struct vg_series *other; /* past METRICS_SERIES_MAX */
};

static struct {
	pthread_mutex_t lock;
	struct vg_metric *first, **last;
} reg = { PTHREAD_MUTEX_INITIALIZER, NULL, &reg.first };

const double metrics_latency_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					  0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10 };
const size_t metrics_latency_nbounds = sizeof(metrics_latency_bounds) / sizeof(metrics_latency_bounds[0]);

static struct vg_series *dropped_series(void);

static uint64_t d2u(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static double u2d(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static int name_ok(const char *s, int colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (colon && *s == ':')))
			return 0;
	return 1;
}

static void bad_call(const char *what, const char *name)
{
	fprintf(stderr, "vigil: metrics: %s: %s\n", what, name);
	abort();
}

struct vg_metric *metrics_family(enum metric_type type, const char *name, const char *help, const char *labels,
				 const double *bounds, size_t nbounds)
{
	struct vg_metric *m;

	if (!name_ok(name, 1))
		bad_call("bad metric name", name);
	pthread_mutex_lock(&reg.lock);
	for (m = reg.first; m; m = m->next)
		if (!strcmp(m->name, name)) {
			pthread_mutex_unlock(&reg.lock);
			if (m->type != type)
				bad_call("registered again with another type", name);
			return m;
		}
	m = xcalloc(1, sizeof(*m));
	m->type = type;
	m->name = name;
	m->help = help;
	pthread_mutex_init(&m->lock, NULL);
	m->last = &m->first;
	if (labels) {
		char *copy = xstrdup(labels), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (m->nlabels == METRICS_LABELS_MAX || !name_ok(t, 0) || !strncmp(t, "__", 2) ||
			    (type == METRIC_HISTOGRAM && !strcmp(t, "le")))
				bad_call("bad labels", labels);
			m->labels[m->nlabels++] = xstrdup(t);
		}
		free(copy);
	}
	if (type == METRIC_HISTOGRAM) {
		if (!nbounds)
			bad_call("a histogram without buckets", name);
		for (size_t i = 1; i < nbounds; i++)
			if (!(bounds[i] > bounds[i - 1]))
				bad_call("histogram bounds not ascending", name);
		m->bounds = xmalloc(nbounds * sizeof(*bounds));
		memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
		m->nbounds = nbounds;
	}
	__atomic_store_n(reg.last, m, __ATOMIC_RELEASE); /* metrics_render walks without the lock */
	reg.last = &m->next;
	pthread_mutex_unlock(&reg.lock);
	return m;
}

/* The length a label value is kept to: METRICS_VALUE_MAX bytes, cut on a UTF-8 boundary. */
static size_t cut_len(const char *v)
{
	size_t n = strnlen(v, METRICS_VALUE_MAX + 1);
	if (n > METRICS_VALUE_MAX) {
		n = METRICS_VALUE_MAX;
		while (n && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	return n;
}

static uint64_t hash_values(const char *const *v, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		size_t len = cut_len(v[i]);
		for (size_t k = 0; k < len; k++)
			h = (h ^ (unsigned char)v[i][k]) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static struct vg_series *series_new(struct vg_metric *m, const char *const *v)
{
	struct vg_series *s = xcalloc(1, sizeof(*s));
	s->family = m;
	for (size_t i = 0; i < m->nlabels; i++)
		s->values[i] = xstrndup(v[i], cut_len(v[i]));
	if (m->type == METRIC_HISTOGRAM)
		s->buckets = xcalloc(m->nbounds + 1, sizeof(*s->buckets));
	*m->last = s;
	m->last = &s->next;
	return s;
}

struct vg_series *metrics_series(struct vg_metric *m, const char *const *values)
{
	if (!m)
		return NULL;
	const char *v[METRICS_LABELS_MAX];
	for (size_t i = 0; i < m->nlabels; i++)
		v[i] = values && values[i] ? values[i] : "";
	uint64_t h = hash_values(v, m->nlabels);
	struct vg_series *s;
	bool dropped = false;

	pthread_mutex_lock(&m->lock);
	for (s = m->hash[h % METRICS_HASH]; s; s = s->hnext) {
		size_t i = 0;
		if (s->hash != h)
			continue;
		while (i < m->nlabels && strlen(s->values[i]) == cut_len(v[i]) &&
		       !strncmp(s->values[i], v[i], cut_len(v[i])))
			i++;
		if (i == m->nlabels)
			break;
	}
	if (!s && m->nseries >= METRICS_SERIES_MAX) {
		if (!m->other) {
			const char *o[METRICS_LABELS_MAX] = { "_other_", "_other_", "_other_", "_other_" };
			m->other = series_new(m, o);
		}
		s = m->other;
		dropped = true;
	} else if (!s) {
		s = series_new(m, v);
		s->hash = h;
		s->hnext = m->hash[h % METRICS_HASH];
		m->hash[h % METRICS_HASH] = s;
		m->nseries++;
	}
	pthread_mutex_unlock(&m->lock);
	if (dropped)
		metrics_add(dropped_series(), 1);
	return s;
}

struct vg_series *metrics_series0(struct vg_metric *m)
{
	return metrics_series(m, NULL);
}

struct vg_series *metrics_series1(struct vg_metric *m, const char *v1)
{
	const char *v[] = { v1 };
	return metrics_series(m, v);
}

struct vg_series *metrics_series2(struct vg_metric *m, const char *v1, const char *v2)
{
	const char *v[] = { v1, v2 };
	return metrics_series(m, v);
}

static struct vg_series *dropped_series(void)
{
	static struct vg_series *s;
	struct vg_series *d = __atomic_load_n(&s, __ATOMIC_ACQUIRE);
	if (!d) {
		/* no label: never dropped itself, so this cannot recurse */
		d = metrics_series0(metrics_family(METRIC_COUNTER, "vigil_metrics_series_dropped_total",
						   "Series not created because their family had too many; counted in the _other_ series instead",
						   NULL, NULL, 0));
		__atomic_store_n(&s, d, __ATOMIC_RELEASE);
	}
	return d;
}

void metrics_add(struct vg_series *s, uint64_t n)
{
	if (s)
		__atomic_fetch_add(&s->value, n, __ATOMIC_RELAXED);
}

void metrics_inc_single(struct vg_series *s)
{
	if (s)
		__atomic_store_n(&s->value, __atomic_load_n(&s->value, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

void metrics_counter_set(struct vg_series *s, uint64_t total)
{
	if (s)
		__atomic_store_n(&s->value, total, __ATOMIC_RELAXED);
}

void metrics_set(struct vg_series *s, double v)
{
	if (s)
		__atomic_store_n(&s->value, d2u(v), __ATOMIC_RELAXED);
}

void metrics_observe(struct vg_series *s, double v)
{
	if (!s || !s->buckets || isnan(v))
		return;
	const struct vg_metric *m = s->family;
	size_t i = 0;
	while (i < m->nbounds && v > m->bounds[i])
		i++;
	__atomic_fetch_add(&s->buckets[i], 1, __ATOMIC_RELAXED);
	uint64_t old = __atomic_load_n(&s->sum, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&s->sum, &old, d2u(u2d(old) + v), true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

void metrics_outbox_set(const char *output, uint64_t depth, double lag_seconds)
{
	static struct vg_metric *dm, *lm;
	if (!__atomic_load_n(&lm, __ATOMIC_ACQUIRE)) {
		dm = metrics_family(METRIC_GAUGE, "vigil_outbox_depth", "Records in the store not yet delivered to the output",
				    "output", NULL, 0);
		__atomic_store_n(&lm, metrics_family(METRIC_GAUGE, "vigil_outbox_lag_seconds",
						     "Age of the oldest record not yet delivered to the output (publish lag)",
						     "output", NULL, 0), __ATOMIC_RELEASE);
	}
	metrics_set(metrics_series1(dm, output), (double)depth);
	metrics_set(metrics_series1(lm, output), lag_seconds);
}

static void add_double(struct vg_buf *out, double v)
{
	if (isnan(v))
		buf_adds(out, "NaN");
	else if (isinf(v))
		buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(out, "%.0f", v);
	else {
		/* the shortest of 15 or 17 digits that reads back as v */
		char t[32];
		snprintf(t, sizeof(t), "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof(t), "%.17g", v);
		buf_adds(out, t);
	}
}

static void add_escaped(struct vg_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else if (quote && *s == '"')
			buf_adds(out, "\\\"");
		else
			buf_addc(out, *s);
	}
}

/* name{labels[,le="x"]} */
static void add_name(struct vg_buf *out, const struct vg_metric *m, const struct vg_series *s, const char *suffix,
		     const char *le)
{
	buf_adds(out, m->name);
	buf_adds(out, suffix);
	if (!m->nlabels && !le)
		return;
	buf_addc(out, '{');
	for (size_t i = 0; i < m->nlabels; i++) {
		buf_printf(out, "%s%s=\"", i ? "," : "", m->labels[i]);
		add_escaped(out, s->values[i], true);
		buf_addc(out, '"');
	}
	if (le)
		buf_printf(out, "%sle=\"%s\"", m->nlabels ? "," : "", le);
	buf_addc(out, '}');
}

static void render_family(struct vg_buf *out, struct vg_metric *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };

	/* a family without series yet is shown too: its name is known before its first count */
	pthread_mutex_lock(&m->lock);
	buf_printf(out, "# HELP %s ", m->name);
	add_escaped(out, m->help, false);
	buf_printf(out, "\n# TYPE %s %s\n", m->name, types[m->type]);
	for (struct vg_series *s = m->first; s; s = s->next) {
		if (m->type != METRIC_HISTOGRAM) {
			uint64_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
			add_name(out, m, s, "", NULL);
			buf_addc(out, ' ');
			if (m->type == METRIC_COUNTER)
				buf_printf(out, "%llu", (unsigned long long)v);
			else
				add_double(out, u2d(v));
			buf_addc(out, '\n');
			continue;
		}
		uint64_t cum = 0;
		char le[48];
		for (size_t i = 0; i <= m->nbounds; i++) {
			cum += __atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
			if (i < m->nbounds)
				snprintf(le, sizeof(le), "%g", m->bounds[i]);
			else
				snprintf(le, sizeof(le), "+Inf");
			add_name(out, m, s, "_bucket", le);
			buf_printf(out, " %llu\n", (unsigned long long)cum);
		}
		add_name(out, m, s, "_sum", NULL);
		buf_addc(out, ' ');
		add_double(out, u2d(__atomic_load_n(&s->sum, __ATOMIC_RELAXED)));
		buf_addc(out, '\n');
		/* the count is the +Inf bucket, read once, so that they agree */
		add_name(out, m, s, "_count", NULL);
		buf_printf(out, " %llu\n", (unsigned long long)cum);
	}
	pthread_mutex_unlock(&m->lock);
}

static double rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size, res = 0;
	if (f) {
		if (fscanf(f, "%llu %llu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

void metrics_render(struct vg_buf *out)
{
	metrics_set(metrics_series0(metrics_family(METRIC_GAUGE, "process_resident_memory_bytes",
						   "Resident memory size in bytes", NULL, NULL, 0)),
		    rss_bytes());
	pthread_mutex_lock(&reg.lock);
	struct vg_metric *first = reg.first;
	pthread_mutex_unlock(&reg.lock);
	/* the list only grows at its end: walking it without the lock sees a prefix */
	for (struct vg_metric *m = first; m; m = __atomic_load_n(&m->next, __ATOMIC_ACQUIRE))
		render_family(out, m);
}
