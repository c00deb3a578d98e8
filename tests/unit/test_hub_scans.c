/* SPDX-License-Identifier: Apache-2.0 */
/* The hub's scan results and admission decisions (hub_scans.c): the messages' checks, storing them
 * once through the hub's store, the latest scan per image, the SBOM as sent, the lists' filters and
 * paging, and the routes' parameters (hub_api_scans.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "hub/hub_api_int.h"
#include "hub/hub_msg.h"
#include "hub/hub_scans.h"
#include "hub/hub_store.h"
#include "test_tmp.h"

static char dir[64];
static const char D1[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char D2[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_hub_scans.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmp_remove_tree(dir);
	return 0;
}

static void scan_body(char *out, size_t len, const char *uuid, const char *digest, const char *sev, const char *sbom)
{
	snprintf(out, len,
		 "{\"uuid\":\"%s\",\"time\":\"2026-12-06T10:00:00Z\",\"reference\":\"registry.local/<b>app</b>:1\","
		 "\"digest\":\"%s\",\"report\":{\"os\":{\"id\":\"alpine\",\"version\":\"3.10.4\"},"
		 "\"packages\":[{\"name\":\"musl\",\"version\":\"1.1\"},{\"name\":\"zlib\",\"version\":\"1.2\"}],"
		 "\"vulnerabilities\":[{\"id\":\"CVE-1\",\"package\":\"musl\",\"severity\":\"%s\",\"fixed\":\"1.2\"},"
		 "{\"id\":\"CVE-2\",\"package\":\"zlib\",\"severity\":\"LOW\",\"fixed\":\"\"}],"
		 "\"secrets\":[{\"rule\":\"r\"}],\"config\":[]},\"sbom_format\":\"cyclonedx\",\"sbom\":\"%s\"}",
		 uuid, digest, sev, sbom);
}

static enum hub_reject parse(const char *kind, const char *body, struct hub_msg *m, char *err)
{
	char subject[64];
	snprintf(subject, sizeof(subject), "vigil.prod.node-a.%s", kind);
	struct hub_headers h = { "fallback-msg-id", "node-a", "prod", kind, "5", "0.1.0" };
	return hub_msg_parse(subject, &h, body, strlen(body), 1 << 20, m, err, 256);
}

static void test_checks(void **state)
{
	(void)state;
	char body[2048], err[256];
	struct hub_msg m;
	scan_body(body, sizeof(body), "scan-0001-aaaa", D1, "CRITICAL", "{\\\"bomFormat\\\":\\\"CycloneDX\\\"}");
	assert_int_equal(parse("scan", body, &m, err), HUB_OK);
	assert_int_equal(m.kind, HUB_SCAN);
	assert_string_equal(m.scan->digest, D1);
	assert_int_equal(m.scan->sev[HUB_SEV_CRITICAL], 1);
	assert_int_equal(m.scan->sev[HUB_SEV_LOW], 1);
	assert_int_equal(m.scan->packages, 2);
	assert_int_equal(m.scan->secrets, 1);
	assert_int_equal(m.scan->misconfigs, 0);
	assert_string_equal(m.scan->os, "alpine 3.10.4");
	assert_string_equal(m.scan->sbom, "{\"bomFormat\":\"CycloneDX\"}");
	hub_msg_free(&m);
	assert_null(m.scan);
	/* refused: a bad severity, a digest that is not sha256 hex, an SBOM that is not JSON */
	scan_body(body, sizeof(body), "scan-0002-aaaa", D1, "EVIL", "{}");
	assert_int_equal(parse("scan", body, &m, err), HUB_REJ_FIELDS);
	assert_non_null(strstr(err, "severity"));
	scan_body(body, sizeof(body), "scan-0003-aaaa", "sha256:ABC", "LOW", "{}");
	assert_int_equal(parse("scan", body, &m, err), HUB_REJ_FIELDS);
	scan_body(body, sizeof(body), "scan-0004-aaaa", D1, "LOW", "[1,2]");
	assert_int_equal(parse("scan", body, &m, err), HUB_REJ_FIELDS);
	assert_non_null(strstr(err, "SBOM"));
	assert_int_equal(parse("scan", "{\"uuid\":\"scan-0005-aaaa\",\"time\":\"2026-12-06T10:00:00Z\"}", &m, err),
			 HUB_REJ_FIELDS);
	/* a control character in the reference */
	scan_body(body, sizeof(body), "scan-0006-aaaa", D1, "LOW", "{}");
	char *r = strstr(body, "<b>");
	memcpy(r, "\\u001b", 6);
	assert_int_equal(parse("scan", body, &m, err), HUB_REJ_FIELDS);
	/* admissions */
	const char *adm = "{\"uuid\":\"adm-0001-aaaa\",\"time\":\"2026-12-06T10:00:01Z\",\"uid\":\"u1\",\"operation\":\"CREATE\","
			  "\"kind\":\"Pod\",\"namespace\":\"shop\",\"name\":\"web\",\"user\":\"alice\",\"allowed\":false,"
			  "\"reason\":\"pss\",\"message\":\"baseline: privileged\\nline 2\",\"policy_version\":\"builtin\"}";
	assert_int_equal(parse("admission", adm, &m, err), HUB_OK);
	assert_false(m.scan->allowed);
	assert_string_equal(m.scan->message, "baseline: privileged\nline 2");
	hub_msg_free(&m);
	assert_int_equal(parse("admission", "{\"uuid\":\"adm-0002-aaaa\",\"time\":\"2026-12-06T10:00:01Z\",\"allowed\":\"no\"}",
			       &m, err),
			 HUB_REJ_FIELDS);
	/* the kind header must agree with the subject, as for every kind */
	struct hub_headers h = { "x-0000000001", "node-a", "prod", "alert", "5", NULL };
	assert_int_equal(hub_msg_parse("vigil.prod.node-a.admission", &h, adm, strlen(adm), 1 << 20, &m, err, sizeof(err)),
			 HUB_REJ_KIND);
}

static void add(struct hub_store *s, const char *kind, const char *body)
{
	struct hub_msg m;
	char err[256];
	assert_int_equal(parse(kind, body, &m, err), HUB_OK);
	assert_true(hub_store_add(s, &m, 1796547108000000000LL) >= 0);
	hub_msg_free(&m);
}

static void test_store(void **state)
{
	(void)state;
	char path[128], body[2048], err[256];
	snprintf(path, sizeof(path), "%s/hub.db", dir);
	struct hub_store *s = hub_store_open(path, false, false, err, sizeof(err));
	assert_non_null(s);
	scan_body(body, sizeof(body), "scan-old-000001", D1, "HIGH", "{\\\"v\\\":1}");
	add(s, "scan", body);
	scan_body(body, sizeof(body), "scan-new-000001", D1, "CRITICAL", "{\\\"v\\\":2}");
	add(s, "scan", body);
	add(s, "scan", body); /* again: nothing more */
	scan_body(body, sizeof(body), "scan-d2-0000001", D2, "LOW", "{\\\"v\\\":3}");
	add(s, "scan", body);
	for (int i = 0; i < 3; i++) {
		char a[512];
		snprintf(a, sizeof(a),
			 "{\"uuid\":\"adm-%04d-aaaa\",\"time\":\"2026-12-06T10:00:0%dZ\",\"uid\":\"u%d\",\"operation\":\"CREATE\","
			 "\"kind\":\"Pod\",\"namespace\":\"%s\",\"name\":\"p%d\",\"user\":\"alice\",\"allowed\":%s,"
			 "\"reason\":\"pss\",\"message\":\"\",\"policy_version\":\"builtin\"}",
			 i, i, i, i == 2 ? "other" : "shop", i, i == 0 ? "false" : "true");
		add(s, "admission", a);
	}
	assert_int_equal(hub_store_commit(s), 0);
	sqlite3 *db = hub_store_db(s);

	/* the list: one row per image, its latest scan */
	struct hub_images_query q = { .min_sev = -1, .limit = 100 };
	struct vg_buf b = { 0 };
	assert_int_equal(hub_images_list(db, &q, &b, err, sizeof(err)), 2);
	json_t *j = json_loads(b.data, 0, NULL);
	json_t *imgs = json_object_get(j, "images");
	assert_int_equal(json_array_size(imgs), 2);
	json_t *i0 = json_array_get(imgs, 0);
	assert_string_equal(json_string_value(json_object_get(i0, "digest")), D1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(i0, "vulnerabilities"), "critical")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(i0, "vulnerabilities"), "high")), 0);
	assert_true(json_is_null(json_object_get(j, "next_cursor")));
	json_decref(j);
	/* filters and paging */
	q.min_sev = HUB_SEV_HIGH;
	buf_reset(&b);
	assert_int_equal(hub_images_list(db, &q, &b, err, sizeof(err)), 1);
	q.min_sev = -1;
	q.limit = 1;
	buf_reset(&b);
	assert_int_equal(hub_images_list(db, &q, &b, err, sizeof(err)), 1);
	j = json_loads(b.data, 0, NULL);
	const char *cur = json_string_value(json_object_get(j, "next_cursor"));
	assert_non_null(cur);
	q.after_id = atoll(cur);
	json_decref(j);
	buf_reset(&b);
	assert_int_equal(hub_images_list(db, &q, &b, err, sizeof(err)), 1);
	assert_non_null(strstr(b.data, D2));
	assert_non_null(strstr(b.data, "\"next_cursor\":null"));
	/* one image, its SBOM as sent */
	buf_reset(&b);
	assert_int_equal(hub_image_get(db, D1, &b, err, sizeof(err)), 1);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "report"), "packages")), 2);
	json_decref(j);
	char fmt[16];
	buf_reset(&b);
	assert_int_equal(hub_image_sbom(db, D1, &b, fmt, sizeof(fmt), err, sizeof(err)), 1);
	assert_string_equal(fmt, "cyclonedx");
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "{\"v\":2}", 7);
	buf_reset(&b);
	assert_int_equal(hub_image_get(db, "sha256:00", &b, err, sizeof(err)), 0);
	/* admissions */
	struct hub_adm_query a = { .allowed = -1, .limit = 100 };
	buf_reset(&b);
	assert_int_equal(hub_admissions_list(db, &a, &b, err, sizeof(err)), 3);
	a.allowed = 0;
	buf_reset(&b);
	assert_int_equal(hub_admissions_list(db, &a, &b, err, sizeof(err)), 1);
	assert_non_null(strstr(b.data, "\"name\":\"p0\""));
	a.allowed = -1;
	a.ns = "shop";
	buf_reset(&b);
	assert_int_equal(hub_admissions_list(db, &a, &b, err, sizeof(err)), 2);
	/* retention: by receipt; nothing received before the cutoff, then everything */
	assert_int_equal(hub_scans_retain(db, 1796547108000000000LL, 100, err, sizeof(err)), 0);
	assert_int_equal(hub_scans_retain(db, 1796547108000000001LL, 2, err, sizeof(err)), 2);
	assert_int_equal(hub_scans_retain(db, 1796547108000000001LL, 100, err, sizeof(err)), 1);
	buf_reset(&b);
	a.ns = NULL;
	assert_int_equal(hub_admissions_list(db, &a, &b, err, sizeof(err)), 0);
	buf_reset(&b);
	assert_int_equal(hub_image_get(db, D1, &b, err, sizeof(err)), 0);
	buf_free(&b);
	hub_store_close(s);
}

static int args(struct hub_args *a, char *q)
{
	char *save = NULL;
	memset(a, 0, sizeof(*a));
	for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = 0;
		a->k[a->n] = kv;
		a->v[a->n++] = eq;
	}
	return 0;
}

static void test_params(void **state)
{
	(void)state;
	static const char *const bad_images[] = { "limit=0", "limit=1001", "cursor=x", "severity=nope", "node=a.b",
						  "x=1", "limit=1&limit=2", "reference=", NULL };
	static const char *const bad_adm[] = { "allowed=1", "since=never", "since=1h&until=2h", "cursor=-3", NULL };
	struct hub_args a;
	struct hub_images_query iq;
	struct hub_adm_query aq;
	char q[128], err[320];
	for (int i = 0; bad_images[i]; i++) {
		snprintf(q, sizeof(q), "%s", bad_images[i]);
		args(&a, q);
		assert_int_equal(hub_api_images_parse(&a, &iq, err, sizeof(err)), -1);
	}
	for (int i = 0; bad_adm[i]; i++) {
		snprintf(q, sizeof(q), "%s", bad_adm[i]);
		args(&a, q);
		assert_int_equal(hub_api_admissions_parse(&a, &aq, err, sizeof(err)), -1);
	}
	snprintf(q, sizeof(q), "severity=HIGH&limit=5&cursor=7&node=n-1");
	args(&a, q);
	assert_int_equal(hub_api_images_parse(&a, &iq, err, sizeof(err)), 0);
	assert_int_equal(iq.min_sev, HUB_SEV_HIGH);
	assert_int_equal(iq.limit, 5);
	assert_int_equal(iq.after_id, 7);
	snprintf(q, sizeof(q), "allowed=false&namespace=shop&since=2h&until=1h");
	args(&a, q);
	assert_int_equal(hub_api_admissions_parse(&a, &aq, err, sizeof(err)), 0);
	assert_int_equal(aq.allowed, 0);
	assert_true(aq.since_ns > 0 && aq.until_ns > aq.since_ns);
	assert_int_equal(aq.limit, HUB_LIMIT_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_params),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
