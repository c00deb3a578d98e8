/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fleetgen: poses as many Vigil nodes on NATS JetStream, publishing alerts,
 * actions, loss records and heartbeats exactly as the wire contract says
 * (docs/fleet.md: subjects vigil.<cluster>.<node>.<kind>, headers Nats-Msg-Id,
 * Vigil-Node, Vigil-Cluster, Vigil-Kind, Vigil-Seq, Vigil-Version; alert bodies
 * in Falco's JSON shape with a "uuid"). For the hub's tests and benchmarks.
 *
 *   fleetgen --nats URL [--nodes N] [--cluster C] [--prefix P] [--alerts N] [--actions N]
 *            [--heartbeats N] [--rate R] [--run ID] [--seq-start S] [--batch B]
 *   fleetgen --nats URL --from FILE --node NAME [--cluster C] [--kind K]
 *            (JSON lines as one node's alerts, or its records of kind K: flows, action...)
 *   fleetgen --nats URL --bad --node NAME                        (the bad-input list)
 *   fleetgen --nats URL --create-streams [--replicas N]
 *
 * --alerts N: N alerts per node, round-robin over the nodes (node order kept per
 * node). --rate R: at most R messages/s in all (0: as fast as acks come back).
 * --batch B: a node's alerts B to a message, as an agent with a backlog sends
 * them (Vigil-Count, one JSON object a line; docs/fleet.md, "Batches").
 * uuids are a function of (run, node, kind, seq): the same command run twice
 * publishes the same records (JetStream's duplicate window, then the hub's
 * uniqueness, drop them); --run changes them. --bypass-dedup gives each message
 * a fresh Nats-Msg-Id while the body's uuid stays: it reaches the hub twice.
 * Prints one line: "published A alerts, C actions, H heartbeats, L losses, B bad
 * in S s (R msg/s), F failed". Exit 1 if any publish failed or was not acknowledged
 * within --ack-wait seconds (default 60).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nats/nats.h>
#include "common/version.h"

static uint64_t acked, failed;
static const char *cluster = "default";

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	(void)closure;
	(void)pa;
	if (pae) {
		if (__atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED) <= 5)
			fprintf(stderr, "fleetgen: publish failed: %s (%d)\n", pae->ErrText ? pae->ErrText : "?", pae->ErrCode);
	} else
		__atomic_add_fetch(&acked, 1, __ATOMIC_RELAXED);
	natsMsg_Destroy(msg);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t fnv(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void make_uuid(char *out, const char *run, const char *node, const char *kind, long long seq)
{
	uint64_t h = fnv(kind, fnv(node, fnv(run, 1469598103934665603ULL)));
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h, (unsigned long long)seq);
}

static double rate, t0;
static uint64_t sent;
static const char *count_hdr; /* Vigil-Count of the next message (a batch), or NULL */

static void pace(void)
{
	if (rate <= 0)
		return;
	double due = t0 + sent / rate, t = now_s();
	if (due > t) {
		struct timespec ts = { (time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static int publish(jsCtx *js, const char *subject, const char *node, const char *clus, const char *kind,
		   long long seq, const char *msgid, const char *body, size_t len)
{
	natsMsg *m = NULL;
	char seqs[24];
	snprintf(seqs, sizeof(seqs), "%lld", seq);
	pace();
	if (natsMsg_Create(&m, subject, NULL, body, (int)len) != NATS_OK)
		return -1;
	if (msgid)
		natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
	if (node)
		natsMsgHeader_Set(m, "Vigil-Node", node);
	if (clus)
		natsMsgHeader_Set(m, "Vigil-Cluster", clus);
	if (kind)
		natsMsgHeader_Set(m, "Vigil-Kind", kind);
	if (seq > 0)
		natsMsgHeader_Set(m, "Vigil-Seq", seqs);
	if (count_hdr)
		natsMsgHeader_Set(m, "Vigil-Count", count_hdr);
	natsMsgHeader_Set(m, "Vigil-Version", VIGIL_VERSION);
	natsStatus s;
	for (int tries = 0; (s = js_PublishMsgAsync(js, &m, NULL)) == NATS_TIMEOUT && tries < 100; tries++)
		; /* stalled on MaxPending: wait for acks */
	if (s != NATS_OK) {
		fprintf(stderr, "fleetgen: cannot publish on %s: %s\n", subject, natsStatus_GetText(s));
		natsMsg_Destroy(m);
		failed++;
		return -1;
	}
	sent++;
	return 0;
}

static const char *const rules[] = { "Terminal shell in container", "Write below etc", "Reverse shell",
				     "Read sensitive file untrusted", "Outbound connection to C2" };
static const char *const prios[] = { "Notice", "Warning", "Critical", "Warning", "Critical" };
static const char *const namespaces[] = { "default", "payments", "web", "kube-system" };

static char *alert_body(const char *uuid, const char *node, long long seq, int *len)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	struct tm tm;
	gmtime_r(&t.tv_sec, &tm);
	char iso[64], hms[16];
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	int r = (int)(seq % 5);
	const char *ns = namespaces[seq % 4];
	char *out = NULL;
	*len = asprintf(&out,
			"{\"uuid\":\"%s\",\"time\":\"%s.%09ldZ\",\"rule\":\"%s\",\"priority\":\"%s\","
			"\"output\":\"%s.%09ld: %s %s (user=root proc.name=sh container=app-%lld)\","
			"\"output_fields\":{\"proc.name\":\"sh\",\"user.name\":\"root\",\"container.name\":\"app-%lld\"},"
			"\"source\":\"syscall\",\"tags\":[\"container\",\"shell\"],\"hostname\":\"%s\","
			"\"vigil\":{\"event\":{\"type\":\"execve\",\"container\":{\"id\":\"%012llx\",\"name\":\"app-%lld\","
			"\"image\":\"registry.local/app:%lld\"},\"k8s\":{\"pod\":\"app-%lld-pod\",\"namespace\":\"%s\"}},"
			"\"ancestry\":[],\"actions\":[],\"suppressed_before\":0}}",
			uuid, iso, t.tv_nsec, rules[r], prios[r], hms, t.tv_nsec, prios[r], rules[r], seq % 7, seq % 7,
			node, 0xabc000000000ULL + (unsigned long long)(seq % 7), seq % 7, seq % 3, seq % 7, ns);
	return out;
}

static int create_streams(jsCtx *js, int replicas)
{
	static const char *alert_subj[] = { "vigil.*.*.alert", "vigil.*.*.action", "vigil.*.*.loss" };
	static const char *hb_subj[] = { "vigil.*.*.heartbeat" };
	jsStreamConfig sc;
	for (int i = 0; i < 2; i++) {
		jsStreamConfig_Init(&sc);
		sc.Name = i ? "VIGIL_HEARTBEATS" : "VIGIL_ALERTS";
		sc.Subjects = i ? hb_subj : alert_subj;
		sc.SubjectsLen = i ? 1 : 3;
		sc.Storage = js_FileStorage;
		sc.Replicas = replicas;
		sc.Duplicates = (int64_t)120 * 1000000000LL;
		sc.MaxAge = (int64_t)(i ? 3600 : 7 * 86400) * 1000000000LL;
		sc.MaxMsgSize = 1 << 20;
		if (i)
			sc.MaxMsgsPerSubject = 1;
		jsErrCode jerr = 0;
		jsStreamInfo *si = NULL;
		natsStatus s = js_AddStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK && jerr == JSStreamNameExistErr)
			s = js_UpdateStream(&si, js, &sc, NULL, &jerr);
		if (s != NATS_OK) {
			fprintf(stderr, "fleetgen: cannot create stream %s: %s (%d)\n", sc.Name, nats_GetLastError(NULL), jerr);
			return -1;
		}
		jsStreamInfo_Destroy(si);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nats", required_argument, NULL, 'n' },	 { "nodes", required_argument, NULL, 'N' },
		{ "cluster", required_argument, NULL, 'c' },	 { "prefix", required_argument, NULL, 'p' },
		{ "alerts", required_argument, NULL, 'a' },	 { "actions", required_argument, NULL, 'A' },
		{ "losses", required_argument, NULL, 'L' },	 { "heartbeats", required_argument, NULL, 'H' },
		{ "rate", required_argument, NULL, 'r' },	 { "run", required_argument, NULL, 'R' },
		{ "seq-start", required_argument, NULL, 's' },  { "from", required_argument, NULL, 'f' },
		{ "node", required_argument, NULL, 'o' },	 { "bad", no_argument, NULL, 'b' },
		{ "create-streams", no_argument, NULL, 'C' },	 { "replicas", required_argument, NULL, 'P' },
		{ "bypass-dedup", no_argument, NULL, 'D' },	 { "creds", required_argument, NULL, 'k' },
		{ "hb-gap", required_argument, NULL, 'g' },	 { "ack-wait", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'B' },	 { "kind", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *prefix = "node", *run = "r1", *from = NULL, *one = NULL, *creds = NULL, *kind = "alert";
	long ack_wait = 60;
	long batch = 1;
	long nodes = 1000, alerts = 0, actions = 0, losses = 0, heartbeats = 0, replicas = 1, hb_gap = 0;
	long long seq0 = 1;
	bool bad = false, create = false, bypass = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': url = optarg; break;
		case 'N': nodes = atol(optarg); break;
		case 'c': cluster = optarg; break;
		case 'p': prefix = optarg; break;
		case 'a': alerts = atol(optarg); break;
		case 'A': actions = atol(optarg); break;
		case 'L': losses = atol(optarg); break;
		case 'H': heartbeats = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'R': run = optarg; break;
		case 's': seq0 = atoll(optarg); break;
		case 'f': from = optarg; break;
		case 'o': one = optarg; break;
		case 'b': bad = true; break;
		case 'C': create = true; break;
		case 'P': replicas = atol(optarg); break;
		case 'D': bypass = true; break;
		case 'k': creds = optarg; break;
		case 'g': hb_gap = atol(optarg); break;
		case 'w': ack_wait = atol(optarg); break;
		case 'B': batch = atol(optarg); break;
		case 'K': kind = optarg; break;
		default: fprintf(stderr, "fleetgen: see the comment at the top of bench/fleetgen.c\n"); return 2;
		}
	}
	if (batch < 1 || batch > 4096) {
		fprintf(stderr, "fleetgen: --batch 1..4096\n");
		return 2;
	}
	if (!url || nodes < 1 || nodes > 100000) {
		fprintf(stderr, "fleetgen: --nats URL required; --nodes 1..100000\n");
		return 2;
	}
	natsOptions *no = NULL;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsOptions_Create(&no);
	natsOptions_SetURL(no, url);
	natsOptions_SetName(no, "vigil-fleetgen");
	natsOptions_SetMaxPendingMsgs(no, 1 << 20);
	if (creds)
		natsOptions_SetUserCredentialsFromFiles(no, creds, NULL);
	natsStatus s = natsConnection_Connect(&nc, no);
	if (s != NATS_OK) {
		fprintf(stderr, "fleetgen: cannot connect to %s: %s\n", url, nats_GetLastError(NULL));
		return 1;
	}
	jsOptions jo;
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 4096;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.StallWait = 1000;
	jo.Wait = 10000;
	natsConnection_JetStream(&js, nc, &jo);
	if (create && create_streams(js, (int)replicas))
		return 1;
	char subject[256], uuid[40], msgid[48];
	uint64_t n_alerts = 0, n_actions = 0, n_hb = 0, n_loss = 0, n_bad = 0;
	t0 = now_s();
	if (from) {
		if (!one) {
			fprintf(stderr, "fleetgen: --from needs --node\n");
			return 2;
		}
		FILE *f = fopen(from, "r");
		if (!f) {
			fprintf(stderr, "fleetgen: cannot open %s: %s\n", from, strerror(errno));
			return 1;
		}
		char *line = NULL;
		size_t cap = 0;
		ssize_t l;
		long long seq = seq0;
		snprintf(subject, sizeof(subject), "vigil.%s.%s.%s", cluster, one, kind);
		while ((l = getline(&line, &cap, f)) > 0) {
			if (line[l - 1] == '\n')
				line[--l] = 0;
			if (!l)
				continue;
			json_t *o = json_loads(line, 0, NULL);
			const char *u = json_string_value(json_object_get(o, "uuid"));
			if (u)
				snprintf(uuid, sizeof(uuid), "%.32s", u);
			else
				make_uuid(uuid, run, one, kind, seq);
			json_decref(o);
			publish(js, subject, one, cluster, kind, seq++, uuid, line, (size_t)l);
			n_alerts++;
		}
		free(line);
		fclose(f);
	} else if (bad) {
		const char *node = one ? one : "badnode";
		char big_subj[256];
		snprintf(subject, sizeof(subject), "vigil.%s.%s.alert", cluster, node);
		/* 1: not JSON */
		make_uuid(uuid, run, node, "bad1", 1);
		publish(js, subject, node, cluster, "alert", 1, uuid, "{not json", 9);
		/* 2: JSON but not an object */
		make_uuid(uuid, run, node, "bad2", 2);
		publish(js, subject, node, cluster, "alert", 2, uuid, "[1,2]", 5);
		/* 3: oversized (300 KB, under the server's 1 MiB, over the hub's default 256 KiB) */
		size_t bl = 300 * 1024;
		char *big = malloc(bl + 1);
		memset(big, ' ', bl);
		big[0] = '{';
		big[bl - 1] = '}';
		big[bl] = 0;
		make_uuid(uuid, run, node, "bad3", 3);
		publish(js, subject, node, cluster, "alert", 3, uuid, big, bl);
		free(big);
		/* 4: headers claim another node than the subject */
		make_uuid(uuid, run, node, "bad4", 4);
		int l4;
		char *b4 = alert_body(uuid, node, 4, &l4);
		publish(js, subject, "someone-else", cluster, "alert", 4, uuid, b4, (size_t)l4);
		/* 5: another cluster in the header */
		make_uuid(uuid, run, node, "bad5", 5);
		publish(js, subject, node, "other-cluster", "alert", 5, uuid, b4, (size_t)l4);
		/* 6: unknown kind header on the alert subject */
		make_uuid(uuid, run, node, "bad6", 6);
		publish(js, subject, node, cluster, "gossip", 6, uuid, b4, (size_t)l4);
		/* 7: no Vigil-Seq */
		make_uuid(uuid, run, node, "bad7", 7);
		publish(js, subject, node, cluster, "alert", 0, uuid, b4, (size_t)l4);
		/* 8: an alert without rule/priority */
		make_uuid(uuid, run, node, "bad8", 8);
		publish(js, subject, node, cluster, "alert", 8, uuid, "{\"time\":\"2026-01-01T00:00:00Z\"}", 31);
		free(b4);
		/* 9: a loss record with a bad uuid in its body */
		snprintf(big_subj, sizeof(big_subj), "vigil.%s.%s.loss", cluster, node);
		make_uuid(uuid, run, node, "bad9", 9);
		publish(js, big_subj, node, cluster, "loss", 9, uuid, "{\"uuid\":\"x y\"}", 14);
		/* 10: a batch whose Vigil-Count is not a number */
		make_uuid(uuid, run, node, "bad10", 10);
		count_hdr = "two";
		publish(js, subject, node, cluster, "alert", 10, uuid, "{}\n{}", 5);
		/* 11: a batch of 3 with 2 records */
		make_uuid(uuid, run, node, "bad11", 11);
		count_hdr = "3";
		publish(js, subject, node, cluster, "alert", 11, uuid, "{}\n{}", 5);
		/* 12: a batch of 2 whose records are each bad: not JSON, and an alert without rule */
		make_uuid(uuid, run, node, "bad12", 12);
		count_hdr = "2";
		publish(js, subject, node, cluster, "alert", 12, uuid,
			"{not json\n{\"uuid\":\"0123456789abcdef\",\"time\":\"2026-01-01T00:00:00Z\"}", 67);
		count_hdr = NULL;
		n_bad = 12;
	} else {
		char **names = calloc((size_t)nodes, sizeof(*names));
		long long *seq = calloc((size_t)nodes * 3, sizeof(*seq));
		for (long i = 0; i < nodes; i++) {
			if (asprintf(&names[i], nodes == 1 && one ? "%s" : "%s-%05ld", nodes == 1 && one ? one : prefix, i) < 0)
				return 1;
			for (int k = 0; k < 3; k++)
				seq[i * 3 + k] = seq0;
		}
		long rounds = alerts > heartbeats ? alerts : heartbeats;
		if (actions > rounds)
			rounds = actions;
		if (losses > rounds)
			rounds = losses;
		for (long r = 0; r < rounds; r++) {
			for (long i = 0; i < nodes; i++) {
				const char *node = names[i];
				if (r < alerts && batch > 1 && r % batch == 0) {
					/* B consecutive alerts of the node, one JSON object a line */
					long c = alerts - r < batch ? alerts - r : batch;
					long long q0 = seq[i * 3];
					char *all = NULL, first[40], cnt[24], bmsgid[64];
					size_t alen = 0;
					for (long j = 0; j < c; j++) {
						long long q = seq[i * 3]++;
						make_uuid(uuid, run, node, "alert", q);
						if (!j)
							snprintf(first, sizeof(first), "%s", uuid);
						int l;
						char *b = alert_body(uuid, node, q, &l);
						all = realloc(all, alen + (size_t)l + 1);
						if (j)
							all[alen++] = '\n';
						memcpy(all + alen, b, (size_t)l);
						alen += (size_t)l;
						free(b);
					}
					snprintf(subject, sizeof(subject), "vigil.%s.%s.alert", cluster, node);
					snprintf(bmsgid, sizeof(bmsgid), "%.32s+%ld", first, c);
					snprintf(cnt, sizeof(cnt), "%ld", c);
					count_hdr = c > 1 ? cnt : NULL;
					publish(js, subject, node, cluster, "alert", q0, c > 1 ? bmsgid : first, all, alen);
					count_hdr = NULL;
					free(all);
					n_alerts += (uint64_t)c;
				} else if (r < alerts && batch == 1) {
					long long q = seq[i * 3]++;
					make_uuid(uuid, run, node, "alert", q);
					int l;
					char *b = alert_body(uuid, node, q, &l);
					snprintf(subject, sizeof(subject), "vigil.%s.%s.alert", cluster, node);
					if (bypass)
						snprintf(msgid, sizeof(msgid), "%s-%lu", uuid, (unsigned long)time(NULL));
					publish(js, subject, node, cluster, "alert", q, bypass ? msgid : uuid, b, (size_t)l);
					free(b);
					n_alerts++;
				}
				if (r < actions) {
					long long q = seq[i * 3 + 1]++;
					make_uuid(uuid, run, node, "action", q);
					char *b = NULL;
					char iso[40];
					time_t now = time(NULL);
					strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000000000Z", gmtime(&now));
					int l = asprintf(&b,
							 "{\"uuid\":\"%s\",\"time\":\"%s\",\"rule\":\"%s\",\"action\":\"kill\","
							 "\"target\":\"pid %lld\",\"container_id\":\"%012llx\",\"container_name\":"
							 "\"app-%lld\",\"cgroup\":\"\",\"outcome\":\"done\",\"detail\":\"killed sh\","
							 "\"path\":\"signal\",\"latency_ns\":%lld,\"hostname\":\"%s\"}",
							 uuid, iso, rules[q % 5], 1000 + q,
							 0xabc000000000ULL + (unsigned long long)(q % 7), q % 7, (40 + q % 50) * 1000, node);
					snprintf(subject, sizeof(subject), "vigil.%s.%s.action", cluster, node);
					publish(js, subject, node, cluster, "action", q, uuid, b, (size_t)l);
					free(b);
					n_actions++;
				}
				if (r < losses) {
					long long q = seq[i * 3 + 2]++;
					make_uuid(uuid, run, node, "loss", q);
					char *b = NULL;
					char iso[40];
					time_t now = time(NULL);
					strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000000000Z", gmtime(&now));
					int l = asprintf(&b, "{\"uuid\":\"%s\",\"time\":\"%s\",\"kind\":\"loss\",\"hostname\":\"%s\","
							     "\"forwarder\":\"nats\",\"records\":\"alert\",\"first_seq\":%lld,"
							     "\"last_seq\":%lld,\"count\":%lld,\"reason\":\"disk budget\"}",
							 uuid, iso, node, 1000 * q, 1000 * q + 9 + q, 10 + q);
					snprintf(subject, sizeof(subject), "vigil.%s.%s.loss", cluster, node);
					publish(js, subject, node, cluster, "loss", q, uuid, b, (size_t)l);
					free(b);
					n_loss++;
				}
				if (r < heartbeats) {
					long long q = seq0 + r;
					char *b = NULL;
					struct timespec t;
					clock_gettime(CLOCK_REALTIME, &t);
					char iso[40];
					strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", gmtime(&t.tv_sec));
					int l = asprintf(&b,
							 "{\"time\":\"%s.%09ldZ\",\"node\":\"%s\",\"cluster\":\"%s\",\"version\":\"%s\","
							 "\"rules_digest\":\"sha256:%016llx\",\"uptime_s\":%lld,\"events\":%lld,"
							 "\"events_per_s\":%ld.5,\"lost_records\":%lld,\"outbox\":{\"depth\":%ld,"
							 "\"oldest_s\":0.000,\"lost\":0},\"policy\":{\"digest\":null,\"status\":\"none\"}}",
							 iso, t.tv_nsec, node, cluster, VIGIL_VERSION, (unsigned long long)fnv(run, 77), 10 * q,
							 1000 * q, 1000 + i % 100, q / 3, i % 5);
					snprintf(subject, sizeof(subject), "vigil.%s.%s.heartbeat", cluster, node);
					snprintf(msgid, sizeof(msgid), "hb-%s-%lld-%s", run, q, node);
					publish(js, subject, node, cluster, "heartbeat", q, msgid, b, (size_t)l);
					free(b);
					n_hb++;
				}
			}
			if (hb_gap > 0 && heartbeats > r + 1)
				sleep((unsigned)hb_gap);
		}
		for (long i = 0; i < nodes; i++)
			free(names[i]);
		free(names);
		free(seq);
	}
	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = ack_wait * 1000; /* --ack-wait S: how long to wait for the last acks */
	s = js_PublishAsyncComplete(js, &po);
	double dt = now_s() - t0;
	uint64_t total = n_alerts + n_actions + n_hb + n_loss + n_bad;
	printf("published %llu alerts, %llu actions, %llu heartbeats, %llu losses, %llu bad in %.2f s (%.0f msg/s), %llu failed\n",
	       (unsigned long long)n_alerts, (unsigned long long)n_actions, (unsigned long long)n_hb,
	       (unsigned long long)n_loss, (unsigned long long)n_bad, dt, total / (dt > 0 ? dt : 1),
	       (unsigned long long)failed);
	fflush(stdout);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(no);
	return s != NATS_OK || failed ? 1 : 0;
}
