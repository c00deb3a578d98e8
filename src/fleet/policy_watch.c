/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/policy_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define WATCH_KEYS 256 /* keys (pushes to distinct node globs) followed at once */

struct entry {
	char *key;
	struct policy_push push;
	bool bad; /* the value did not decode: logged once, never applied */
};

struct kind_state {
	char handed[POLICY_DIGEST_LEN]; /* the digest last handed to the agent ("" none) */
	bool handed_local;              /* the agent was told to go back to its own files */
	/* reported to the heartbeat */
	char running[POLICY_DIGEST_LEN]; /* what the agent runs from the fleet ("" its own files) */
	char refused[POLICY_DIGEST_LEN]; /* the last set refused, and why */
	char error[512];
	char next_start[POLICY_DIGEST_LEN]; /* a valid set that applies at the next start */
	uint64_t revision;
	char pushed_by[128];
	int64_t pushed_at;
};

struct policy_watch {
	struct fleet_conn *conn;
	char *dir;
	policy_apply_fn fn;
	void *ctx;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock; /* kinds[] status, for the agent's and heartbeat's threads */
	struct entry entries[WATCH_KEYS];
	size_t nentries;
	struct kind_state kinds[POLICY_KINDS];
	bool synced; /* the bucket's current values are all read */
};

static struct entry *find_entry(struct policy_watch *w, const char *key)
{
	for (size_t i = 0; i < w->nentries; i++)
		if (strcmp(w->entries[i].key, key) == 0)
			return &w->entries[i];
	return NULL;
}

static void drop_entry(struct policy_watch *w, struct entry *e)
{
	free(e->key);
	policy_push_free(&e->push);
	*e = w->entries[--w->nentries];
}

/* One value of the bucket: a push, a delete or a purge. */
static void take(struct policy_watch *w, kvEntry *ke)
{
	const char *key = kvEntry_Key(ke);
	struct entry *e = find_entry(w, key);
	char err[512];

	if (kvEntry_Operation(ke) != kvOp_Put) {
		if (e)
			drop_entry(w, e);
		return;
	}
	if (!e) {
		if (w->nentries == WATCH_KEYS) {
			vg_warn("central policy: more than %d keys in %s; %s ignored", WATCH_KEYS, POLICY_BUCKET, key);
			return;
		}
		e = &w->entries[w->nentries++];
		memset(e, 0, sizeof(*e));
		e->key = strdup(key);
	} else {
		policy_push_free(&e->push);
	}
	e->bad = policy_decode(kvEntry_Value(ke), (size_t)kvEntry_ValueLen(ke), &e->push, err, sizeof(err)) != 0;
	if (e->bad) {
		vg_warn("central policy: %s revision %llu refused: %s", key,
			(unsigned long long)kvEntry_Revision(ke), err);
		return;
	}
	e->push.revision = kvEntry_Revision(ke);
}

/* The newest good push of kind k whose glob names this node. */
static const struct policy_push *effective(struct policy_watch *w, enum policy_kind k)
{
	const struct policy_push *best = NULL;
	for (size_t i = 0; i < w->nentries; i++) {
		const struct policy_push *p = &w->entries[i].push;
		if (w->entries[i].bad || p->kind != k || fnmatch(p->nodes, fleet_node(w->conn), 0) != 0)
			continue;
		if (!best || p->revision > best->revision)
			best = p;
	}
	return best;
}

static void refuse(struct policy_watch *w, enum policy_kind k, const struct policy_push *p, const char *why)
{
	pthread_mutex_lock(&w->lock);
	snprintf(w->kinds[k].refused, sizeof(w->kinds[k].refused), "%s", p->digest);
	snprintf(w->kinds[k].error, sizeof(w->kinds[k].error), "%s", why);
	pthread_mutex_unlock(&w->lock);
	vg_err("central policy: %s %s (revision %llu, pushed by %s) refused: %s", policy_kind_name(k),
	       p->digest, (unsigned long long)p->revision, p->pushed_by, why);
}

/* After every change: hand the agent each kind whose effective push changed. */
static void evaluate(struct policy_watch *w)
{
	for (int k = 0; k < POLICY_KINDS; k++) {
		struct kind_state *ks = &w->kinds[k];
		const struct policy_push *p = effective(w, k);
		char *paths[POLICY_MAX_FILES] = { 0 };
		char err[1024];

		if (!p) {
			if (ks->handed[0] && !ks->handed_local) {
				ks->handed_local = true;
				ks->handed[0] = '\0';
				vg_info("central policy: no %s pushed for node %s any more: back to its own files",
					policy_kind_name(k), fleet_node(w->conn));
				w->fn(w->ctx, k, NULL, NULL, 0, false);
			}
			continue;
		}
		if (strcmp(ks->handed, p->digest) == 0)
			continue;
		snprintf(ks->handed, sizeof(ks->handed), "%s", p->digest);
		ks->handed_local = false;
		pthread_mutex_lock(&w->lock);
		ks->revision = p->revision;
		snprintf(ks->pushed_by, sizeof(ks->pushed_by), "%s", p->pushed_by);
		ks->pushed_at = p->pushed_at;
		pthread_mutex_unlock(&w->lock);
		if (policy_materialize(p, w->dir, paths, err, sizeof(err))) {
			refuse(w, k, p, err);
			continue;
		}
		/* validated again here: what a node applies is what it checked itself */
		if (policy_validate(k, (const char *const *)paths, p->nfiles, p->defaults, err, sizeof(err)))
			refuse(w, k, p, err);
		else
			w->fn(w->ctx, k, p->digest, (const char *const *)paths, p->nfiles, p->defaults);
		for (size_t i = 0; i < p->nfiles; i++)
			free(paths[i]);
	}
}

static void *watch_thread(void *arg)
{
	struct policy_watch *w = arg;
	unsigned backoff_ms = 250;

	while (!atomic_load(&w->stop)) {
		kvStore *kv = NULL;
		kvWatcher *kw = NULL;
		char err[512];
		natsStatus s = NATS_OK;

		if (!fleet_conn_up(w->conn) || policy_bucket(w->conn, &kv, err, sizeof(err)) ||
		    kvStore_WatchAll(&kw, kv, NULL) != NATS_OK) {
			if (kv && !kw)
				vg_debug("central policy: cannot watch %s yet", POLICY_BUCKET);
			kvStore_Destroy(kv);
			for (unsigned slept = 0; slept < backoff_ms && !atomic_load(&w->stop); slept += 50)
				usleep(50 * 1000);
			backoff_ms = backoff_ms < 8000 ? backoff_ms * 2 : 8000;
			continue;
		}
		backoff_ms = 250;
		/* a new watch delivers every current value again: start from a clean slate */
		while (w->nentries)
			drop_entry(w, &w->entries[0]);
		w->synced = false;
		while (!atomic_load(&w->stop)) {
			kvEntry *e = NULL;
			s = kvWatcher_Next(&e, kw, 500);
			if (s == NATS_TIMEOUT)
				continue;
			if (s != NATS_OK)
				break;
			if (!e) { /* the current values are all delivered */
				w->synced = true;
				evaluate(w);
				continue;
			}
			take(w, e);
			kvEntry_Destroy(e);
			if (w->synced)
				evaluate(w);
		}
		if (s != NATS_OK && !atomic_load(&w->stop))
			vg_debug("central policy: watch ended (%s); watching again", natsStatus_GetText(s));
		kvWatcher_Destroy(kw);
		kvStore_Destroy(kv);
	}
	return NULL;
}

struct policy_watch *policy_watch_start(struct fleet_conn *c, const char *dir, policy_apply_fn fn,
					void *ctx, char *err, size_t errlen)
{
	struct policy_watch *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "central policy directory %s: %s", dir, strerror(errno));
		free(w);
		return NULL;
	}
	w->conn = c;
	w->dir = strdup(dir);
	w->fn = fn;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	for (int k = 0; k < POLICY_KINDS; k++) {
		char **paths = NULL;
		size_t n = 0;
		bool defaults;
		/* what the agent started with from the cache counts as handed: no second apply */
		if (policy_cached(dir, k, &paths, &n, w->kinds[k].handed, &defaults) == 0) {
			memcpy(w->kinds[k].running, w->kinds[k].handed, sizeof(w->kinds[k].running));
			for (size_t i = 0; i < n; i++)
				free(paths[i]);
			free(paths);
		}
	}
	if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
		snprintf(err, errlen, "central policy: cannot start its thread");
		free(w->dir);
		free(w);
		return NULL;
	}
	return w;
}

void policy_watch_stop(struct policy_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	while (w->nentries)
		drop_entry(w, &w->entries[0]);
	pthread_mutex_destroy(&w->lock);
	free(w->dir);
	free(w);
}

void policy_watch_report(struct policy_watch *w, enum policy_kind k, const char *digest,
			 enum policy_outcome outcome, const char *why)
{
	struct kind_state *ks;

	if (!w || k >= POLICY_KINDS)
		return;
	ks = &w->kinds[k];
	pthread_mutex_lock(&w->lock);
	switch (outcome) {
	case POLICY_APPLIED:
		snprintf(ks->running, sizeof(ks->running), "%s", digest ? digest : "");
		ks->refused[0] = ks->error[0] = ks->next_start[0] = '\0';
		break;
	case POLICY_REFUSED:
		snprintf(ks->refused, sizeof(ks->refused), "%s", digest ? digest : "");
		snprintf(ks->error, sizeof(ks->error), "%s", why ? why : "refused");
		break;
	case POLICY_NEXT_START:
		snprintf(ks->next_start, sizeof(ks->next_start), "%s", digest ? digest : "");
		ks->refused[0] = ks->error[0] = '\0';
		break;
	}
	pthread_mutex_unlock(&w->lock);
}

void policy_watch_status_json(struct policy_watch *w, struct vg_buf *b)
{
	struct vg_json j;

	jw_init(&j, b);
	jw_obj_begin(&j, NULL);
	pthread_mutex_lock(&w->lock);
	for (int k = 0; k < POLICY_KINDS; k++) {
		struct kind_state *ks = &w->kinds[k];
		jw_obj_begin(&j, policy_kind_name(k));
		jw_str(&j, "source", ks->running[0] ? "fleet" : "local");
		jw_str(&j, "digest", ks->running);
		if (ks->running[0]) {
			jw_uint(&j, "revision", ks->revision);
			jw_str(&j, "pushed_by", ks->pushed_by);
			jw_int(&j, "pushed_at", ks->pushed_at);
		}
		if (ks->next_start[0])
			jw_str(&j, "next_start", ks->next_start);
		if (ks->refused[0]) {
			jw_str(&j, "refused", ks->refused);
			jw_str(&j, "error", ks->error);
		}
		jw_obj_end(&j);
	}
	pthread_mutex_unlock(&w->lock);
	jw_obj_end(&j);
}

/* A small file whole (at most len - 1 bytes), NUL-terminated. */
static int read_small(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t r;
	if (fd < 0)
		return -1;
	r = read(fd, out, len - 1);
	close(fd);
	if (r <= 0)
		return -1;
	out[r] = '\0';
	return 0;
}

/*
 * dir/<kind>/current: the digest, "defaults" or "no-defaults", then the set's
 * file names in their order, one per line (names hold no control characters).
 */
int policy_cached(const char *dir, enum policy_kind k, char ***paths, size_t *n,
		  char digest[POLICY_DIGEST_LEN], bool *defaults)
{
	char path[4096], text[16384], *line, *save = NULL;
	struct policy_push p = { .kind = k };
	size_t i;

	*paths = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s/current", dir, policy_kind_name(k));
	if (read_small(path, text, sizeof(text)))
		return -1;
	line = strtok_r(text, "\n", &save);
	if (!line || strncmp(line, "sha256:", 7) != 0 || strlen(line) != 71)
		return -1;
	snprintf(digest, POLICY_DIGEST_LEN, "%s", line);
	line = strtok_r(NULL, "\n", &save);
	*defaults = line && strcmp(line, "defaults") == 0;
	*paths = calloc(POLICY_MAX_FILES, sizeof(char *));
	if (!*paths)
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) && *n < POLICY_MAX_FILES) {
		snprintf(path, sizeof(path), "%s/%s/%s/%s", dir, policy_kind_name(k), digest + 7, line);
		(*paths)[(*n)++] = strdup(path);
	}
	/* the files must still be the ones the digest names */
	for (i = 0; i < *n; i++) {
		char err[256];
		const char *one[1] = { (*paths)[i] };
		if (policy_read_files(&p, one, 1, err, sizeof(err)))
			break;
	}
	if (i == *n && *n > 0) {
		char check[POLICY_DIGEST_LEN];
		policy_digest(p.files, p.nfiles, *defaults, check);
		if (strcmp(check, digest) == 0) {
			policy_push_free(&p);
			return 0;
		}
		vg_warn("central policy: the cached %s set %s was changed on disk; not used",
			policy_kind_name(k), digest);
	}
	policy_push_free(&p);
	for (i = 0; i < *n; i++)
		free((*paths)[i]);
	free(*paths);
	*paths = NULL;
	*n = 0;
	return -1;
}

int policy_set_current(const char *dir, enum policy_kind k, const char *digest,
		       const char *const *paths, size_t n, bool defaults)
{
	char path[4096], tmp[4200];
	struct vg_buf b = { 0 };
	int fd, rc = -1;

	buf_printf(&b, "%s\n%s\n", digest, defaults ? "defaults" : "no-defaults");
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');
		buf_printf(&b, "%s\n", base ? base + 1 : paths[i]);
	}
	snprintf(path, sizeof(path), "%s/%s/current", dir, policy_kind_name(k));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (write(fd, b.data, b.len) == (ssize_t)b.len && fsync(fd) == 0 && close(fd) == 0)
			rc = rename(tmp, path);
		else
			close(fd);
	}
	buf_free(&b);
	return rc;
}
