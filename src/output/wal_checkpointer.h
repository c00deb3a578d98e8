/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_OUTPUT_WAL_CHECKPOINTER_H
#define VIGIL_OUTPUT_WAL_CHECKPOINTER_H

#include <sqlite3.h>
#include <stddef.h>

/*
 * Checkpoints of a WAL database off its writer's commits. A thread with a
 * connection of its own copies the log into the database file every
 * WAL_CHECKPOINT_EVERY_MS (PASSIVE: it never waits for the writer), so a
 * commit does not pay for that copy and its fsync: on a busy hub a whole
 * checkpoint in the committing thread held commits up to a second.
 *
 * The log starts over from its beginning only when a write begins after a
 * checkpoint that copied all of it and no reader still uses it, which a
 * thread beside a writer that never pauses never sees (with that thread
 * alone, a hub's log grew to 1.2 GB while it took 200,000 alerts). So when
 * the thread finds the log longer than restart_frames pages
 * (WAL_RESTART_FRAMES), the writer's next commit finishes the job
 * (wal_checkpointer_after_commit): a RESTART checkpoint, which has only the
 * pages of the last moments left to copy and waits for the readers of the
 * old ones; the next write then starts the log over. The log file stays
 * near restart_frames pages plus what a busy writer adds in a period (94 MB
 * for that hub).
 */
#define WAL_CHECKPOINT_EVERY_MS 200
#define WAL_RESTART_FRAMES 8192
/* ... when the thread's pass left at most this many pages for it (or the log is four
 * times too long): a restart that copies much holds commits (200 ms after a drain) */
#define WAL_RESTART_LEFT_FRAMES 1024

struct wal_checkpointer;

/* How long the writer's restart waits for other connections (then it is asked again later). */
#define WAL_RESTART_WAIT_MS 20

/*
 * Start on writer's database (at path, through a connection of its own) and
 * turn writer's automatic checkpoints off; writer_busy_ms: writer's busy
 * timeout, put back after each restart. NULL with err when it cannot: the
 * writer then checkpoints by itself every restart_frames pages.
 */
struct wal_checkpointer *wal_checkpointer_start(sqlite3 *writer, const char *path, int restart_frames,
					       int writer_busy_ms, char *err, size_t errlen);
/* After each commit on writer (any c, NULL included). */
void wal_checkpointer_after_commit(struct wal_checkpointer *c, sqlite3 *writer);
/* Stop and join the thread (NULL: nothing). */
void wal_checkpointer_stop(struct wal_checkpointer *c);

#endif
