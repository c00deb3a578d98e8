/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for state/proc_table: entries by pid (insert, lookup, exit,
 * pid reuse), the size limit, ancestry (unknown parents, loops), the field
 * setters, the STATE_PROC JSON both ways (the fast parser and jansson's must
 * agree) and reading a process from a procfs tree built in a temp dir.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/proc_table.h"
#include "vigil/event.h"
#include "test_tmp.h"

/* ---- entries ---- */

static void test_add_get_remove(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 16);

	assert_null(proc_table_get(&t, 42));
	struct vg_proc *p = proc_table_add(&t, 42);
	assert_non_null(p);
	assert_int_equal(p->pid, 42);
	assert_string_equal(p->exe, "");
	assert_string_equal(p->cwd, "");
	assert_null(p->args);
	assert_null(p->env);
	assert_int_equal(p->loginuid, UINT32_MAX);
	assert_ptr_equal(proc_table_get(&t, 42), p);
	assert_null(proc_table_get(&t, 43));

	proc_table_remove(&t, 42);
	assert_null(proc_table_get(&t, 42));
	proc_table_remove(&t, 42); /* exit of an unknown pid: nothing happens */
	assert_int_equal(t.map.count, 0);
	proc_table_free(&t);
}

/* A pid the kernel hands out again gets a fresh entry: nothing of the old
 * process survives. */
static void test_pid_reuse(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 16);

	struct vg_proc *p = proc_table_add(&t, 7);
	p->ppid = 1;
	p->uid = 1000;
	proc_set_exe(p, "/usr/bin/old");
	proc_set_args(p, "old\0arg\0", 8);
	proc_set_env(p, "A=1\0", 4);

	p = proc_table_add(&t, 7);
	assert_non_null(p);
	assert_int_equal(t.map.count, 1);
	assert_int_equal(p->ppid, 0);
	assert_int_equal(p->uid, 0);
	assert_string_equal(p->exe, "");
	assert_null(p->args);
	assert_null(p->env);
	assert_ptr_equal(proc_table_get(&t, 7), p);
	proc_table_free(&t);
}

static void test_limit(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 2);

	assert_non_null(proc_table_add(&t, 1));
	assert_non_null(proc_table_add(&t, 2));
	assert_null(proc_table_add(&t, 3));
	assert_int_equal(t.refused, 1);
	assert_null(proc_table_get(&t, 3));
	/* replacing a known pid is not growth: allowed when full */
	assert_non_null(proc_table_add(&t, 2));
	assert_int_equal(t.refused, 1);
	/* an exit makes room again */
	proc_table_remove(&t, 1);
	assert_non_null(proc_table_add(&t, 3));
	assert_int_equal(t.map.count, 2);
	proc_table_free(&t);
}

/* ---- ancestry ---- */

static struct vg_proc *add_child(struct vg_proc_table *t, uint32_t pid, uint32_t ppid)
{
	struct vg_proc *p = proc_table_add(t, pid);
	assert_non_null(p);
	p->ppid = ppid;
	return p;
}

static void test_ancestor(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 16);
	struct vg_proc *init = add_child(&t, 1, 0);
	struct vg_proc *sh = add_child(&t, 10, 1);
	struct vg_proc *cmd = add_child(&t, 20, 10);
	struct vg_proc *leaf = add_child(&t, 30, 20);

	assert_ptr_equal(proc_table_ancestor(&t, leaf, 0), leaf);
	assert_ptr_equal(proc_table_ancestor(&t, leaf, 1), cmd);
	assert_ptr_equal(proc_table_ancestor(&t, leaf, 2), sh);
	assert_ptr_equal(proc_table_ancestor(&t, leaf, 3), init);
	assert_null(proc_table_ancestor(&t, leaf, 4)); /* above init: ppid 0 */
	assert_null(proc_table_ancestor(&t, NULL, 1));

	/* a parent that exited (or was never seen) ends the chain */
	proc_table_remove(&t, 10);
	assert_ptr_equal(proc_table_ancestor(&t, leaf, 1), cmd);
	assert_null(proc_table_ancestor(&t, leaf, 2));
	assert_null(proc_table_ancestor(&t, leaf, 3));

	/* its own parent (pid 0's idle task, or a bad record) */
	struct vg_proc *self = add_child(&t, 50, 50);
	assert_null(proc_table_ancestor(&t, self, 1));
	proc_table_free(&t);
}

/* After pid reuse the table can hold a loop: the walk must still end. */
static void test_ancestor_loop(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 16);
	struct vg_proc *a = add_child(&t, 100, 200);
	struct vg_proc *b = add_child(&t, 200, 100);

	assert_ptr_equal(proc_table_ancestor(&t, a, 1), b);
	assert_ptr_equal(proc_table_ancestor(&t, a, 2), a);
	/* bounded at 4096 generations: an even count lands back on a */
	assert_ptr_equal(proc_table_ancestor(&t, a, 1000000), a);
	proc_table_free(&t);
}

/* ---- fields ---- */

static void test_set_args_env(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 4);
	struct vg_proc *p = proc_table_add(&t, 5);

	/* trailing NULs are dropped: args_len counts only separators between */
	proc_set_args(p, "ls\0-l\0\0", 7);
	assert_int_equal(p->args_len, 5);
	assert_memory_equal(p->args, "ls\0-l", 5);
	proc_set_args(p, "\0\0", 2);
	assert_null(p->args);
	assert_int_equal(p->args_len, 0);

	/* at most VG_ARGV_MAX bytes are kept */
	size_t big = VG_ARGV_MAX + 100;
	char *s = malloc(big);
	assert_non_null(s);
	memset(s, 'x', big);
	proc_set_args(p, s, big);
	assert_int_equal(p->args_len, VG_ARGV_MAX);
	proc_set_env(p, s, big);
	assert_int_equal(p->env_len, VG_ARGV_MAX);
	assert_int_equal(p->env[VG_ARGV_MAX], 0);
	free(s);

	/* an empty environment is known (""), unlike an unknown one (NULL) */
	proc_set_env(p, "", 0);
	assert_non_null(p->env);
	assert_string_equal(p->env, "");
	assert_int_equal(p->env_len, 0);
	proc_set_env(p, "A=1\0B=2\0", 8);
	assert_int_equal(p->env_len, 7);
	assert_memory_equal(p->env, "A=1\0B=2", 8);

	proc_set_exe(p, "/bin/ls");
	proc_set_exe(p, "/bin/cat");
	assert_string_equal(p->exe, "/bin/cat");
	proc_set_cwd(p, "/tmp");
	assert_string_equal(p->cwd, "/tmp");
	proc_table_free(&t);
}

static void test_inherit(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 4);
	struct vg_proc *parent = proc_table_add(&t, 1);
	proc_set_exe(parent, "/bin/sh");
	proc_set_cwd(parent, "/root");
	proc_set_args(parent, "sh\0-c\0", 6);
	parent->exe_ino = 1234;
	parent->exe_flags = VG_EXE_UPPER_LAYER;

	struct vg_proc *child = proc_table_add(&t, 2);
	proc_inherit(child, parent);
	assert_string_equal(child->exe, "/bin/sh");
	assert_string_equal(child->cwd, "/root");
	assert_int_equal(child->args_len, 5);
	assert_memory_equal(child->args, "sh\0-c", 5);
	assert_int_equal(child->exe_ino, 1234);
	assert_int_equal(child->exe_flags, VG_EXE_UPPER_LAYER);
	assert_null(child->env); /* the parent's is unknown: so is the child's */
	assert_true(child->exe != parent->exe); /* copies, not shared */

	proc_set_env(parent, "HOME=/root\0", 11);
	proc_inherit(child, parent);
	assert_non_null(child->env);
	assert_string_equal(child->env, "HOME=/root");
	proc_table_free(&t);
}

/* ---- JSON ---- */

static struct vg_proc *sample(struct vg_proc_table *t)
{
	struct vg_proc *p = proc_table_add(t, 4242);
	p->ppid = 1;
	p->vpid = 7;
	p->sid = 4242;
	p->tty = 136 << 20 | 3;
	p->uid = 1000;
	p->gid = 1001;
	p->euid = 2;
	p->egid = 3;
	p->loginuid = 1004;
	p->cgroup_id = 0x123456789abcull;
	memcpy(p->comm, "nginx: worker", 14);
	proc_set_exe(p, "/usr/sbin/nginx");
	proc_set_cwd(p, "/");
	proc_set_args(p, "nginx\0-g\0daemon off;\0", 22);
	p->exe_ino = 99;
	p->exe_flags = VG_EXE_MEMFD;
	p->start_ns = 123456789012345ull;
	return p;
}

static void assert_same_proc(const struct vg_proc *a, const struct vg_proc *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->ppid, b->ppid);
	assert_int_equal(a->vpid, b->vpid);
	assert_int_equal(a->sid, b->sid);
	assert_int_equal(a->tty, b->tty);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->euid, b->euid);
	assert_int_equal(a->egid, b->egid);
	assert_int_equal(a->loginuid, b->loginuid);
	assert_int_equal(a->cgroup_id, b->cgroup_id);
	assert_string_equal(a->comm, b->comm);
	assert_string_equal(a->exe, b->exe);
	assert_string_equal(a->cwd, b->cwd);
	assert_int_equal(a->args_len, b->args_len);
	assert_memory_equal(a->args, b->args, a->args_len);
	assert_int_equal(a->exe_ino, b->exe_ino);
	assert_int_equal(a->exe_flags, b->exe_flags);
	assert_int_equal(a->start_ns, b->start_ns);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	struct vg_proc_table src, dst;
	proc_table_init(&src, 4);
	proc_table_init(&dst, 4);
	struct vg_proc *p = sample(&src);

	char *json = proc_to_json(p);
	assert_non_null(json);
	assert_int_equal(proc_from_json(&dst, json, strlen(json)), 0);
	struct vg_proc *q = proc_table_get(&dst, 4242);
	assert_non_null(q);
	assert_same_proc(p, q);
	assert_null(q->env); /* not part of the record */
	free(json);
	proc_table_free(&src);
	proc_table_free(&dst);
}

/* What the fast parser refuses (whitespace, escapes, unknown keys) goes to
 * jansson, with the same result. */
static void test_json_general_parser(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 4);
	const char *fast = "{\"pid\":9,\"ppid\":1,\"comm\":\"a b\",\"exe\":\"/x\",\"args\":[\"x\",\"-y\"]}";
	const char *slow = "{ \"pid\": 9, \"ppid\": 1, \"future\": true, \"comm\": \"a\\u0020b\", "
			   "\"exe\": \"/x\", \"args\": [\"x\", \"-y\"] }";

	assert_int_equal(proc_from_json(&t, fast, strlen(fast)), 0);
	struct vg_proc *a = proc_table_get(&t, 9);
	assert_non_null(a);
	struct vg_proc copy = *a;
	char *exe = strdup(a->exe), *args = malloc(a->args_len);
	memcpy(args, a->args, a->args_len);
	copy.exe = exe;
	copy.args = args;
	copy.cwd = "";

	assert_int_equal(proc_from_json(&t, slow, strlen(slow)), 0);
	struct vg_proc *b = proc_table_get(&t, 9);
	assert_non_null(b);
	assert_same_proc(&copy, b);
	assert_string_equal(b->comm, "a b");
	assert_int_equal(b->args_len, 4); /* "x\0-y" */
	free(exe);
	free(args);
	proc_table_free(&t);
}

static void test_json_bad(void **state)
{
	(void)state;
	struct vg_proc_table t;
	proc_table_init(&t, 1);
	static const char *const bad[] = {
		"", "{}", "[]", "42", "{\"ppid\":1}", "{\"pid\":\"1\"}", "{\"pid\":1,\"pid\":2}", "{\"pid\":1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(proc_from_json(&t, bad[i], strlen(bad[i])), -1);
	assert_int_equal(t.map.count, 0);

	/* a full table is not bad input: refused and counted */
	assert_int_equal(proc_from_json(&t, "{\"pid\":1}", 9), 0);
	assert_int_equal(proc_from_json(&t, "{\"pid\":2}", 9), 0);
	assert_int_equal(t.map.count, 1);
	assert_int_equal(t.refused, 1);
	proc_table_free(&t);
}

/* ---- procfs ---- */

static char tmpdir[64];

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void link_to(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

static int setup_procfs(void **state)
{
	(void)state;
	/* /tmp, not $TMPDIR: the procfs root must fit the reader's short path buffers */
	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-proc-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_procfs(void **state)
{
	(void)state;
	return tmp_remove_tree(tmpdir);
}

static void test_load_procfs(void **state)
{
	(void)state;
	char dir[128], root[128], exe[128], bin[128];
	snprintf(dir, sizeof dir, "%s/4242", tmpdir);
	snprintf(root, sizeof root, "%s/rootfs", tmpdir);
	snprintf(bin, sizeof bin, "%s/rootfs/bin", tmpdir);
	snprintf(exe, sizeof exe, "%s/rootfs/bin/app", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(bin, 0755), 0);
	write_file(bin, "app", "", 0);

	/* comm with spaces and ')'; tty 34819 = pts (136) minor 3; starttime 500 ticks */
	const char *stat_line = "4242 (my (odd) comm) S 1 4242 4200 34819 4242 4194304 1 0 0 0 0 0 0 0 20 0 1 0 500 "
			   "1000 100\n";
	write_file(dir, "stat", stat_line, strlen(stat_line));
	const char *status = "Name:\tapp\nUid:\t1000\t0\t0\t0\nGid:\t1001\t5\t5\t5\nNSpid:\t4242\t17\n";
	write_file(dir, "status", status, strlen(status));
	write_file(dir, "loginuid", "1000", 4);
	write_file(dir, "cmdline", "app\0--flag\0", 11);
	link_to(dir, "root", root);
	link_to(dir, "exe", exe);
	link_to(dir, "cwd", root);

	struct vg_proc_table t;
	proc_table_init(&t, 4);
	assert_null(proc_table_load_procfs(&t, tmpdir, 999)); /* gone */
	assert_int_equal(t.map.count, 0);

	struct vg_proc *p = proc_table_load_procfs(&t, tmpdir, 4242);
	assert_non_null(p);
	assert_ptr_equal(proc_table_get(&t, 4242), p);
	assert_string_equal(p->comm, "my (odd) comm");
	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->sid, 4200);
	assert_int_equal(p->tty, 136u << 20 | 3);
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->euid, 0);
	assert_int_equal(p->gid, 1001);
	assert_int_equal(p->egid, 5);
	assert_int_equal(p->vpid, 17); /* the pid in its own namespace: the last NSpid */
	assert_int_equal(p->loginuid, 1000);
	long hz = sysconf(_SC_CLK_TCK);
	assert_true(hz > 0);
	assert_int_equal(p->start_ns, 500ull * (1000000000ull / (unsigned long long)hz));
	/* paths as the process sees them: its root taken off */
	assert_string_equal(p->exe, "/bin/app");
	assert_string_equal(p->cwd, "/");
	struct stat st;
	assert_int_equal(stat(exe, &st), 0);
	assert_int_equal(p->exe_ino, st.st_ino);
	assert_int_equal(p->args_len, 10);
	assert_memory_equal(p->args, "app\0--flag", 10);
	proc_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_remove),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_ancestor),
		cmocka_unit_test(test_ancestor_loop),
		cmocka_unit_test(test_set_args_env),
		cmocka_unit_test(test_inherit),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_general_parser),
		cmocka_unit_test(test_json_bad),
		cmocka_unit_test_setup_teardown(test_load_procfs, setup_procfs, teardown_procfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
