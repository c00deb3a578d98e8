/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/container_table: cgroup entries by id (the container
 * found in the path, idempotent adds, removal), the per-cgroup user and group
 * names with their bound, and the live helpers that read /proc/PID/cgroup
 * (from a procfs tree built in a temp dir) and the cgroup v2 mount.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/container_table.h"
#include "test_tmp.h"

#define ID "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"

static void test_add_container(void **state)
{
	(void)state;
	struct vg_container_table t;
	container_table_init(&t);

	const char *path = "/machine.slice/libpod-" ID ".scope/container";
	struct vg_cgroup *c = container_table_add(&t, 1001, path);
	assert_non_null(c);
	assert_int_equal(c->node.key, 1001);
	assert_string_equal(c->path, path);
	assert_string_equal(c->meta.id, ID);
	assert_int_equal(c->meta.runtime, VG_RT_PODMAN);
	assert_int_equal(c->meta.privileged, -1); /* not known until metadata is read */
	assert_int_equal(c->meta.metadata_found, 0);
	assert_null(c->meta.name);
	assert_ptr_equal(container_table_get(&t, 1001), c);
	container_table_free(&t);
}

static void test_add_host(void **state)
{
	(void)state;
	struct vg_container_table t;
	container_table_init(&t);

	struct vg_cgroup *c = container_table_add(&t, 1, "/system.slice/sshd.service");
	assert_non_null(c);
	assert_string_equal(c->meta.id, "");
	assert_int_equal(c->meta.runtime, VG_RT_NONE);
	/* conmon is not a container either */
	c = container_table_add(&t, 2, "/machine.slice/libpod-conmon-" ID ".scope");
	assert_string_equal(c->meta.id, "");
	assert_int_equal(c->meta.runtime, VG_RT_NONE);
	container_table_free(&t);
}

/* The kernel announces each cgroup once, but a capture replayed after a
 * snapshot can announce it again: the first entry (and its metadata) stays. */
static void test_add_idempotent(void **state)
{
	(void)state;
	struct vg_container_table t;
	container_table_init(&t);

	struct vg_cgroup *c = container_table_add(&t, 7, "/docker/" ID);
	assert_int_equal(c->meta.runtime, VG_RT_DOCKER);
	c->meta.name = strdup("web");
	struct vg_cgroup *again = container_table_add(&t, 7, "/system.slice/other.service");
	assert_ptr_equal(again, c);
	assert_string_equal(again->path, "/docker/" ID);
	assert_string_equal(again->meta.name, "web");
	assert_int_equal(t.map.count, 1);
	container_table_free(&t);
}

static void test_remove(void **state)
{
	(void)state;
	struct vg_container_table t;
	container_table_init(&t);

	assert_null(container_table_get(&t, 5));
	struct vg_cgroup *c = container_table_add(&t, 5, "/docker/" ID);
	c->meta.image = strdup("nginx:1.25");
	container_table_set_idname(c, 0, false, "root");
	container_table_add(&t, 6, "/");
	container_table_remove(&t, 5);
	assert_null(container_table_get(&t, 5));
	assert_non_null(container_table_get(&t, 6));
	container_table_remove(&t, 5); /* gone already: nothing happens */
	container_table_remove(&t, 99);
	assert_int_equal(t.map.count, 1);
	/* a cgroup id can come back (a new cgroup with a reused inode) */
	c = container_table_add(&t, 5, "/system.slice/cron.service");
	assert_string_equal(c->meta.id, "");
	assert_null(c->meta.image);
	assert_int_equal(c->nids, 0);
	container_table_free(&t);
}

static void test_idnames(void **state)
{
	(void)state;
	struct vg_container_table t;
	container_table_init(&t);
	struct vg_cgroup *c = container_table_add(&t, 1, "/docker/" ID);

	assert_null(container_table_idname(c, 0, false));
	assert_null(container_table_idname(NULL, 0, false));
	container_table_set_idname(c, 0, false, "root");
	container_table_set_idname(c, 0, true, "wheel");
	container_table_set_idname(c, 101, false, "");
	assert_string_equal(container_table_idname(c, 0, false)->name, "root");
	assert_string_equal(container_table_idname(c, 0, true)->name, "wheel"); /* uids and gids apart */
	assert_string_equal(container_table_idname(c, 101, false)->name, ""); /* known: no name */
	assert_null(container_table_idname(c, 101, true));

	/* replacing keeps one entry */
	container_table_set_idname(c, 0, false, "toor");
	assert_string_equal(container_table_idname(c, 0, false)->name, "toor");
	assert_int_equal(c->nids, 3);

	/* names are cut at 32 bytes */
	container_table_set_idname(c, 1, false, "a-very-long-user-name-of-forty-characters");
	assert_string_equal(container_table_idname(c, 1, false)->name, "a-very-long-user-name-of-forty-c");

	/* at most VG_IDNAMES_MAX entries; past that, new ids are ignored but
	 * known ones can still change */
	for (uint32_t id = 1000; c->nids < VG_IDNAMES_MAX; id++)
		container_table_set_idname(c, id, false, "u");
	container_table_set_idname(c, 99999, false, "late");
	assert_int_equal(c->nids, VG_IDNAMES_MAX);
	assert_null(container_table_idname(c, 99999, false));
	container_table_set_idname(c, 0, false, "root");
	assert_string_equal(container_table_idname(c, 0, false)->name, "root");
	container_table_free(&t);
}

/* ---- live helpers ---- */

static char tmpdir[64];

static int setup_procfs(void **state)
{
	(void)state;
	/* /tmp, not $TMPDIR: the procfs root must fit the reader's short path buffer */
	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-cgroup-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_procfs(void **state)
{
	(void)state;
	return tmp_remove_tree(tmpdir);
}

static void write_cgroup(unsigned int pid, const char *text)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%u", tmpdir, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/%u/cgroup", tmpdir, pid);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_cgroup_path_of_pid(void **state)
{
	(void)state;
	char out[256];

	/* hybrid hierarchy: v1 lines first, the v2 one ("0::") anywhere */
	write_cgroup(10, "12:pids:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n"
			 "0::/user.slice/user-1000.slice/session-1.scope\n");
	assert_true(cgroup_path_of_pid(tmpdir, 10, out, sizeof out));
	assert_string_equal(out, "/user.slice/user-1000.slice/session-1.scope");

	write_cgroup(11, "0::/\n");
	assert_true(cgroup_path_of_pid(tmpdir, 11, out, sizeof out));
	assert_string_equal(out, "/");

	/* v1 only: no v2 path */
	write_cgroup(12, "4:memory:/docker/" ID "\n");
	assert_false(cgroup_path_of_pid(tmpdir, 12, out, sizeof out));

	/* the process is gone */
	assert_false(cgroup_path_of_pid(tmpdir, 13, out, sizeof out));

	/* a path longer than the caller's buffer is cut, NUL-terminated */
	write_cgroup(14, "0::/machine.slice/libpod-" ID ".scope\n");
	char small[16];
	assert_true(cgroup_path_of_pid(tmpdir, 14, small, sizeof small));
	assert_string_equal(small, "/machine.slice/");
}

/* The cgroup id is the inode of the cgroup's directory, as the kernel's
 * bpf_get_current_cgroup_id() gives it. Needs a cgroup v2 mount. */
static void test_cgroup_id_of_path(void **state)
{
	(void)state;
	const char *mnt = cgroup2_mount();
	assert_ptr_equal(cgroup2_mount(), mnt); /* read once */
	if (!mnt[0]) {
		fprintf(stderr, "skip: no cgroup v2 mount on this machine\n");
		skip();
	}
	struct stat st;
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(cgroup_id_of_path("/"), st.st_ino);
	assert_int_equal(cgroup_id_of_path("/vigil-no-such-cgroup"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_container),
		cmocka_unit_test(test_add_host),
		cmocka_unit_test(test_add_idempotent),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_idnames),
		cmocka_unit_test_setup_teardown(test_cgroup_path_of_pid, setup_procfs, teardown_procfs),
		cmocka_unit_test(test_cgroup_id_of_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
