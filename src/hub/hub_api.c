/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/libmhd.h"
#include "common/listen_addr.h"
#include "common/log.h"
#include "common/version.h"
#include "engine/ruleset.h"
#include "fleet/nats_conn.h"
#include "hub/hub_api.h"
#include "hub/hub_api_int.h"

/* ---- tokens ---- */

#define TOKEN_MIN 16
#define TOKEN_MAX 256
#define TOKENS_MAX 1024

struct token {
	unsigned char digest[SHA256_DIGEST_LENGTH];
	enum hub_role role;
	char name[64];
};

struct hub_tokens {
	struct token *t;
	size_t n;
};

void hub_tokens_free(struct hub_tokens *t)
{
	if (t) {
		OPENSSL_cleanse(t->t, t->n * sizeof(*t->t));
		free(t->t);
		free(t);
	}
}

size_t hub_tokens_count(const struct hub_tokens *t)
{
	return t ? t->n : 0;
}

struct hub_tokens *hub_tokens_parse(const char *text, size_t len, const char *path, char *err, size_t errlen)
{
	struct hub_tokens *t = xcalloc(1, sizeof(*t));
	const char *p = text, *end = text + len;
	for (unsigned line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char buf[512];
		size_t l = (size_t)(le - p);
		if (l >= sizeof(buf)) {
			snprintf(err, errlen, "%s:%u: line too long", path, line);
			goto bad;
		}
		memcpy(buf, p, l);
		buf[l] = 0;
		p = nl ? nl + 1 : end;
		if (memchr(buf, 0, l)) {
			snprintf(err, errlen, "%s:%u: NUL byte", path, line);
			goto bad;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *save, *tok = strtok_r(buf, " \t\r", &save);
		if (!tok)
			continue;
		char *role = strtok_r(NULL, " \t\r", &save), *name = strtok_r(NULL, " \t\r", &save);
		if (strtok_r(NULL, " \t\r", &save)) {
			snprintf(err, errlen, "%s:%u: expected 'TOKEN ROLE [NAME]'", path, line);
			goto bad;
		}
		size_t tl = strlen(tok);
		if (tl < TOKEN_MIN || tl > TOKEN_MAX) {
			snprintf(err, errlen, "%s:%u: a token has %d to %d characters", path, line, TOKEN_MIN, TOKEN_MAX);
			goto bad;
		}
		for (size_t i = 0; i < tl; i++)
			if (!isgraph((unsigned char)tok[i])) {
				snprintf(err, errlen, "%s:%u: a token is printable characters", path, line);
				goto bad;
			}
		enum hub_role r = !role ? HUB_ROLE_NONE : !strcmp(role, "viewer") ? HUB_ROLE_VIEWER
							 : !strcmp(role, "responder") ? HUB_ROLE_RESPONDER
										       : HUB_ROLE_NONE;
		if (r == HUB_ROLE_NONE) {
			snprintf(err, errlen, "%s:%u: role '%s' is not viewer or responder", path, line, role ? role : "");
			goto bad;
		}
		if (t->n == TOKENS_MAX) {
			snprintf(err, errlen, "%s:%u: more than %d tokens", path, line, TOKENS_MAX);
			goto bad;
		}
		t->t = xrealloc(t->t, (t->n + 1) * sizeof(*t->t));
		struct token *k = &t->t[t->n++];
		SHA256((const unsigned char *)tok, tl, k->digest);
		k->role = r;
		snprintf(k->name, sizeof(k->name), "%s", name ? name : "");
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	if (!t->n) {
		snprintf(err, errlen, "%s: no token", path);
		goto bad;
	}
	return t;
bad:
	hub_tokens_free(t);
	return NULL;
}

struct hub_tokens *hub_tokens_load(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) || st.st_size > 1 << 20) {
		snprintf(err, errlen, "%s: not a readable file of at most 1 MiB", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 007)
		vg_warn("%s is readable by others: tokens are secrets (chmod 600)", path);
	char *b = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read(fd, b, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(b);
		return NULL;
	}
	struct hub_tokens *t = hub_tokens_parse(b, (size_t)n, path, err, errlen);
	OPENSSL_cleanse(b, (size_t)n);
	free(b);
	return t;
}

enum hub_role hub_tokens_check(const struct hub_tokens *t, const char *token, const char **name)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	enum hub_role role = HUB_ROLE_NONE;
	if (!t || !token)
		return HUB_ROLE_NONE;
	SHA256((const unsigned char *)token, strlen(token), d);
	for (size_t i = 0; i < t->n; i++) {
		/* every entry is compared; a match is kept without branching out of the loop */
		int eq = CRYPTO_memcmp(d, t->t[i].digest, sizeof(d)) == 0;
		if (eq && role == HUB_ROLE_NONE) {
			role = t->t[i].role;
			if (name)
				*name = t->t[i].name;
		}
	}
	return role;
}

/* ---- queries ---- */

static int parse_time_arg(const char *v, int64_t *out)
{
	char *end;
	if (*v && isdigit((unsigned char)*v)) {
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (!*end && !errno && n >= 0) {
			*out = n;
			return 0;
		}
	}
	int64_t t = hub_parse_time(v);
	if (t < 0)
		return -1;
	*out = t;
	return 0;
}

int hub_api_parse_query(enum hub_table table, const char *const *keys, const char *const *vals, size_t n,
			struct hub_query *q, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->table = table;
	q->prio_most = q->prio_least = -1;
	q->limit = HUB_LIMIT_DEFAULT;
	static const char *const names[] = { "node", "cluster", "namespace", "pod", "container", "image",
					     "rule", "priority", "priority_at_most", "since", "until",
					     "limit", "cursor", "action", "outcome", "tactic", "technique" };
	enum { N_NAMES = sizeof(names) / sizeof(*names) };
	/* which parameters each table takes (bit i: names[i]) */
	static const unsigned takes[] = {
		[HUB_T_ALERTS] = 0x1fff | 0x8000 | 0x10000,
		[HUB_T_ACTIONS] = 0x1 | 0x2 | 0x10 | 0x40 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x4000,
		[HUB_T_LOSSES] = 0x1 | 0x2 | 0x200 | 0x400 | 0x800 | 0x1000,
	};
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = keys[i], *v = vals[i] ? vals[i] : "";
		int idx = -1;
		for (int j = 0; j < N_NAMES; j++)
			if (k && !strcmp(k, names[j]))
				idx = j;
		if (idx < 0 || !(takes[table] & (1u << idx))) {
			snprintf(err, errlen, "unknown parameter '%.64s'", k ? k : "");
			return -1;
		}
		if (seen & (1u << idx)) {
			snprintf(err, errlen, "parameter '%s' given twice", k);
			return -1;
		}
		seen |= 1u << idx;
		if (strlen(v) > 512 || !*v) {
			snprintf(err, errlen, "parameter '%s' needs a value of at most 512 bytes", k);
			return -1;
		}
		char *end;
		switch (idx) {
		case 0:
		case 1:
			if (!fleet_name_valid(v)) {
				snprintf(err, errlen, "%s must be 1 to 64 of A-Z a-z 0-9 - _", k);
				return -1;
			}
			*(idx ? &q->cluster : &q->node) = v;
			break;
		case 2: q->ns = v; break;
		case 3: q->pod = v; break;
		case 4: q->container = v; break;
		case 5: q->image = v; break;
		case 6: q->rule = v; break;
		case 7:
		case 8: {
			int p = priority_parse(v);
			if (p < 0) {
				snprintf(err, errlen, "%s must be emergency, alert, critical, error, warning, notice, "
						      "informational or debug", k);
				return -1;
			}
			*(idx == 7 ? &q->prio_most : &q->prio_least) = p;
			break;
		}
		case 9:
		case 10:
			if (parse_time_arg(v, idx == 9 ? &q->since_ns : &q->until_ns)) {
				snprintf(err, errlen, "%s must be a UTC time (2026-11-28T14:00:00Z) or ns since the epoch", k);
				return -1;
			}
			break;
		case 11:
			errno = 0;
			q->limit = strtol(v, &end, 10);
			if (*end || errno || q->limit < 1 || q->limit > HUB_LIMIT_MAX) {
				snprintf(err, errlen, "limit must be 1 to %d", HUB_LIMIT_MAX);
				return -1;
			}
			break;
		case 12:
			errno = 0;
			q->after_id = strtoll(v, &end, 10);
			if (*end || errno || q->after_id < 0 || !isdigit((unsigned char)*v)) {
				snprintf(err, errlen, "cursor must be a next_cursor the API returned");
				return -1;
			}
			break;
		case 13: q->action = v; break;
		case 14: q->outcome = v; break;
		case 15: {
			/* a MITRE ATT&CK tactic as Falco's tags spell it: mitre_<name>, the prefix optional */
			const char *t = strncmp(v, "mitre_", 6) ? v : v + 6;
			size_t tl = strlen(t);
			bool ok = tl >= 1 && tl <= 64;
			for (size_t x = 0; ok && x < tl; x++)
				ok = islower((unsigned char)t[x]) || t[x] == '_';
			if (!ok) {
				snprintf(err, errlen, "tactic must be a MITRE tactic as tagged (execution, mitre_persistence, ...)");
				return -1;
			}
			snprintf(q->tactic_tag, sizeof(q->tactic_tag), "mitre_%.64s", t);
			q->tactic = q->tactic_tag;
			break;
		}
		case 16: {
			/* T1234 or T1234.567: the technique with or without a sub-technique */
			size_t tl = strlen(v);
			bool ok = (tl == 5 || tl == 9) && v[0] == 'T';
			for (size_t x = 1; ok && x < tl; x++)
				ok = x == 5 ? v[x] == '.' : isdigit((unsigned char)v[x]) != 0;
			if (!ok) {
				snprintf(err, errlen, "technique must be T1234 or T1234.567");
				return -1;
			}
			q->technique = v;
			break;
		}
		}
	}
	if (q->prio_most >= 0 && q->prio_least >= 0 && q->prio_least < q->prio_most) {
		snprintf(err, errlen, "priority is more severe than priority_at_most: no alert can match");
		return -1;
	}
	if (q->since_ns && q->until_ns && q->until_ns <= q->since_ns) {
		snprintf(err, errlen, "until must be after since");
		return -1;
	}
	return 0;
}

/* ---- the server ---- */

struct hub_store *hub_api_store_get(struct hub_api *a)
{
	pthread_mutex_lock(&a->mu);
	while (!a->npool)
		pthread_cond_wait(&a->cv, &a->mu);
	struct hub_store *s = a->pool[--a->npool];
	pthread_mutex_unlock(&a->mu);
	return s;
}

void hub_api_store_put(struct hub_api *a, struct hub_store *s)
{
	pthread_mutex_lock(&a->mu);
	a->pool[a->npool++] = s;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

enum MHD_Result hub_api_respond(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
				size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil-hub\"");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result hub_api_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "error", msg);
	jw_obj_end(&j);
	enum MHD_Result r = hub_api_respond(c, status, "application/json", b.data, b.len);
	buf_free(&b);
	return r;
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct hub_args *a = cls;
	(void)kind;
	if (a->n == HUB_API_MAX_ARGS) {
		a->overflow = true;
		return MHD_NO;
	}
	a->k[a->n] = key;
	a->v[a->n++] = value;
	return MHD_YES;
}

int64_t hub_api_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

static void status_json(struct hub_api *a, struct vg_buf *b)
{
	const struct hub_stats *st = a->o->stats;
	struct vg_json j;
	jw_init(&j, b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "version", VIGIL_VERSION);
	jw_int(&j, "uptime_s", (hub_api_now_ns() - st->started_ns) / 1000000000LL);
	jw_obj_begin(&j, "stored");
	static const char *const kinds[] = { "alerts", "actions", "losses", "heartbeats" };
	for (int i = 0; i < 4; i++)
		jw_uint(&j, kinds[i], GET(st->stored[i]));
	jw_obj_end(&j);
	jw_uint(&j, "duplicates", GET(st->duplicates));
	jw_obj_begin(&j, "rejected");
	for (int i = 1; i < HUB_REJ__N; i++)
		jw_uint(&j, hub_reject_name(i), GET(st->rejected[i]));
	jw_obj_end(&j);
	jw_uint(&j, "batches", GET(st->batches));
	jw_uint(&j, "fetches", GET(st->fetches));
	jw_uint(&j, "commit_failures", GET(st->commit_failures));
	jw_uint(&j, "fetch_errors", GET(st->fetch_errors));
	hub_flows_status_json(&j, st);
	jw_uint(&j, "api_requests", GET(a->requests));
	jw_uint(&j, "api_unauthorized", GET(a->unauthorized));
	jw_obj_end(&j);
}

static void metrics_text(struct hub_api *a, struct vg_buf *b)
{
	const struct hub_stats *st = a->o->stats;
	static const char *const kinds[] = { "alert", "action", "loss", "heartbeat" };
	buf_adds(b, "# HELP vigil_hub_ingested_total Records stored, by kind.\n# TYPE vigil_hub_ingested_total counter\n");
	for (int i = 0; i < 4; i++)
		buf_printf(b, "vigil_hub_ingested_total{kind=\"%s\"} %llu\n", kinds[i], (unsigned long long)GET(st->stored[i]));
	buf_printf(b, "# HELP vigil_hub_duplicates_total Redelivered records that were already stored.\n"
		      "# TYPE vigil_hub_duplicates_total counter\nvigil_hub_duplicates_total %llu\n",
		   (unsigned long long)GET(st->duplicates));
	buf_adds(b, "# HELP vigil_hub_rejected_total Messages refused (term-acked), by reason.\n"
		    "# TYPE vigil_hub_rejected_total counter\n");
	for (int i = 1; i < HUB_REJ__N; i++)
		buf_printf(b, "vigil_hub_rejected_total{reason=\"%s\"} %llu\n", hub_reject_name(i),
			   (unsigned long long)GET(st->rejected[i]));
	buf_printf(b, "# HELP vigil_hub_commit_failures_total Store commits that failed (batch redelivered).\n"
		      "# TYPE vigil_hub_commit_failures_total counter\nvigil_hub_commit_failures_total %llu\n",
		   (unsigned long long)GET(st->commit_failures));
	hub_flows_metrics_text(b, st);
}

int hub_args_take(const struct hub_args *args, const char *const *keys, const char **vals, char *err, size_t errlen)
{
	if (args->overflow) {
		snprintf(err, errlen, "too many parameters");
		return -1;
	}
	for (size_t i = 0; i < args->n; i++) {
		const char *k = args->k[i], *v = args->v[i] ? args->v[i] : "";
		int ki = -1;
		for (int j = 0; keys[j]; j++)
			if (!strcmp(k, keys[j]))
				ki = j;
		if (ki < 0) {
			snprintf(err, errlen, "unknown parameter '%.64s'", k);
			return -1;
		}
		if (vals[ki]) {
			snprintf(err, errlen, "parameter '%s' given twice", k);
			return -1;
		}
		if (!*v || strlen(v) > 256) {
			snprintf(err, errlen, "parameter '%s' needs a value of 1 to 256 bytes", k);
			return -1;
		}
		vals[ki] = v;
	}
	return 0;
}

static enum MHD_Result serve_store(struct hub_api *a, struct MHD_Connection *c, const char *url,
				   const struct hub_args *argp)
{
	static const struct { const char *path; enum hub_table t; } lists[] = {
		{ "/api/v1/alerts", HUB_T_ALERTS }, { "/api/v1/actions", HUB_T_ACTIONS }, { "/api/v1/losses", HUB_T_LOSSES },
	};
	const struct hub_args args = *argp;
	struct vg_buf b = { 0 };
	enum MHD_Result r;
	for (size_t i = 0; i < 3; i++) {
		size_t pl = strlen(lists[i].path);
		if (strncmp(url, lists[i].path, pl) || (url[pl] && url[pl] != '/'))
			continue;
		struct hub_query q;
		char err[256];
		const char *uuid = url[pl] == '/' ? url + pl + 1 : NULL;
		if (uuid) {
			size_t ul = strlen(uuid);
			bool ok = ul >= 8 && ul <= HUB_UUID_MAX && args.n == 0;
			for (size_t k = 0; ok && k < ul; k++)
				ok = isalnum((unsigned char)uuid[k]) || uuid[k] == '-' || uuid[k] == '_';
			if (!ok)
				return INC(a->bad), hub_api_error(c, MHD_HTTP_BAD_REQUEST, "not a record id (8 to 64 of A-Z a-z 0-9 - _, no parameters)");
			hub_api_parse_query(lists[i].t, NULL, NULL, 0, &q, err, sizeof(err));
			q.uuid = uuid;
		} else if (hub_api_parse_query(lists[i].t, args.k, args.v, args.n, &q, err, sizeof(err)))
			return INC(a->bad), hub_api_error(c, MHD_HTTP_BAD_REQUEST, err);
		struct hub_store *s = hub_api_store_get(a);
		/* the MITRE filters read each alert's tags: bounded (docs/console.md) */
		bool bounded = q.tactic || q.technique;
		if (bounded)
			hub_store_set_budget(s, HUB_API_SCAN_BUDGET);
		long n = hub_store_query(s, &q, &b);
		bool over = bounded && hub_store_over_budget(s);
		if (bounded)
			hub_store_set_budget(s, 0);
		if (n < 0) {
			if (!over)
				vg_err("hub api: %s", hub_store_error(s));
			hub_api_store_put(a, s);
			buf_free(&b);
			return over ? hub_api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, HUB_API_SCAN_MSG)
				    : hub_api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
		}
		hub_api_store_put(a, s);
		if (uuid && !n)
			r = hub_api_error(c, MHD_HTTP_NOT_FOUND, "no such record");
		else
			r = hub_api_respond(c, MHD_HTTP_OK, "application/json", b.data, b.len);
		buf_free(&b);
		return r;
	}
	if (!strcmp(url, "/api/v1/nodes") || !strcmp(url, "/api/v1/status") || !strcmp(url, "/metrics")) {
		if (args.n)
			return INC(a->bad), hub_api_error(c, MHD_HTTP_BAD_REQUEST, "this route takes no parameters");
		if (!strcmp(url, "/api/v1/nodes")) {
			struct hub_store *s = hub_api_store_get(a);
			int rc = hub_store_nodes(s, hub_api_now_ns(), a->o->silent_after_ns, &b);
			if (rc)
				vg_err("hub api: %s", hub_store_error(s));
			hub_api_store_put(a, s);
			if (rc) {
				buf_free(&b);
				return hub_api_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
			}
		} else if (!strcmp(url, "/metrics")) {
			metrics_text(a, &b);
			struct hub_store *s = hub_api_store_get(a);
			if (hub_store_node_metrics(s, hub_api_now_ns(), &b))
				vg_err("hub api: %s", hub_store_error(s));
			hub_api_store_put(a, s);
			r = hub_api_respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b.data, b.len);
			buf_free(&b);
			return r;
		} else
			status_json(a, &b);
		r = hub_api_respond(c, MHD_HTTP_OK, "application/json", b.data, b.len);
		buf_free(&b);
		return r;
	}
	return HUB_ROUTE_NOT_MINE;
}

/*
 * The read routes of the store: alert, action and loss lists and records,
 * nodes, status and metrics. GET only; any role.
 */
static bool routes_store(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret)
{
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
		static const char *const mine[] = { "/api/v1/alerts", "/api/v1/actions", "/api/v1/losses",
						    "/api/v1/nodes", "/api/v1/status", "/metrics" };
		for (size_t i = 0; i < sizeof(mine) / sizeof(*mine); i++)
			if (!strcmp(rq->url, mine[i])) {
				*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
				return true;
			}
		return false;
	}
	*ret = serve_store(a, rq->c, rq->url, &rq->args);
	return *ret != HUB_ROUTE_NOT_MINE;
}

/*
 * Route modules, tried in order; the first that takes the request answers it.
 * Every path needs a bearer token (any role; a module that changes something
 * checks rq->role itself) but "/" and /console/..., which are public, GET
 * only, and serve nothing but static content.
 */
static hub_route_fn *const api_routes[] = {
	hub_routes_console, /* first: /api/v1/alerts/{counts,stream,<uuid>/ack} are below routes_store's paths */
	routes_store,
	hub_routes_flows,
	hub_routes_commands,
	hub_routes_scans,
	hub_routes_profiles,
};
static hub_route_fn *const public_routes[] = {
	hub_routes_console_public,
};

/* What a connection's request carries from its first call to its last. */
struct hub_conn {
	enum hub_role role;
	const char *who;
	bool public, too_large;
	struct vg_buf body;
};

/* Only "/" and /console/ (the web console's static files) are public. */
static bool needs_token(const char *url)
{
	return strcmp(url, "/") && strncmp(url, "/console/", 9);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct hub_api *a = cls;
	(void)version;
	struct hub_conn *hc = *con_cls;
	if (!hc) {
		/* first call: headers only; refuse before any body is read */
		hc = xcalloc(1, sizeof(*hc));
		*con_cls = hc;
		INC(a->requests);
		bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
		if (!needs_token(url)) {
			hc->public = true;
			if (!get)
				return hub_api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
			return MHD_YES;
		}
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		if (auth && !strncasecmp(auth, "Bearer ", 7))
			hc->role = hub_tokens_check(a->o->tokens, auth + 7, &hc->who);
		if (hc->role == HUB_ROLE_NONE) {
			INC(a->unauthorized);
			return hub_api_error(c, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
		}
		if (!get && strcmp(method, "POST"))
			return hub_api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD or POST only");
		return MHD_YES;
	}
	if (*upload_size) {
		/* a body is kept up to HUB_API_MAX_BODY; a larger one is answered 413 at its end */
		if (hc->body.len + *upload_size > HUB_API_MAX_BODY)
			hc->too_large = true;
		else
			buf_add(&hc->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (hc->too_large)
		return INC(a->bad), hub_api_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	struct hub_req rq = { .c = c, .method = method, .url = url, .role = hc->role, .who = hc->who,
			      .body = hc->body.data, .body_len = hc->body.len };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &rq.args);
	if (rq.args.overflow)
		return INC(a->bad), hub_api_error(c, MHD_HTTP_BAD_REQUEST, "too many query parameters");
	enum MHD_Result r;
	if (hc->public) {
		for (size_t i = 0; i < sizeof(public_routes) / sizeof(*public_routes); i++)
			if (public_routes[i] && public_routes[i](a, &rq, &r))
				return r;
	} else {
		for (size_t i = 0; i < sizeof(api_routes) / sizeof(*api_routes); i++)
			if (api_routes[i](a, &rq, &r))
				return r;
	}
	return hub_api_error(c, MHD_HTTP_NOT_FOUND, "no such route");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct hub_conn *hc = *con_cls;
	if (hc) {
		buf_free(&hc->body);
		free(hc);
		*con_cls = NULL;
	}
}

struct hub_api *hub_api_start(const struct hub_api_opts *o)
{
	struct sockaddr_storage ss;
	int v6 = 0;
	if (listen_addr_parse(o->listen, &ss, &v6)) {
		vg_err("bad --listen '%s' (ADDR:PORT, [ADDR6]:PORT or :PORT with a numeric address)", o->listen);
		return NULL;
	}
	const char *why = libmhd_load();
	if (why) {
		vg_err("%s", why);
		return NULL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		vg_err("cannot serve HTTPS: this libmicrohttpd was built without TLS");
		return NULL;
	}
	struct hub_api *a = xcalloc(1, sizeof(*a));
	a->o = o;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	for (int i = 0; i < HUB_API_POOL; i++) {
		char err[512];
		struct hub_store *s = hub_store_open(o->store_path, true, false, err, sizeof(err));
		if (!s) {
			vg_err("%s", err);
			hub_api_stop(a);
			return NULL;
		}
		a->pool[a->npool++] = s;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS |
			 MHD_ALLOW_SUSPEND_RESUME; /* the console's alert stream waits suspended */
	if (v6)
		flags |= MHD_USE_IPv6;
	a->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, o->threads ? o->threads : 2u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 256u,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
				MHD_OPTION_NOTIFY_COMPLETED, completed, a,
				MHD_OPTION_HTTPS_MEM_KEY, o->key_pem, MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem,
				MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1",
				MHD_OPTION_END);
	if (!a->d) {
		vg_err("cannot start the hub API on %s (address in use, bad certificate or key?)", o->listen);
		hub_api_stop(a);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info ? info->port : 0;
	return a;
}

unsigned hub_api_port(const struct hub_api *a)
{
	return a->port;
}

void hub_api_stop(struct hub_api *a)
{
	if (!a)
		return;
	if (a->d) {
		hub_api_console_stop(a);
		MHD_stop_daemon(a->d);
	}
	for (int i = 0; i < a->npool; i++)
		hub_store_close(a->pool[i]);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
