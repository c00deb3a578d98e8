/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hub API's routes of image scans and admission decisions (docs/hub.md,
 * "Images and admissions"): GET /api/v1/images, /api/v1/images/<digest>,
 * /api/v1/images/<digest>/sbom and /api/v1/admissions, read from the
 * store's tables of hub_scans.c on the API's read-only connections.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/nats_conn.h"
#include "fleet/streams.h"
#include "hub/hub_api_int.h"
#include "hub/hub_msg.h"
#include "hub/hub_scans.h"
#include "hub/hub_store.h"

static int page_args(const char *limit, const char *cursor, long *lim, int64_t *after, char *err, size_t errlen)
{
	char *end;
	*lim = HUB_LIMIT_DEFAULT;
	*after = 0;
	if (limit) {
		long n = strtol(limit, &end, 10);
		if (*end || n < 1 || n > HUB_LIMIT_MAX) {
			snprintf(err, errlen, "limit: 1 to %d, not '%.32s'", HUB_LIMIT_MAX, limit);
			return -1;
		}
		*lim = n;
	}
	if (cursor) {
		long long n = strtoll(cursor, &end, 10);
		if (*end || n < 0 || !isdigit((unsigned char)cursor[0])) {
			snprintf(err, errlen, "cursor: the next_cursor of an earlier page, not '%.32s'", cursor);
			return -1;
		}
		*after = n;
	}
	return 0;
}

static int names(const char *k, const char *v, char *err, size_t errlen)
{
	if (v && !fleet_name_valid(v)) {
		snprintf(err, errlen, "%s: 1 to 64 of A-Z a-z 0-9 - _, not '%.64s'", k, v);
		return -1;
	}
	return 0;
}

/* A time: a UTC time, ns since the epoch, or a duration back from now (10m, 2h, 7d). */
static int64_t parse_when(const char *v, int64_t now)
{
	int64_t t = hub_parse_time(v);
	if (t > 0)
		return t;
	size_t n = strlen(v);
	bool digits = n > 0 && n <= 19;
	for (size_t i = 0; digits && i < n; i++)
		digits = isdigit((unsigned char)v[i]);
	if (digits)
		return strtoll(v, NULL, 10);
	int64_t d = fleet_parse_duration(v);
	return d > 0 && d < now ? now - d : -1;
}

int hub_api_images_parse(const struct hub_args *args, struct hub_images_query *q, char *err, size_t errlen)
{
	static const char *const keys[] = { "cluster", "node", "reference", "digest", "severity", "limit", "cursor", NULL };
	const char *v[8] = { 0 };
	memset(q, 0, sizeof(*q));
	q->min_sev = -1;
	if (hub_args_take(args, keys, v, err, errlen) || names("cluster", v[0], err, errlen) ||
	    names("node", v[1], err, errlen) || page_args(v[5], v[6], &q->limit, &q->after_id, err, errlen))
		return -1;
	q->cluster = v[0];
	q->node = v[1];
	q->reference = v[2];
	q->digest = v[3];
	if (v[4]) {
		static const char *const sev[] = { "critical", "high", "medium", "low", "unknown" };
		for (int i = 0; i < HUB_SEV__N; i++)
			if (!strcasecmp(v[4], sev[i]))
				q->min_sev = i;
		if (q->min_sev < 0) {
			snprintf(err, errlen, "severity: critical, high, medium, low or unknown, not '%.32s'", v[4]);
			return -1;
		}
	}
	return 0;
}

int hub_api_admissions_parse(const struct hub_args *args, struct hub_adm_query *q, char *err, size_t errlen)
{
	static const char *const keys[] = { "cluster", "node", "namespace", "allowed", "since", "until",
					    "limit", "cursor", NULL };
	const char *v[9] = { 0 };
	int64_t now = hub_api_now_ns();
	memset(q, 0, sizeof(*q));
	q->allowed = -1;
	if (hub_args_take(args, keys, v, err, errlen) || names("cluster", v[0], err, errlen) ||
	    names("node", v[1], err, errlen) || page_args(v[6], v[7], &q->limit, &q->after_id, err, errlen))
		return -1;
	q->cluster = v[0];
	q->node = v[1];
	q->ns = v[2];
	if (v[3]) {
		if (!strcmp(v[3], "true"))
			q->allowed = 1;
		else if (!strcmp(v[3], "false"))
			q->allowed = 0;
		else {
			snprintf(err, errlen, "allowed: true or false, not '%.32s'", v[3]);
			return -1;
		}
	}
	for (int i = 4; i <= 5; i++) {
		if (!v[i])
			continue;
		int64_t t = parse_when(v[i], now);
		if (t <= 0) {
			snprintf(err, errlen,
				 "%s: not a time (2026-11-28T14:00:00Z, ns since the epoch) or a duration back (10m, 2h, 7d): '%.64s'",
				 keys[i], v[i]);
			return -1;
		}
		*(i == 4 ? &q->since_ns : &q->until_ns) = t;
	}
	if (q->since_ns && q->until_ns && q->until_ns <= q->since_ns) {
		snprintf(err, errlen, "until must be after since");
		return -1;
	}
	return 0;
}

static bool digest_ok(const char *s, size_t n)
{
	if (n != 71 || strncmp(s, "sha256:", 7))
		return false;
	for (size_t i = 7; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static enum MHD_Result sbom_response(struct MHD_Connection *c, const char *digest, const char *format,
				     const struct vg_buf *b)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->data ? b->data : (char *)"",
								  MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	char disp[160];
	/* the digest is checked hex: nothing of an attacker's reaches the header */
	snprintf(disp, sizeof(disp), "attachment; filename=\"%.14s-%s.json\"", digest + 7,
		 !strcmp(format, "spdx") ? "spdx" : "cyclonedx");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				!strcmp(format, "spdx") ? "application/spdx+json" : "application/vnd.cyclonedx+json");
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

bool hub_routes_scans(struct hub_api *api, const struct hub_req *rq, enum MHD_Result *ret)
{
	static const char images[] = "/api/v1/images", adm[] = "/api/v1/admissions";
	const char *u = rq->url;
	bool is_images = !strncmp(u, images, sizeof(images) - 1) && (!u[sizeof(images) - 1] || u[sizeof(images) - 1] == '/');
	bool is_adm = !strcmp(u, adm);
	if (!is_images && !is_adm)
		return false;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
		*ret = hub_api_error(rq->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
		return true;
	}
	char err[320];
	struct vg_buf b = { 0 };
	long rc = 0;
	if (is_adm) {
		struct hub_adm_query q;
		if (hub_api_admissions_parse(&rq->args, &q, err, sizeof(err))) {
			*ret = hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
			return true;
		}
		struct hub_store *s = hub_api_store_get(api);
		rc = hub_admissions_list(hub_store_db(s), &q, &b, err, sizeof(err));
		hub_api_store_put(api, s);
	} else if (!u[sizeof(images) - 1]) {
		struct hub_images_query q;
		if (hub_api_images_parse(&rq->args, &q, err, sizeof(err))) {
			*ret = hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, err);
			return true;
		}
		struct hub_store *s = hub_api_store_get(api);
		rc = hub_images_list(hub_store_db(s), &q, &b, err, sizeof(err));
		hub_api_store_put(api, s);
	} else {
		/* /api/v1/images/<digest>[/sbom] */
		const char *d = u + sizeof(images);
		const char *slash = strchr(d, '/');
		size_t dn = slash ? (size_t)(slash - d) : strlen(d);
		bool sbom = slash && !strcmp(slash, "/sbom");
		if ((slash && !sbom) || !digest_ok(d, dn)) {
			*ret = hub_api_error(rq->c, MHD_HTTP_NOT_FOUND,
					     "no such route (an image is /api/v1/images/sha256:<64 hex>[/sbom])");
			return true;
		}
		if (rq->args.n) {
			*ret = hub_api_error(rq->c, MHD_HTTP_BAD_REQUEST, "this route takes no parameters");
			return true;
		}
		char digest[72], format[16] = "";
		memcpy(digest, d, dn);
		digest[dn] = 0;
		struct hub_store *s = hub_api_store_get(api);
		rc = sbom ? hub_image_sbom(hub_store_db(s), digest, &b, format, sizeof(format), err, sizeof(err))
			  : hub_image_get(hub_store_db(s), digest, &b, err, sizeof(err));
		hub_api_store_put(api, s);
		if (rc == 0)
			*ret = hub_api_error(rq->c, MHD_HTTP_NOT_FOUND, "no scan of this image");
		else if (rc > 0 && sbom)
			*ret = sbom_response(rq->c, digest, format, &b);
		if (rc >= 0 && (rc == 0 || sbom)) {
			buf_free(&b);
			return true;
		}
	}
	if (rc < 0)
		*ret = hub_api_error(rq->c, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	else
		*ret = hub_api_respond(rq->c, MHD_HTTP_OK, "application/json", b.data ? b.data : "", b.len);
	buf_free(&b);
	return true;
}
