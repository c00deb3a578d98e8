/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics registry (output/metrics.c): exposition text, exact; concurrent updates; bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/metrics.h"

/* The block of one family in the rendering, from its # HELP to the next # HELP. */
static char *family_text(const char *name)
{
	struct vg_buf b = { 0 };
	char head[128];
	metrics_render(&b);
	buf_addc(&b, 0);
	snprintf(head, sizeof(head), "# HELP %s ", name);
	char *p = strstr(b.data, head);
	if (!p) {
		buf_free(&b);
		return NULL;
	}
	char *end = strstr(p + 1, "# HELP ");
	char *out = strndup(p, end ? (size_t)(end - p) : strlen(p));
	buf_free(&b);
	return out;
}

static void test_render(void **state)
{
	(void)state;
	struct vg_metric *c = metrics_family(METRIC_COUNTER, "t_requests_total", "Requests\nby \\ code", "code,path",
					     NULL, 0);
	metrics_add(metrics_series2(c, "200", "/a\"b\\c\nd"), 3);
	metrics_add(metrics_series2(c, "500", "/"), 1);
	metrics_add(metrics_series2(c, "200", "/a\"b\\c\nd"), 2); /* the same series */
	metrics_add(NULL, 1);                                       /* metrics off: nothing */
	char *t = family_text("t_requests_total");
	assert_string_equal(t, "# HELP t_requests_total Requests\\nby \\\\ code\n"
			       "# TYPE t_requests_total counter\n"
			       "t_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 5\n"
			       "t_requests_total{code=\"500\",path=\"/\"} 1\n");
	free(t);

	struct vg_metric *g = metrics_family(METRIC_GAUGE, "t_temp", "A gauge", NULL, NULL, 0);
	metrics_set(metrics_series0(g), 0.25);
	t = family_text("t_temp");
	assert_string_equal(t, "# HELP t_temp A gauge\n# TYPE t_temp gauge\nt_temp 0.25\n");
	free(t);

	static const double bounds[] = { 0.1, 1 };
	struct vg_metric *h = metrics_family(METRIC_HISTOGRAM, "t_lat_seconds", "Latency", "op", bounds, 2);
	struct vg_series *hs = metrics_series1(h, "get");
	metrics_observe(hs, 0.05);
	metrics_observe(hs, 0.1); /* le is inclusive */
	metrics_observe(hs, 0.5);
	metrics_observe(hs, 7);
	t = family_text("t_lat_seconds");
	assert_string_equal(t, "# HELP t_lat_seconds Latency\n# TYPE t_lat_seconds histogram\n"
			       "t_lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
			       "t_lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
			       "t_lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
			       "t_lat_seconds_sum{op=\"get\"} 7.65\n"
			       "t_lat_seconds_count{op=\"get\"} 4\n");
	free(t);

	/* the same name again is the same family */
	assert_ptr_equal(metrics_family(METRIC_COUNTER, "t_requests_total", "x", "code,path", NULL, 0), c);
	metrics_outbox_set("syslog", 12, 1.5);
	t = family_text("vigil_outbox_depth");
	assert_non_null(strstr(t, "vigil_outbox_depth{output=\"syslog\"} 12\n"));
	free(t);
}

#define THREADS 4
#define ADDS 100000
static struct vg_series *shared_c, *shared_h;

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < ADDS; i++) {
		metrics_add(shared_c, 1);
		metrics_observe(shared_h, 1);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	static const double b[] = { 0.5 };
	pthread_t th[THREADS];
	shared_c = metrics_series0(metrics_family(METRIC_COUNTER, "t_conc_total", "c", NULL, NULL, 0));
	shared_h = metrics_series0(metrics_family(METRIC_HISTOGRAM, "t_conc_seconds", "h", NULL, b, 1));
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, adder, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	char *t = family_text("t_conc_total");
	assert_non_null(strstr(t, "t_conc_total 400000\n"));
	free(t);
	t = family_text("t_conc_seconds");
	assert_non_null(strstr(t, "t_conc_seconds_sum 400000\nt_conc_seconds_count 400000\n"));
	free(t);
}

static void test_bounded(void **state)
{
	(void)state;
	struct vg_metric *m = metrics_family(METRIC_COUNTER, "t_many_total", "many", "id", NULL, 0);
	char id[32];
	for (int i = 0; i < METRICS_SERIES_MAX + 10; i++) {
		snprintf(id, sizeof(id), "%d", i);
		metrics_add(metrics_series1(m, id), 1);
	}
	char *t = family_text("t_many_total");
	assert_non_null(strstr(t, "t_many_total{id=\"_other_\"} 10\n"));
	assert_null(strstr(t, "{id=\"2048\"}"));
	free(t);
	t = family_text("vigil_metrics_series_dropped_total");
	assert_non_null(strstr(t, "vigil_metrics_series_dropped_total 10\n"));
	free(t);
	/* a long label value is cut, the same series for the same prefix */
	char long1[300], long2[300];
	memset(long1, 'a', 299);
	long1[299] = 0;
	memcpy(long2, long1, 300);
	long2[250] = 'b';
	struct vg_metric *l = metrics_family(METRIC_COUNTER, "t_long_total", "long", "v", NULL, 0);
	assert_ptr_equal(metrics_series1(l, long1), metrics_series1(l, long2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
