/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console's routes (docs/console.md):
 *   public, GET only: "/" and /console/<file>, the static files of web/console
 *     compiled into the binary (console_assets.h), with a strict
 *     Content-Security-Policy (no inline script, no eval, nothing from elsewhere);
 *   behind a token: GET /api/v1/whoami, GET /api/v1/alerts/counts (bucketed
 *     counts per rule or priority), GET /api/v1/alerts/stream (server-sent
 *     events of new alerts) and POST /api/v1/alerts/<uuid>/ack (responders).
 *
 * The stream: EventSource cannot send an Authorization header, so the console
 * reads the stream with fetch() (which can) and parses the events itself; the
 * route is an ordinary bearer-token route. A stream with nothing to send is
 * suspended (MHD_suspend_connection) rather than holding one of the API's few
 * threads; a ticker thread resumes the suspended streams every 500 ms to look
 * for new alerts (one indexed query each) and sends a comment every 15 s so
 * that proxies and clients see the connection alive.
 */
#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/log.h"
#include "hub/console_assets.h"
#include "hub/hub_api_int.h"
#include "hub/hub_store.h"

/* ---- static files ---- */

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
			  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
			  "form-action 'none'; frame-ancestors 'none'";

static const char *content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(*types); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static void security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result static_respond(struct MHD_Connection *c, unsigned status, const char *type, const void *data,
				      size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	security_headers(r);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

const struct console_asset *console_asset_find(const char *name)
{
	for (const struct console_asset *a = console_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static bool routes_console_static(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret)
{
	(void)a;
	const char *name = NULL;
	if (!strcmp(rq->url, "/") || !strcmp(rq->url, "/console/") || !strcmp(rq->url, "/console"))
		name = "index.html";
	else if (!strncmp(rq->url, "/console/", 9))
		name = rq->url + 9;
	else
		return false;
	/* the dispatcher allows GET and HEAD only here */
	const struct console_asset *f = rq->args.n ? NULL : console_asset_find(name);
	if (!f) {
		static const char nf[] = "not found\n";
		*ret = static_respond(rq->c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", nf, sizeof(nf) - 1);
		return true;
	}
	*ret = static_respond(rq->c, MHD_HTTP_OK, content_type(f->name), f->data, f->size);
	return true;
}

/* ---- whoami ---- */

static enum MHD_Result whoami(const struct hub_req *rq)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "role", rq->role == HUB_ROLE_RESPONDER ? "responder" : "viewer");
	jw_str(&j, "name", rq->who ? rq->who : "");
	jw_obj_end(&j);
	enum MHD_Result r = hub_api_respond(rq->c, MHD_HTTP_OK, "application/json", b.data, b.len);
	buf_free(&b);
	return r;
}

/* ---- counts ---- */

#define COUNTS_MAX_BUCKETS 1440

static enum MHD_Result counts(struct hub_api *a, const struct hub_req *rq)
{
	const char *k[HUB_API_MAX_ARGS], *v[HUB_API_MAX_ARGS];
	size_t n = 0;
	const char *by = NULL, *bucket = NULL;
	for (size_t i = 0; i < rq->args.n; i++) {
		const char *key = rq->args.k[i] ? rq->args.k[i] : "";
		if (!strcmp(key, "by") || !strcmp(key, "bucket")) {
			const char **dst = key[0] == 'b' && key[1] == 'y' ? &by : &bucket;
			if (*dst)
				return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "a parameter is given twice");
			*dst = rq->args.v[i] ? rq->args.v[i] : "";
			continue;
		}
		if (!strcmp(key, "limit") || !strcmp(key, "cursor"))
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "counts take no limit or cursor");
		k[n] = rq->args.k[i];
		v[n++] = rq->args.v[i];
	}
	bool by_rule = false;
	if (by && !strcmp(by, "rule"))
		by_rule = true;
	else if (by && strcmp(by, "priority"))
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "by must be rule or priority");
	struct hub_query q;
	char err[256];
	if (hub_api_parse_query(HUB_T_ALERTS, k, v, n, &q, err, sizeof(err)))
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
	const int64_t S = 1000000000LL;
	if (!q.until_ns)
		q.until_ns = hub_api_now_ns();
	if (!q.since_ns)
		q.since_ns = q.until_ns - 24 * 3600 * S;
	if (q.since_ns < 0)
		q.since_ns = 0;
	if (q.until_ns <= q.since_ns)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "until must be after since");
	int64_t bucket_ns;
	if (bucket) {
		char *end;
		long long bs = strtoll(bucket, &end, 10);
		if (!isdigit((unsigned char)*bucket) || *end || bs < 1 || bs > 30LL * 86400)
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "bucket must be 1 to 2592000 seconds");
		bucket_ns = bs * S;
	} else {
		/* about 60 buckets of whole seconds */
		bucket_ns = ((q.until_ns - q.since_ns) / 60 + S - 1) / S * S;
		if (bucket_ns < S)
			bucket_ns = S;
	}
	if ((q.until_ns - q.since_ns + bucket_ns - 1) / bucket_ns > COUNTS_MAX_BUCKETS)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "at most 1440 buckets: a larger bucket or a shorter range");
	struct vg_buf b = { 0 };
	struct hub_store *s = hub_api_store_get(a);
	/* at most HUB_COUNTS_MAX_ROWS alerts are counted, and at most about 530,000
	 * read to find them (8 M steps, ~15 an alert) */
	hub_store_set_budget(s, 4u * HUB_API_SCAN_BUDGET);
	long rows = hub_store_alert_counts(s, &q, bucket_ns, by_rule, &b);
	bool over = hub_store_over_budget(s);
	hub_store_set_budget(s, 0);
	if (rows < 0 && !over)
		vg_err("hub api: %s", hub_store_error(s));
	hub_api_store_put(a, s);
	enum MHD_Result r = rows < 0 ? over ? hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, HUB_API_SCAN_MSG)
					    : hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error")
				     : hub_api_respond(rq->c, MHD_HTTP_OK, "application/json", b.data, b.len);
	buf_free(&b);
	return r;
}

/* ---- acknowledgements: one writable connection of our own, opened on first use ---- */

static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hub_store *ack_store;

static bool uuid_ok(const char *u, size_t l)
{
	if (l < 8 || l > HUB_UUID_MAX)
		return false;
	for (size_t i = 0; i < l; i++)
		if (!isalnum((unsigned char)u[i]) && u[i] != '-' && u[i] != '_')
			return false;
	return true;
}

static enum MHD_Result ack(struct hub_api *a, const struct hub_req *rq, const char *uuid)
{
	if (rq->role != HUB_ROLE_RESPONDER)
		return hub_api_error(rq->c, MHD_HTTP_FORBIDDEN, "acknowledging needs the responder role");
	if (rq->args.n)
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "this route takes no parameters");
	pthread_mutex_lock(&ack_mu);
	char err[512];
	if (!ack_store && !(ack_store = hub_store_open(a->o->store_path, false, true, err, sizeof(err))))
		vg_err("hub api: %s", err);
	int rc = ack_store ? hub_store_ack(ack_store, uuid, rq->who && *rq->who ? rq->who : "responder", hub_api_now_ns())
			   : -1;
	if (rc == -1 && ack_store)
		vg_err("hub api: %s", hub_store_error(ack_store));
	pthread_mutex_unlock(&ack_mu);
	if (rc == -2)
		return hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no such record");
	if (rc < 0)
		return hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
	char body[160];
	int len = snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"acknowledged\":%s}", uuid, rc ? "true" : "false");
	return hub_api_respond(rq->c, MHD_HTTP_OK, "application/json", body, (size_t)len);
}

/* ---- the stream ---- */

#define STREAMS_MAX 32
#define STREAM_PAGE 100
#define STREAM_KEEPALIVE_NS (15 * 1000000000LL)

struct stream {
	struct hub_api *a;
	struct MHD_Connection *c;
	struct hub_query q;
	char *strs[8]; /* the filters' own copies */
	int64_t last_id, last_write_ns;
	struct vg_buf out;
	size_t off;
	bool suspended, closing;
	struct stream *next;
};

static pthread_mutex_t st_mu = PTHREAD_MUTEX_INITIALIZER;
static struct stream *streams;
static int nstreams;
static pthread_t ticker;
static bool ticker_running, ticker_stop;

static void *ticker_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts = { 0, 500 * 1000000L };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&st_mu);
		if (ticker_stop) {
			pthread_mutex_unlock(&st_mu);
			return NULL;
		}
		for (struct stream *s = streams; s; s = s->next)
			if (s->suspended) {
				s->suspended = false;
				MHD_resume_connection(s->c);
			}
		pthread_mutex_unlock(&st_mu);
	}
}

/* Append one event: each line of data gets its own "data:" (the client joins them with \n). */
static void sse_event(struct vg_buf *b, const char *event, int64_t id, const char *data, size_t len)
{
	buf_printf(b, "id: %lld\nevent: %s\ndata: ", (long long)id, event);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			buf_adds(b, "\ndata: ");
		else if (data[i] != '\r')
			buf_add(b, &data[i], 1);
	}
	buf_adds(b, "\n\n");
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	if (s->off == s->out.len) {
		s->out.len = s->off = 0;
		pthread_mutex_lock(&st_mu);
		bool closing = s->closing;
		pthread_mutex_unlock(&st_mu);
		if (closing)
			return MHD_CONTENT_READER_END_OF_STREAM;
		struct vg_buf page = { 0 };
		s->q.after_id = s->last_id;
		s->q.limit = STREAM_PAGE;
		struct hub_store *st = hub_api_store_get(s->a);
		/* rows up to the highest id seen before the query are all covered by it: a
		 * filter that matches none of them need not look at them again */
		int64_t max_before = 0;
		long n = hub_store_max_alert_id(st, &max_before) ? -1 : hub_store_query(st, &s->q, &page);
		if (n < 0)
			vg_err("hub api: stream: %s", hub_store_error(st));
		hub_api_store_put(s->a, st);
		if (n < 0) {
			buf_free(&page);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (n > 0) {
			json_t *p = json_loadb(page.data, page.len, 0, NULL);
			json_t *rows = json_object_get(p, "alerts");
			json_t *last = json_array_get(rows, json_array_size(rows) - 1);
			int64_t id = json_integer_value(json_object_get(last, "id"));
			json_decref(p);
			if (id > s->last_id) {
				s->last_id = id;
				sse_event(&s->out, "alerts", id, page.data, page.len);
			}
		}
		buf_free(&page);
		if (n < STREAM_PAGE && max_before > s->last_id)
			s->last_id = max_before;
		int64_t now = hub_api_now_ns();
		if (!s->out.len && now - s->last_write_ns >= STREAM_KEEPALIVE_NS)
			buf_adds(&s->out, ": keepalive\n\n");
		if (!s->out.len) {
			/* nothing to send: give the thread back until the ticker resumes us */
			pthread_mutex_lock(&st_mu);
			s->suspended = true;
			MHD_suspend_connection(s->c);
			pthread_mutex_unlock(&st_mu);
			return 0;
		}
		s->last_write_ns = now;
	}
	size_t k = s->out.len - s->off < max ? s->out.len - s->off : max;
	memcpy(buf, s->out.data + s->off, k);
	s->off += k;
	return (ssize_t)k;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	pthread_mutex_lock(&st_mu);
	for (struct stream **pp = &streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			nstreams--;
			break;
		}
	pthread_mutex_unlock(&st_mu);
	for (size_t i = 0; i < sizeof(s->strs) / sizeof(*s->strs); i++)
		free(s->strs[i]);
	buf_free(&s->out);
	free(s);
}

static enum MHD_Result stream(struct hub_api *a, const struct hub_req *rq)
{
	const char *k[HUB_API_MAX_ARGS], *v[HUB_API_MAX_ARGS];
	size_t n = 0;
	const char *cursor = NULL;
	for (size_t i = 0; i < rq->args.n; i++) {
		if (rq->args.k[i] && !strcmp(rq->args.k[i], "limit"))
			return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "the stream takes no limit");
		if (rq->args.k[i] && !strcmp(rq->args.k[i], "cursor"))
			cursor = rq->args.v[i];
		k[n] = rq->args.k[i];
		v[n++] = rq->args.v[i];
	}
	struct stream *s = xcalloc(1, sizeof(*s));
	char err[256];
	if (hub_api_parse_query(HUB_T_ALERTS, k, v, n, &s->q, err, sizeof(err))) {
		free(s);
		return hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
	}
	/* the query points into the request: keep copies for the stream's life */
	const char **fields[] = { &s->q.cluster, &s->q.node, &s->q.ns, &s->q.pod, &s->q.container, &s->q.image,
				  &s->q.rule, &s->q.technique };
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		if (*fields[i])
			*fields[i] = s->strs[i] = xstrdup(*fields[i]);
	if (s->q.tactic)
		s->q.tactic = s->q.tactic_tag;
	s->a = a;
	s->c = rq->c;
	s->last_write_ns = hub_api_now_ns();
	if (cursor)
		s->last_id = s->q.after_id;
	else {
		struct hub_store *st = hub_api_store_get(a);
		int rc = hub_store_max_alert_id(st, &s->last_id);
		hub_api_store_put(a, st);
		if (rc) {
			stream_free(s);
			return hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "store error");
		}
	}
	pthread_mutex_lock(&st_mu);
	if (nstreams >= STREAMS_MAX) {
		pthread_mutex_unlock(&st_mu);
		stream_free(s);
		return hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many streams");
	}
	if (!ticker_running) {
		ticker_stop = false;
		if (pthread_create(&ticker, NULL, ticker_main, NULL)) {
			pthread_mutex_unlock(&st_mu);
			stream_free(s);
			return hub_api_error(rq->c, MHD_HTTP_SERVICE_UNAVAILABLE, "cannot start the stream");
		}
		ticker_running = true;
	}
	s->next = streams;
	streams = s;
	nstreams++;
	pthread_mutex_unlock(&st_mu);
	/* a first event at once: the client knows the stream is open and where it starts */
	sse_event(&s->out, "hello", s->last_id, "{}", 2);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
	if (!r) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(rq->c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

void hub_api_console_stop(struct hub_api *a)
{
	/* end this API's streams (MHD cannot stop with suspended connections), bounded */
	for (int tries = 0; tries < 200; tries++) {
		bool any = false;
		pthread_mutex_lock(&st_mu);
		for (struct stream *s = streams; s; s = s->next)
			if (s->a == a) {
				any = true;
				s->closing = true;
				if (s->suspended) {
					s->suspended = false;
					MHD_resume_connection(s->c);
				}
			}
		pthread_mutex_unlock(&st_mu);
		if (!any)
			break;
		usleep(10000);
	}
	pthread_mutex_lock(&st_mu);
	bool join = ticker_running && !streams;
	if (join) {
		ticker_stop = true;
		ticker_running = false;
	}
	pthread_mutex_unlock(&st_mu);
	if (join)
		pthread_join(ticker, NULL);
	pthread_mutex_lock(&ack_mu);
	hub_store_close(ack_store);
	ack_store = NULL;
	pthread_mutex_unlock(&ack_mu);
}

/* ---- the dispatcher's entries ---- */

bool hub_routes_console(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret)
{
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	const char *u = rq->url;
	static const char pre[] = "/api/v1/alerts/";
	if (!strcmp(u, "/api/v1/whoami")) {
		*ret = !get ? hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only")
		       : rq->args.n ? hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "this route takes no parameters")
				    : whoami(rq);
		return true;
	}
	if (strncmp(u, pre, sizeof(pre) - 1))
		return false;
	const char *rest = u + sizeof(pre) - 1;
	if (!strcmp(rest, "counts")) {
		*ret = get ? counts(a, rq) : hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	if (!strcmp(rest, "stream")) {
		*ret = get ? stream(a, rq) : hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	const char *slash = strchr(rest, '/');
	if (slash && !strcmp(slash, "/ack")) {
		size_t ul = (size_t)(slash - rest);
		char uuid[HUB_UUID_MAX + 1];
		if (!uuid_ok(rest, ul)) {
			*ret = hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "not a record id (8 to 64 of A-Z a-z 0-9 - _)");
			return true;
		}
		memcpy(uuid, rest, ul);
		uuid[ul] = 0;
		*ret = strcmp(rq->method, "POST") ? hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only")
						  : ack(a, rq, uuid);
		return true;
	}
	return false;
}

bool hub_routes_console_public(struct hub_api *a, const struct hub_req *rq, enum MHD_Result *ret)
{
	return routes_console_static(a, rq, ret);
}
