/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's flows: the flows message checks (hub_msg), adding them idempotently, resolving a peer
 * address to another node's workload, the list and the service map, retention (hub_flows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "hub/hub_flows.h"
#include "hub/hub_msg.h"
#include "hub/hub_store.h"
#include "test_tmp.h"

static char dir[64];
static int64_t now_min; /* a recent minute's start, seconds */

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_hub_flows.XXXXXX");
	assert_non_null(mkdtemp(dir));
	now_min = (int64_t)time(NULL) / 60 * 60 - 120;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmp_remove_tree(dir);
	return 0;
}

/* one row: workload cid at local, direction, peer, port, connections, bytes */
static void row(char *out, size_t len, int64_t minute, const char *cid, const char *cname, const char *local,
		const char *dir_, const char *peer, const char *pcid, unsigned port, int conns, int bin, int bout)
{
	snprintf(out, len,
		 "{\"minute\":%lld,\"workload\":{\"container_id\":\"%s\",\"container_name\":%s%s%s,\"k8s_namespace\":"
		 "\"shop\",\"k8s_pod\":null},\"local_addr\":\"%s\",\"direction\":\"%s\",\"proto\":\"tcp\",\"port\":%u,"
		 "\"peer\":{\"address\":\"%s\",\"name\":\"\",\"container_id\":\"%s\",\"container_name\":null,"
		 "\"k8s_namespace\":null,\"k8s_pod\":null},\"connections\":%d,\"bytes_in\":%d,\"bytes_out\":%d,"
		 "\"packets_in\":1,\"packets_out\":1}",
		 (long long)minute, cid, cname ? "\"" : "", cname ? cname : "null", cname ? "\"" : "", local, dir_, port,
		 peer, pcid, conns, bin, bout);
}

static enum hub_reject parse_flows(const char *node, const char *uuid, const char *body, struct hub_msg *m)
{
	char subject[96], err[256];
	snprintf(subject, sizeof(subject), "vigil.prod.%s.flows", node);
	struct hub_headers h = { .msg_id = uuid, .node = node, .cluster = "prod", .kind = "flows", .seq = "1",
				 .version = "0.1.0" };
	enum hub_reject r = hub_msg_parse(subject, &h, body, strlen(body), 1 << 20, m, err, sizeof(err));
	if (r != HUB_OK)
		assert_true(strlen(err) > 0);
	return r;
}

static enum hub_reject check(const char *rowtext)
{
	char body[2048];
	struct hub_msg m;
	snprintf(body, sizeof(body), "{\"time\":\"2026-12-06T09:00:00Z\",\"flows\":[%s]}", rowtext);
	enum hub_reject r = parse_flows("n1", "0123456789abcdef", body, &m);
	if (r == HUB_OK)
		hub_msg_free(&m);
	return r;
}

static void test_msg(void **state)
{
	(void)state;
	char r[1024], body[4096];
	struct hub_msg m;
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "out", "10.9.0.2", "", 8080, 3, 10, 20);
	snprintf(body, sizeof(body), "{\"uuid\":\"f1000000000000000000000000000001\",\"time\":\"2026-12-06T09:00:00Z\",\"flows\":[%s,%s]}", r, r);
	assert_int_equal(parse_flows("n1", "ignored-id-1", body, &m), HUB_OK);
	assert_int_equal(m.kind, HUB_FLOWS);
	assert_string_equal(m.uuid, "f1000000000000000000000000000001");
	assert_int_equal(m.nflows, 2);
	struct hub_flow_row fr;
	hub_msg_flow_row(&m, 1, &fr);
	assert_int_equal(fr.minute, 1796547060);
	assert_string_equal(fr.cid, "aa01");
	assert_string_equal(fr.cname, "web");
	assert_null(fr.pod);
	assert_string_equal(fr.local_addr, "10.9.0.1");
	assert_string_equal(fr.direction, "out");
	assert_int_equal(fr.port, 8080);
	assert_int_equal(fr.connections, 3);
	assert_int_equal(fr.bytes_out, 20);
	hub_msg_free(&m);

	/* each field checked */
	assert_int_equal(check(r), HUB_OK);
	row(r, sizeof(r), 1796547061, "aa01", "web", "10.9.0.1", "out", "10.9.0.2", "", 8080, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS); /* not a minute's start */
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "sideways", "10.9.0.2", "", 8080, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS);
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "out", "10.9.0.2;rm", "", 8080, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS);
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "out", "10.9.0.2", "", 70000, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS);
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "out", "10.9.0.2", "", 80, -3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS);
	row(r, sizeof(r), 1796547060, "a/b", "web", "10.9.0.1", "out", "10.9.0.2", "", 80, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS);
	row(r, sizeof(r), 1796547060, "aa01", "w\\u0007b", "10.9.0.1", "out", "10.9.0.2", "", 80, 3, 10, 20);
	assert_int_equal(check(r), HUB_REJ_FIELDS); /* a control character in a name */
	assert_int_equal(check("\"row\""), HUB_REJ_FIELDS);
	assert_int_equal(check("{}"), HUB_REJ_FIELDS);
	/* no array; too many rows */
	assert_int_equal(parse_flows("n1", "0123456789abcdef", "{\"flows\":{}}", &m), HUB_REJ_FIELDS);
	json_t *big = json_object(), *arr = json_array();
	row(r, sizeof(r), 1796547060, "aa01", "web", "10.9.0.1", "out", "10.9.0.2", "", 80, 3, 10, 20);
	for (int i = 0; i <= HUB_FLOWS_MAX_ROWS; i++)
		json_array_append_new(arr, json_loads(r, 0, NULL));
	json_object_set_new(big, "flows", arr);
	char *text = json_dumps(big, JSON_COMPACT);
	assert_int_equal(parse_flows("n1", "0123456789abcdef", text, &m), HUB_REJ_FIELDS);
	free(text);
	json_decref(big);
}

/* Add one message of rows to the store: what hub_store_add returned. */
static int add(struct hub_store *s, const char *node, const char *uuid, const char *rows)
{
	char body[8192];
	struct hub_msg m;
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"time\":\"2026-12-06T09:00:00Z\",\"flows\":[%s]}", uuid, rows);
	assert_int_equal(parse_flows(node, uuid, body, &m), HUB_OK);
	int rc = hub_store_add(s, &m, (int64_t)time(NULL) * 1000000000LL);
	hub_msg_free(&m);
	return rc;
}

static json_t *map_json(struct hub_store *s, const char *ns)
{
	struct hub_flow_query q = { .since_ns = (now_min - 600) * 1000000000LL, .ns = ns };
	struct vg_buf b = { 0 };
	char err[256];
	assert_int_equal(hub_servicemap(hub_store_db(s), &q, HUB_MAP_JSON, &b, err, sizeof(err)), 0);
	json_t *o = json_loadb(b.data, b.len, 0, NULL);
	assert_non_null(o);
	buf_free(&b);
	return o;
}

static json_t *find(json_t *arr, const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
	{
		if (!strcmp(json_string_value(json_object_get(x, k1)), v1) &&
		    (!k2 || !strcmp(json_string_value(json_object_get(x, k2)), v2)))
			return x;
	}
	return NULL;
}

static void test_store_map(void **state)
{
	(void)state;
	char path[128], err[256], r1[1024], r2[1024], r3[1024], rows[4096];
	snprintf(path, sizeof(path), "%s/hub.db", dir);
	struct hub_store *s = hub_store_open(path, false, false, err, sizeof(err));
	if (!s) fprintf(stderr, "%s\n", err);
	assert_non_null(s);
	/* node a: client aa01 connected 3 times to 10.9.0.2:8080, and to an outside address */
	row(r1, sizeof(r1), now_min, "aa01", "client", "10.9.0.1", "out", "10.9.0.2", "", 8080, 3, 300, 30);
	row(r2, sizeof(r2), now_min, "aa01", "client", "10.9.0.1", "out", "192.0.2.7", "", 443, 1, 5, 6);
	snprintf(rows, sizeof(rows), "%s,%s", r1, r2);
	assert_int_equal(add(s, "a", "flows-a-000000001", rows), 1);
	/* node b: server bb02 accepted them, in two flushes of one minute */
	row(r3, sizeof(r3), now_min, "bb02", "server", "10.9.0.2", "in", "10.9.0.1", "", 8080, 2, 20, 200);
	assert_int_equal(add(s, "b", "flows-b-000000001", r3), 1);
	row(r3, sizeof(r3), now_min, "bb02", "server", "10.9.0.2", "in", "10.9.0.1", "", 8080, 1, 10, 100);
	assert_int_equal(add(s, "b", "flows-b-000000002", r3), 1);
	assert_int_equal(hub_store_commit(s), 0);
	/* redelivered (the hub stopped before its ack), also after a reopen: nothing added */
	assert_int_equal(add(s, "b", "flows-b-000000002", r3), 0);
	assert_int_equal(hub_store_commit(s), 0);
	hub_store_close(s);
	s = hub_store_open(path, false, false, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(add(s, "a", "flows-a-000000001", rows), 0);
	/* an alert of the server's container (12 digits, as alerts name it) */
	struct hub_msg am;
	char abody[512];
	time_t t = time(NULL) - 60;
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[40];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(abody, sizeof(abody),
		 "{\"uuid\":\"alert-0000000001\",\"time\":\"%s\",\"rule\":\"R\",\"priority\":\"Warning\","
		 "\"vigil\":{\"event\":{\"container\":{\"id\":\"bb02\",\"name\":\"server\"}}}}", ts);
	struct hub_headers ah = { .msg_id = "alert-0000000001", .node = "b", .cluster = "prod", .kind = "alert",
				  .seq = "1" };
	assert_int_equal(hub_msg_parse("vigil.prod.b.alert", &ah, abody, strlen(abody), 4096, &am, err, sizeof(err)),
			 HUB_OK);
	assert_int_equal(hub_store_add(s, &am, (int64_t)time(NULL) * 1000000000LL), 1);
	hub_msg_free(&am);
	assert_int_equal(hub_store_commit(s), 0);

	json_t *o = map_json(s, NULL);
	json_t *nodes = json_object_get(o, "nodes"), *edges = json_object_get(o, "edges");
	assert_int_equal(json_array_size(nodes), 3);
	json_t *c = find(nodes, "id", "w:prod/a/aa01", NULL, NULL), *sv = find(nodes, "id", "w:prod/b/bb02", NULL, NULL);
	assert_non_null(c);
	assert_non_null(sv);
	assert_string_equal(json_string_value(json_object_get(sv, "kind")), "workload");
	assert_string_equal(json_string_value(json_object_get(sv, "node")), "b");
	assert_string_equal(json_string_value(json_object_get(sv, "label")), "server");
	assert_string_equal(json_string_value(json_object_get(sv, "namespace")), "shop");
	assert_int_equal(json_integer_value(json_object_get(sv, "alerts")), 0); /* bb02 is 4 digits: not an alert id prefix */
	json_t *x = find(nodes, "id", "x:192.0.2.7", NULL, NULL);
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "external");
	/* the cross-node edge: both sides saw 3 connections; the map says 3, not 6 */
	json_t *e = find(edges, "from", "w:prod/a/aa01", "to", "w:prod/b/bb02");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "connections")), 3);
	assert_int_equal(json_integer_value(json_object_get(e, "port")), 8080);
	/* from the connecting side: it sent 30 and received 300 (both sides agree) */
	assert_int_equal(json_integer_value(json_object_get(e, "bytes_out")), 30);
	assert_int_equal(json_integer_value(json_object_get(e, "bytes_in")), 300);
	assert_string_equal(json_string_value(json_object_get(e, "proto")), "tcp");
	assert_int_equal(json_array_size(edges), 2);
	json_decref(o);
	/* a namespace nobody is in: nothing */
	o = map_json(s, "other");
	assert_int_equal(json_array_size(json_object_get(o, "edges")), 0);
	json_decref(o);

	/* the list, paged; the peer of a's flow resolved to node b */
	struct hub_flow_query q = { .since_ns = (now_min - 600) * 1000000000LL, .limit = 2 };
	struct vg_buf b = { 0 };
	assert_int_equal(hub_flows_list(hub_store_db(s), &q, &b, err, sizeof(err)), 2);
	o = json_loadb(b.data, b.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "next_cursor")), "2");
	json_t *first = json_array_get(json_object_get(o, "flows"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "node")), "a");
	json_t *peer = json_object_get(first, "peer");
	assert_string_equal(json_string_value(json_object_get(peer, "address")), "10.9.0.2");
	assert_string_equal(json_string_value(json_object_get(peer, "node")), "b");
	assert_string_equal(json_string_value(json_object_get(peer, "container_id")), "bb02");
	json_decref(o);
	buf_reset(&b);
	q.offset = 2;
	assert_int_equal(hub_flows_list(hub_store_db(s), &q, &b, err, sizeof(err)), 1);
	o = json_loadb(b.data, b.len, 0, NULL);
	assert_true(json_is_null(json_object_get(o, "next_cursor")));
	json_t *srv = json_array_get(json_object_get(o, "flows"), 0);
	assert_int_equal(json_integer_value(json_object_get(srv, "connections")), 3); /* 2 + 1, once each */
	json_decref(o);
	buf_reset(&b);
	/* DOT and SVG through the flow graph */
	assert_int_equal(hub_servicemap(hub_store_db(s), &q, HUB_MAP_DOT, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(b.data, "digraph"));
	assert_non_null(strstr(b.data, "server"));
	buf_reset(&b);
	assert_int_equal(hub_servicemap(hub_store_db(s), &q, HUB_MAP_SVG, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(b.data, "<svg"));
	buf_free(&b);

	/* retention: an old minute and an old alert go, the rest stays */
	row(r1, sizeof(r1), now_min - 7200, "aa01", "client", "10.9.0.1", "out", "10.9.0.2", "", 8080, 9, 1, 1);
	assert_int_equal(add(s, "a", "flows-a-old000001", r1), 1);
	assert_int_equal(hub_store_commit(s), 0);
	uint64_t del[HUB_RET__N] = { 0 };
	int64_t cutoff = (now_min - 3600) * 1000000000LL;
	long n;
	while ((n = hub_retain_step(hub_store_db(s), cutoff, 1, del, err, sizeof(err))) > 0)
		;
	assert_int_equal(n, 0);
	assert_int_equal(del[HUB_RET_FLOWS], 1);
	assert_int_equal(del[HUB_RET_ALERTS], 0);
	o = map_json(s, NULL);
	e = find(json_object_get(o, "edges"), "from", "w:prod/a/aa01", "to", "w:prod/b/bb02");
	assert_int_equal(json_integer_value(json_object_get(e, "connections")), 3);
	json_decref(o);
	/* everything older than now: the alert too */
	memset(del, 0, sizeof(del));
	hub_retain_step(hub_store_db(s), (int64_t)time(NULL) * 1000000000LL + 3600000000000LL, 100, del, err,
			sizeof(err));
	assert_int_equal(del[HUB_RET_ALERTS], 1);
	assert_int_equal(del[HUB_RET_FLOWS], 3); /* a: two peers; b: one row (its two messages added up) */
	hub_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg),
		cmocka_unit_test(test_store_map),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
