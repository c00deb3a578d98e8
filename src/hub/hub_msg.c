/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "common/buf.h"
#include "engine/ruleset.h"
#include "fleet/nats_conn.h"
#include "hub/hub_jscan.h"
#include "hub/hub_msg.h"
#include "hub/hub_scans.h"

static const char *const reject_names[HUB_REJ__N] = {
	[HUB_OK] = "ok",	      [HUB_REJ_SUBJECT] = "subject", [HUB_REJ_KIND] = "kind",
	[HUB_REJ_HEADERS] = "headers", [HUB_REJ_SEQ] = "seq",	      [HUB_REJ_SIZE] = "size",
	[HUB_REJ_JSON] = "json",       [HUB_REJ_UUID] = "uuid",	      [HUB_REJ_FIELDS] = "fields",
	[HUB_REJ_COUNT] = "count",     [HUB_REJ_ENCODING] = "encoding",
};

const char *hub_reject_name(enum hub_reject r)
{
	return r >= 0 && r < HUB_REJ__N ? reject_names[r] : "?";
}

static const char *const kind_names[] = { [HUB_ALERT] = "alert", [HUB_ACTION] = "action",
					  [HUB_LOSS] = "loss", [HUB_HEARTBEAT] = "heartbeat",
					  [HUB_FLOWS] = "flows",
					  [HUB_SCAN] = "scan", [HUB_ADMISSION] = "admission",
					  [HUB_PROFILE] = "profile" };

int64_t hub_parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return -1;
	int64_t frac = 0;
	if (*rest == '.') {
		int digits = 0;
		rest++;
		while (isdigit((unsigned char)*rest)) {
			if (digits < 9) {
				frac = frac * 10 + (*rest - '0');
				digits++;
			}
			rest++;
		}
		if (!digits)
			return -1;
		while (digits++ < 9)
			frac *= 10;
	}
	if (strcmp(rest, "Z"))
		return -1;
	time_t t = timegm(&tm);
	if (t < 0)
		return -1;
	return (int64_t)t * 1000000000LL + frac;
}

static int split_subject(const char *subject, char *cluster, char *node, char *kind, size_t kindlen)
{
	/* vigil.<cluster>.<node>.<kind>: four tokens exactly */
	if (!subject || strncmp(subject, "vigil.", 6))
		return -1;
	const char *p = subject + 6;
	char *outs[3] = { cluster, node, kind };
	size_t lens[3] = { 65, 65, kindlen };
	for (int i = 0; i < 3; i++) {
		const char *dot = i < 2 ? strchr(p, '.') : p + strlen(p);
		if (!dot || (size_t)(dot - p) >= lens[i] || dot == p)
			return -1;
		memcpy(outs[i], p, dot - p);
		outs[i][dot - p] = 0;
		p = i < 2 ? dot + 1 : dot;
	}
	if (strchr(kind, '.'))
		return -1;
	return fleet_name_valid(cluster) && fleet_name_valid(node) ? 0 : -1;
}

static bool uuid_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 8 || n > HUB_UUID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* ---- flows (docs/fleet.md, "Flows") ---- */

/* A string of at most max bytes, printable ASCII or UTF-8 (no control characters); NULL when absent
 * or JSON null and nullable; *bad when present and wrong. */
static const char *flow_str(json_t *o, const char *key, size_t max, bool nullable, bool *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (!nullable)
			*bad = true;
		return NULL;
	}
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) > max || strlen(s) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*bad = true;
			return NULL;
		}
	return s;
}

static int64_t flow_count(json_t *o, const char *key, int64_t max, bool *bad)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		*bad = true;
		return 0;
	}
	return json_integer_value(v);
}

/* An address as the agent writes it: IPv4 or IPv6 text (hex digits, '.', ':'), or "?" */
static bool addr_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 45)
		return false;
	if (!strcmp(s, "?"))
		return true;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != '.' && *p != ':')
			return false;
	return true;
}

static bool id_ok(const char *s)
{
	for (const char *p = s; p && *p; p++)
		if (!isalnum((unsigned char)*p))
			return false;
	return true;
}

static const char *one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return *set;
	return NULL;
}

static int flow_row(json_t *o, struct hub_flow_row *r, char *err, size_t errlen)
{
	static const char *const dirs[] = { "out", "in", "unknown", NULL };
	static const char *const protos[] = { "tcp", "udp", NULL };
	bool bad = false;
	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "a flows row is not an object");
		return -1;
	}
	json_t *w = json_object_get(o, "workload"), *p = json_object_get(o, "peer");
	if (!json_is_object(w) || !json_is_object(p)) {
		snprintf(err, errlen, "a flows row without workload and peer objects");
		return -1;
	}
	r->minute = flow_count(o, "minute", 253402300799LL, &bad);
	if (!bad && r->minute % 60) {
		snprintf(err, errlen, "a flows row's minute %lld is not a minute's start", (long long)r->minute);
		return -1;
	}
	r->cid = flow_str(w, "container_id", 64, false, &bad);
	r->cname = flow_str(w, "container_name", 256, true, &bad);
	r->ns = flow_str(w, "k8s_namespace", 256, true, &bad);
	r->pod = flow_str(w, "k8s_pod", 256, true, &bad);
	r->local_addr = flow_str(o, "local_addr", 45, false, &bad);
	r->direction = one_of(flow_str(o, "direction", 8, false, &bad), dirs);
	r->proto = one_of(flow_str(o, "proto", 8, false, &bad), protos);
	r->port = (unsigned)flow_count(o, "port", 65535, &bad);
	r->peer_addr = flow_str(p, "address", 45, false, &bad);
	r->peer_name = flow_str(p, "name", 253, false, &bad);
	r->pcid = flow_str(p, "container_id", 64, false, &bad);
	r->pcname = flow_str(p, "container_name", 256, true, &bad);
	r->pns = flow_str(p, "k8s_namespace", 256, true, &bad);
	r->ppod = flow_str(p, "k8s_pod", 256, true, &bad);
	static const int64_t big = (int64_t)1 << 62;
	r->connections = flow_count(o, "connections", big, &bad);
	r->bytes_in = flow_count(o, "bytes_in", big, &bad);
	r->bytes_out = flow_count(o, "bytes_out", big, &bad);
	r->packets_in = flow_count(o, "packets_in", big, &bad);
	r->packets_out = flow_count(o, "packets_out", big, &bad);
	if (bad || !r->direction || !r->proto || !addr_ok(r->peer_addr) || !addr_ok(r->local_addr) ||
	    !id_ok(r->cid) || !id_ok(r->pcid)) {
		snprintf(err, errlen, "a flows row with a missing or malformed field");
		return -1;
	}
	return 0;
}

static int check_flows(struct hub_msg *m, char *err, size_t errlen)
{
	json_t *a = json_object_get(m->body, "flows");
	struct hub_flow_row r;
	if (!json_is_array(a) || json_array_size(a) > HUB_FLOWS_MAX_ROWS) {
		snprintf(err, errlen, "flows without an array \"flows\" of at most %d rows", HUB_FLOWS_MAX_ROWS);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(a); i++)
		if (flow_row(json_array_get(a, i), &r, err, errlen))
			return -1;
	m->flows = a;
	m->nflows = json_array_size(a);
	return 0;
}

void hub_msg_flow_row(const struct hub_msg *m, size_t i, struct hub_flow_row *r)
{
	char err[8];
	if (i >= m->nflows || flow_row(json_array_get(m->flows, i), r, err, sizeof(err)))
		memset(r, 0, sizeof(*r));
}

enum hub_reject hub_msg_parse(const char *subject, const struct hub_headers *h, const char *body,
			      size_t len, size_t max_len, struct hub_msg *m, char *err, size_t errlen)
{
	char kind[16];
	memset(m, 0, sizeof(*m));
	if (split_subject(subject, m->cluster, m->node, kind, sizeof(kind))) {
		snprintf(err, errlen, "subject '%.80s' is not vigil.<cluster>.<node>.<kind>", subject ? subject : "");
		return HUB_REJ_SUBJECT;
	}
	for (int k = HUB_ALERT; k < (int)(sizeof(kind_names) / sizeof(*kind_names)); k++)
		if (kind_names[k] && !strcmp(kind, kind_names[k]))
			m->kind = k;
	if (!m->kind) {
		snprintf(err, errlen, "unknown kind '%s' on %s", kind, subject);
		return HUB_REJ_KIND;
	}
	if (!h->kind || strcmp(h->kind, kind)) {
		snprintf(err, errlen, "Vigil-Kind '%.32s' disagrees with subject %s", h->kind ? h->kind : "", subject);
		return HUB_REJ_KIND;
	}
	if (!h->node || !h->cluster || strcmp(h->node, m->node) || strcmp(h->cluster, m->cluster)) {
		snprintf(err, errlen, "Vigil-Node/Vigil-Cluster '%.64s'/'%.64s' disagree with subject %s",
			 h->node ? h->node : "", h->cluster ? h->cluster : "", subject);
		return HUB_REJ_HEADERS;
	}
	char *end;
	m->seq = h->seq ? strtoll(h->seq, &end, 10) : 0;
	if (!h->seq || !*h->seq || *end || m->seq <= 0) {
		snprintf(err, errlen, "Vigil-Seq '%.32s' is not a positive integer on %s", h->seq ? h->seq : "", subject);
		return HUB_REJ_SEQ;
	}
	if (len > max_len) {
		snprintf(err, errlen, "message of %zu bytes over the limit of %zu on %s", len, max_len, subject);
		return HUB_REJ_SIZE;
	}
	if (body && memchr(body, 0, len)) {
		snprintf(err, errlen, "body has a NUL byte on %s", subject);
		return HUB_REJ_JSON;
	}
	m->raw = body;
	m->raw_len = len;
	/* alerts, actions and loss records: the light scanner when it is sure (hub_jscan.h), else jansson */
	enum { JF_UUID, JF_TIME, JF_TIME_NS, JF_RULE, JF_PRIO, JF_CID, JF_CNAME, JF_IMAGE, JF_NS, JF_POD,
	       JF_ACTION, JF_OUTCOME, JF_TARGET, JF_ACID, JF_ACNAME, JF__N };
	struct hub_jscan_field jf[JF__N] = {
		[JF_UUID] = { { "uuid" } },	  [JF_TIME] = { { "time" } },
		[JF_TIME_NS] = { { "time_ns" } }, [JF_RULE] = { { "rule" } },
		[JF_PRIO] = { { "priority" } },
		[JF_CID] = { { "vigil", "event", "container", "id" } },
		[JF_CNAME] = { { "vigil", "event", "container", "name" } },
		[JF_IMAGE] = { { "vigil", "event", "container", "image" } },
		[JF_NS] = { { "vigil", "event", "k8s", "namespace" } },
		[JF_POD] = { { "vigil", "event", "k8s", "pod" } },
		[JF_ACTION] = { { "action" } },	  [JF_OUTCOME] = { { "outcome" } },
		[JF_TARGET] = { { "target" } },	  [JF_ACID] = { { "container_id" } },
		[JF_ACNAME] = { { "container_name" } },
	};
	bool scanned = false;
	if (body && (m->kind == HUB_ALERT || m->kind == HUB_ACTION || m->kind == HUB_LOSS)) {
		m->scratch = xmalloc(len + JF__N);
		scanned = hub_jscan(body, len, jf, JF__N, m->scratch, len + JF__N) == HUB_JSCAN_OK;
		if (!scanned) {
			free(m->scratch);
			m->scratch = NULL;
		}
	}
	if (!scanned) {
		json_error_t je;
		m->body = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(m->body)) {
			snprintf(err, errlen, "body is not a JSON object on %s: %s", subject,
				 m->body ? "not an object" : je.text);
			json_decref(m->body);
			m->body = NULL;
			return HUB_REJ_JSON;
		}
		/* the same fields from the tree */
		for (int i = 0; i < JF__N; i++) {
			json_t *v = m->body;
			for (int k = 0; jf[i].path[k] && v; k++)
				v = json_object_get(v, jf[i].path[k]);
			jf[i].type = !v ? HUB_JT_ABSENT : json_is_string(v) ? HUB_JT_STRING
						     : json_is_integer(v) ? HUB_JT_INTEGER : HUB_JT_OTHER;
			jf[i].str = json_string_value(v);
			jf[i].integer = json_is_integer(v) ? json_integer_value(v) : 0;
		}
	}
#define JSTR(i) (jf[i].type == HUB_JT_STRING ? jf[i].str : NULL)
	const char *uuid = JSTR(JF_UUID);
	if (jf[JF_UUID].type != HUB_JT_ABSENT && !uuid_valid(uuid)) {
		snprintf(err, errlen, "body uuid is not 8..64 of [A-Za-z0-9_-] on %s", subject);
		goto bad_uuid;
	}
	if (!uuid && m->kind != HUB_HEARTBEAT)
		uuid = h->msg_id;
	if (m->kind != HUB_HEARTBEAT) {
		if (!uuid_valid(uuid)) {
			snprintf(err, errlen, "no uuid (body or Nats-Msg-Id) on %s", subject);
			goto bad_uuid;
		}
		snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	}
	m->version = h->version;
	m->priority = PRIO_INFO;
	bool time_str = jf[JF_TIME].type == HUB_JT_STRING;
	if (time_str)
		m->time_ns = hub_parse_time(jf[JF_TIME].str);
	else if (jf[JF_TIME_NS].type == HUB_JT_INTEGER)
		m->time_ns = jf[JF_TIME_NS].integer;
	if (m->time_ns < 0)
		m->time_ns = 0;
	switch (m->kind) {
	case HUB_ALERT:
		m->rule = JSTR(JF_RULE);
		const char *p = JSTR(JF_PRIO);
		m->priority = p ? priority_parse(p) : -1;
		if (!m->rule || m->priority < 0 || !time_str || !m->time_ns) {
			snprintf(err, errlen, "alert without a valid time, rule and priority on %s", subject);
			goto bad_fields;
		}
		m->container_id = JSTR(JF_CID);
		m->container_name = JSTR(JF_CNAME);
		m->image = JSTR(JF_IMAGE);
		m->ns = JSTR(JF_NS);
		m->pod = JSTR(JF_POD);
		break;
	case HUB_ACTION:
		m->rule = JSTR(JF_RULE);
		m->action = JSTR(JF_ACTION);
		m->outcome = JSTR(JF_OUTCOME);
		m->target = JSTR(JF_TARGET);
		m->container_id = JSTR(JF_ACID);
		m->container_name = JSTR(JF_ACNAME);
		if (!m->action || !m->outcome) {
			snprintf(err, errlen, "action without action and outcome on %s", subject);
			goto bad_fields;
		}
		break;
#undef JSTR
	case HUB_FLOWS:
		if (check_flows(m, err, errlen)) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " on %s", subject);
			goto bad_fields;
		}
		break;
	case HUB_SCAN:
	case HUB_ADMISSION:
		if (hub_scans_check(m, err, errlen)) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " on %s", subject);
			goto bad_fields;
		}
		break;
	default:
		break;
	}
	return HUB_OK;
bad_uuid:
	hub_msg_free(m);
	return HUB_REJ_UUID;
bad_fields:
	hub_msg_free(m);
	return HUB_REJ_FIELDS;
}

void hub_msg_free(struct hub_msg *m)
{
	hub_scans_fields_free(m);
	json_decref(m->body);
	m->body = NULL;
	free(m->scratch);
	m->scratch = NULL;
}

enum hub_reject hub_batch_open(const char *subject, const struct hub_headers *h, const char *body, size_t len,
			       size_t max_len, struct hub_batch *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->h = *h;
	if (h->count)
		b->h.msg_id = NULL; /* a batch's id is not its records' */
	b->h.count = NULL;
	/* the subject and headers of the whole, with an empty object as its body */
	struct hub_msg m;
	char seq0[24];
	if (!h->count) {
		b->count = 1;
	} else {
		char *end;
		long long c = strtoll(h->count, &end, 10);
		if (!*h->count || *end || c < 1 || c > HUB_BATCH_MAX) {
			snprintf(err, errlen, "Vigil-Count '%.32s' is not 1..%d on %.80s", h->count, HUB_BATCH_MAX,
				 subject ? subject : "");
			return HUB_REJ_COUNT;
		}
		b->count = (long)c;
	}
	if (h->seq) {
		char *end;
		long long s = strtoll(h->seq, &end, 10);
		b->first_seq = *h->seq && !*end && s > 0 && s <= INT64_MAX - HUB_BATCH_MAX ? s : 0;
	}
	snprintf(seq0, sizeof(seq0), "%lld", (long long)b->first_seq);
	struct hub_headers h0 = b->h;
	h0.seq = b->first_seq ? seq0 : h->seq;
	h0.msg_id = "batch-header-check";
	enum hub_reject r = hub_msg_parse(subject, &h0, "{}", 2, max_len, &m, err, errlen);
	if (r == HUB_OK)
		hub_msg_free(&m);
	else if (r != HUB_REJ_FIELDS)
		return r;
	if (m.kind == HUB_HEARTBEAT && b->count != 1) {
		snprintf(err, errlen, "a heartbeat cannot be a batch on %s", subject);
		return HUB_REJ_COUNT;
	}
	if (len > max_len) {
		snprintf(err, errlen, "message of %zu bytes over the limit of %zu on %s", len, max_len, subject);
		return HUB_REJ_SIZE;
	}
	if (h->encoding) {
		if (strcmp(h->encoding, "zlib") || (!h->count && m.kind != HUB_SCAN)) {
			snprintf(err, errlen, "Vigil-Encoding '%.32s' is not zlib on a batch on %s", h->encoding, subject);
			return HUB_REJ_ENCODING;
		}
		/* inflate, bounded: what a small message may claim to hold is not trusted */
		z_stream z = { 0 };
		size_t cap = len * 4 + 4096, out = 0;
		int zr = inflateInit(&z);
		b->inflated = xmalloc(cap + 1);
		z.next_in = (Bytef *)(body ? body : "");
		z.avail_in = (uInt)len;
		while (zr == Z_OK) {
			if (out == cap) {
				if (cap >= HUB_BATCH_MAX_INFLATED)
					break;
				cap = cap * 2 > HUB_BATCH_MAX_INFLATED ? HUB_BATCH_MAX_INFLATED : cap * 2;
				b->inflated = xrealloc(b->inflated, cap + 1);
			}
			z.next_out = (Bytef *)b->inflated + out;
			z.avail_out = (uInt)(cap - out);
			zr = inflate(&z, Z_NO_FLUSH);
			out = cap - z.avail_out;
			if (zr == Z_BUF_ERROR && z.avail_out)
				break; /* the input ended before the stream did */
			if (zr == Z_BUF_ERROR)
				zr = Z_OK;
		}
		inflateEnd(&z);
		if (zr != Z_STREAM_END || z.avail_in) {
			snprintf(err, errlen, "a zlib batch that does not inflate (%s) on %s",
				 zr == Z_OK ? "more than 8 MiB, or cut short" : "corrupt", subject);
			return HUB_REJ_ENCODING;
		}
		b->inflated[out] = 0;
		body = b->inflated;
		len = out;
	}
	if (body && memchr(body, 0, len)) {
		snprintf(err, errlen, "body has a NUL byte on %s", subject);
		return HUB_REJ_JSON;
	}
	if (b->count > 1) {
		long lines = 1;
		for (size_t i = 0; i < len; i++)
			if (body[i] == '\n')
				lines++;
		if (lines != b->count) {
			snprintf(err, errlen, "Vigil-Count %ld but %ld records on %s", b->count, lines, subject);
			return HUB_REJ_COUNT;
		}
	}
	b->body = body ? body : "";
	b->len = body ? len : 0;
	return HUB_OK;
}

void hub_batch_close(struct hub_batch *b)
{
	free(b->inflated);
	b->inflated = NULL;
}

enum hub_reject hub_batch_next(struct hub_batch *b, const char *subject, size_t max_len, struct hub_msg *m,
			       char *err, size_t errlen)
{
	const char *p = b->body + b->off;
	size_t rest = b->len - b->off, n = rest;
	if (b->count == 1) {
		b->next = 1;
		b->off = b->len;
		/* a compressed single record (a scan result) was checked against max_len as sent */
		return hub_msg_parse(subject, &b->h, p, n, b->inflated ? HUB_BATCH_MAX_INFLATED : max_len, m, err, errlen);
	}
	const char *nl = memchr(p, '\n', rest);
	if (nl)
		n = (size_t)(nl - p);
	b->off += n + (nl ? 1 : 0);
	snprintf(b->seq, sizeof(b->seq), "%lld", (long long)(b->first_seq + b->next));
	b->next++;
	struct hub_headers h = b->h;
	h.seq = b->seq;
	return hub_msg_parse(subject, &h, p, n, max_len, m, err, errlen);
}
