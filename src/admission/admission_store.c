/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include "admission/admission_store.h"
#include "common/buf.h"
#include "policy/finding.h"

struct admission_store {
	sqlite3 *db;
	sqlite3_stmt *q;
	pthread_mutex_t mu; /* one prepared statement, used by one request at a time */
};

struct admission_store *admission_store_open(const char *path, char *err, size_t errlen)
{
	struct admission_store *s = xcalloc(1, sizeof(*s));
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT critical, high, medium, low FROM image_scans WHERE digest = ?1",
			       -1, &s->q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open scan results %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 1000); /* the scanner may be writing */
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void admission_store_close(struct admission_store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->q);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int admission_store_max_severity(struct admission_store *s, const char *digest, int *max, char *err,
				 size_t errlen)
{
	int rc;
	pthread_mutex_lock(&s->mu);
	sqlite3_reset(s->q);
	sqlite3_bind_text(s->q, 1, digest, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(s->q);
	if (step == SQLITE_ROW) {
		static const int sev[] = { SEV_CRITICAL, SEV_HIGH, SEV_MEDIUM, SEV_LOW };
		*max = -1;
		for (int i = 0; i < 4; i++)
			if (sqlite3_column_int64(s->q, i) > 0) {
				*max = sev[i];
				break;
			}
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		snprintf(err, errlen, "cannot read scan results: %s", sqlite3_errmsg(s->db));
		rc = -1;
	}
	sqlite3_reset(s->q);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
