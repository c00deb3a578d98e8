/* SPDX-License-Identifier: Apache-2.0 */
/* The forwarders' shared spec syntax (output/forwarder.c) and the syslog message (forward_syslog.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/buf.h"
#include "output/forwarders.h"

static void test_spec(void **state)
{
	(void)state;
	struct fwd_spec s;
	char err[256];

	assert_int_equal(fwd_spec_parse("udp://h:514;facility=auth;bare;kinds=alert,loss", &s, err, sizeof(err)), 0);
	assert_string_equal(s.target, "udp://h:514");
	assert_int_equal(s.n, 3);
	assert_string_equal(fwd_spec_get(&s, "facility"), "auth");
	assert_string_equal(fwd_spec_get(&s, "bare"), "");
	assert_null(fwd_spec_get(&s, "nope"));
	assert_int_equal(fwd_spec_check_used(&s, "syslog", "facility, bare", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option 'kinds' for output syslog (known: facility, bare)");
	fwd_spec_get(&s, "kinds");
	assert_int_equal(fwd_spec_check_used(&s, "syslog", "x", err, sizeof(err)), 0);
	fwd_spec_free(&s);

	assert_int_equal(fwd_spec_parse("", &s, err, sizeof(err)), -1);
	assert_int_equal(fwd_spec_parse(";a=b", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "output spec ';a=b' has no target");
	assert_int_equal(fwd_spec_parse("x;Bad=1", &s, err, sizeof(err)), -1);
	assert_int_equal(fwd_spec_parse("x;=1", &s, err, sizeof(err)), -1);
	char many[256] = "x";
	for (int i = 0; i < FWD_SPEC_MAX_OPTS + 1; i++)
		strcat(many, ";k=v");
	assert_int_equal(fwd_spec_parse(many, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "too many options in output spec (at most 16)");
}

static void test_values(void **state)
{
	(void)state;
	unsigned m;
	uint64_t sz;
	double secs;

	assert_int_equal(fwd_parse_kinds("alert,loss", &m), 0);
	assert_int_equal(m, 1u << OUTBOX_ALERT | 1u << OUTBOX_LOSS);
	assert_int_equal(fwd_parse_kinds("alert,", &m), -1);
	assert_int_equal(fwd_parse_kinds("alerts", &m), -1);
	assert_int_equal(fwd_parse_kinds("", &m), -1);
	assert_int_equal(fwd_parse_size("10M", &sz), 0);
	assert_int_equal(sz, 10u << 20);
	assert_int_equal(fwd_parse_size("0", &sz), -1);
	assert_int_equal(fwd_parse_size("-1", &sz), -1);
	assert_int_equal(fwd_parse_size("5T", &sz), -1);
	assert_int_equal(fwd_parse_seconds("0.5", &secs), 0);
	assert_true(secs == 0.5);
	assert_int_equal(fwd_parse_seconds("nan", &secs), -1);
	assert_int_equal(fwd_parse_seconds("0", &secs), -1);
}

static void test_find(void **state)
{
	(void)state;
	const struct vg_forwarder_ops *ops;
	const char *spec;
	char err[256];

	assert_ptr_equal(forwarder_find("syslog"), &forward_syslog_ops);
	assert_ptr_equal(forwarder_find("webhook"), &forward_webhook_ops);
	assert_ptr_equal(forwarder_find("file"), &forward_file_ops);
	assert_null(forwarder_find("nats"));
	assert_int_equal(forwarder_parse_arg("file:/tmp/x;keep=2", &ops, &spec, err, sizeof(err)), 0);
	assert_ptr_equal(ops, &forward_file_ops);
	assert_string_equal(spec, "/tmp/x;keep=2");
	assert_int_equal(forwarder_parse_arg("kafka:x", &ops, &spec, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown output 'kafka' in --output (known: syslog, webhook, file)");
	assert_int_equal(forwarder_parse_arg("/tmp/x", &ops, &spec, err, sizeof(err)), -1);

	/* a module above output adds its own */
	static const struct vg_forwarder_ops nats = { .name = "nats" };
	assert_int_equal(forwarder_register(&nats), 0);
	assert_int_equal(forwarder_register(&nats), -1);
	assert_ptr_equal(forwarder_find("nats"), &nats);
	assert_string_equal(forwarder_names(), "syslog, webhook, file, nats");

	/* name=: the output's own name (its cursor), taken out of the spec */
	char name[32], *rest = NULL;
	assert_int_equal(forwarder_split_name("http://h/x;name=hook-2;timeout=3", name, sizeof(name), &rest, err,
					      sizeof(err)), 0);
	assert_string_equal(name, "hook-2");
	assert_string_equal(rest, "http://h/x;timeout=3");
	free(rest);
	assert_int_equal(forwarder_split_name("/tmp/x", name, sizeof(name), &rest, err, sizeof(err)), 0);
	assert_string_equal(name, "");
	assert_string_equal(rest, "/tmp/x");
	free(rest);
	assert_int_equal(forwarder_split_name("/tmp/x;name=a;name=b", name, sizeof(name), &rest, err, sizeof(err)), -1);
	assert_int_equal(forwarder_split_name("/tmp/x;name=", name, sizeof(name), &rest, err, sizeof(err)), -1);
	assert_int_equal(forwarder_split_name("/tmp/x;name=a b", name, sizeof(name), &rest, err, sizeof(err)), -1);
	assert_int_equal(forwarder_split_name("/tmp/x;name=0123456789012345678901234567890123", name, sizeof(name), &rest,
					      err, sizeof(err)), -1);
}

/* The whole message, byte for byte: header, escaped structured data, the JSON as MSG. */
static void test_syslog_format(void **state)
{
	(void)state;
	const char *json = "{\"rule\":\"Shell \\\"in\\\" ]box\",\"priority\":\"Critical\",\"hostname\":\"n1\","
			   "\"output_fields\":{\"container.id\":\"abc\",\"k8s.ns.name\":\"shop\"}}";
	struct outbox_record r = { .kind = OUTBOX_ALERT, .seq = 42, .uuid = "0123456789abcdef0123456789abcdef",
				   .time_ns = 1796515200123456789LL, .priority = 2, .json = json,
				   .json_len = strlen(json) };
	struct vg_buf out = { 0 };
	char want[1024];

	forward_syslog_format(&out, &r, 16, NULL, "vigil");
	buf_addc(&out, 0);
	snprintf(want, sizeof(want),
		 "<130>1 2026-12-06T00:00:00.123456Z n1 vigil %d alert [vigil@32473 kind=\"alert\" seq=\"42\" "
		 "uuid=\"0123456789abcdef0123456789abcdef\" rule=\"Shell \\\"in\\\" \\]box\" priority=\"Critical\" "
		 "container_id=\"abc\" k8s_ns=\"shop\"] %s",
		 (int)getpid(), json);
	assert_string_equal(out.data, want);

	/* not JSON: no parameters from it, the bytes still the MSG; host and app tokens sanitised
	 * (without a hostname anywhere, this machine's would be used) */
	buf_reset(&out);
	r.json = "not json";
	r.json_len = 8;
	r.kind = OUTBOX_LOSS;
	r.priority = 99;
	r.time_ns = 0;
	forward_syslog_format(&out, &r, 4, "bad host", "");
	buf_addc(&out, 0);
	snprintf(want, sizeof(want),
		 "<38>1 - badhost - %d loss [vigil@32473 kind=\"loss\" seq=\"42\" "
		 "uuid=\"0123456789abcdef0123456789abcdef\"] not json", (int)getpid());
	assert_string_equal(out.data, want);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_syslog_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
