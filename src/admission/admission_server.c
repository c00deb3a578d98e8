/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "admission/admission_review.h"
#include "admission/admission_server.h"
#include "common/libmhd.h"
#include "common/buf.h"
#include "common/listen_addr.h"
#include "common/log.h"

/* latency histogram bounds in microseconds (Prometheus buckets in seconds) */
static const uint64_t bucket_us[] = { 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000 };
#define NBUCKETS (sizeof(bucket_us) / sizeof(*bucket_us))

struct server {
	const struct admission_server_opts *o;
	pthread_rwlock_t lock;   /* guards policy: readers judge, the reloader swaps */
	struct admission_policy *policy;
	char policy_version[80]; /* guarded by lock with policy */
	pthread_mutex_t log_mu;
	/* metrics, updated with atomics */
	uint64_t reviews, allowed, denied, errors, bad_requests, too_large;
	uint64_t reloads_ok, reloads_failed, timeouts;
	uint64_t buckets[NBUCKETS + 1], latency_sum_us;
};

/*
 * A body declared too large is still read and dropped, if it is at most this much
 * past max_body, before the 413: a server that answers and closes while the body
 * is coming makes the client's send fail (a reset) before it reads the answer.
 * (A chunked body is read to its end, within the request's deadline, in any case.)
 */
#define DRAIN_MAX ((size_t)8 << 20)

struct request {
	struct vg_buf body;
	int too_large;      /* the body exceeds max_body: refused with 413 */
	int declared_large; /* ... as its Content-Length said: 413 whatever the URL */
	struct timespec start;
};

static uint64_t since_us(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000u + (uint64_t)(t.tv_nsec - t0->tv_nsec) / 1000u;
}

#define INC(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define ADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_RELAXED)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			    const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	return respond(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void metrics(struct server *s, struct vg_buf *b)
{
	buf_printf(b, "# HELP vigil_admission_reviews_total AdmissionReview requests received.\n"
		      "# TYPE vigil_admission_reviews_total counter\n"
		      "vigil_admission_reviews_total %llu\n",
		   (unsigned long long)GET(s->reviews));
	buf_printf(b, "# HELP vigil_admission_decisions_total Decisions by outcome.\n"
		      "# TYPE vigil_admission_decisions_total counter\n"
		      "vigil_admission_decisions_total{decision=\"allowed\"} %llu\n"
		      "vigil_admission_decisions_total{decision=\"denied\"} %llu\n"
		      "vigil_admission_decisions_total{decision=\"bad_request\"} %llu\n"
		      "vigil_admission_decisions_total{decision=\"too_large\"} %llu\n"
		      "vigil_admission_decisions_total{decision=\"timed_out\"} %llu\n",
		   (unsigned long long)GET(s->allowed), (unsigned long long)GET(s->denied),
		   (unsigned long long)GET(s->bad_requests), (unsigned long long)GET(s->too_large),
		   (unsigned long long)GET(s->timeouts));
	buf_printf(b, "# HELP vigil_admission_internal_errors_total Decisions taken by the failure policy.\n"
		      "# TYPE vigil_admission_internal_errors_total counter\n"
		      "vigil_admission_internal_errors_total %llu\n",
		   (unsigned long long)GET(s->errors));
	buf_printf(b, "# HELP vigil_admission_policy_reloads_total Policy reloads by result.\n"
		      "# TYPE vigil_admission_policy_reloads_total counter\n"
		      "vigil_admission_policy_reloads_total{result=\"ok\"} %llu\n"
		      "vigil_admission_policy_reloads_total{result=\"failed\"} %llu\n",
		   (unsigned long long)GET(s->reloads_ok), (unsigned long long)GET(s->reloads_failed));
	buf_printf(b, "# HELP vigil_admission_review_duration_seconds Time to judge one review.\n"
		      "# TYPE vigil_admission_review_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t i = 0; i <= NBUCKETS; i++) {
		cum += GET(s->buckets[i]);
		if (i < NBUCKETS)
			buf_printf(b, "vigil_admission_review_duration_seconds_bucket{le=\"%g\"} %llu\n",
				   (double)bucket_us[i] / 1e6, (unsigned long long)cum);
		else
			buf_printf(b, "vigil_admission_review_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				   (unsigned long long)cum);
	}
	buf_printf(b, "vigil_admission_review_duration_seconds_sum %.6f\n"
		      "vigil_admission_review_duration_seconds_count %llu\n",
		   (double)GET(s->latency_sum_us) / 1e6, (unsigned long long)cum);
}

static void log_decision(struct server *s, const struct admission_decision *d, uint64_t us)
{
	if (!s->o->decision_log)
		return;
	struct vg_buf b = { 0 };
	struct vg_json j;
	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "time", ts);
	jw_str(&j, "uid", d->uid);
	jw_str(&j, "operation", d->operation);
	jw_str(&j, "kind", d->kind);
	jw_str(&j, "namespace", d->ns);
	jw_str(&j, "name", d->name);
	jw_str(&j, "user", d->user);
	jw_bool(&j, "allowed", d->allowed);
	jw_int(&j, "httpStatus", d->http_status);
	jw_str(&j, "reason", d->reason);
	jw_uint(&j, "enforceViolations", d->enforce_violations);
	jw_uint(&j, "auditViolations", d->audit_violations);
	jw_uint(&j, "warnViolations", d->warn_violations);
	jw_bool(&j, "internalError", d->internal_error);
	jw_uint(&j, "latencyUs", us);
	jw_obj_end(&j);
	buf_addc(&b, '\n');
	pthread_mutex_lock(&s->log_mu);
	fwrite(b.data, 1, b.len, s->o->decision_log);
	fflush(s->o->decision_log);
	pthread_mutex_unlock(&s->log_mu);
	buf_free(&b);
}

static enum MHD_Result review(struct server *s, struct MHD_Connection *c, struct request *rq)
{
	INC(s->reviews);
	if (rq->too_large) {
		INC(s->too_large);
		char msg[128];
		snprintf(msg, sizeof(msg), "{\"error\":\"request body larger than %zu bytes\"}", s->o->max_body);
		return respond(c, MHD_HTTP_CONTENT_TOO_LARGE, "application/json", msg, strlen(msg));
	}
	struct admission_decision d;
	char pv[sizeof(s->policy_version)];
	pthread_rwlock_rdlock(&s->lock);
	admission_review_handle(s->policy, rq->body.data ? rq->body.data : "", rq->body.len, &d);
	memcpy(pv, s->policy_version, sizeof(pv));
	pthread_rwlock_unlock(&s->lock);
	uint64_t us = since_us(&rq->start);
	size_t b = 0;
	while (b < NBUCKETS && us > bucket_us[b])
		b++;
	INC(s->buckets[b]);
	ADD(s->latency_sum_us, us);
	if (d.http_status != 200)
		INC(s->bad_requests);
	else if (d.allowed)
		INC(s->allowed);
	else
		INC(s->denied);
	if (d.internal_error)
		INC(s->errors);
	log_decision(s, &d, us);
	if (s->o->on_decision && d.http_status == 200)
		s->o->on_decision(s->o->on_decision_ctx, &d, pv);
	enum MHD_Result r = respond(c, (unsigned)d.http_status, "application/json", d.response.data,
				 d.response.len);
	admission_decision_free(&d);
	return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct request *rq = *con_cls;
	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof(*rq));
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		*con_cls = rq;
		/* a declared length over the limit is refused without keeping any of the body */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
		if (len > s->o->max_body) {
			rq->too_large = rq->declared_large = 1;
			/* at once when the client waits for a go-ahead (it has sent nothing yet)
			 * or the body is not worth reading; otherwise after it, see DRAIN_MAX */
			const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
									 MHD_HTTP_HEADER_EXPECT);
			if ((expect && !strcasecmp(expect, "100-continue")) || len - s->o->max_body > DRAIN_MAX)
				return review(s, c, rq);
		}
		return MHD_YES;
	}
	/* a whole-request deadline, not only an idle one: a body trickled in a byte at a time
	 * (slowloris) is dropped once the request is older than the timeout */
	if (since_us(&rq->start) > (uint64_t)s->o->timeout_s * 1000000u) {
		INC(s->timeouts);
		return MHD_NO;
	}
	if (*upload_size) {
		/* keep at most max_body bytes; the rest is read and dropped, then refused */
		if (!rq->too_large && rq->body.len + *upload_size <= s->o->max_body)
			buf_add(&rq->body, upload, *upload_size);
		else {
			rq->too_large = 1;
			buf_free(&rq->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->declared_large)
		return review(s, c, rq);
	if (!strcmp(url, "/validate") || !strcmp(url, "/")) {
		if (strcmp(method, "POST"))
			return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST an AdmissionReview\n");
		return review(s, c, rq);
	}
	if (strcmp(method, "GET"))
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (!strcmp(url, "/healthz"))
		return send_text(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz")) {
		pthread_rwlock_rdlock(&s->lock);
		int ready = s->policy != NULL;
		pthread_rwlock_unlock(&s->lock);
		return send_text(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				 ready ? "ready\n" : "no policy\n");
	}
	if (!strcmp(url, "/metrics")) {
		struct vg_buf b = { 0 };
		metrics(s, &b);
		enum MHD_Result r = respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b.data, b.len);
		buf_free(&b);
		return r;
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static struct admission_policy *load_policy(const char *path)
{
	char err[512];
	if (!path)
		return admission_policy_default();
	struct admission_policy *p = admission_policy_load(path, err, sizeof(err));
	if (!p)
		vg_err("%s", err);
	return p;
}

/* The policy's version: "sha256:<hex>" of the file's bytes, "builtin" without a file. */
static void policy_version(const char *path, char *out, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	snprintf(out, len, "%s", path ? "unreadable" : "builtin");
	if (!path)
		return;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char buf[8192];
	size_t n;
	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		fclose(f);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(c, buf, n);
	fclose(f);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	size_t o = (size_t)snprintf(out, len, "sha256:");
	for (unsigned i = 0; i < mdlen && o + 2 < len; i++, o += 2)
		snprintf(out + o, len - o, "%02x", md[i]);
}

int admission_server_run(const struct admission_server_opts *o, volatile sig_atomic_t *stop,
			 volatile sig_atomic_t *reload)
{
	struct server s = { 0 };
	struct sockaddr_storage ss;
	int v6 = 0;
	s.o = o;
	if (listen_addr_parse(o->listen, &ss, &v6)) {
		vg_err("bad --listen '%s' (ADDR:PORT, [ADDR6]:PORT or :PORT with a numeric address)",
		       o->listen);
		return -1;
	}
	const char *why = libmhd_load();
	if (why) {
		vg_err("%s", why);
		return -1;
	}
	if (!o->insecure_http && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		vg_err("cannot serve HTTPS: this libmicrohttpd was built without TLS");
		return -1;
	}
	s.policy = load_policy(o->policy_path);
	if (!s.policy)
		return -1;
	policy_version(o->policy_path, s.policy_version, sizeof(s.policy_version));
	pthread_rwlock_init(&s.lock, NULL);
	pthread_mutex_init(&s.log_mu, NULL);

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_INTERNAL_THREAD;
	if (!o->insecure_http)
		flags |= MHD_USE_TLS;
	if (v6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->key_pem },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->cert_pem },
		/* TLS 1.2 and newer only */
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1" },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_OptionItem none[] = { { MHD_OPTION_END, 0, NULL } };
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 2),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_ARRAY,
		o->insecure_http ? none : tls, MHD_OPTION_END);
	if (!d) {
		vg_err("cannot start the admission webhook on %s (address in use, bad certificate or key?)",
		       o->listen);
		admission_policy_free(s.policy);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN] = "";
	if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
	fprintf(stderr, "vigil: admission webhook listening on %s://%s%s%s:%u\n",
		o->insecure_http ? "http" : "https", v6 ? "[" : "", host, v6 ? "]" : "",
		info ? (unsigned)info->port : 0);

	while (!*stop) {
		struct timespec t = { 0, 50 * 1000 * 1000 };
		nanosleep(&t, NULL);
		if (*reload) {
			*reload = 0;
			struct admission_policy *np = load_policy(o->policy_path);
			if (!np) {
				INC(s.reloads_failed);
				vg_err("policy reload failed; the previous policy stays in force");
				continue;
			}
			char pv[sizeof(s.policy_version)];
			policy_version(o->policy_path, pv, sizeof(pv));
			pthread_rwlock_wrlock(&s.lock);
			struct admission_policy *old = s.policy;
			s.policy = np;
			memcpy(s.policy_version, pv, sizeof(pv));
			pthread_rwlock_unlock(&s.lock);
			admission_policy_free(old);
			INC(s.reloads_ok);
			vg_info("policy reloaded");
		}
	}
	/* stop accepting, let requests in flight finish (bounded), then stop */
	MHD_quiesce_daemon(d);
	for (int i = 0; i < 50; i++) {
		info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!info || !info->num_connections)
			break;
		struct timespec t = { 0, 100 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	MHD_stop_daemon(d);
	admission_policy_free(s.policy);
	pthread_rwlock_destroy(&s.lock);
	pthread_mutex_destroy(&s.log_mu);
	return 0;
}
