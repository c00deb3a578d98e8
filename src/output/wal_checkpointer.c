/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "output/wal_checkpointer.h"

struct wal_checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	int restart_frames, writer_busy_ms;
	int restart_due; /* the thread found the log too long: the writer's next commit restarts it */
};

static void *checkpoint_loop(void *arg)
{
	struct wal_checkpointer *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WAL_CHECKPOINT_EVERY_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		if (c->stopping)
			break;
		pthread_mutex_unlock(&c->lock);
		int log = 0, copied = 0;
		/* PASSIVE: copies what no reader needs, never waits for the writer */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
		/* the writer's restart copies what is left: when this pass left much (a writer
		 * faster than the copy), later, unless the log is four times too long already */
		if (log > c->restart_frames &&
		    (log - copied <= WAL_RESTART_LEFT_FRAMES || log > 4 * c->restart_frames))
			__atomic_store_n(&c->restart_due, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static bool in_wal_mode(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool wal = false;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && !strcmp(mode, "wal");
	}
	sqlite3_finalize(st);
	return wal;
}

struct wal_checkpointer *wal_checkpointer_start(sqlite3 *writer, const char *path, int restart_frames,
					       int writer_busy_ms, char *err, size_t errlen)
{
	char sql[64];
	sqlite3 *db = NULL;
	struct wal_checkpointer *c = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s for checkpoints: %s", path, db ? sqlite3_errmsg(db) : "no memory");
		goto alone;
	}
	sqlite3_busy_timeout(db, 100);
	/* a new connection learns that the database is in WAL mode only when it reads it:
	 * until then its checkpoints do nothing at all */
	if (!in_wal_mode(db)) {
		snprintf(err, errlen, "%s is not in WAL mode (or cannot be read): %s", path, sqlite3_errmsg(db));
		goto alone;
	}
	c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->restart_frames = restart_frames;
	c->writer_busy_ms = writer_busy_ms;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (pthread_create(&c->thread, NULL, checkpoint_loop, c)) {
		snprintf(err, errlen, "cannot start the checkpoints of %s: no thread", path);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c);
		goto alone;
	}
	sqlite3_exec(writer, "PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL);
	return c;
alone:
	sqlite3_close(db);
	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%d;", restart_frames);
	sqlite3_exec(writer, sql, NULL, NULL, NULL);
	return NULL;
}

void wal_checkpointer_after_commit(struct wal_checkpointer *c, sqlite3 *writer)
{
	if (!c || !__atomic_load_n(&c->restart_due, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&c->restart_due, 0, __ATOMIC_RELAXED);
	/* briefly: the store's other writers (the outbox's cursors) and readers hold the
	 * commit back meanwhile; busy (or the thread's pass running), the thread asks again */
	sqlite3_busy_timeout(writer, WAL_RESTART_WAIT_MS);
	sqlite3_wal_checkpoint_v2(writer, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	sqlite3_busy_timeout(writer, c->writer_busy_ms);
}

void wal_checkpointer_stop(struct wal_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	sqlite3_close(c->db);
	free(c);
}
