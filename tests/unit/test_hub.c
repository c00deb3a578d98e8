/* SPDX-License-Identifier: Apache-2.0 */
/* The hub: message checks (hub_msg), tokens and query parameters (hub_api), the store (hub_store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include "hub/hub_api.h"
#include "hub/hub_msg.h"
#include "hub/hub_store.h"
#include "test_tmp.h"

static const char alert_json[] =
	"{\"uuid\":\"0123456789abcdef0123456789abcdef\",\"time\":\"2026-11-28T15:06:02.700929619Z\","
	"\"rule\":\"Reverse shell\",\"priority\":\"Critical\",\"output\":\"x\",\"output_fields\":{},"
	"\"vigil\":{\"event\":{\"container\":{\"id\":\"4f2a9c000001\",\"name\":\"web\",\"image\":\"nginx:1\"},"
	"\"k8s\":{\"pod\":\"web-0\",\"namespace\":\"shop\"}}}}";

static struct hub_headers hdr(const char *node, const char *kind, const char *seq)
{
	struct hub_headers h = { .msg_id = "0123456789abcdef0123456789abcdef", .node = node, .cluster = "prod",
				 .kind = kind, .seq = seq, .version = "0.1.0" };
	return h;
}

static enum hub_reject parse(const char *subject, struct hub_headers h, const char *body)
{
	struct hub_msg m;
	char err[256];
	enum hub_reject r = hub_msg_parse(subject, &h, body, strlen(body), 4096, &m, err, sizeof(err));
	if (r == HUB_OK)
		hub_msg_free(&m);
	else
		assert_true(strlen(err) > 0);
	return r;
}

static void test_msg_valid(void **state)
{
	(void)state;
	struct hub_msg m;
	char err[256];
	struct hub_headers h = hdr("n1", "alert", "7");
	assert_int_equal(hub_msg_parse("vigil.prod.n1.alert", &h, alert_json, strlen(alert_json), 4096, &m, err,
				       sizeof(err)),
			 HUB_OK);
	assert_int_equal(m.kind, HUB_ALERT);
	assert_string_equal(m.node, "n1");
	assert_string_equal(m.cluster, "prod");
	assert_int_equal(m.seq, 7);
	assert_string_equal(m.uuid, "0123456789abcdef0123456789abcdef");
	assert_string_equal(m.rule, "Reverse shell");
	assert_int_equal(m.priority, 2);
	assert_string_equal(m.container_name, "web");
	assert_string_equal(m.image, "nginx:1");
	assert_string_equal(m.ns, "shop");
	assert_string_equal(m.pod, "web-0");
	assert_true(m.time_ns == 1795878362700929619LL);
	assert_ptr_equal(m.raw, alert_json);
	hub_msg_free(&m);
	/* no uuid in the body: Nats-Msg-Id */
	const char *nouuid = "{\"time\":\"2026-11-28T15:06:02Z\",\"rule\":\"r\",\"priority\":\"warning\"}";
	h.msg_id = "feedfacefeedface";
	assert_int_equal(hub_msg_parse("vigil.prod.n1.alert", &h, nouuid, strlen(nouuid), 4096, &m, err, sizeof(err)),
			 HUB_OK);
	assert_string_equal(m.uuid, "feedfacefeedface");
	hub_msg_free(&m);
	assert_int_equal(parse("vigil.prod.n1.heartbeat", hdr("n1", "heartbeat", "1"), "{\"uptime_s\":1}"), HUB_OK);
	assert_int_equal(parse("vigil.prod.n1.action", hdr("n1", "action", "1"),
			       "{\"uuid\":\"aaaaaaaabbbbbbbb\",\"action\":\"kill\",\"outcome\":\"done\"}"),
			 HUB_OK);
	assert_int_equal(parse("vigil.prod.n1.loss", hdr("n1", "loss", "1"), "{\"uuid\":\"aaaaaaaabbbbbbbb\"}"), HUB_OK);
}

static void test_msg_rejects(void **state)
{
	(void)state;
	assert_int_equal(parse("vigil.prod.n1", hdr("n1", "alert", "1"), alert_json), HUB_REJ_SUBJECT);
	assert_int_equal(parse("vigil.prod.n1.alert.x", hdr("n1", "alert", "1"), alert_json), HUB_REJ_SUBJECT);
	assert_int_equal(parse("vigil.prod.n*.alert", hdr("n*", "alert", "1"), alert_json), HUB_REJ_SUBJECT);
	assert_int_equal(parse("other.prod.n1.alert", hdr("n1", "alert", "1"), alert_json), HUB_REJ_SUBJECT);
	assert_int_equal(parse("vigil..n1.alert", hdr("n1", "alert", "1"), alert_json), HUB_REJ_SUBJECT);
	assert_int_equal(parse("vigil.prod.n1.gossip", hdr("n1", "gossip", "1"), alert_json), HUB_REJ_KIND);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "action", "1"), alert_json), HUB_REJ_KIND);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", NULL, "1"), alert_json), HUB_REJ_KIND);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n2", "alert", "1"), alert_json), HUB_REJ_HEADERS);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr(NULL, "alert", "1"), alert_json), HUB_REJ_HEADERS);
	struct hub_headers h = hdr("n1", "alert", "1");
	h.cluster = "dev";
	assert_int_equal(parse("vigil.prod.n1.alert", h, alert_json), HUB_REJ_HEADERS);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", NULL), alert_json), HUB_REJ_SEQ);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "0"), alert_json), HUB_REJ_SEQ);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "12x"), alert_json), HUB_REJ_SEQ);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "-3"), alert_json), HUB_REJ_SEQ);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "1"), "{bad"), HUB_REJ_JSON);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "1"), "[1]"), HUB_REJ_JSON);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "1"), "{\"a\":1,\"a\":2}"), HUB_REJ_JSON);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "1"), "{\"uuid\":\"a b c d e f\"}"), HUB_REJ_UUID);
	h = hdr("n1", "alert", "1");
	h.msg_id = NULL;
	assert_int_equal(parse("vigil.prod.n1.alert", h, "{\"rule\":\"r\"}"), HUB_REJ_UUID);
	assert_int_equal(parse("vigil.prod.n1.alert", hdr("n1", "alert", "1"), "{\"rule\":\"r\",\"priority\":\"loud\"}"),
			 HUB_REJ_FIELDS);
	assert_int_equal(parse("vigil.prod.n1.action", hdr("n1", "action", "1"), "{\"action\":\"kill\"}"), HUB_REJ_FIELDS);
	struct hub_msg m;
	char err[256];
	h = hdr("n1", "alert", "1");
	assert_int_equal(hub_msg_parse("vigil.prod.n1.alert", &h, alert_json, strlen(alert_json), 100, &m, err, sizeof(err)),
			 HUB_REJ_SIZE);
	const char nul[] = "{\"a\":1}\0{}";
	assert_int_equal(hub_msg_parse("vigil.prod.n1.alert", &h, nul, sizeof(nul) - 1, 4096, &m, err, sizeof(err)),
			 HUB_REJ_JSON);
}

/* A batch: Vigil-Count records a line, sequences from Vigil-Seq; a bad record alone is refused. */
static void test_batch(void **state)
{
	(void)state;
	struct hub_headers h = hdr("n1", "alert", "41");
	struct hub_batch b;
	struct hub_msg m;
	char err[256], body[4096];
	const char *other = "{\"uuid\":\"fedcba9876543210fedcba9876543210\",\"time\":\"2026-11-28T15:06:03Z\","
			    "\"rule\":\"Write below etc\",\"priority\":\"Warning\"}";
	int n = snprintf(body, sizeof(body), "%s\n{\"time\":1}\n%s", alert_json, other);
	h.count = "3";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 4096, &b, err, sizeof(err)), HUB_OK);
	assert_int_equal(b.count, 3);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_OK);
	assert_int_equal(m.seq, 41);
	assert_string_equal(m.uuid, "0123456789abcdef0123456789abcdef");
	assert_int_equal(m.raw_len, strlen(alert_json));
	hub_msg_free(&m);
	/* the second has no uuid: the batch's Nats-Msg-Id is not taken for it */
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_REJ_UUID);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_OK);
	assert_int_equal(m.seq, 43);
	assert_string_equal(m.rule, "Write below etc");
	assert_memory_equal(m.raw, other, strlen(other));
	assert_int_equal(m.raw_len, strlen(other));
	hub_msg_free(&m);
	assert_int_equal(b.next, 3);

	/* the whole refused: count not a number, not the lines, too big, bad headers, a heartbeat batch */
	const char *bad_counts[] = { "", "x", "0", "-1", "2", "4", "65537", "3 " };
	for (size_t i = 0; i < sizeof(bad_counts) / sizeof(*bad_counts); i++) {
		h.count = bad_counts[i];
		assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 4096, &b, err, sizeof(err)),
				 HUB_REJ_COUNT);
	}
	h.count = "3";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 100, &b, err, sizeof(err)),
			 HUB_REJ_SIZE);
	h.node = "n2";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 4096, &b, err, sizeof(err)),
			 HUB_REJ_HEADERS);
	h.node = "n1";
	h.seq = "0";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 4096, &b, err, sizeof(err)),
			 HUB_REJ_SEQ);
	struct hub_headers hb = hdr("n1", "heartbeat", "5");
	hb.count = "2";
	assert_int_equal(hub_batch_open("vigil.prod.n1.heartbeat", &hb, "{}\n{}", 5, 4096, &b, err, sizeof(err)),
			 HUB_REJ_COUNT);
	/* compressed (Vigil-Encoding: zlib): the same records; corrupt or unknown encodings refused */
	unsigned char z[4096];
	uLongf zlen = sizeof(z);
	assert_int_equal(compress2(z, &zlen, (const Bytef *)body, (uLong)n, 1), Z_OK);
	h.count = "3";
	h.seq = "41";
	h.encoding = "zlib";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, (const char *)z, zlen, 4096, &b, err, sizeof(err)),
			 HUB_OK);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_OK);
	assert_int_equal(m.seq, 41);
	hub_msg_free(&m);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_REJ_UUID);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.alert", 4096, &m, err, sizeof(err)), HUB_OK);
	assert_string_equal(m.rule, "Write below etc");
	hub_msg_free(&m);
	hub_batch_close(&b);
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, (const char *)z, zlen - 3, 4096, &b, err, sizeof(err)),
			 HUB_REJ_ENCODING);
	hub_batch_close(&b);
	z[zlen / 2] ^= 0x55;
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, (const char *)z, zlen, 4096, &b, err, sizeof(err)),
			 HUB_REJ_ENCODING);
	hub_batch_close(&b);
	h.encoding = "gzip";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, body, (size_t)n, 4096, &b, err, sizeof(err)),
			 HUB_REJ_ENCODING);
	hub_batch_close(&b);
	/* a bomb: 9 MiB of zeros in a few KiB is refused, not inflated whole */
	size_t big = 9u << 20;
	unsigned char *zeros = calloc(1, big), *bomb = malloc(compressBound(big));
	uLongf blen = compressBound(big);
	assert_int_equal(compress2(bomb, &blen, zeros, big, 9), Z_OK);
	h.encoding = "zlib";
	assert_int_equal(hub_batch_open("vigil.prod.n1.alert", &h, (const char *)bomb, blen, 1 << 20, &b, err, sizeof(err)),
			 HUB_REJ_ENCODING);
	hub_batch_close(&b);
	free(zeros);
	free(bomb);
	h.encoding = NULL;

	/* no Vigil-Count: one record, as before, Nats-Msg-Id its uuid when the body has none */
	struct hub_headers one = hdr("n1", "loss", "9");
	assert_int_equal(hub_batch_open("vigil.prod.n1.loss", &one, "{}", 2, 4096, &b, err, sizeof(err)), HUB_OK);
	assert_int_equal(b.count, 1);
	assert_int_equal(hub_batch_next(&b, "vigil.prod.n1.loss", 4096, &m, err, sizeof(err)), HUB_OK);
	assert_string_equal(m.uuid, "0123456789abcdef0123456789abcdef");
	assert_int_equal(m.seq, 9);
	hub_msg_free(&m);
}

static void test_time(void **state)
{
	(void)state;
	assert_true(hub_parse_time("1970-01-01T00:00:01Z") == 1000000000LL);
	assert_true(hub_parse_time("1970-01-01T00:00:01.5Z") == 1500000000LL);
	assert_true(hub_parse_time("1970-01-01T00:00:01.0000000019Z") == 1000000001LL);
	assert_true(hub_parse_time("1970-01-01T00:00:01") == -1);
	assert_true(hub_parse_time("1970-01-01T00:00:01.Z") == -1);
	assert_true(hub_parse_time("yesterday") == -1);
}

static void test_tokens(void **state)
{
	(void)state;
	char err[256];
	const char *text = "# tokens\n0123456789abcdef viewer alice\n\nfedcba9876543210fedc responder bob # ops\n";
	struct hub_tokens *t = hub_tokens_parse(text, strlen(text), "tokens", err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(hub_tokens_count(t), 2);
	const char *name = NULL;
	assert_int_equal(hub_tokens_check(t, "0123456789abcdef", &name), HUB_ROLE_VIEWER);
	assert_string_equal(name, "alice");
	assert_int_equal(hub_tokens_check(t, "fedcba9876543210fedc", &name), HUB_ROLE_RESPONDER);
	assert_string_equal(name, "bob");
	assert_int_equal(hub_tokens_check(t, "0123456789abcde", NULL), HUB_ROLE_NONE);
	assert_int_equal(hub_tokens_check(t, "0123456789abcdef0", NULL), HUB_ROLE_NONE);
	assert_int_equal(hub_tokens_check(t, "", NULL), HUB_ROLE_NONE);
	assert_int_equal(hub_tokens_check(t, NULL, NULL), HUB_ROLE_NONE);
	hub_tokens_free(t);
	static const char *const bad[] = { "short viewer\n", "0123456789abcdef admin\n", "0123456789abcdef\n",
					   "0123456789abcdef viewer a b\n", "# nothing\n", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		assert_null(hub_tokens_parse(bad[i], strlen(bad[i]), "tokens", err, sizeof(err)));
		assert_true(!strncmp(err, "tokens", 6));
	}
	assert_null(hub_tokens_parse("0123456789abcdef admin\n", 23, "t", err, sizeof(err)));
	assert_string_equal(err, "t:1: role 'admin' is not viewer or responder");
}

static int q_parse(enum hub_table t, const char *k1, const char *v1, const char *k2, const char *v2, struct hub_query *q)
{
	const char *keys[2] = { k1, k2 }, *vals[2] = { v1, v2 };
	char err[256];
	return hub_api_parse_query(t, keys, vals, k2 ? 2 : k1 ? 1 : 0, q, err, sizeof(err));
}

static void test_query_params(void **state)
{
	(void)state;
	struct hub_query q;
	assert_int_equal(q_parse(HUB_T_ALERTS, NULL, NULL, NULL, NULL, &q), 0);
	assert_int_equal(q.limit, HUB_LIMIT_DEFAULT);
	assert_int_equal(q.prio_most, -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "priority", "warning", "priority_at_most", "notice", &q), 0);
	assert_int_equal(q.prio_most, 4);
	assert_int_equal(q.prio_least, 5);
	assert_int_equal(q_parse(HUB_T_ALERTS, "limit", "1000", "cursor", "42", &q), 0);
	assert_int_equal(q.limit, 1000);
	assert_true(q.after_id == 42);
	assert_int_equal(q_parse(HUB_T_ALERTS, "since", "2026-01-01T00:00:00Z", "until", "1767225600000000001", &q), 0);
	assert_true(q.since_ns == 1767225600000000000LL);
	assert_int_equal(q_parse(HUB_T_ALERTS, "node", "n-1", "namespace", "shop", &q), 0);
	assert_string_equal(q.node, "n-1");
	assert_int_equal(q_parse(HUB_T_ACTIONS, "action", "kill", "container", "web", &q), 0);
	assert_int_equal(q_parse(HUB_T_LOSSES, "node", "n1", NULL, NULL, &q), 0);
	/* refused */
	assert_int_equal(q_parse(HUB_T_ALERTS, "limit", "0", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "limit", "1001", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "limit", "5x", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "limit", NULL, NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "cursor", "-1", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "cursor", "+1", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "node", "a.b", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "node", "a", "node", "b", &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "priority", "loud", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "priority", "debug", "priority_at_most", "critical", &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "since", "2026-01-02T00:00:00Z", "until", "2026-01-01T00:00:00Z", &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "wat", "1", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ALERTS, "action", "kill", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_LOSSES, "rule", "x", NULL, NULL, &q), -1);
	assert_int_equal(q_parse(HUB_T_ACTIONS, "priority", "warning", NULL, NULL, &q), -1);
}

static char dir[64];
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-test-hub.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}
static int teardown(void **state)
{
	(void)state;
	return tmp_remove_tree(dir);
}

static int add(struct hub_store *s, const char *node, const char *kind, long seq, const char *uuid)
{
	char subject[128], seqs[24], body[1024];
	snprintf(subject, sizeof(subject), "vigil.prod.%s.%s", node, kind);
	snprintf(seqs, sizeof(seqs), "%ld", seq);
	struct hub_headers h = hdr(node, kind, seqs);
	h.msg_id = uuid;
	if (!strcmp(kind, "alert"))
		snprintf(body, sizeof(body), "{\"time\":\"2026-11-28T15:06:%02ldZ\",\"rule\":\"%s\",\"priority\":\"%s\","
					     "\"vigil\":{\"event\":{\"container\":{\"id\":\"abc%ld\",\"name\":\"c%ld\"}}}}",
			 seq % 60, seq % 2 ? "odd" : "even", seq % 2 ? "Critical" : "Notice", seq % 3, seq % 3);
	else if (!strcmp(kind, "heartbeat") && !strcmp(node, "n3"))
		snprintf(body, sizeof(body), "{\"version\":\"9.9\",\"outbox\":{\"depth\":7},\"policy\":{\"rules\":"
					     "{\"digest\":\"sha256:a\"},\"files\":{\"refused\":\"sha256:b\","
					     "\"error\":\"files.yaml:3:5: bad\"}}}");
	else if (!strcmp(kind, "heartbeat"))
		snprintf(body, sizeof(body), "{\"uptime_s\":%ld,\"rules_digest\":\"sha256:1\",\"outbox_depth\":3}", seq);
	else
		snprintf(body, sizeof(body), "{\"dropped\":5}");
	struct hub_msg m;
	char err[256];
	assert_int_equal(hub_msg_parse(subject, &h, body, strlen(body), 4096, &m, err, sizeof(err)), HUB_OK);
	int r = hub_store_add(s, &m, 1795878400000000000LL);
	hub_msg_free(&m);
	return r;
}

static void test_store(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/sub/hub.db", dir);
	struct hub_store *s = hub_store_open(path, false, false, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(add(s, "n1", "alert", 1, "uuid-0000000001"), 1);
	assert_int_equal(add(s, "n1", "alert", 2, "uuid-0000000002"), 1);
	assert_int_equal(add(s, "n1", "alert", 2, "uuid-0000000002"), 0); /* redelivery */
	assert_int_equal(add(s, "n1", "alert", 5, "uuid-0000000005"), 1); /* gap of 2 */
	assert_int_equal(add(s, "n1", "alert", 4, "uuid-0000000004"), 1); /* out of order */
	assert_int_equal(add(s, "n2", "alert", 1, "uuid-0000000201"), 1);
	assert_int_equal(add(s, "n1", "loss", 1, "loss-0000000001"), 1);
	assert_int_equal(add(s, "n1", "heartbeat", 3, NULL), 1);
	assert_int_equal(add(s, "n1", "heartbeat", 2, NULL), 0); /* older than the one kept */
	assert_int_equal(add(s, "n3", "heartbeat", 1, NULL), 1); /* refused a policy set */
	assert_int_equal(hub_store_commit(s), 0);
	hub_store_close(s);
	/* reopened: the counters were kept; a redelivery after a restart is still a no-op */
	s = hub_store_open(path, false, false, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(add(s, "n1", "alert", 5, "uuid-0000000005"), 0);
	assert_int_equal(add(s, "n1", "alert", 6, "uuid-0000000006"), 1);
	assert_int_equal(hub_store_commit(s), 0);
	struct hub_store_counts c;
	assert_int_equal(hub_store_counts(s, &c), 0);
	assert_true(c.alerts == 6 && c.losses == 1 && c.nodes == 3 && c.actions == 0);
	hub_store_close(s);

	struct hub_store *r = hub_store_open(path, true, false, err, sizeof(err));
	assert_non_null(r);
	struct vg_buf b = { 0 };
	assert_int_equal(hub_store_nodes(r, 1795878401000000000LL, 30000000000LL, &b), 0);
	json_t *o = json_loads(b.data, 0, NULL);
	json_t *n1 = json_array_get(json_object_get(o, "nodes"), 0);
	assert_string_equal(json_string_value(json_object_get(n1, "node")), "n1");
	assert_string_equal(json_string_value(json_object_get(n1, "health")), "ok");
	assert_int_equal(json_integer_value(json_object_get(n1, "alerts")), 5);
	assert_int_equal(json_integer_value(json_object_get(n1, "seq_gaps")), 2);
	assert_int_equal(json_integer_value(json_object_get(n1, "seq_out_of_order")), 1);
	assert_int_equal(json_integer_value(json_object_get(n1, "uptime_s")), 3);
	assert_int_equal(json_integer_value(json_object_get(n1, "loss_records")), 1);
	json_t *n2 = json_array_get(json_object_get(o, "nodes"), 1);
	assert_string_equal(json_string_value(json_object_get(n2, "health")), "unknown");
	json_t *n3 = json_array_get(json_object_get(o, "nodes"), 2);
	assert_string_equal(json_string_value(json_object_get(n3, "health")), "degraded");
	assert_string_equal(json_string_value(json_object_get(n3, "version")), "9.9");
	assert_int_equal(json_integer_value(json_object_get(n3, "outbox_depth")), 7);
	assert_non_null(json_object_get(json_object_get(n3, "policy"), "files"));
	json_decref(o);
	buf_reset(&b);
	assert_int_equal(hub_store_nodes(r, 1795878500000000000LL, 30000000000LL, &b), 0);
	assert_non_null(strstr(b.data, "\"health\":\"silent\""));

	/* queries: filters, paging by cursor */
	struct hub_query q = { .table = HUB_T_ALERTS, .prio_most = -1, .prio_least = -1, .limit = 2 };
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 2);
	o = json_loads(b.data, 0, NULL);
	const char *cur = json_string_value(json_object_get(o, "next_cursor"));
	assert_non_null(cur);
	q.after_id = atoll(cur);
	json_decref(o);
	q.limit = 10;
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 4);
	assert_non_null(strstr(b.data, "\"next_cursor\":null"));
	q.after_id = 0;
	q.node = "n1";
	q.prio_most = 2;
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 2); /* seq 1 and 5 are odd: Critical */
	q.prio_most = -1;
	q.prio_least = 5;
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 3);
	q.prio_least = -1;
	q.container = "abc2";
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 2); /* seq 2 and 5 */
	q.container = "c1";
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 2); /* seq 1 and 4, by name */
	q.container = NULL;
	q.since_ns = 1795878365000000000LL; /* 15:06:05 */
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 2);
	q.since_ns = 0;
	q.uuid = "uuid-0000000004";
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 1);
	o = json_loads(b.data, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 4);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "alert"), "rule")), "even");
	json_decref(o);
	q.uuid = "uuid-nope-nope";
	buf_reset(&b);
	assert_int_equal(hub_store_query(r, &q, &b), 0);
	buf_free(&b);
	hub_store_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_valid),
		cmocka_unit_test(test_msg_rejects),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_query_params),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
