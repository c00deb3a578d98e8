/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for output/wal_checkpointer.c on a real SQLite file: the thread
 * copies the log into the database file while the writer goes on (a
 * checkpoint from a connection that has not read the database yet does
 * nothing at all: this fails then), and a writer that never pauses still
 * gets its log started over (without the writer's RESTART the log file
 * grows with every commit: this fails then). Waits are bounded and end on
 * what is seen, never after a fixed time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "output/wal_checkpointer.h"
#include "test_tmp.h"

struct fixture {
	char dir[64], path[128], wal[140];
	sqlite3 *db;
	sqlite3_stmt *ins;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vigil-walck.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/t.db", fx->dir);
	snprintf(fx->wal, sizeof(fx->wal), "%s-wal", fx->path);
	assert_int_equal(sqlite3_open(fx->path, &fx->db), SQLITE_OK);
	sqlite3_busy_timeout(fx->db, 5000);
	assert_int_equal(sqlite3_exec(fx->db,
				      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				      " CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB);",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(fx->db, "INSERT INTO t(body) VALUES (zeroblob(3000))", -1, &fx->ins, NULL),
			 SQLITE_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	sqlite3_finalize(fx->ins);
	sqlite3_close(fx->db);
	tmp_remove_tree(fx->dir);
	free(fx);
	return 0;
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : (int64_t)st.st_size;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One row (about a page) in a transaction of its own, as the stores commit. */
static void commit_one(struct fixture *fx, struct wal_checkpointer *c)
{
	assert_int_equal(sqlite3_exec(fx->db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_reset(fx->ins);
	assert_int_equal(sqlite3_step(fx->ins), SQLITE_DONE);
	assert_int_equal(sqlite3_exec(fx->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	wal_checkpointer_after_commit(c, fx->db);
}

static void test_copies_the_log(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct wal_checkpointer *c = wal_checkpointer_start(fx->db, fx->path, 1 << 30, 5000, err, sizeof(err));
	assert_non_null(c);
	int64_t before = file_size(fx->path);
	for (int i = 0; i < 300; i++)
		commit_one(fx, c);
	/* the writer's own checkpoints are off: only the thread can grow the database file */
	int64_t deadline = mono_ms() + 30000;
	while (file_size(fx->path) < before + 200 * 4096 && mono_ms() < deadline)
		usleep(10000);
	assert_true(file_size(fx->path) >= before + 200 * 4096);
	wal_checkpointer_stop(c);
}

static void test_log_starts_over(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct wal_checkpointer *c = wal_checkpointer_start(fx->db, fx->path, 64, 5000, err, sizeof(err));
	assert_non_null(c);
	/* commit without a pause until the log file has kept its size over 500 commits
	 * (the log was started over and is being written again from its beginning);
	 * a log of 256 MiB is a failure (the disk is not filled) */
	int64_t deadline = mono_ms() + 60000, last = -1;
	int same = 0, commits = 0;
	while (same < 500 && mono_ms() < deadline && last < (256 << 20)) {
		commit_one(fx, c);
		commits++;
		int64_t now = file_size(fx->wal);
		same = now == last ? same + 1 : 0;
		last = now;
	}
	/* without a restart every commit appends its pages (about 12 KiB here) to the file */
	if (same < 500)
		fail_msg("the log grew at every commit: %d commits, %lld bytes", commits, (long long)last);
	wal_checkpointer_stop(c);
}

static void test_not_wal(void **state)
{
	struct fixture *fx = *state;
	char err[256], path[160];
	sqlite3 *db;
	snprintf(path, sizeof(path), "%s/rollback.db", fx->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	assert_null(wal_checkpointer_start(db, path, 64, 5000, err, sizeof(err)));
	assert_non_null(strstr(err, "not in WAL mode"));
	wal_checkpointer_after_commit(NULL, db); /* nothing to do, no crash */
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copies_the_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_wal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
