/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil hub: parse options and run the hub (src/hub/hub.c). Also the client
 * side of the hub's API that `vigil alerts --hub` and `vigil actions --hub`
 * share (libcurl, opened on first use).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli/cli.h"
#include "common/buf.h"
#include "common/log.h"
#include "fleet/streams.h"
#include "hub/hub.h"
#include "common/libcurl.h"

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fputs("usage: vigil hub --nats URL[,URL...] --durable NAME --token-file F --tls-cert F --tls-key F\n"
	      "                 [--store PATH] [--listen ADDR:PORT] [--nats-creds F] [--nats-nkey F]\n"
	      "                 [--nats-ca F] [--nats-cert F --nats-key F] [--max-msg BYTES]\n"
	      "                 [--batch N] [--max-ack-pending N] [--silent-after SECONDS] [--no-fsync]\n"
	      "                 [--retain DURATION]\n"
	      "Gather the fleet's alerts, actions, loss records and heartbeats from NATS JetStream\n"
	      "into a store of the hub's own, and serve them over an HTTPS JSON API (docs/hub.md).\n"
	      "  --durable NAME       this hub's consumer name on the streams (one per hub: two hubs\n"
	      "                       with their own names each hold every record)\n"
	      "  --store PATH         the hub's SQLite store (default /var/lib/vigil/hub.db)\n"
	      "  --listen ADDR:PORT   the API (default 127.0.0.1:8443; port 0: any free port)\n"
	      "  --token-file F       bearer tokens, one 'TOKEN ROLE [NAME]' a line (viewer, responder)\n"
	      "  --tls-cert F, --tls-key F   the API's certificate and key (PEM)\n"
	      "  --max-msg BYTES      refuse larger messages (default 262144)\n"
	      "  --batch N            messages fetched and committed at once (default 256)\n"
	      "  --max-ack-pending N  the consumer's bound on unacknowledged messages (default 4096)\n"
	      "  --silent-after S     a node whose last heartbeat is older is 'silent' (default 30)\n"
	      "  --retain D           delete alerts, actions, losses and flows older than D (30d, 12h,\n"
	      "                       ...; none: keep everything; default 30d)\n"
	      "  --no-fsync           commit without waiting for the disk (a power loss may lose\n"
	      "                       acknowledged records; the default survives it)\n"
	      "SIGINT/SIGTERM stop after the batch in hand is committed and acknowledged.\n"
	      "exit status: 0 stopped cleanly, 1 cannot start, 2 usage error\n",
	      f);
}

static int num_arg(const char *name, const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (*end || !*v || errno || n < lo || n > hi) {
		fprintf(stderr, "vigil: %s takes a number from %ld to %ld, not '%s'\n", name, lo, hi, v);
		return -1;
	}
	*out = n;
	return 0;
}

int cmd_hub(int argc, char **argv)
{
	enum { O_CREDS = 256, O_NKEY, O_CA, O_CERT, O_KEY, O_TLSCERT, O_TLSKEY, O_TOKENS, O_MAXMSG, O_BATCH,
	       O_MAXACK, O_SILENT, O_NOFSYNC, O_RETAIN };
	static const struct option opts[] = {
		{ "nats", required_argument, NULL, 'n' },	    { "durable", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 'S' },	    { "listen", required_argument, NULL, 'l' },
		{ "nats-creds", required_argument, NULL, O_CREDS }, { "nats-nkey", required_argument, NULL, O_NKEY },
		{ "nats-ca", required_argument, NULL, O_CA },	    { "nats-cert", required_argument, NULL, O_CERT },
		{ "nats-key", required_argument, NULL, O_KEY },     { "tls-cert", required_argument, NULL, O_TLSCERT },
		{ "tls-key", required_argument, NULL, O_TLSKEY },   { "token-file", required_argument, NULL, O_TOKENS },
		{ "max-msg", required_argument, NULL, O_MAXMSG },   { "batch", required_argument, NULL, O_BATCH },
		{ "max-ack-pending", required_argument, NULL, O_MAXACK },
		{ "silent-after", required_argument, NULL, O_SILENT },
		{ "no-fsync", no_argument, NULL, O_NOFSYNC },	    { "help", no_argument, NULL, 'h' },
		{ "retain", required_argument, NULL, O_RETAIN },
		{ NULL, 0, NULL, 0 },
	};
	struct hub_opts o = { .store = "/var/lib/vigil/hub.db", .listen = "127.0.0.1:8443", .max_msg = 262144,
			      .batch = 256, .max_ack_pending = 4096, .silent_after_s = 30, .fsync = true,
			      .retain_ns = HUB_DEFAULT_RETAIN_NS };
	o.conn.client = "vigil-hub";
	int opt;
	long v;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': o.conn.servers = optarg; break;
		case 'd': o.durable = optarg; break;
		case 'S': o.store = optarg; break;
		case 'l': o.listen = optarg; break;
		case O_CREDS: o.conn.creds = optarg; break;
		case O_NKEY: o.conn.nkey_seed = optarg; break;
		case O_CA: o.conn.tls_ca = optarg; break;
		case O_CERT: o.conn.tls_cert = optarg; break;
		case O_KEY: o.conn.tls_key = optarg; break;
		case O_TLSCERT: o.tls_cert = optarg; break;
		case O_TLSKEY: o.tls_key = optarg; break;
		case O_TOKENS: o.token_file = optarg; break;
		case O_MAXMSG:
			if (num_arg("--max-msg", optarg, 1024, 64L << 20, &v))
				return VG_EXIT_USAGE;
			o.max_msg = (size_t)v;
			break;
		case O_BATCH:
			if (num_arg("--batch", optarg, 1, 4096, &v))
				return VG_EXIT_USAGE;
			o.batch = (int)v;
			break;
		case O_MAXACK:
			if (num_arg("--max-ack-pending", optarg, 1, 1000000, &v))
				return VG_EXIT_USAGE;
			o.max_ack_pending = (int)v;
			break;
		case O_SILENT:
			if (num_arg("--silent-after", optarg, 1, 86400 * 365, &v))
				return VG_EXIT_USAGE;
			o.silent_after_s = v;
			break;
		case O_NOFSYNC: o.fsync = false; break;
		case O_RETAIN:
			if ((o.retain_ns = fleet_parse_duration(optarg)) == -2 || (o.retain_ns > 0 && o.retain_ns < 60000000000LL)) {
				fprintf(stderr, "vigil: --retain takes a duration of 1m or more (30d, 12h) or none, not '%s'\n",
					optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return VG_EXIT_OK;
		default: usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc || !o.conn.servers || !o.durable || !o.token_file || !o.tls_cert || !o.tls_key) {
		if (optind == argc)
			fputs("vigil: hub needs --nats, --durable, --token-file, --tls-cert and --tls-key\n", stderr);
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!fleet_name_valid(o.durable)) {
		fprintf(stderr, "vigil: --durable must be 1 to 64 of A-Z a-z 0-9 - _, not '%s'\n", o.durable);
		return VG_EXIT_USAGE;
	}
	if (o.max_ack_pending < o.batch) {
		fprintf(stderr, "vigil: --max-ack-pending must be at least --batch\n");
		return VG_EXIT_USAGE;
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return hub_run(&o, &stop_flag) ? VG_EXIT_ERROR : VG_EXIT_OK;
}

/* ---- the API's client ---- */

struct reply {
	struct vg_buf body;
	long status;
	bool too_big;
};

#define REPLY_MAX ((size_t)64 << 20)

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	if (r->body.len + size * n > REPLY_MAX) {
		r->too_big = true;
		return 0;
	}
	buf_add(&r->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	/* "HTTP/1.1 200 OK": the status of the last response (after any 100 Continue) */
	if (size * n > 9 && !strncmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', size * n);
		if (sp)
			r->status = strtol(sp + 1, NULL, 10);
	}
	return size * n;
}

static char *read_token(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[512];
	char *tok = NULL;
	while (!tok && fgets(line, sizeof(line), f)) {
		char *save, *t = strtok_r(line, " \t\r\n", &save);
		if (t && *t != '#')
			tok = xstrdup(t); /* a hub token file works as is: its first token */
	}
	fclose(f);
	if (!tok)
		snprintf(err, errlen, "%s: no token", path);
	return tok;
}

/* One client's connection to the API: its token, a curl handle, the headers. */
struct session {
	CURL *c;
	struct curl_slist *hdr;
	struct vg_buf auth;
	char *token;
	int base_len; /* the URL without trailing slashes */
};

/* 0, or -1 with err (no libcurl, no token). post: the requests carry a JSON body. */
static int session_open(const struct hub_client *hc, bool post, struct session *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	const char *why = libcurl_load();
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	char emsg[512];
	s->token = getenv("VIGIL_HUB_TOKEN") && !hc->token_file ? xstrdup(getenv("VIGIL_HUB_TOKEN"))
		   : hc->token_file				? read_token(hc->token_file, emsg, sizeof(emsg))
								: NULL;
	if (!s->token) {
		snprintf(err, errlen, "%s", hc->token_file ? emsg : "--hub needs --token-file F (or VIGIL_HUB_TOKEN)");
		return -1;
	}
	s->c = curl_easy_init();
	buf_printf(&s->auth, "Authorization: Bearer %s", s->token);
	s->hdr = curl_slist_append(s->hdr, s->auth.data);
	if (post)
		s->hdr = curl_slist_append(s->hdr, "Content-Type: application/json");
	size_t bl = strlen(hc->url);
	while (bl && hc->url[bl - 1] == '/')
		bl--;
	s->base_len = (int)bl;
	return 0;
}

static void session_close(struct session *s)
{
	curl_slist_free_all(s->hdr);
	if (s->c)
		curl_easy_cleanup(s->c);
	if (s->auth.data)
		memset(s->auth.data, 0, s->auth.len);
	buf_free(&s->auth);
	if (s->token) {
		memset(s->token, 0, strlen(s->token));
		free(s->token);
	}
}

/*
 * One request to /api/v1/<path> (path with its query string): a GET, or a POST
 * of body (len bytes) when body is not NULL. The status and the reply's body
 * in r (the caller frees r->body). 0, or -1 with err when the hub cannot be
 * reached or its reply is too large.
 */
static int session_send(struct session *s, const struct hub_client *hc, const char *path, const char *body, size_t len,
			struct reply *r, char *err, size_t errlen)
{
	struct vg_buf url = { 0 };
	buf_printf(&url, "%.*s/api/v1/%s", s->base_len, hc->url, path);
	memset(r, 0, sizeof(*r));
	curl_easy_reset(s->c);
	curl_easy_setopt(s->c, CURLOPT_URL, url.data);
	curl_easy_setopt(s->c, CURLOPT_HTTPHEADER, s->hdr);
	if (body) {
		curl_easy_setopt(s->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(s->c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(s->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(s->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(s->c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(s->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(s->c, CURLOPT_TIMEOUT, 60L);
	if (hc->ca)
		curl_easy_setopt(s->c, CURLOPT_CAINFO, hc->ca);
	CURLcode cr = curl_easy_perform(s->c);
	buf_free(&url);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "cannot reach the hub at %s: %s", hc->url,
			 r->too_big ? "reply too large" : curl_easy_strerror(cr));
		buf_free(&r->body);
		return -1;
	}
	return 0;
}

/* A reply that is not 200 as "the hub answered N: its error". */
static void status_error(const struct reply *r, char *err, size_t errlen)
{
	json_t *o = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(o, "error"));
	snprintf(err, errlen, "the hub answered %ld: %s", r->status, e ? e : "no reason given");
	json_decref(o);
}

int hub_client_get(const struct hub_client *hc, const char *route, const char *query, long limit,
		   void (*fn)(void *ctx, json_t *record), void *ctx, char *err, size_t errlen)
{
	struct session s;
	if (session_open(hc, false, &s, err, errlen)) {
		session_close(&s);
		return -1;
	}
	char cursor[32] = "";
	long total = 0;
	int ret = -1;
	for (;;) {
		long page = limit ? limit - total : HUB_CLIENT_PAGE;
		if (page > HUB_CLIENT_PAGE)
			page = HUB_CLIENT_PAGE;
		struct vg_buf path = { 0 };
		buf_printf(&path, "%s?limit=%ld%s%s%s%s", route, page, *query ? "&" : "", query, *cursor ? "&cursor=" : "",
			   cursor);
		struct reply r;
		int rc = session_send(&s, hc, path.data, NULL, 0, &r, err, errlen);
		buf_free(&path);
		if (rc)
			goto out;
		if (r.status != 200) {
			status_error(&r, err, errlen);
			buf_free(&r.body);
			goto out;
		}
		json_error_t je;
		json_t *o = r.body.len ? json_loadb(r.body.data, r.body.len, 0, &je) : NULL;
		buf_free(&r.body);
		json_t *arr = json_object_get(o, route);
		if (!json_is_array(arr)) {
			snprintf(err, errlen, "the hub's reply has no '%s' list", route);
			json_decref(o);
			goto out;
		}
		size_t i;
		json_t *it;
		json_array_foreach(arr, i, it)
		{
			fn(ctx, it);
			total++;
		}
		const char *next = json_string_value(json_object_get(o, "next_cursor"));
		bool more = next && strlen(next) < sizeof(cursor) && (!limit || total < limit);
		if (more)
			snprintf(cursor, sizeof(cursor), "%s", next);
		json_decref(o);
		if (!more)
			break;
	}
	ret = 0;
out:
	session_close(&s);
	return ret < 0 ? -1 : (int)(total > 0x7fffffff ? 0x7fffffff : total);
}

int hub_client_raw(const struct hub_client *hc, const char *route, const char *query, struct vg_buf *out, char *err,
		   size_t errlen)
{
	struct session s;
	struct reply r = { 0 };
	int ret = -1;
	if (session_open(hc, false, &s, err, errlen) == 0) {
		struct vg_buf path = { 0 };
		buf_printf(&path, "%s%s%s", route, *query ? "?" : "", query);
		if (session_send(&s, hc, path.data, NULL, 0, &r, err, errlen) == 0) {
			if (r.status != 200)
				status_error(&r, err, errlen);
			else {
				buf_add(out, r.body.data ? r.body.data : "", r.body.len);
				ret = 0;
			}
		}
		buf_free(&path);
	}
	buf_free(&r.body);
	session_close(&s);
	return ret;
}

int hub_client_post(const struct hub_client *hc, const char *route, const char *body, size_t len, long *status,
		    struct vg_buf *reply, char *err, size_t errlen)
{
	struct session s;
	struct reply r = { 0 };
	int ret = -1;
	if (session_open(hc, true, &s, err, errlen) == 0 && session_send(&s, hc, route, body, len, &r, err, errlen) == 0) {
		*status = r.status;
		*reply = r.body;
		ret = 0;
	}
	session_close(&s);
	return ret;
}

/* key=value& with the value escaped, for a query string built from flags */
void hub_client_param(struct vg_buf *q, const char *key, const char *value)
{
	if (!value)
		return;
	if (!libcurl_load()) {
		char *e = curl_easy_escape(NULL, value, 0);
		buf_printf(q, "%s%s=%s", q->len ? "&" : "", key, e ? e : "");
		curl_free(e);
	}
}

/* Encode v as Vigil's own JSON writer does (common/buf.c): a record read back from the hub
 * prints byte for byte as the agent's store prints it. */
static void encode(struct vg_json *j, const char *key, json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jw_obj_begin(j, key);
		json_object_foreach(v, k, x)
			encode(j, k, x);
		jw_obj_end(j);
		break;
	case JSON_ARRAY:
		jw_arr_begin(j, key);
		json_array_foreach(v, i, x)
			encode(j, NULL, x);
		jw_arr_end(j);
		break;
	case JSON_STRING:
		jw_strn(j, key, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jw_int(j, key, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		jw_raw(j, key, num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		jw_bool(j, key, json_is_true(v));
		break;
	default:
		jw_null(j, key);
		break;
	}
}

void hub_client_encode(json_t *v, struct vg_buf *out)
{
	struct vg_json j;
	jw_init(&j, out);
	encode(&j, NULL, v);
}
