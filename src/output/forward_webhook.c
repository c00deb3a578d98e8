/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The webhook forwarder: each record POSTed alone as its JSON (Falco's alert
 * shape for alerts: what falcosidekick's "/" endpoint takes), with libcurl
 * (opened on first use, common/libcurl.h). docs/outputs.md has the spec.
 *
 * Outcomes per request:
 *   2xx                   delivered
 *   4xx but 408 and 429   poison: the receiver will never take this record;
 *                         it is counted, logged and skipped (delivered, for the
 *                         outbox), so that one bad record cannot stop the rest
 *   408, 429, 5xx, 3xx,   retried here up to `retries` times with capped
 *   no answer, timeout    exponential backoff and jitter (Retry-After honoured
 *                         up to the cap), then left to the outbox: deliver()
 *                         returns how many went before, or -1
 * Redirects are not followed (a webhook that moved is a configuration to fix,
 * not a place to send alerts to unchecked); only http and https are spoken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/buf.h"
#include "common/libcurl.h"
#include "common/log.h"
#include "common/version.h"
#include "output/forwarders.h"
#include "output/metrics.h"

#define WEBHOOK_BODY_KEEP 256 /* bytes of a refusal's body kept for the message */
#define WEBHOOK_HEADERS_MAX 32

struct webhook_fwd {
	char *url, *ca, *cert, *key;
	struct curl_slist *headers;
	unsigned kinds;
	long timeout_ms;
	int retries;
	double backoff, backoff_max;
	CURL *curl;
	char body[WEBHOOK_BODY_KEEP + 1];
	size_t body_len;
	unsigned int seed;
	uint64_t delivered, poisoned, retried;
	struct vg_series *m_poisoned, *m_retries;
};

static size_t keep_body(char *p, size_t size, size_t n, void *ctx)
{
	struct webhook_fwd *f = ctx;
	size_t len = size * n, room = WEBHOOK_BODY_KEEP - f->body_len;
	memcpy(f->body + f->body_len, p, len < room ? len : room);
	f->body_len += len < room ? len : room;
	f->body[f->body_len] = 0;
	return len;
}

static void sleep_s(double s)
{
	struct timespec t = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

enum post_result { POST_OK, POST_POISON, POST_RETRY };

/* POST one record: its result, the HTTP status (0 without one) and Retry-After (s, or -1). */
static enum post_result post(struct webhook_fwd *f, const struct outbox_record *r, long *status,
			     double *retry_after, char *err, size_t errlen)
{
	static const char *const kinds[] = { [OUTBOX_ALERT] = "alert", [OUTBOX_ACTION] = "action",
					     [OUTBOX_LOSS] = "loss" };
	char hdr[2][96];
	struct curl_slist *h = NULL;

	*status = 0;
	*retry_after = -1;
	f->body_len = 0;
	f->body[0] = 0;
	/* per record: the idempotency key and kind, then the configured headers */
	snprintf(hdr[0], sizeof(hdr[0]), "Idempotency-Key: %s", r->uuid ? r->uuid : "");
	snprintf(hdr[1], sizeof(hdr[1]), "Vigil-Kind: %s",
		 r->kind >= OUTBOX_ALERT && r->kind <= OUTBOX_LOSS ? kinds[r->kind] : "record");
	h = curl_slist_append(h, hdr[0]);
	h = curl_slist_append(h, hdr[1]);
	for (struct curl_slist *c = f->headers; c; c = c->next)
		h = curl_slist_append(h, c->data);
	if (!h) {
		snprintf(err, errlen, "webhook %s: out of memory", f->url);
		return POST_RETRY;
	}
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, r->json);
	curl_easy_setopt(f->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->json_len);
	CURLcode rc = curl_easy_perform(f->curl);
	curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "webhook %s: %s", f->url, curl_easy_strerror(rc));
		return POST_RETRY;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300)
		return POST_OK;
	curl_off_t ra = -1;
	if (curl_easy_getinfo(f->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra >= 0)
		*retry_after = (double)ra;
	snprintf(err, errlen, "webhook %s: HTTP %ld%s%.*s", f->url, *status, f->body_len ? ": " : "",
		 (int)strcspn(f->body, "\r\n"), f->body);
	if (*status >= 400 && *status < 500 && *status != 408 && *status != 429)
		return POST_POISON;
	return POST_RETRY;
}

static long webhook_deliver(void *ctx, const struct outbox_record *recs, size_t n, char *err, size_t errlen)
{
	struct webhook_fwd *f = ctx;

	for (size_t i = 0; i < n; i++) {
		if (!(f->kinds & (1u << recs[i].kind)))
			continue;
		for (int attempt = 0;; attempt++) {
			long status;
			double ra;
			enum post_result res = post(f, &recs[i], &status, &ra, err, errlen);
			if (res == POST_OK) {
				f->delivered++;
				break;
			}
			if (res == POST_POISON) {
				f->poisoned++;
				metrics_add(f->m_poisoned, 1);
				vg_err("%s: record %s skipped (the receiver refuses it; %llu so far)", err,
				       recs[i].uuid ? recs[i].uuid : "?", (unsigned long long)f->poisoned);
				break;
			}
			if (attempt >= f->retries)
				return i ? (long)i : -1;
			/* capped exponential backoff, half of it random (equal jitter) */
			double d = f->backoff * (double)(1u << (attempt < 20 ? attempt : 20));
			if (d > f->backoff_max)
				d = f->backoff_max;
			d = d / 2 + d / 2 * ((double)rand_r(&f->seed) / RAND_MAX);
			if (ra > d)
				d = ra < f->backoff_max ? ra : f->backoff_max;
			f->retried++;
			metrics_add(f->m_retries, 1);
			sleep_s(d);
		}
	}
	return (long)n;
}

static void webhook_close(void *ctx)
{
	struct webhook_fwd *f = ctx;
	if (!f)
		return;
	if (f->curl)
		curl_easy_cleanup(f->curl);
	if (f->headers)
		curl_slist_free_all(f->headers);
	free(f->url);
	free(f->ca);
	free(f->cert);
	free(f->key);
	free(f);
}

/* A header line "Name: value": a token, a colon, no CR/LF. */
static int header_ok(const char *h)
{
	size_t name = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
	return name > 0 && h[name] == ':' && !strpbrk(h, "\r\n") && strlen(h) < 8192;
}

static int add_header(struct webhook_fwd *f, const char *h, size_t *count, char *err, size_t errlen)
{
	if (!header_ok(h)) {
		snprintf(err, errlen, "webhook output: a header is 'Name: value' on one line, not '%.100s'", h);
		return -1;
	}
	if (++*count > WEBHOOK_HEADERS_MAX) {
		snprintf(err, errlen, "webhook output: more than %d headers", WEBHOOK_HEADERS_MAX);
		return -1;
	}
	f->headers = curl_slist_append(f->headers, h);
	return 0;
}

/* Headers from a file, one "Name: value" a line (# comments, blank lines): secrets stay off the command line. */
static int header_file(struct webhook_fwd *f, const char *path, size_t *count, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	char line[8192];
	unsigned no = 0;
	int ret = 0;

	if (!fp) {
		snprintf(err, errlen, "webhook output: cannot open header file %s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), fp)) {
		no++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (add_header(f, line, count, err, errlen)) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s:%u: %s", path, no, why);
			ret = -1;
		}
	}
	fclose(fp);
	return ret;
}

static int webhook_open(void **ctx, const char *spec, char *err, size_t errlen)
{
	static const char known[] = "header, header-file, timeout, retries, backoff, backoff-max, ca, cert, key, kinds";
	struct webhook_fwd *f = xcalloc(1, sizeof(*f));
	struct fwd_spec s;
	const char *v, *lerr;
	size_t nheaders = 0;
	double secs;

	*ctx = NULL;
	if (fwd_spec_parse(spec, &s, err, errlen)) {
		free(f);
		return -1;
	}
	if (strncmp(s.target, "http://", 7) && strncmp(s.target, "https://", 8)) {
		snprintf(err, errlen, "webhook output takes an http:// or https:// URL, not '%.200s'", s.target);
		goto fail;
	}
	f->url = xstrdup(s.target);
	f->kinds = 1u << OUTBOX_ALERT;
	f->timeout_ms = 10000;
	f->retries = 3;
	f->backoff = 0.5;
	f->backoff_max = 30;
	f->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)f;
	if ((lerr = libcurl_load())) {
		snprintf(err, errlen, "webhook output: %s", lerr);
		goto fail;
	}
	f->headers = curl_slist_append(NULL, "Content-Type: application/json");
	f->headers = curl_slist_append(f->headers, "User-Agent: vigil/" VIGIL_VERSION);
	/* no "Expect: 100-continue" for bodies over 1 KiB: a receiver that does not
	 * answer it would cost each alert a second's wait */
	f->headers = curl_slist_append(f->headers, "Expect:");
	for (size_t i = 0; i < s.n; i++) {
		if (!strcmp(s.key[i], "header")) {
			s.used[i] = true;
			if (add_header(f, s.val[i], &nheaders, err, errlen))
				goto fail;
		} else if (!strcmp(s.key[i], "header-file")) {
			s.used[i] = true;
			if (header_file(f, s.val[i], &nheaders, err, errlen))
				goto fail;
		}
	}
	if ((v = fwd_spec_get(&s, "timeout"))) {
		if (fwd_parse_seconds(v, &secs)) {
			snprintf(err, errlen, "webhook output: timeout takes seconds, not '%.64s'", v);
			goto fail;
		}
		f->timeout_ms = (long)(secs * 1000);
	}
	if ((v = fwd_spec_get(&s, "retries"))) {
		char *end;
		long r = strtol(v, &end, 10);
		if (!*v || *end || r < 0 || r > 20) {
			snprintf(err, errlen, "webhook output: retries takes 0 to 20, not '%.64s'", v);
			goto fail;
		}
		f->retries = (int)r;
	}
	if ((v = fwd_spec_get(&s, "backoff")) && fwd_parse_seconds(v, &f->backoff)) {
		snprintf(err, errlen, "webhook output: backoff takes seconds, not '%.64s'", v);
		goto fail;
	}
	if ((v = fwd_spec_get(&s, "backoff-max")) && fwd_parse_seconds(v, &f->backoff_max)) {
		snprintf(err, errlen, "webhook output: backoff-max takes seconds, not '%.64s'", v);
		goto fail;
	}
	if ((v = fwd_spec_get(&s, "kinds")) && fwd_parse_kinds(v, &f->kinds)) {
		snprintf(err, errlen, "webhook output: kinds is a list of alert, action, loss, not '%.64s'", v);
		goto fail;
	}
	if ((v = fwd_spec_get(&s, "ca")))
		f->ca = xstrdup(v);
	if ((v = fwd_spec_get(&s, "cert")))
		f->cert = xstrdup(v);
	if ((v = fwd_spec_get(&s, "key")))
		f->key = xstrdup(v);
	if (!f->cert != !f->key) {
		snprintf(err, errlen, "webhook output: cert and key go together");
		goto fail;
	}
	if (fwd_spec_check_used(&s, "webhook", known, err, errlen))
		goto fail;
	if (!(f->curl = curl_easy_init())) {
		snprintf(err, errlen, "webhook output: cannot start libcurl");
		goto fail;
	}
	curl_easy_setopt(f->curl, CURLOPT_URL, f->url);
	curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, f->timeout_ms);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, f->timeout_ms);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, f);
	if (f->ca)
		curl_easy_setopt(f->curl, CURLOPT_CAINFO, f->ca);
	if (f->cert) {
		curl_easy_setopt(f->curl, CURLOPT_SSLCERT, f->cert);
		curl_easy_setopt(f->curl, CURLOPT_SSLKEY, f->key);
	}
	f->m_poisoned = fwd_metric("poisoned", "webhook");
	f->m_retries = fwd_metric("retries", "webhook");
	fwd_spec_free(&s);
	*ctx = f;
	return 0;
fail:
	fwd_spec_free(&s);
	webhook_close(f);
	return -1;
}

const struct vg_forwarder_ops forward_webhook_ops = {
	.name = "webhook",
	.open = webhook_open,
	.deliver = webhook_deliver,
	.close = webhook_close,
};
