/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for response commands (src/fleet/command.c) and the undo they
 * share with `vigil respond` (src/respond/undo.c): the command's strict JSON,
 * the reply, the replay guard (stale, replayed, full), and which recorded
 * action an undo picks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "fleet/command.h"
#include "respond/bundle.h"
#include "respond/undo.h"

#define NOW 1796547108000000000LL
#define GOOD "{\"id\":\"0123456789abcdef0123\",\"time_ns\":1796547108000000000,\"cluster\":\"prod\"," \
	     "\"node\":\"node-a\",\"command\":\"release\",\"container\":\"web-1\",\"actor\":\"oncall\"}"

static int dec(const char *s, struct fleet_cmd *c, char *err)
{
	return fleet_cmd_decode(s, strlen(s), c, err, 256);
}

static void test_decode_good(void **state)
{
	(void)state;
	struct fleet_cmd c;
	char err[256];
	assert_int_equal(dec(GOOD, &c, err), 0);
	assert_string_equal(c.id, "0123456789abcdef0123");
	assert_true(c.time_ns == NOW);
	assert_string_equal(c.cluster, "prod");
	assert_string_equal(c.node, "node-a");
	assert_int_equal(c.kind, FLEET_CMD_RELEASE);
	assert_string_equal(c.container, "web-1");
	assert_string_equal(c.actor, "oncall");
	/* actor is optional; thaw; an id prefix */
	assert_int_equal(dec("{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\","
			     "\"command\":\"thaw\",\"container\":\"3f2a9c\"}", &c, err), 0);
	assert_int_equal(c.kind, FLEET_CMD_THAW);
	assert_string_equal(c.actor, "");
	/* what is encoded decodes to the same */
	struct vg_buf b = { 0 };
	struct fleet_cmd d;
	assert_int_equal(dec(GOOD, &c, err), 0);
	fleet_cmd_encode(&c, &b);
	assert_int_equal(fleet_cmd_decode(b.data, b.len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	buf_free(&b);
}

static void test_decode_bad(void **state)
{
	(void)state;
	struct fleet_cmd c;
	char err[256];
	static const struct { const char *json, *why; } bad[] = {
		{ "", "not one JSON object" },
		{ "[]", "not one JSON object" },
		{ "{\"id\":\"0123456789abcdef\"} x", "not one JSON object" },
		{ "{\"id\":\"0123456789abcdef0123\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\",\"extra\":1}", "unknown field 'extra'" },
		{ "{\"id\":\"short\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\",\"container\":\"a\"}",
		  "id must be" },
		{ "{\"id\":\"0123456789abcdef\",\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\","
		  "\"command\":\"thaw\",\"container\":\"a\"}", "not one JSON object" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":\"1\",\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\"}", "time_ns" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":-1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\"}", "time_ns" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c.d\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\"}", "cluster and node" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"command\":\"thaw\",\"container\":\"a\"}",
		  "cluster and node" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"kill\","
		  "\"container\":\"a\"}", "command must be" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"web*\"}", "container must be" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"-rf\"}", "container must be" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\\u0000b\"}", "not one JSON object" },
		{ "{\"id\":\"0123456789abcdef\",\"time_ns\":1,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"thaw\","
		  "\"container\":\"a\",\"actor\":\"x\\ny\"}", "actor must be" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		if (dec(bad[i].json, &c, err) != -1 || !strstr(err, bad[i].why))
			fail_msg("case %zu: %s: got '%s', wanted '%s'", i, bad[i].json, err, bad[i].why);
	}
	/* a NUL byte, and the size bound */
	char nul[] = "{\"id\":\"0\0\"}";
	assert_int_equal(fleet_cmd_decode(nul, sizeof(nul) - 1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	char big[FLEET_CMD_MAX + 2];
	memset(big, ' ', sizeof(big));
	memcpy(big + sizeof(big) - strlen(GOOD), GOOD, strlen(GOOD));
	assert_int_equal(fleet_cmd_decode(big, sizeof(big), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));
	/* a container of 255 characters passes, 256 not */
	char name[300];
	memset(name, 'a', 256);
	name[256] = 0;
	assert_false(fleet_cmd_container_valid(name));
	name[255] = 0;
	assert_true(fleet_cmd_container_valid(name));
}

static void test_reply(void **state)
{
	(void)state;
	struct vg_buf b = { 0 };
	enum fleet_cmd_outcome o;
	char d[FLEET_CMD_DETAIL_MAX + 1], err[256];
	fleet_cmd_reply_encode(FLEET_CMD_NOT_ISOLATED, "cgroup 7 is \"not\" isolated", &b);
	assert_string_equal(b.data, "{\"outcome\":\"not_isolated\",\"detail\":\"cgroup 7 is \\\"not\\\" isolated\"}");
	assert_int_equal(fleet_cmd_reply_decode(b.data, b.len, &o, d, sizeof(d), err, sizeof(err)), 0);
	assert_int_equal(o, FLEET_CMD_NOT_ISOLATED);
	assert_string_equal(d, "cgroup 7 is \"not\" isolated");
	buf_free(&b);
	/* a long detail is cut to the bound and still decodes */
	char longd[3000];
	memset(longd, 'x', sizeof(longd) - 1);
	longd[sizeof(longd) - 1] = 0;
	fleet_cmd_reply_encode(FLEET_CMD_FAILED, longd, &b);
	assert_int_equal(fleet_cmd_reply_decode(b.data, b.len, &o, d, sizeof(d), err, sizeof(err)), 0);
	assert_int_equal(strlen(d), FLEET_CMD_DETAIL_MAX);
	buf_free(&b);
	static const char *const bad[] = {
		"{\"outcome\":\"ok\"}", "{\"outcome\":\"yes\",\"detail\":\"\"}", "{\"outcome\":\"ok\",\"detail\":1}",
		"{\"outcome\":\"ok\",\"detail\":\"\",\"x\":1}", "nope",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(fleet_cmd_reply_decode(bad[i], strlen(bad[i]), &o, d, sizeof(d), err, sizeof(err)), -1);
	for (int i = 0; i < FLEET_CMD_OUTCOME__N; i++)
		assert_int_equal(fleet_cmd_outcome_parse(fleet_cmd_outcome_name(i)), i);
}

static void test_guard(void **state)
{
	(void)state;
	static struct fleet_cmd_guard g;
	struct fleet_cmd c = { .time_ns = NOW };
	const int64_t s = 1000000000LL;
	snprintf(c.id, sizeof(c.id), "aaaaaaaaaaaaaaaa");
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW + 1 * s), FLEET_CMD_OK);
	/* the same id again, within its window */
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW + 2 * s), FLEET_CMD_REPLAYED);
	/* the same id after its window: refused by its time */
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW + 61 * s), FLEET_CMD_STALE);
	/* a command from too far ahead */
	c.time_ns = NOW + 200 * s;
	snprintf(c.id, sizeof(c.id), "bbbbbbbbbbbbbbbb");
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW), FLEET_CMD_STALE);
	/* full: new ids refused (busy) until the old ones' window passes */
	memset(&g, 0, sizeof(g));
	c.time_ns = NOW;
	for (int i = 0; i < FLEET_CMD_SEEN_MAX; i++) {
		snprintf(c.id, sizeof(c.id), "id%016d", i);
		assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW), FLEET_CMD_OK);
	}
	snprintf(c.id, sizeof(c.id), "one-more-id-0000");
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW), FLEET_CMD_BUSY);
	snprintf(c.id, sizeof(c.id), "id%016d", 5);
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW), FLEET_CMD_REPLAYED);
	c.time_ns = NOW + 61 * s;
	snprintf(c.id, sizeof(c.id), "one-more-id-0000");
	assert_int_equal(fleet_cmd_guard_check(&g, &c, NOW + 61 * s), FLEET_CMD_OK);
	assert_int_equal(g.n, 1);
}

static void test_undo_pick(void **state)
{
	(void)state;
	struct undo u;
	undo_init(&u, UNDO_RELEASE);
	undo_note(&u, "freeze", "done", "/cg/a", "aaaa", "web", "r1");
	assert_false(u.found);
	undo_note(&u, "isolate", "refused", "/cg/a", "aaaa", "web", "r1");
	undo_note(&u, "isolate", "done", "", "aaaa", "web", "r1");
	assert_false(u.found);
	assert_int_equal(undo_run(&u, "x"), UNDO_NOT_FOUND);
	undo_note(&u, "isolate", "done", "/cg/a", "aaaa", "web", "r1");
	undo_note(&u, "isolate", "done", "/cg/b", "bbbb", NULL, "r2");
	assert_true(u.found);
	/* the newest wins */
	assert_string_equal(u.cgroup, "/cg/b");
	assert_string_equal(u.id, "bbbb");
	assert_string_equal(u.name, "");
	undo_init(&u, UNDO_THAW);
	undo_note(&u, "freeze", "done", "/cg/a", "aaaa", "web", "r1");
	assert_string_equal(u.rule, "r1");
	/* a cgroup path that climbs is refused, and recorded as a failure */
	snprintf(u.cgroup, sizeof(u.cgroup), "/../etc");
	assert_int_equal(undo_run(&u, "x"), UNDO_FAILED);
	struct undo_row row;
	undo_record(&u, &row);
	assert_string_equal(row.action, "thaw");
	assert_string_equal(row.outcome, "failed");
	assert_string_equal(undo_outcome_name(UNDO_NOT_ISOLATED), "not_isolated");
}


static void test_evidence_decode(void **state)
{
	(void)state;
	struct fleet_cmd c, d;
	char err[256];
	struct vg_buf b = { 0 };
	const char *ok = "{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\","
			 "\"command\":\"evidence\",\"bundle\":\"20261206T160014Z-83d7c6e2d8a6-1\"}";
	assert_int_equal(dec(ok, &c, err), 0);
	assert_int_equal(c.kind, FLEET_CMD_EVIDENCE);
	assert_string_equal(c.bundle, "20261206T160014Z-83d7c6e2d8a6-1");
	assert_string_equal(c.container, "");
	fleet_cmd_encode(&c, &b);
	assert_int_equal(fleet_cmd_decode(b.data, b.len, &d, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	buf_free(&b);
	/* a path, a dot first, a container with it, no bundle, a bundle on release */
	const char *bad[] = {
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"evidence\",\"bundle\":\"../etc\"}",
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"evidence\",\"bundle\":\"a/b\"}",
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"evidence\",\"bundle\":\".x\"}",
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"evidence\",\"bundle\":\"b1\",\"container\":\"w\"}",
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"evidence\"}",
		"{\"id\":\"0123456789abcdef\",\"time_ns\":5,\"cluster\":\"c\",\"node\":\"n\",\"command\":\"release\",\"container\":\"w\",\"bundle\":\"b1\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(dec(bad[i], &c, err), -1);
	assert_false(fleet_cmd_bundle_valid(""));
	assert_false(fleet_cmd_bundle_valid("a b"));
}

/* One ustar header's checksum as tar computes it (the field counted as spaces). */
static unsigned tar_sum(const unsigned char *h)
{
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum;
}

static void test_bundle_pack(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-unit-bundle.XXXXXX", path[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/b-1", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/b-1/manifest.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"a\":1}", 7), 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/b-1/link", dir); /* not a regular file: left out */
	assert_int_equal(symlink("/etc/shadow", path), 0);
	struct vg_buf b = { 0 };
	assert_int_equal(bundle_pack(dir, "b-1", 1 << 20, &b, err, sizeof(err)), 0);
	/* the directory, one file (512 + 512 of content), two zero blocks */
	assert_int_equal(b.len, 512 + 512 + 512 + 1024);
	const unsigned char *h = (const unsigned char *)b.data;
	assert_string_equal((const char *)h, "b-1");
	assert_int_equal(h[156], '5');
	assert_int_equal((unsigned)strtoul((const char *)h + 148, NULL, 8), tar_sum(h));
	h += 512;
	assert_string_equal((const char *)h, "manifest.json");
	assert_string_equal((const char *)h + 345, "b-1");
	assert_memory_equal(h + 257, "ustar\0" "00", 8);
	assert_int_equal(strtoul((const char *)h + 124, NULL, 8), 7);
	assert_int_equal((unsigned)strtoul((const char *)h + 148, NULL, 8), tar_sum(h));
	assert_memory_equal(h + 512, "{\"a\":1}", 7);
	/* too large, absent, a path, a symbolic link to a directory */
	buf_reset(&b);
	assert_int_equal(bundle_pack(dir, "b-1", 1024, &b, err, sizeof(err)), -1);
	assert_int_equal(bundle_pack(dir, "nope", 1 << 20, &b, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(bundle_pack(dir, "../tmp", 1 << 20, &b, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/l-1", dir);
	assert_int_equal(symlink("/etc", path), 0);
	assert_int_equal(bundle_pack(dir, "l-1", 1 << 20, &b, err, sizeof(err)), -1);
	buf_free(&b);
	snprintf(path, sizeof(path), "%s/b-1/manifest.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b-1/link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b-1", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/l-1", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_good), cmocka_unit_test(test_decode_bad), cmocka_unit_test(test_reply),
		cmocka_unit_test(test_guard), cmocka_unit_test(test_undo_pick),
		cmocka_unit_test(test_evidence_decode), cmocka_unit_test(test_bundle_pack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
