/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-workload flow features (flow_stats.h; docs/flows.md, "Per-workload
 * features"). Five tables, each a hash map of 64-bit keys (FNV-1a of the
 * strings that name an entry: a collision between two keys merges two entries,
 * at odds of about n^2/2^65) with one LRU list; a full table evicts its least
 * recently used entry and counts it:
 *
 *   workloads  first sight and the exfil window (EXFIL_BUCKETS buckets of
 *              window/EXFIL_BUCKETS each): ~520 bytes each
 *   dests      (workload, destination) pairs known: ~48 bytes each
 *   series     (workload, destination, port) connection starts: ~190 bytes
 *   domains    (workload, domain) unique names: 4 KiB each
 *   cookies    bytes already counted of each outbound external flow: ~48 bytes
 *
 * With the defaults (4096, 65536, 16384, 2048, 131072) that is at most about
 * 25 MiB, hash buckets included.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "common/buf.h"
#include "common/hmap.h"
#include "state/dns_parse.h"
#include "state/flow_stats.h"
#include "state/flow_table.h"
#include "state/state.h"

#define EXFIL_BUCKETS 30
#define BEACON_GAP_FACTOR 4 /* an interval this many times the mean restarts the series */

struct lnode {
	struct hmap_node h; /* first: an entry is freed through its lnode */
	struct lnode *prev, *next;
};

struct lru {
	struct hmap map;
	struct lnode *head, *tail; /* head: least recently used */
	size_t max;
	uint64_t evicted;
};

struct workload {
	struct lnode n;
	uint64_t first_ts;
	uint64_t epoch[EXFIL_BUCKETS]; /* bucket number (ts / bucket_ns) + 1; 0: empty */
	uint64_t bytes[EXFIL_BUCKETS];
};

struct series {
	struct lnode n;
	uint64_t starts[FLOW_STATS_BEACON_KEEP]; /* ring, oldest at (head - kept) */
	uint32_t head, kept, count;
	bool reported;
};

struct domain {
	struct lnode n;
	uint32_t used;
	struct {
		uint64_t h, ts;
	} names[FLOW_STATS_DNS_NAMES];
};

struct cookie {
	struct lnode n;
	uint64_t sent;
};

struct flow_stats {
	struct flow_cidr cidrs[FLOW_STATS_MAX_CIDRS];
	size_t ncidrs;
	uint64_t window_ns, learn_ns, bucket_ns;
	unsigned int beacon_min, beacon_jitter;
	struct lru workloads, dests, series, domains, cookies;
	flow_stats_learn_fn fn;
	void *ctx;
	struct flow_stats_stats st;
	struct dns_msg msg; /* ~33 KiB: kept here, not on the stack */
	struct flow_feat last;
	const void *last_raw;
	uint64_t last_ts;
};

/* ---- LRU tables ---- */

static void lru_init(struct lru *l, size_t max)
{
	hmap_init(&l->map, max < 1024 ? max : 1024);
	l->head = l->tail = NULL;
	l->max = max;
	l->evicted = 0;
}

static void lru_unlink(struct lru *l, struct lnode *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

static void lru_append(struct lru *l, struct lnode *n)
{
	n->prev = l->tail;
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

/* The entry of key, made the most recently used; NULL if absent. */
static void *lru_get(struct lru *l, uint64_t key)
{
	struct hmap_node *h = hmap_get(&l->map, key);
	if (!h)
		return NULL;
	struct lnode *n = (struct lnode *)h;
	lru_unlink(l, n);
	lru_append(l, n);
	return n;
}

/* A new zeroed entry of `size` bytes under key (absent), evicting the least recently used when full. */
static void *lru_add(struct lru *l, uint64_t key, size_t size)
{
	while (l->map.count >= l->max && l->head) {
		struct lnode *v = l->head;
		lru_unlink(l, v);
		hmap_del(&l->map, v->h.key);
		free(v);
		l->evicted++;
	}
	struct lnode *n = xcalloc(1, size);
	n->h.key = key;
	hmap_put(&l->map, &n->h);
	lru_append(l, n);
	return n;
}

static void lru_del(struct lru *l, struct lnode *n)
{
	lru_unlink(l, n);
	hmap_del(&l->map, n->h.key);
	free(n);
}

static void lru_free(struct lru *l)
{
	for (struct lnode *n = l->head, *next; n; n = next) {
		next = n->next;
		free(n);
	}
	hmap_free(&l->map);
}

/* FNV-1a over up to three strings, each followed by a 0 byte (so ("ab","c") != ("a","bc")). */
static uint64_t hash3(const char *a, const char *b, const char *c)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *s[3] = { a, b, c };
	for (int i = 0; i < 3 && s[i]; i++) {
		for (const unsigned char *p = (const unsigned char *)s[i]; *p; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
		h = (h ^ 0) * 0x100000001b3ULL;
	}
	return h;
}

/* ---- CIDR lists ---- */

int flow_cidrs_parse(const char *list, struct flow_cidr *out, size_t max, char *err, size_t errlen)
{
	size_t n = 0;
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		/* skip spaces around an item */
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item)) {
			snprintf(err, errlen, "bad CIDR '%.*s'", (int)(len < 64 ? len : 64), p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = 0;
		if (n >= max) {
			snprintf(err, errlen, "more than %zu CIDRs", max);
			return -1;
		}
		struct flow_cidr *c = &out[n];
		memset(c, 0, sizeof(*c));
		char *slash = strchr(item, '/');
		long prefix = -1;
		if (slash) {
			char *e;
			*slash = 0;
			prefix = strtol(slash + 1, &e, 10);
			if (e == slash + 1 || *e || prefix < 0) {
				*slash = '/';
				snprintf(err, errlen, "bad CIDR '%s'", item);
				return -1;
			}
		}
		if (inet_pton(AF_INET, item, c->addr) == 1) {
			c->family = AF_INET;
			if (prefix < 0)
				prefix = 32;
		} else if (inet_pton(AF_INET6, item, c->addr) == 1) {
			c->family = AF_INET6;
			if (prefix < 0)
				prefix = 128;
		} else {
			if (slash)
				*slash = '/';
			snprintf(err, errlen, "bad CIDR '%s'", item);
			return -1;
		}
		if (prefix > (c->family == AF_INET ? 32 : 128)) {
			if (slash)
				*slash = '/';
			snprintf(err, errlen, "bad CIDR '%s': prefix too long", item);
			return -1;
		}
		c->prefix = (uint8_t)prefix;
		n++;
		if (!end)
			break;
		p = end + 1;
		if (!*p) {
			snprintf(err, errlen, "bad CIDR '': the list ends with a comma");
			return -1;
		}
	}
	return (int)n;
}

bool flow_cidrs_match(const struct flow_cidr *c, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].family != family)
			continue;
		unsigned int bits = c[i].prefix, full = bits / 8, rest = bits % 8;
		if (memcmp(c[i].addr, addr, full))
			continue;
		if (rest && ((c[i].addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

bool flow_stats_internal(const struct flow_stats *fs, int family, const uint8_t *addr)
{
	return flow_cidrs_match(fs->cidrs, fs->ncidrs, family, addr);
}

/* ---- life ---- */

struct flow_stats *flow_stats_new(const struct flow_stats_opts *o, char *err, size_t errlen)
{
	struct flow_stats_opts d = { 0 };
	if (!o)
		o = &d;
	struct flow_stats *fs = xcalloc(1, sizeof(*fs));
	int n = flow_cidrs_parse(o->cluster_cidrs ? o->cluster_cidrs : FLOW_STATS_DEFAULT_CIDRS, fs->cidrs,
				 FLOW_STATS_MAX_CIDRS, err, errlen);
	if (n < 0) {
		free(fs);
		return NULL;
	}
	fs->ncidrs = (size_t)n;
	fs->window_ns = o->window_ns ? o->window_ns : 300ULL * 1000000000;
	fs->bucket_ns = fs->window_ns / EXFIL_BUCKETS;
	if (!fs->bucket_ns)
		fs->bucket_ns = 1;
	fs->learn_ns = o->learn_set || o->learn_ns ? o->learn_ns : 600ULL * 1000000000;
	fs->beacon_min = o->beacon_min ? o->beacon_min : 8;
	if (fs->beacon_min < 3)
		fs->beacon_min = 3; /* a jitter needs two intervals */
	fs->beacon_jitter = o->beacon_jitter_pct ? o->beacon_jitter_pct : 10;
	lru_init(&fs->workloads, o->max_workloads ? o->max_workloads : 4096);
	lru_init(&fs->dests, o->max_dests ? o->max_dests : 65536);
	lru_init(&fs->series, o->max_series ? o->max_series : 16384);
	lru_init(&fs->domains, o->max_domains ? o->max_domains : 2048);
	lru_init(&fs->cookies, o->max_cookies ? o->max_cookies : 131072);
	return fs;
}

void flow_stats_free(struct flow_stats *fs)
{
	if (!fs)
		return;
	lru_free(&fs->workloads);
	lru_free(&fs->dests);
	lru_free(&fs->series);
	lru_free(&fs->domains);
	lru_free(&fs->cookies);
	free(fs);
}

void flow_stats_set_listener(struct flow_stats *fs, flow_stats_learn_fn fn, void *ctx)
{
	fs->fn = fn;
	fs->ctx = ctx;
}

void flow_stats_workload(const struct vg_container_meta *m, const char *container_id, char out[FLOW_STATS_KEY_LEN])
{
	if (!container_id || !container_id[0])
		snprintf(out, FLOW_STATS_KEY_LEN, "host");
	else if (m && m->k8s_namespace && m->k8s_pod_name)
		snprintf(out, FLOW_STATS_KEY_LEN, "k8s:%s/%s/%s", m->k8s_namespace, m->k8s_pod_name,
			 m->k8s_container_name ? m->k8s_container_name : "");
	else if (m && m->name && m->name[0])
		snprintf(out, FLOW_STATS_KEY_LEN, "name:%s", m->name);
	else
		snprintf(out, FLOW_STATS_KEY_LEN, "id:%s", container_id);
}

/* The workload's entry, made (first seen at ts, told to the listener) when new. */
static struct workload *workload_get(struct flow_stats *fs, const char *key, uint64_t ts, bool tell)
{
	uint64_t h = hash3(key, NULL, NULL);
	struct workload *w = lru_get(&fs->workloads, h);
	if (w)
		return w;
	w = lru_add(&fs->workloads, h, sizeof(*w));
	w->first_ts = ts;
	if (tell && fs->fn)
		fs->fn(fs->ctx, key, NULL, ts);
	return w;
}

void flow_stats_remember(struct flow_stats *fs, const char *workload, const char *dest, uint64_t ts_ns)
{
	if (!dest) {
		struct workload *w = workload_get(fs, workload, ts_ns, false);
		if (ts_ns < w->first_ts)
			w->first_ts = ts_ns;
		return;
	}
	uint64_t h = hash3(workload, dest, NULL);
	if (!lru_get(&fs->dests, h))
		lru_add(&fs->dests, h, sizeof(struct lnode));
}

/* ---- exfil window ---- */

/* Bytes of the window ending at ts; adds `add` to ts's bucket first. */
static uint64_t exfil_window(struct flow_stats *fs, struct workload *w, uint64_t ts, uint64_t add)
{
	uint64_t cur = ts / fs->bucket_ns + 1;
	unsigned int i = (unsigned int)(cur % EXFIL_BUCKETS);
	if (add) {
		if (w->epoch[i] != cur) {
			w->epoch[i] = cur;
			w->bytes[i] = 0;
		}
		w->bytes[i] += add;
	}
	uint64_t sum = 0;
	for (unsigned int j = 0; j < EXFIL_BUCKETS; j++)
		if (w->epoch[j] && w->epoch[j] <= cur && w->epoch[j] + EXFIL_BUCKETS > cur)
			sum += w->bytes[j];
	return sum;
}

/* ---- beaconing ---- */

static void beacon_stats(const struct series *s, int64_t *period_ms, int64_t *jitter_pct)
{
	*period_ms = -1;
	*jitter_pct = -1;
	if (s->kept < 2)
		return;
	double iv[FLOW_STATS_BEACON_KEEP], sum = 0;
	uint32_t k = s->kept, first = (s->head + FLOW_STATS_BEACON_KEEP - k) % FLOW_STATS_BEACON_KEEP;
	for (uint32_t j = 1; j < k; j++) {
		uint64_t a = s->starts[(first + j - 1) % FLOW_STATS_BEACON_KEEP];
		uint64_t b = s->starts[(first + j) % FLOW_STATS_BEACON_KEEP];
		iv[j - 1] = b > a ? (double)(b - a) : 0;
		sum += iv[j - 1];
	}
	double mean = sum / (k - 1);
	*period_ms = (int64_t)(mean / 1e6 + 0.5);
	if (k < 3 || mean <= 0)
		return;
	double var = 0;
	for (uint32_t j = 0; j < k - 1; j++)
		var += (iv[j] - mean) * (iv[j] - mean);
	var /= (k - 1);
	*jitter_pct = (int64_t)(sqrt(var) / mean * 100 + 0.5);
}

static void beacon_add(struct flow_stats *fs, const char *workload, const struct vg_flow *f, struct flow_feat *o)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", f->remote.port);
	uint64_t h = hash3(workload, o->dest, port);
	struct series *s = lru_get(&fs->series, h);
	if (!s)
		s = lru_add(&fs->series, h, sizeof(*s));
	uint64_t t = f->start_ns ? f->start_ns : f->ts_ns;
	if (s->kept >= 2) {
		int64_t period, jitter;
		beacon_stats(s, &period, &jitter);
		uint64_t prev = s->starts[(s->head + FLOW_STATS_BEACON_KEEP - 1) % FLOW_STATS_BEACON_KEEP];
		if (period > 0 && t > prev && (t - prev) / 1000000 > (uint64_t)period * BEACON_GAP_FACTOR) {
			s->kept = s->count = 0; /* a long silence: a new series */
			s->reported = false;
		}
	}
	s->starts[s->head] = t;
	s->head = (s->head + 1) % FLOW_STATS_BEACON_KEEP;
	if (s->kept < FLOW_STATS_BEACON_KEEP)
		s->kept++;
	s->count++;
	o->beacon_count = s->count;
	beacon_stats(s, &o->beacon_period_ms, &o->beacon_jitter_pct);
	if (!s->reported && s->count >= fs->beacon_min && o->beacon_jitter_pct >= 0 &&
	    o->beacon_jitter_pct <= (int64_t)fs->beacon_jitter) {
		s->reported = true;
		o->beacon_new = true;
	}
}

/* ---- flows ---- */

void flow_stats_flow(struct flow_stats *fs, const char *workload, const struct vg_flow *f, struct flow_feat *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->workload, sizeof(o->workload), "%s", workload);
	o->is_flow = true;
	o->beacon_period_ms = o->beacon_jitter_pct = -1;
	fs->st.flows++;

	struct workload *w = workload_get(fs, workload, f->ts_ns, true);
	o->learning = f->ts_ns < w->first_ts + fs->learn_ns;

	static const uint8_t zero[16];
	int alen = f->remote.family == AF_INET6 ? 16 : 4;
	bool any = !memcmp(f->remote.addr, zero, (size_t)alen);
	o->external = (f->remote.family == AF_INET || f->remote.family == AF_INET6) && !any &&
		      !f->peer_container_id[0] && !flow_stats_internal(fs, f->remote.family, f->remote.addr);
	if (f->remote_name[0])
		snprintf(o->dest, sizeof(o->dest), "%s", f->remote_name);
	else if (!inet_ntop(f->remote.family == AF_INET6 ? AF_INET6 : AF_INET, f->remote.addr, o->dest,
			    sizeof(o->dest)))
		o->dest[0] = 0;

	uint64_t add = 0;
	if (o->external && f->dir == VG_FLOW_OUTBOUND) {
		struct cookie *c = lru_get(&fs->cookies, f->cookie);
		if (!c && f->phase != VG_FLOW_CLOSE)
			c = lru_add(&fs->cookies, f->cookie, sizeof(*c));
		uint64_t before = c ? c->sent : 0;
		add = f->bytes_out > before ? f->bytes_out - before : 0;
		if (c && f->phase == VG_FLOW_CLOSE)
			lru_del(&fs->cookies, &c->n);
		else if (c)
			c->sent = f->bytes_out > before ? f->bytes_out : before;
	}
	o->exfil_bytes_before = exfil_window(fs, w, f->ts_ns, 0);
	o->exfil_bytes = add ? exfil_window(fs, w, f->ts_ns, add) : o->exfil_bytes_before;

	if (o->external && f->dir == VG_FLOW_OUTBOUND && f->phase == VG_FLOW_OPEN && o->dest[0]) {
		uint64_t h = hash3(workload, o->dest, NULL);
		if (!lru_get(&fs->dests, h)) {
			lru_add(&fs->dests, h, sizeof(struct lnode));
			if (o->learning)
				fs->st.dests_learnt++;
			else {
				fs->st.dests_new++;
				o->dest_new = true;
			}
			if (fs->fn)
				fs->fn(fs->ctx, workload, o->dest, f->ts_ns);
		}
		beacon_add(fs, workload, f, o);
	}
}

/* ---- DNS ---- */

/* Known second-level public suffixes under which registrations are three labels deep. */
static const char *const two_level[] = {
	"co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk", "com.au", "net.au", "org.au",
	"edu.au", "gov.au", "co.nz", "org.nz", "net.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "co.kr", "or.kr",
	"com.br", "net.br", "org.br", "com.cn", "net.cn", "org.cn", "com.tw", "com.hk", "com.sg", "com.my",
	"co.in", "net.in", "org.in", "co.za", "org.za", "com.mx", "com.ar", "com.tr", "co.il", "com.ua", "co.id",
	"com.vn", "com.ph", "com.pl", "co.th",
};

const char *flow_dns_domain(const char *name)
{
	size_t len = strlen(name);
	const char *dots[3] = { NULL, NULL, NULL }; /* the last three dots, last first */
	size_t nd = 0;
	for (size_t i = len; i-- > 0 && nd < 3;)
		if (name[i] == '.')
			dots[nd++] = name + i;
	if (nd < 2)
		return name;
	const char *two = dots[1] + 1; /* the last two labels */
	for (size_t i = 0; i < sizeof(two_level) / sizeof(two_level[0]); i++)
		if (!strcmp(two, two_level[i]))
			return nd >= 3 ? dots[2] + 1 : name;
	return two;
}

int64_t flow_dns_label_max(const char *name)
{
	int64_t best = 0, cur = 0;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			cur = 0;
			continue;
		}
		if (++cur > best)
			best = cur;
	}
	return best;
}

int64_t flow_dns_entropy(const char *name)
{
	const char *dom = flow_dns_domain(name);
	unsigned int freq[256] = { 0 };
	size_t n = 0;
	for (const char *p = name; p < dom; p++)
		if (*p != '.') {
			freq[(unsigned char)*p]++;
			n++;
		}
	if (!n)
		return 0;
	double h = 0;
	for (int i = 0; i < 256; i++)
		if (freq[i]) {
			double p = (double)freq[i] / (double)n;
			h -= p * log2(p);
		}
	return (int64_t)(h * 100 + 0.5);
}

int flow_stats_dns(struct flow_stats *fs, const char *workload, const uint8_t *msg, size_t len, uint64_t ts_ns,
		   struct flow_feat *o)
{
	char err[128];
	memset(o, 0, sizeof(*o));
	snprintf(o->workload, sizeof(o->workload), "%s", workload);
	o->beacon_period_ms = o->beacon_jitter_pct = -1;
	fs->st.dns++;
	if (dns_parse(msg, len, &fs->msg, err, sizeof(err)) < 0 || !fs->msg.has_question) {
		fs->st.dns_malformed++;
		return -1;
	}
	o->is_dns = true;
	snprintf(o->qname, sizeof(o->qname), "%s", fs->msg.qname);
	const char *dom = flow_dns_domain(o->qname);
	snprintf(o->domain, sizeof(o->domain), "%s", dom);
	o->label_max = flow_dns_label_max(o->qname);
	o->entropy = flow_dns_entropy(o->qname);

	uint64_t h = hash3(workload, o->domain, NULL);
	struct domain *d = lru_get(&fs->domains, h);
	if (!d)
		d = lru_add(&fs->domains, h, sizeof(*d));
	uint64_t nh = hash3(o->qname, NULL, NULL), since = ts_ns > fs->window_ns ? ts_ns - fs->window_ns : 0;
	uint32_t slot = UINT32_MAX, oldest = 0;
	for (uint32_t i = 0; i < d->used; i++) {
		if (d->names[i].h == nh)
			slot = i;
		if (d->names[i].ts < d->names[oldest].ts)
			oldest = i;
	}
	if (slot == UINT32_MAX) {
		o->name_new = true;
		slot = d->used < FLOW_STATS_DNS_NAMES ? d->used++ : oldest;
		d->names[slot].h = nh;
	} else {
		o->name_new = d->names[slot].ts < since;
	}
	if (ts_ns > d->names[slot].ts)
		d->names[slot].ts = ts_ns;
	for (uint32_t i = 0; i < d->used; i++)
		if (d->names[i].ts >= since && d->names[i].ts <= ts_ns)
			o->unique++;
	return 0;
}

/* ---- the agent's path ---- */

void flow_stats_ingest(struct flow_stats *fs, const struct vg_state *st, const struct vg_event *ev)
{
	char key[FLOW_STATS_KEY_LEN];
	unsigned int t = ev->hdr.type;

	if (!fs || !st)
		return;
	fs->last_raw = NULL;
	if (t == VG_EVT_FLOW_TCP || t == VG_EVT_FLOW_UDP) {
		const struct vg_flow *f = flow_table_last(st->flows, ev);
		if (!f)
			return;
		const struct vg_cgroup *cg = state_cgroup(st, f->cgroup_id);
		flow_stats_workload(cg ? &cg->meta : NULL, f->container_id, key);
		flow_stats_flow(fs, key, f, &fs->last);
	} else if (t == VG_EVT_FLOW_DNS) {
		struct vg_flow_dns d;
		if (!flow_dns_from_event(st, ev, &d))
			return;
		const struct vg_cgroup *cg = state_cgroup(st, d.cgroup_id);
		flow_stats_workload(cg ? &cg->meta : NULL, d.container_id, key);
		if (flow_stats_dns(fs, key, d.payload, d.len, d.ts_ns, &fs->last) < 0)
			return;
	} else {
		return;
	}
	fs->last_raw = ev->raw;
	fs->last_ts = ev->hdr.ts;
}

const struct flow_feat *flow_stats_last(const struct flow_stats *fs, const struct vg_event *ev)
{
	if (!fs || !fs->last_raw || fs->last_raw != ev->raw || fs->last_ts != ev->hdr.ts)
		return NULL;
	return &fs->last;
}

void flow_stats_stats(const struct flow_stats *fs, struct flow_stats_stats *out)
{
	*out = fs->st;
	out->workloads_evicted = fs->workloads.evicted;
	out->dests_evicted = fs->dests.evicted;
	out->series_evicted = fs->series.evicted;
	out->domains_evicted = fs->domains.evicted;
	out->cookies_evicted = fs->cookies.evicted;
	out->workloads = fs->workloads.map.count;
	out->dests = fs->dests.map.count;
	out->series = fs->series.map.count;
	out->domains = fs->domains.map.count;
	out->cookies = fs->cookies.map.count;
}
