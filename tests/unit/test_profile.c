/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: behaviour profiles (src/profile/): generalisation, learning, deviations,
 * bounds, keys, YAML round trip and bad input, the SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/buf.h"
#include "profile/profile.h"
#include "profile/profile_events.h"
#include "profile/profile_store.h"
#include "profile/profile_yaml.h"
#include "test_tmp.h"

static void gen(enum profile_kind k, const char *in, const char *want)
{
	char out[PROF_VALUE_MAX];
	profile_generalise(k, in, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("generalise %s: got %s, want %s", in, out, want);
}

static void test_generalise(void **state)
{
	(void)state;
	gen(PROF_WRITE, "/proc/1234/status", "/proc/*/status");
	gen(PROF_WRITE, "/var/log/app.log.1", "/var/log/app.log.*");
	gen(PROF_WRITE, "/var/log/app-2026-12-06.log", "/var/log/app-*-*-*.log");
	gen(PROF_WRITE, "/var/cache/x/0a1b2c3d4e5f/data", "/var/cache/x/*/data");
	gen(PROF_WRITE, "/tmp/tmp.kZ3bX9", "/tmp/tmp.*");
	gen(PROF_WRITE, "/tmp/sess_Ab3xYz12q", "/tmp/sess_*");
	gen(PROF_WRITE, "/etc/nginx/nginx.conf", "/etc/nginx/nginx.conf");
	gen(PROF_WRITE, "/home/user/Documents", "/home/user/Documents"); /* mixed case kept outside temp dirs */
	gen(PROF_WRITE, "/run/app.pid", "/run/app.pid");
	gen(PROF_WRITE, "/run/runc/3b94361160e46576ba0eedc0d119ea9ad5ae2b6cf1644ae062d52a844de3e00a/runc.rpzmya",
	    "/run/runc/*/runc.*");
	gen(PROF_WRITE, "/run/app.socket", "/run/app.*"); /* the price: six letters after a dot in a temp dir */
	gen(PROF_WRITE, "/etc/app.socket", "/etc/app.socket");
	gen(PROF_WRITE, "/srv/v1000x", "/srv/v*x");
	gen(PROF_EXEC, "/usr/bin/python3 <- /bin/sh", "/usr/bin/python3 <- /bin/sh");
	gen(PROF_CONNECT, "tcp/10.88.0.5:8080", "tcp/10.88.0.5:8080"); /* peers are kept */
	gen(PROF_LISTEN, "8080", "8080");
	assert_true(profile_glob("/tmp/*", "/tmp/abc"));
	assert_false(profile_glob("/tmp/*", "/tmp/a/b"));
	assert_true(profile_glob("/var/log/app.log.*", "/var/log/app.log.7"));
	assert_true(profile_glob("*", ""));
	assert_false(profile_glob("/a", "/ab"));
	assert_true(profile_sensitive_path("/etc/shadow"));
	assert_true(profile_sensitive_path("/home/bob/.ssh/id_rsa"));
	assert_true(profile_sensitive_path("/var/run/secrets/kubernetes.io/serviceaccount/token"));
	assert_false(profile_sensitive_path("/etc/passwd"));
	char prog[128];
	profile_program("/bin/busybox", "sh", NULL, prog, sizeof(prog));
	assert_string_equal(prog, "/bin/busybox as sh");
	profile_program("/bin/busybox", "exe", "wget", prog, sizeof(prog)); /* via /proc/self/exe */
	assert_string_equal(prog, "/bin/busybox as wget");
	profile_program("/usr/sbin/nginx", "nginx", "nginx: master", prog, sizeof(prog));
	assert_string_equal(prog, "/usr/sbin/nginx"); /* its own name as comm: argv rewrites do not matter */
	profile_program("/usr/sbin/nginx", "nginx", "/usr/sbin/nginx", prog, sizeof(prog));
	assert_string_equal(prog, "/usr/sbin/nginx");
	profile_program("/usr/bin/very-long-program-name", "very-long-progr", "", prog, sizeof(prog));
	assert_string_equal(prog, "/usr/bin/very-long-program-name");
}

static void test_learn_and_deviate(void **state)
{
	(void)state;
	struct profile_set s;
	profile_set_init(&s, NULL);
	s.record_ops = true;
	struct profile *p = profile_make(&s, "sha256:aa", "web:1", "sha256:aa", NULL, NULL, 100);
	assert_non_null(p);
	assert_ptr_equal(profile_make(&s, "sha256:aa", NULL, NULL, NULL, NULL, 200), p); /* replicas share it */
	assert_int_equal(p->mode, PROF_LEARNING);
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, "/bin/busybox as httpd <- <outside>", 101), PROF_LEARNT);
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, "/bin/busybox as httpd <- <outside>", 102), PROF_KNOWN);
	assert_int_equal(profile_observe(&s, p, PROF_WRITE, "/proc/77/oom_score_adj", 103), PROF_LEARNT);
	/* a restart: another pid, the same pattern */
	assert_int_equal(profile_observe(&s, p, PROF_WRITE, "/proc/91/oom_score_adj", 104), PROF_KNOWN);
	assert_int_equal(p->nlearnt, 2);
	assert_int_equal(p->last_new, 103);
	p->mode = PROF_MONITORING;
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, "/tmp/x <- /bin/busybox as sh", 110), PROF_DEVIATION);
	assert_int_equal(profile_observe(&s, p, PROF_EXEC, "/tmp/x <- /bin/busybox as sh", 111), PROF_REPEATED);
	assert_int_equal(profile_observe(&s, p, PROF_LISTEN, "9999", 112), PROF_DEVIATION);
	assert_int_equal(p->nlearnt, 2); /* deviations are not learnt */
	assert_int_equal(p->deviations, 2);
	/* ops: the profile's header and two items for the store */
	size_t adds = 0;
	for (size_t i = 0; i < s.nops; i++)
		adds += s.ops[i].op == PROF_OP_ADD;
	assert_int_equal(adds, 2);
	size_t n;
	const struct profile_item **items = profile_sorted_items(p, &n);
	assert_int_equal(n, 2);
	assert_string_equal(items[0]->value, "/bin/busybox as httpd <- <outside>");
	assert_string_equal(items[1]->value, "/proc/*/oom_score_adj");
	free(items);
	profile_set_free(&s);
}

static void test_collapse_and_bounds(void **state)
{
	(void)state;
	struct profile_set s;
	profile_set_init(&s, &(struct profile_limits){ .max_profiles = 2, .max_items = 10, .collapse = 4 });
	struct profile *p = profile_make(&s, "k1", NULL, NULL, NULL, NULL, 0);
	const char *names[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
	char path[64];
	for (size_t i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/data/%s", names[i]);
		assert_int_equal(profile_observe(&s, p, PROF_WRITE, path, 1), PROF_LEARNT);
	}
	/* five children of /data: collapsed into one pattern */
	assert_int_equal(p->nlearnt, 1);
	assert_non_null(profile_find(p, PROF_WRITE, "/data/zeta"));
	assert_null(profile_find(p, PROF_WRITE, "/data/x/y"));
	/* items past max_items are counted, not learnt */
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/d%c/f", 'a' + i);
		profile_observe(&s, p, PROF_WRITE, path, 2);
	}
	assert_int_equal(p->nitems, 10);
	assert_int_equal(p->dropped, 11);
	assert_non_null(profile_make(&s, "k2", NULL, NULL, NULL, NULL, 0));
	assert_null(profile_make(&s, "k3", NULL, NULL, NULL, NULL, 0));
	assert_int_equal(s.refused, 1);
	size_t bytes = s.bytes;
	assert_true(bytes > 0);
	profile_remove(&s, "k1");
	assert_true(s.bytes < bytes);
	profile_set_free(&s);
}

static void test_keys(void **state)
{
	(void)state;
	char owner[128];
	profile_pod_owner("web-7d4b9c8f6d-x2k9z", owner, sizeof(owner));
	assert_string_equal(owner, "Deployment/web");
	profile_pod_owner("db-0", owner, sizeof(owner));
	assert_string_equal(owner, "StatefulSet/db");
	profile_pod_owner("agent-x2k9z", owner, sizeof(owner));
	assert_string_equal(owner, "Workload/agent");
	profile_pod_owner("standalone", owner, sizeof(owner));
	assert_string_equal(owner, "Pod/standalone");

	struct vg_container_meta m = { .id = "abc" };
	struct profile_ident id;
	assert_false(profile_ident_of(&m, &id)); /* no image known */
	m.image = "localhost/web:1";
	m.image_id = "0123456789abcdef";
	assert_true(profile_ident_of(&m, &id));
	assert_string_equal(id.key, "sha256:0123456789abcdef");
	assert_string_equal(id.lineage, "repo:localhost/web");
	m.k8s_namespace = "shop";
	m.k8s_pod_name = "web-7d4b9c8f6d-x2k9z";
	m.k8s_container_name = "app";
	assert_true(profile_ident_of(&m, &id));
	assert_string_equal(id.key, "k8s:shop/Deployment/web/app@sha256:0123456789abcdef");
	struct vg_container_meta host = { 0 };
	assert_false(profile_ident_of(&host, &id));
}

static const char good_yaml[] = "# a profile\n"
				"---\n"
				"version: 1\n"
				"key: \"sha256:aa\"\n"
				"image: \"web:1\"\n"
				"mode: monitoring\n"
				"learning: {started: 100, last_new: 150}\n"
				"exec:\n"
				"  - \"/bin/busybox as httpd <- <outside>\"\n"
				"write: [\"/tmp/*\"]\n"
				"listen: [\"8080\"]\n"
				"connect: [\"tcp/db.local:5432\", \"10.0.0.1:53\"]\n"
				"privilege: [\"setuid 65534\"]\n"
				"syscall: [mount]\n";

static void test_yaml(void **state)
{
	(void)state;
	struct profile_set s;
	char err[512] = "";
	profile_set_init(&s, NULL);
	assert_int_equal(profile_yaml_read(good_yaml, strlen(good_yaml), "p.yaml", &s, err, sizeof(err)), 0);
	struct profile *p = profile_get(&s, "sha256:aa");
	assert_non_null(p);
	assert_int_equal(p->mode, PROF_MONITORING);
	assert_int_equal(p->nlearnt, 7);
	assert_non_null(profile_find(p, PROF_WRITE, "/tmp/abc"));
	/* round trip: what export writes, import reads back the same */
	struct vg_buf y = { 0 };
	profile_yaml_write(&y, p);
	struct profile_set s2;
	profile_set_init(&s2, NULL);
	assert_int_equal(profile_yaml_read(y.data, y.len, "x.yaml", &s2, err, sizeof(err)), 0);
	struct vg_buf y2 = { 0 };
	profile_yaml_write(&y2, profile_get(&s2, "sha256:aa"));
	assert_string_equal(y.data, y2.data);
	buf_free(&y);
	buf_free(&y2);
	profile_set_free(&s2);
	profile_set_free(&s);

	static const struct { const char *text, *want; } bad[] = {
		{ "version: 1\nkey: k\nexec: [\"sh\"]\n", "b.yaml:3:8: exec: a program must read" },
		{ "version: 1\nkey: k\nlisten: [\"99999\"]\n", "b.yaml:3:10: listen: a port must be" },
		{ "version: 1\nkey: k\nmode: enforcing\n", "b.yaml:3:7: 'mode' must be learning" },
		{ "version: 1\nkey: k\nfiles: []\n", "b.yaml:3:1: unknown key 'files'" },
		{ "version: 2\nkey: k\n", "b.yaml:1:10: version 2 is not" },
		{ "key: k\n", "b.yaml:1:1: a profile needs 'version: 1'" },
		{ "version: 1\nkey: k\nsyscall: [reboot]\n", "b.yaml:3:11: syscall: not a profiled syscall" },
		{ "version: 1\nkey: k\nconnect: [\"tcp/x\"]\n", "b.yaml:3:11: connect: a destination must read" },
		{ "version: 1\nkey: k\nwrite: [\"/a\", \"/a\"]\n", "b.yaml:3:15: '/a' listed twice" },
		{ "version: 1\nkey: k\n---\nversion: 1\nkey: k\n", "b.yaml:5:6: profile 'k' given twice" },
		{ "version: 1\nkey: k\nwrite: {a: b}\n", "b.yaml:3:8: 'write' must be a list of strings" },
		{ "- a\n", "b.yaml:1:1: a profile must be a mapping" },
		{ "version: 1\nkey: [k]\n", "b.yaml:2:6: 'key' must be a string" },
		{ "version: 1\nkey: k\nlearning: {started: -5}\n", "b.yaml:3:21: 'started' must be a number" },
		{ "", "b.yaml:1:1: no profile in the file" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		profile_set_init(&s, NULL);
		err[0] = 0;
		assert_int_equal(profile_yaml_read(bad[i].text, strlen(bad[i].text), "b.yaml", &s, err, sizeof(err)), -1);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			fail_msg("case %zu: got '%s', want '%s...'", i, err, bad[i].want);
		profile_set_free(&s);
	}
}

static void test_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-test-profile-XXXXXX", path[128], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	struct profile_store *ps = profile_store_open(path, true, err, sizeof(err));
	assert_non_null(ps);
	assert_int_equal(profile_store_generation(ps), 0);
	struct profile_set s;
	profile_set_init(&s, NULL);
	s.record_ops = true;
	struct profile *p = profile_make(&s, "sha256:bb", "web:2", "sha256:bb", NULL, NULL, 10);
	profile_observe(&s, p, PROF_EXEC, "/bin/a <- <outside>", 11);
	profile_observe(&s, p, PROF_LISTEN, "80", 12);
	assert_int_equal(profile_store_apply(ps, &s, s.ops, s.nops), 0);
	assert_int_equal(profile_store_generation(ps), 0); /* the agent's own writes are no change from outside */
	struct profile_set l;
	profile_set_init(&l, NULL);
	assert_int_equal(profile_store_load(ps, &l), 0);
	struct profile *q = profile_get(&l, "sha256:bb");
	assert_non_null(q);
	assert_int_equal(q->nlearnt, 2);
	assert_int_equal(q->last_new, 12);
	assert_string_equal(q->image, "web:2");
	profile_set_free(&l);
	assert_int_equal(profile_store_set_mode(ps, "sha256:bb", PROF_MONITORING, 20), 1);
	assert_int_equal(profile_store_generation(ps), 1);
	assert_int_equal(profile_store_set_mode(ps, "nope", PROF_MONITORING, 20), 0);
	profile_set_init(&l, NULL);
	assert_int_equal(profile_store_load(ps, &l), 0);
	assert_int_equal(profile_get(&l, "sha256:bb")->mode, PROF_MONITORING);
	profile_set_free(&l);
	assert_int_equal(profile_store_reset(ps, NULL, 30), 1);
	assert_int_equal(profile_store_generation(ps), 2);
	profile_set_init(&l, NULL);
	assert_int_equal(profile_store_load(ps, &l), 0);
	assert_int_equal(profile_get(&l, "sha256:bb")->nlearnt, 0);
	assert_int_equal(profile_get(&l, "sha256:bb")->mode, PROF_LEARNING);
	profile_set_free(&l);
	assert_int_equal(profile_store_put(ps, p), 0);
	assert_int_equal(profile_store_generation(ps), 3);
	profile_store_close(ps);
	profile_set_free(&s);
	tmp_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generalise),	   cmocka_unit_test(test_learn_and_deviate),
		cmocka_unit_test(test_collapse_and_bounds), cmocka_unit_test(test_keys),
		cmocka_unit_test(test_yaml),		   cmocka_unit_test(test_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
