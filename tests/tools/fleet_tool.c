/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleet_tool: what the fleet tests need besides vigil itself.
 *   fleet_tool mkcapture N FILE      a capture where a container's cat opens /etc/shadow N times
 *   fleet_tool nkey-gen FILE         write a new NKey user seed (SU...) to FILE (0600)
 *   fleet_tool check URL STORE CLUSTER NODE
 *                                    read VIGIL_ALERTS back (headers too) and check that every
 *                                    alert and action of the store is there exactly once, in
 *                                    per-node order, with the contract's headers; prints counts
 *   fleet_tool last URL STREAM SUBJECT   the last message on SUBJECT: headers, then the data
 *   fleet_tool leader URL STREAM      the name of the stream's leader server
 *   fleet_tool count URL STREAM       the records in the stream (a batch counts its Vigil-Count)
 *   fleet_tool msgs URL STREAM        the stream's message count
 *   fleet_tool request URL SUBJECT BODY   a NATS request (5 s): the reply's data, or the
 *                                    error (exit 1; "No responders available" and the like)
 * FLEET_TOOL_NKEY=SEEDFILE in the environment: authenticate with that NKey seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nats/nats.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "fleet/nats_conn.h"
#include "sensor/capture.h"
#include "state/container_meta.h"
#include "vigil/event.h"

/* ---- mkcapture ---- */

#define CID "5e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
#define CGROUP_CTR 5151
static struct vg_capture_writer *w;
static struct vg_buf rec;
static uint64_t now = 1000000000ULL;

static void begin(uint16_t type, uint32_t pid, uint32_t ppid, const char *comm)
{
	struct vg_event_hdr h = { 0 };
	h.ts = now += 1000;
	h.type = type;
	h.pid = h.tid = pid;
	h.ppid = ppid;
	h.vpid = h.vtid = pid - 4000;
	h.cgroup_id = CGROUP_CTR;
	h.loginuid = UINT32_MAX;
	h.pidns = 4026532300u;
	h.mntns = 4026532298u;
	h.netns = 4026532210u;
	snprintf(h.comm, sizeof(h.comm), "%s", comm);
	buf_reset(&rec);
	buf_add(&rec, &h, sizeof(h));
}

static void param(const void *data, size_t len)
{
	uint16_t l = len;
	buf_add(&rec, &l, sizeof(l));
	buf_add(&rec, data, len);
	((struct vg_event_hdr *)rec.data)->nparams++;
}

static void param_u64(uint64_t v)
{
	param(&v, sizeof(v));
}

static void end(int64_t retval)
{
	struct vg_event_hdr *h = (struct vg_event_hdr *)rec.data;
	h->retval = retval;
	h->len = rec.len;
	if (capture_writer_add(w, rec.data, rec.len) != 0)
		exit(1);
}

static int mkcapture(long n, const char *path)
{
	struct vg_container_meta meta = { .id = CID, .runtime = VG_RT_PODMAN, .metadata_found = 1 };
	w = capture_writer_open(path, 1764331200ULL * 1000000000ULL, "fleet-fixture");
	if (!w)
		return 1;
	begin(VG_EVT_CGROUP, 4001, 900, "sh");
	param("/libpod_parent/libpod-" CID, strlen("/libpod_parent/libpod-" CID) + 1);
	end(0);
	meta.name = "fleet";
	meta.image = "localhost/fleet:1";
	char *json = container_meta_to_json(&meta);
	begin(VG_EVT_STATE_CONTAINER, 0, 0, "");
	param(json, strlen(json) + 1);
	end(0);
	free(json);
	const char *proc = "{\"pid\":4002,\"ppid\":4001,\"sid\":4002,\"comm\":\"cat\",\"exe\":\"/bin/cat\","
			   "\"cwd\":\"/\",\"cgroup_id\":5151,\"loginuid\":4294967295,\"args\":[\"cat\"]}";
	begin(VG_EVT_STATE_PROC, 4002, 4001, "cat");
	param(proc, strlen(proc) + 1);
	end(0);
	for (long i = 0; i < n; i++) {
		begin(VG_EVT_OPENAT, 4002, 4001, "cat");
		param_u64((uint64_t)-100);
		param("/etc/shadow\0", 13);
		param_u64(0);
		param_u64(0);
		end(3);
	}
	buf_free(&rec);
	return capture_writer_close(w) == 0 ? 0 : 1;
}

/* ---- nkey-gen ---- */

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	while (n--) {
		crc ^= (uint16_t)(*p++) << 8;
		for (int i = 0; i < 8; i++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static int nkey_gen(const char *path)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t raw[36];
	char text[64];
	size_t len = 0;
	unsigned acc = 0;
	int bits = 0;

	raw[0] = (18 << 3) | ((20 << 3) >> 5); /* seed prefix, then the user prefix */
	raw[1] = (uint8_t)(((20 << 3) & 31) << 3);
	if (RAND_bytes(raw + 2, 32) != 1)
		return 1;
	uint16_t crc = crc16(raw, 34);
	raw[34] = (uint8_t)crc;
	raw[35] = (uint8_t)(crc >> 8);
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			text[len++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		text[len++] = b32[(acc << (5 - bits)) & 31];
	text[len++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		return 1;
	}
	close(fd);
	return 0;
}

/* ---- reading streams ---- */

static jsCtx *js_connect(const char *url, natsConnection **nc)
{
	jsCtx *js = NULL;
	natsOptions *o = NULL;
	const char *seed = getenv("FLEET_TOOL_NKEY"); /* a user seed file to authenticate with */
	char pub[64], err[256];
	natsStatus s = natsOptions_Create(&o);
	const char *servers[8];
	int nservers = 0;
	char *list = strdup(url), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t && nservers < 8; t = strtok_r(NULL, ",", &save))
		servers[nservers++] = t;
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, nservers);
	if (s == NATS_OK && seed && *seed) {
		if (fleet_nkey_public(seed, pub, sizeof(pub), err, sizeof(err))) {
			fprintf(stderr, "fleet_tool: %s\n", err);
			exit(1);
		}
		s = natsOptions_SetNKeyFromSeed(o, pub, seed);
	}
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	natsOptions_Destroy(o);
	free(list);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, *nc, NULL);
	if (s != NATS_OK) {
		fprintf(stderr, "fleet_tool: %s: %s\n", url, natsStatus_GetText(s));
		exit(1);
	}
	return js;
}

struct seen {
	char uuid[40];
	long long seq;
	int kind;
	int count;
};

static int cmp_uuid(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->uuid, ((const struct seen *)b)->uuid);
}

static const char *hdr(natsMsg *m, const char *key)
{
	const char *v = NULL;
	return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : "";
}

static int check(const char *url, const char *store, const char *cluster, const char *node)
{
	static const char *const kinds[] = { "alert", "action", "loss" };
	natsConnection *nc;
	jsCtx *js = js_connect(url, &nc);
	struct seen *got = NULL;
	size_t ngot = 0, cap = 0;
	long long bad = 0, disorder = 0, losses = 0;

	for (int k = 0; k < 3; k++) {
		char subject[256];
		natsSubscription *sub = NULL;
		jsSubOptions so;
		jsErrCode jerr = 0;
		long long last_seq = 0;
		snprintf(subject, sizeof(subject), "vigil.%s.%s.%s", cluster, node, kinds[k]);
		jsSubOptions_Init(&so);
		so.Stream = "VIGIL_ALERTS";
		so.Ordered = true;
		so.Config.DeliverPolicy = js_DeliverAll;
		natsStatus s;
		/* a cluster just restarted answers "temporarily unavailable" for a while: bounded retries */
		for (int tries = 0; (s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr)) != NATS_OK && tries < 60;
		     tries++)
			nats_Sleep(500);
		if (s != NATS_OK) {
			fprintf(stderr, "fleet_tool: subscribe %s: %s (%d)\n", subject, natsStatus_GetText(s), (int)jerr);
			return 1;
		}
		uint64_t pending = 0; /* what the last message said is still to come */
		int idle_ms = 0;
		for (;;) {
			natsMsg *m = NULL;
			jsMsgMetaData *meta = NULL;
			if (natsSubscription_NextMsg(&m, sub, 2000) != NATS_OK) {
				/* nothing at all, or nothing more; but a stream electing its leader
				 * pauses delivery with messages still pending: wait for them (bounded) */
				idle_ms += 2000;
				if (pending == 0 || idle_ms >= 60000)
					break;
				continue;
			}
			idle_ms = 0;
			natsMsg_GetMetaData(&meta, m);
			/* one record, or a batch: Vigil-Count records a line, seqs from Vigil-Seq */
			long long first = atoll(hdr(m, "Vigil-Seq"));
			long count = *hdr(m, "Vigil-Count") ? atol(hdr(m, "Vigil-Count")) : 1;
			const char *data = natsMsg_GetData(m), *msgid = hdr(m, "Nats-Msg-Id");
			int dlen = natsMsg_GetDataLength(m);
			static char *inflated;
			if (!strcmp(hdr(m, "Vigil-Encoding"), "zlib")) {
				/* a compressed batch (docs/fleet.md, "Batches") */
				uLongf out = 8u << 20;
				if (!inflated)
					inflated = malloc(out + 1);
				if (uncompress((Bytef *)inflated, &out, (const Bytef *)data, (uLong)dlen) != Z_OK) {
					if (bad++ < 5)
						fprintf(stderr, "a zlib batch on %s does not inflate\n", subject);
					out = 0;
				}
				inflated[out] = 0;
				data = inflated;
				dlen = (int)out;
			} else if (*hdr(m, "Vigil-Encoding") && bad++ < 5) {
				fprintf(stderr, "unknown Vigil-Encoding on %s\n", subject);
			}
			long lines = 1;
			for (int i = 0; data && i < dlen; i++)
				lines += data[i] == '\n';
			if (count < 1 || (count > 1 && lines != count) || strcmp(hdr(m, "Vigil-Node"), node) ||
			    strcmp(hdr(m, "Vigil-Cluster"), cluster) || strcmp(hdr(m, "Vigil-Kind"), kinds[k]) ||
			    !*hdr(m, "Vigil-Version")) {
				if (bad++ < 5)
					fprintf(stderr, "bad headers on %s seq %lld\n", subject, first);
				if (count < 1)
					count = 1;
			}
			const char *line = data ? data : "";
			for (long r = 0; r < count; r++) {
				if (ngot == cap) {
					cap = cap ? cap * 2 : 4096;
					got = realloc(got, cap * sizeof(*got));
				}
				struct seen *e = &got[ngot++];
				const char *u = strstr(line, "\"uuid\":\"");
				const char *nl = strchr(line, '\n');
				e->uuid[0] = 0;
				if (u && (!nl || u < nl) && strlen(u + 8) >= 32)
					snprintf(e->uuid, 33, "%s", u + 8);
				e->seq = first + r;
				e->kind = k;
				e->count = 1;
				/* the message id: the record's uuid alone, "<first uuid>+<count>" for a batch */
				char want[64];
				if (count == 1)
					snprintf(want, sizeof(want), "%s", e->uuid);
				else
					snprintf(want, sizeof(want), "%s+%ld", got[ngot - 1 - r].uuid, count);
				if (strlen(e->uuid) != 32 || (r == 0 && strcmp(msgid, want))) {
					if (bad++ < 5)
						fprintf(stderr, "the JSON of %s seq %lld lacks its uuid, or the message id %s is not %s\n",
							subject, e->seq, msgid, want);
				}
				if (k == 2)
					losses++;
				else if (e->seq <= last_seq && disorder++ < 5)
					fprintf(stderr, "out of order on %s: seq %lld after %lld\n", subject, e->seq, last_seq);
				last_seq = e->seq;
				if (nl)
					line = nl + 1;
			}
			if (meta)
				pending = meta->NumPending;
			bool done = meta && meta->NumPending == 0;
			jsMsgMetaData_Destroy(meta);
			natsMsg_Destroy(m);
			if (done)
				break;
		}
		natsSubscription_Unsubscribe(sub);
		natsSubscription_Destroy(sub);
	}
	/* duplicates in the stream */
	qsort(got, ngot, sizeof(*got), cmp_uuid);
	long long dups = 0;
	for (size_t i = 1; i < ngot; i++)
		if (!strcmp(got[i].uuid, got[i - 1].uuid)) {
			got[i].count = 0;
			got[i - 1].count++;
			if (dups++ < 5)
				fprintf(stderr, "duplicate %s (seq %lld)\n", got[i].uuid, got[i].seq);
		}
	/* every row of the store is there, with its seq */
	sqlite3 *db;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "fleet_tool: %s: %s\n", store, sqlite3_errmsg(db));
		return 1;
	}
	long long rows[2] = { 0, 0 }, missing = 0, wrongseq = 0;
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, k ? "SELECT id, uuid FROM actions" : "SELECT id, uuid FROM alerts", -1, &st, NULL);
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct seen key = { 0 };
			snprintf(key.uuid, sizeof(key.uuid), "%s", (const char *)sqlite3_column_text(st, 1));
			rows[k]++;
			struct seen *e = ngot ? bsearch(&key, got, ngot, sizeof(*got), cmp_uuid) : NULL;
			if (!e) {
				if (missing++ < 5)
					fprintf(stderr, "missing: %s %lld %s\n", kinds[k], sqlite3_column_int64(st, 0), key.uuid);
			} else if (e->seq != sqlite3_column_int64(st, 0) || e->kind != k) {
				if (wrongseq++ < 5)
					fprintf(stderr, "wrong seq for %s\n", key.uuid);
			}
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	printf("store_alerts=%lld store_actions=%lld stream=%zu duplicates=%lld missing=%lld out_of_order=%lld "
	       "bad=%lld wrong_seq=%lld losses=%lld\n",
	       rows[0], rows[1], ngot, dups, missing, disorder, bad, wrongseq, losses);
	free(got);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return dups || missing || disorder || bad || wrongseq ? 1 : 0;
}

static int last(const char *url, const char *stream, const char *subject)
{
	natsConnection *nc;
	jsCtx *js = js_connect(url, &nc);
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetLastMsg(&m, js, stream, subject, NULL, &jerr);
	if (s != NATS_OK) {
		fprintf(stderr, "fleet_tool: last %s: %s\n", subject, natsStatus_GetText(s));
		return 1;
	}
	const char **keys = NULL;
	int n = 0;
	natsMsgHeader_Keys(m, &keys, &n);
	for (int i = 0; i < n; i++)
		printf("%s: %s\n", keys[i], hdr(m, keys[i]));
	free((void *)keys);
	printf("\n%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
	natsMsg_Destroy(m);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
}

static int stream_info(const char *url, const char *stream, bool leader)
{
	natsConnection *nc;
	jsCtx *js = js_connect(url, &nc);
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
	if (s != NATS_OK) {
		fprintf(stderr, "fleet_tool: stream %s: %s\n", stream, natsStatus_GetText(s));
		return 1;
	}
	if (leader) {
		printf("%s\n", si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "");
		jsStreamInfo_Destroy(si);
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		return 0;
	}
	/* records, not messages: a batch counts its Vigil-Count. Each subject holding messages
	 * is read headers only, up to what it held when asked */
	unsigned long long records = 0;
	for (int i = 0; si->State.Msgs && si->Config && i < si->Config->SubjectsLen; i++) {
		jsOptions o;
		jsStreamInfo *ss = NULL;
		jsOptions_Init(&o);
		o.Stream.Info.SubjectsFilter = si->Config->Subjects[i];
		if (js_GetStreamInfo(&ss, js, stream, &o, &jerr) != NATS_OK) {
			fprintf(stderr, "fleet_tool: stream %s subjects: %s\n", stream, natsStatus_GetText(s));
			return 1;
		}
		for (int j = 0; ss->State.Subjects && j < ss->State.Subjects->Count; j++) {
			const char *subj = ss->State.Subjects->List[j].Subject;
			uint64_t want = ss->State.Subjects->List[j].Msgs, read = 0;
			natsSubscription *sub = NULL;
			jsSubOptions so;
			jsSubOptions_Init(&so);
			so.Stream = stream;
			so.Ordered = true;
			so.Config.HeadersOnly = true;
			so.Config.DeliverPolicy = js_DeliverAll;
			if (js_SubscribeSync(&sub, js, subj, NULL, &so, &jerr) != NATS_OK) {
				fprintf(stderr, "fleet_tool: subscribe %s failed\n", subj);
				return 1;
			}
			while (read < want) {
				natsMsg *m = NULL;
				if (natsSubscription_NextMsg(&m, sub, 5000) != NATS_OK)
					break;
				const char *c = hdr(m, "Vigil-Count");
				records += *c ? strtoull(c, NULL, 10) : 1;
				read++;
				natsMsg_Destroy(m);
			}
			natsSubscription_Unsubscribe(sub);
			natsSubscription_Destroy(sub);
		}
		jsStreamInfo_Destroy(ss);
	}
	printf("%llu\n", records);
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return 0;
}

static int request(const char *url, const char *subject, const char *body)
{
	natsConnection *nc = NULL;
	natsMsg *m = NULL;
	natsStatus s = natsConnection_ConnectTo(&nc, url);
	if (s == NATS_OK)
		s = natsConnection_Request(&m, nc, subject, body, (int)strlen(body), 5000);
	if (s != NATS_OK) {
		const char *d = nats_GetLastError(NULL);
		fprintf(stderr, "fleet_tool: request %s: %s%s%s\n", subject, natsStatus_GetText(s), d && *d ? ": " : "",
			d ? d : "");
		natsConnection_Destroy(nc);
		return 1;
	}
	printf("%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
	natsMsg_Destroy(m);
	natsConnection_Destroy(nc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "request"))
		return request(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "mkcapture"))
		return mkcapture(atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "nkey-gen"))
		return nkey_gen(argv[2]);
	if (argc == 6 && !strcmp(argv[1], "check"))
		return check(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "last"))
		return last(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "leader"))
		return stream_info(argv[2], argv[3], true);
	if (argc == 4 && !strcmp(argv[1], "count"))
		return stream_info(argv[2], argv[3], false);
	if (argc == 4 && !strcmp(argv[1], "msgs")) {
		natsConnection *nc;
		jsCtx *js = js_connect(argv[2], &nc);
		jsStreamInfo *si = NULL;
		jsErrCode jerr = 0;
		if (js_GetStreamInfo(&si, js, argv[3], NULL, &jerr) != NATS_OK)
			return 1;
		printf("%llu\n", (unsigned long long)si->State.Msgs);
		jsStreamInfo_Destroy(si);
		jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		return 0;
	}
	fputs("usage: fleet_tool mkcapture N FILE | nkey-gen FILE | check URL STORE CLUSTER NODE |\n"
	      "       last URL STREAM SUBJECT | leader URL STREAM | count URL STREAM | msgs URL STREAM |\n"
	      "       request URL SUBJECT BODY\n",
	      stderr);
	return 2;
}
