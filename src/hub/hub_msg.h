/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One message from a node, checked against the wire contract (docs/fleet.md)
 * before the hub stores anything of it. The hub trusts nothing a message says
 * about itself that the subject (which the server's permissions bind to the
 * node's credentials) does not confirm: a message whose Vigil-Node or
 * Vigil-Cluster header disagrees with its subject is refused.
 *
 * hub_msg_parse() never reads outside the body it is given, allocates only
 * through jansson or one buffer for the light scanner's strings (both freed by
 * hub_msg_free), and has a fuzzer
 * (tests/fuzz/fuzz_hub_msg.c).
 */
#ifndef VIGIL_HUB_MSG_H
#define VIGIL_HUB_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define HUB_UUID_MAX 64

enum hub_kind { HUB_ALERT = 1, HUB_ACTION, HUB_LOSS, HUB_HEARTBEAT, HUB_FLOWS,
		 HUB_SCAN, HUB_ADMISSION /* hub_scans.c */, HUB_PROFILE /* hub_profiles.c */ };

/* A flows message carries at most this many rows (an agent sends at most 200). */
#define HUB_FLOWS_MAX_ROWS 1000

/* One row of a flows message (docs/fleet.md, "Flows"), checked; strings point into the body. */
struct hub_flow_row {
	int64_t minute; /* seconds since the epoch, a multiple of 60 */
	const char *cid, *cname, *ns, *pod; /* cid "" on the host; others may be NULL */
	const char *local_addr, *direction, *proto;
	unsigned port;
	const char *peer_addr, *peer_name, *pcid, *pcname, *pns, *ppod;
	int64_t connections, bytes_in, bytes_out, packets_in, packets_out;
};


/* Why a message was refused: one counter each (hub metrics, /api/v1/status). */
enum hub_reject {
	HUB_OK = 0,
	HUB_REJ_SUBJECT,  /* not vigil.<cluster>.<node>.<kind> with valid tokens */
	HUB_REJ_KIND,     /* unknown kind, or Vigil-Kind disagrees with the subject */
	HUB_REJ_HEADERS,  /* Vigil-Node / Vigil-Cluster missing or not the subject's */
	HUB_REJ_SEQ,      /* Vigil-Seq missing or not a positive integer */
	HUB_REJ_SIZE,     /* larger than the hub's --max-msg */
	HUB_REJ_JSON,     /* the body is not one JSON object */
	HUB_REJ_UUID,     /* no usable uuid (body "uuid", else Nats-Msg-Id) */
	HUB_REJ_FIELDS,   /* a field the kind needs is missing or mistyped */
	HUB_REJ_COUNT,    /* a batch whose Vigil-Count is malformed or not its number of records */
	HUB_REJ_ENCODING, /* a batch whose Vigil-Encoding is unknown, or that does not inflate */
	HUB_REJ__N,
};
const char *hub_reject_name(enum hub_reject r);

/* What a message's headers say (NULL where absent). */
struct hub_headers {
	const char *msg_id, *node, *cluster, *kind, *seq, *version;
	const char *count; /* Vigil-Count: a batch of that many records (absent: one) */
	const char *encoding; /* Vigil-Encoding: "zlib" (a compressed batch), or absent */
};

struct hub_msg {
	enum hub_kind kind;
	char cluster[65], node[65];
	char uuid[HUB_UUID_MAX + 1];
	int64_t seq;
	const char *version;  /* from the headers, may be NULL */
	json_t *body;         /* the parsed object (owned); NULL when the light scanner read the
			       * record (alerts, actions, losses: hub_jscan.h) */
	char *scratch;        /* owned: the scanner's decoded strings, where the fields below point then */
	const char *raw;      /* the body as sent (valid JSON, no NUL), stored as is */
	size_t raw_len;
	/* alerts */
	int64_t time_ns;      /* the record's time, wall clock; 0 if it has none */
	const char *rule;     /* points into body */
	int priority;         /* 0 emergency .. 7 debug; 6 for non-alerts */
	const char *container_id, *container_name, *image, *ns, *pod;
	/* actions */
	const char *action, *outcome, *target;
	/* flows: the checked array "flows" of body */
	json_t *flows;
	size_t nflows;
	/* scan, admission: checked by hub_scans_check (hub_scans.h) */
	struct hub_scan_fields *scan;
};

/*
 * Check one message. Returns HUB_OK and fills m (free with hub_msg_free), or
 * a reason with a one-line explanation in err (m needs no freeing then).
 */
enum hub_reject hub_msg_parse(const char *subject, const struct hub_headers *h, const char *body,
			      size_t len, size_t max_len, struct hub_msg *m, char *err, size_t errlen);
void hub_msg_free(struct hub_msg *m);
/* Row i of a checked flows message (i < m->nflows). */
void hub_msg_flow_row(const struct hub_msg *m, size_t i, struct hub_flow_row *r);

/*
 * A batch (docs/fleet.md, "Batches"): Vigil-Count records, one JSON object a
 * line ('\n' between them, none after), of one kind, with consecutive
 * sequences from Vigil-Seq. A message without Vigil-Count is one record, as
 * before (hub_msg_parse alone).
 */
#define HUB_BATCH_MAX 65536
#define HUB_BATCH_MAX_INFLATED (8u << 20) /* a compressed batch inflates to at most this */
struct hub_batch {
	char *inflated; /* owned: the body of a compressed batch (hub_batch_close frees it) */
	const char *body;
	size_t len, off;
	long count, next;   /* records, and the index of the next one */
	int64_t first_seq;
	struct hub_headers h; /* per record: seq its own, no Nats-Msg-Id (the batch's is not the record's) */
	char seq[24];
};
/*
 * Check the batch as a whole: subject and headers as hub_msg_parse does,
 * Vigil-Count 1..HUB_BATCH_MAX and the body's number of lines, the size
 * against max_len (as sent), a Vigil-Encoding of zlib inflated (at most
 * HUB_BATCH_MAX_INFLATED). HUB_OK (then call hub_batch_next count times), or
 * why not. Call hub_batch_close after either.
 */
enum hub_reject hub_batch_open(const char *subject, const struct hub_headers *h, const char *body, size_t len,
			       size_t max_len, struct hub_batch *b, char *err, size_t errlen);
/*
 * The next record, checked as hub_msg_parse does (HUB_OK and m to free, or why
 * this record is refused: the others stand). b->next says which.
 */
enum hub_reject hub_batch_next(struct hub_batch *b, const char *subject, size_t max_len, struct hub_msg *m,
			       char *err, size_t errlen);
void hub_batch_close(struct hub_batch *b);

/* "2026-11-28T15:06:02.700929619Z" (fraction optional) as ns since the epoch, or -1. */
int64_t hub_parse_time(const char *s);

#endif
