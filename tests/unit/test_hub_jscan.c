/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's light scanner (hub_jscan.h): what it reads, where it leaves the decision to
 * jansson, and hub_msg_parse giving the same fields and refusals either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "hub/hub_jscan.h"
#include "hub/hub_msg.h"

static const char alert[] =
	"{\"uuid\":\"0123456789abcdef0123456789abcdef\",\"time\":\"2026-11-28T15:06:02.700929619Z\","
	"\"rule\":\"Read \\\"shadow\\\"\\tnow\",\"priority\":\"Critical\",\"output\":\"x \xc3\xa9\",\"output_fields\":"
	"{\"n\":-12,\"r\":1.25,\"b\":true,\"z\":null,\"l\":[1,[2,{}],\"s\"]},"
	"\"vigil\":{\"event\":{\"container\":{\"id\":\"4f2a9c000001\",\"name\":\"web\",\"image\":\"nginx:1\"},"
	"\"k8s\":{\"pod\":\"web-0\",\"namespace\":\"shop\"}}}, \"time_ns\": 42 }\n";

static enum hub_jscan_result scan(const char *body, struct hub_jscan_field *f, int nf, char *buf, size_t buflen)
{
	return hub_jscan(body, strlen(body), f, nf, buf, buflen);
}

static void test_fields(void **state)
{
	(void)state;
	struct hub_jscan_field f[] = {
		{ { "rule" } }, { { "vigil", "event", "container", "image" } }, { { "time_ns" } },
		{ { "output_fields" } }, { { "output_fields", "r" } }, { { "missing" } },
		{ { "vigil", "event", "k8s", "pod" } }, { { "output_fields", "n" } },
	};
	char buf[sizeof(alert) + 8];
	assert_int_equal(scan(alert, f, 8, buf, sizeof(buf)), HUB_JSCAN_OK);
	assert_int_equal(f[0].type, HUB_JT_STRING);
	assert_string_equal(f[0].str, "Read \"shadow\"\tnow");
	assert_int_equal(f[0].len, strlen("Read \"shadow\"\tnow"));
	assert_string_equal(f[1].str, "nginx:1");
	assert_int_equal(f[2].type, HUB_JT_INTEGER);
	assert_int_equal(f[2].integer, 42);
	assert_int_equal(f[3].type, HUB_JT_OTHER);
	assert_int_equal(f[4].type, HUB_JT_OTHER); /* a real */
	assert_int_equal(f[5].type, HUB_JT_ABSENT);
	assert_string_equal(f[6].str, "web-0");
	assert_int_equal(f[7].integer, -12);
	/* a buffer too small for the strings: left to jansson, never overrun */
	char small[4];
	assert_int_equal(scan(alert, f, 8, small, sizeof(small)), HUB_JSCAN_FALLBACK);
}

static void test_fallbacks(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "   ", "[]", "\"s\"", "{", "{}x", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
		"{\"a\":tru}", "{\"a\":nul}", "{\"a\":\"x}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
		"{\"a\":1,\"a\":2}",                       /* a duplicate key */
		"{\"o\":{\"k\":1,\"k\":{}}}",              /* a nested duplicate */
		"{\"a\":\"\\u0041\"}",                     /* \u escapes: jansson decides */
		"{\"a\\n\":1}",                            /* an escape in a key */
		"{\"a\":1e5}", "{\"a\":1234567890123456}", /* exponents, long numbers */
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xc3\"}",
		"{\"a\":\xc3\xa9}",                        /* UTF-8 outside a string */
	};
	char buf[256];
	struct hub_jscan_field f[] = { { { "a" } } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (scan(bad[i], f, 1, buf, sizeof(buf)) != HUB_JSCAN_FALLBACK)
			fail_msg("accepted: %s", bad[i]);
	}
	/* more keys in an object than it compares pairwise */
	char many[1024] = "{";
	for (int i = 0; i <= HUB_JSCAN_MAX_KEYS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
	strcat(many, "}");
	assert_int_equal(scan(many, f, 1, buf, sizeof(buf)), HUB_JSCAN_FALLBACK);
	/* nesting deeper than it follows */
	char deep[2 * HUB_JSCAN_MAX_DEPTH + 16] = "{\"a\":";
	for (int i = 0; i < HUB_JSCAN_MAX_DEPTH; i++)
		strcat(deep, "[");
	for (int i = 0; i < HUB_JSCAN_MAX_DEPTH; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_int_equal(scan(deep, f, 1, buf, sizeof(buf)), HUB_JSCAN_FALLBACK);
	/* and what it takes */
	assert_int_equal(scan(" {\"a\" : [ ] , \"b\":{} }\r\n", f, 1, buf, sizeof(buf)), HUB_JSCAN_OK);
	assert_int_equal(f[0].type, HUB_JT_OTHER);
}

static enum hub_reject parse(const char *body, struct hub_msg *m, char *err)
{
	struct hub_headers h = { .msg_id = "0123456789abcdef0123456789abcdef", .node = "n1", .cluster = "prod",
				 .kind = "alert", .seq = "7", .version = "0.1.0" };
	return hub_msg_parse("vigil.prod.n1.alert", &h, body, strlen(body), 1 << 16, m, err, 256);
}

/* The same alert read by the scanner and (with a \u escape in a field the hub does not
 * index, so the scanner leaves it) by jansson: the same fields. */
static void test_msg_same_either_way(void **state)
{
	(void)state;
	char other[sizeof(alert) + 16];
	snprintf(other, sizeof(other), "%s", alert);
	char *x = strstr(other, "\"output\":\"x ");
	assert_non_null(x);
	memmove(x + 16, x + 11, strlen(x + 11) + 1); /* the 'x' at x + 10 becomes "\u0078" */
	memcpy(x + 10, "\\u0078", 6);
	struct hub_msg a, b;
	char err[256];
	assert_int_equal(parse(alert, &a, err), HUB_OK);
	assert_null(a.body); /* the scanner's */
	assert_non_null(a.scratch);
	assert_int_equal(parse(other, &b, err), HUB_OK);
	assert_non_null(b.body); /* jansson's */
	assert_string_equal(a.uuid, b.uuid);
	assert_int_equal(a.time_ns, b.time_ns);
	assert_string_equal(a.rule, b.rule);
	assert_int_equal(a.priority, b.priority);
	assert_string_equal(a.container_id, b.container_id);
	assert_string_equal(a.container_name, b.container_name);
	assert_string_equal(a.image, b.image);
	assert_string_equal(a.ns, b.ns);
	assert_string_equal(a.pod, b.pod);
	assert_ptr_equal(a.raw, alert);
	hub_msg_free(&a);
	hub_msg_free(&b);
}

/* Malformed records are still refused, with jansson's reason or the field check's. */
static void test_msg_refusals(void **state)
{
	(void)state;
	struct hub_msg m;
	char err[256];
	assert_int_equal(parse("{\"uuid\":\"0123456789abcdef\",\"rule\":\"a\",\"rule\":\"b\"}", &m, err), HUB_REJ_JSON);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(parse("{\"rule\":\"a\",", &m, err), HUB_REJ_JSON);
	assert_int_equal(parse("{\"uuid\":7}", &m, err), HUB_REJ_UUID);
	assert_int_equal(parse("{\"uuid\":\"0123456789abcdef\",\"rule\":\"a\",\"priority\":\"Critical\"}", &m, err),
			 HUB_REJ_FIELDS);
	assert_non_null(strstr(err, "time, rule and priority"));
	assert_int_equal(parse("{\"time\":\"2026-11-28T15:06:02Z\",\"rule\":\"a\",\"priority\":\"Nope\"}", &m, err),
			 HUB_REJ_FIELDS);
	assert_int_equal(parse("{\"time\":\"2026-11-28T15:06:02Z\",\"rule\":1,\"priority\":\"Critical\"}", &m, err),
			 HUB_REJ_FIELDS);
	/* the same record well formed is taken, its uuid from Nats-Msg-Id */
	assert_int_equal(parse("{\"time\":\"2026-11-28T15:06:02Z\",\"rule\":\"a\",\"priority\":\"Critical\"}", &m, err),
			 HUB_OK);
	assert_string_equal(m.uuid, "0123456789abcdef0123456789abcdef");
	hub_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_msg_same_either_way),
		cmocka_unit_test(test_msg_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
