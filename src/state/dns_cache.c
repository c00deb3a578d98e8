/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache is a chained hash table of entries keyed by (container id, family,
 * address), each entry also on one LRU list (head: least recently used) and on
 * its container's own LRU list (for the per-container quota). An
 * entry holds its name in an allocation of the name's own length, so memory is
 * about max_entries * (160 bytes + the name): 16384 entries of 60-byte names
 * take about 3.7 MB, 16384 of the longest names 6.8 MB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "common/buf.h"
#include "state/dns_cache.h"

#define DEFAULT_MAX_ENTRIES 16384
#define DEFAULT_MIN_TTL_S 5
#define DEFAULT_MAX_TTL_S 86400
#define NS 1000000000ull
/* an expired entry stays for lookups at earlier times (a flow named as of its
 * open, first reported a little later) this long before dns_cache_expire drops it */
#define LINGER_NS (60 * NS)

struct owner;

struct entry {
	struct entry *hnext;         /* hash chain */
	struct entry *prev, *next;   /* LRU list */
	struct entry *oprev, *onext; /* its container's LRU list */
	struct owner *own;
	uint64_t hash;
	uint64_t learnt_ns, expires_ns;
	uint8_t family;
	uint8_t addr[16];
	struct dns_cache_addr server; /* that gave the name last; family 0: not known */
	char cid[VG_FLOW_ID_LEN];
	char *name;
};

/* a container with entries: their count and LRU order, for the per-container quota */
struct owner {
	struct owner *hnext;
	uint64_t hash;
	size_t count;
	struct entry *head, *tail;
	char cid[VG_FLOW_ID_LEN];
};

#define OWNER_BUCKETS 1024

struct dns_cache {
	struct owner *owners[OWNER_BUCKETS];
	size_t per_container;
	struct entry **buckets;
	size_t nbuckets; /* a power of two, >= max_entries: chains stay short */
	struct entry *lru_head, *lru_tail;
	size_t max_entries;
	uint64_t min_ttl_ns, max_ttl_ns;
	struct dns_cache_stats st;
};

static uint64_t key_hash(const char *cid, int family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = cid; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ (uint8_t)family) * 1099511628211ull;
	for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static uint64_t cid_hash(const char *cid)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = cid; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ^ (h >> 29);
}

static struct owner *owner_get(struct dns_cache *c, const char *cid, bool create)
{
	uint64_t h = cid_hash(cid);
	struct owner **b = &c->owners[h & (OWNER_BUCKETS - 1)];
	for (struct owner *o = *b; o; o = o->hnext)
		if (o->hash == h && !strcmp(o->cid, cid))
			return o;
	if (!create)
		return NULL;
	struct owner *o = xcalloc(1, sizeof(*o));
	o->hash = h;
	snprintf(o->cid, sizeof(o->cid), "%s", cid);
	o->hnext = *b;
	*b = o;
	return o;
}

static void owner_unlink(struct entry *e)
{
	struct owner *o = e->own;
	if (e->oprev)
		e->oprev->onext = e->onext;
	else
		o->head = e->onext;
	if (e->onext)
		e->onext->oprev = e->oprev;
	else
		o->tail = e->oprev;
	e->oprev = e->onext = NULL;
}

static void owner_append(struct entry *e)
{
	struct owner *o = e->own;
	e->oprev = o->tail;
	e->onext = NULL;
	if (o->tail)
		o->tail->onext = e;
	else
		o->head = e;
	o->tail = e;
}

static void owner_release(struct dns_cache *c, struct owner *o)
{
	if (--o->count)
		return;
	struct owner **pp = &c->owners[o->hash & (OWNER_BUCKETS - 1)];
	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	free(o);
}

struct dns_cache *dns_cache_new(const struct dns_cache_opts *o)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));
	c->max_entries = o && o->max_entries ? o->max_entries : DEFAULT_MAX_ENTRIES;
	c->min_ttl_ns = (o && o->min_ttl_set ? o->min_ttl_s : DEFAULT_MIN_TTL_S) * NS;
	c->max_ttl_ns = (o && o->max_ttl_s ? o->max_ttl_s : DEFAULT_MAX_TTL_S) * NS;
	c->per_container = o && o->max_per_container ? o->max_per_container : c->max_entries / 4;
	if (c->per_container == 0)
		c->per_container = 1;
	if (c->per_container > c->max_entries)
		c->per_container = c->max_entries;
	if (c->min_ttl_ns > c->max_ttl_ns)
		c->min_ttl_ns = c->max_ttl_ns;
	c->nbuckets = 16;
	while (c->nbuckets < c->max_entries)
		c->nbuckets <<= 1;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	for (struct entry *e = c->lru_head, *n; e; e = n) {
		n = e->next;
		free(e->name);
		free(e);
	}
	for (size_t i = 0; i < OWNER_BUCKETS; i++)
		for (struct owner *o = c->owners[i], *n; o; o = n) {
			n = o->hnext;
			free(o);
		}
	free(c->buckets);
	free(c);
}

static void lru_unlink(struct dns_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_append(struct dns_cache *c, struct entry *e)
{
	e->prev = c->lru_tail;
	e->next = NULL;
	if (c->lru_tail)
		c->lru_tail->next = e;
	else
		c->lru_head = e;
	c->lru_tail = e;
}

static struct entry *find(struct dns_cache *c, const char *cid, int family, const uint8_t *addr, uint64_t h)
{
	size_t alen = family == AF_INET ? 4 : 16;
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->family == family && !memcmp(e->addr, addr, alen) && !strcmp(e->cid, cid))
			return e;
	return NULL;
}

static void drop(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	owner_unlink(e);
	owner_release(c, e->own);
	free(e->name);
	free(e);
	c->st.entries--;
}

static void put(struct dns_cache *c, const char *cid, int family, const uint8_t *addr, const char *name,
		const struct dns_cache_addr *server, uint64_t now, uint64_t ttl_ns)
{
	uint64_t h = key_hash(cid, family, addr);
	struct entry *e = find(c, cid, family, addr, h);

	if (ttl_ns < c->min_ttl_ns)
		ttl_ns = c->min_ttl_ns;
	if (ttl_ns > c->max_ttl_ns)
		ttl_ns = c->max_ttl_ns;
	if (e) {
		if (strcmp(e->name, name)) {
			free(e->name);
			e->name = xstrdup(name);
		}
		lru_unlink(c, e);
		owner_unlink(e);
	} else {
		/* a container at its quota makes room among its own entries first, so that
		 * one container's flood of answers cannot push out the others' names */
		struct owner *o = owner_get(c, cid, false);
		if (o && o->count >= c->per_container) {
			struct entry *victim = o->head;
			if (victim->expires_ns <= now) {
				c->st.expired++;
			} else {
				c->st.evicted++;
				c->st.quota_evicted++;
			}
			drop(c, victim);
		}
		while (c->st.entries >= c->max_entries && c->lru_head) {
			struct entry *victim = c->lru_head;
			if (victim->expires_ns <= now)
				c->st.expired++;
			else
				c->st.evicted++;
			drop(c, victim);
		}
		e = xcalloc(1, sizeof(*e));
		e->hash = h;
		e->family = (uint8_t)family;
		memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
		snprintf(e->cid, sizeof(e->cid), "%s", cid);
		e->name = xstrdup(name);
		e->own = owner_get(c, cid, true);
		e->own->count++;
		struct entry **b = &c->buckets[h & (c->nbuckets - 1)];
		e->hnext = *b;
		*b = e;
		c->st.entries++;
	}
	if (server)
		e->server = *server;
	else
		memset(&e->server, 0, sizeof(e->server));
	e->learnt_ns = now;
	e->expires_ns = now + ttl_ns;
	lru_append(c, e);
	owner_append(e);
	c->st.learnt++;
}

int dns_cache_learn(struct dns_cache *c, const char *cid, const uint8_t *payload, size_t len, uint64_t now)
{
	return dns_cache_learn_from(c, cid, NULL, payload, len, now);
}

int dns_cache_learn_from(struct dns_cache *c, const char *cid, const struct dns_cache_addr *server,
			 const uint8_t *payload, size_t len, uint64_t now)
{
	/* about 33 KiB: on the heap, as the agent's thread may have a small stack */
	struct dns_msg *m = xmalloc(sizeof(*m));
	char err[96];
	int n = 0;

	c->st.messages++;
	if (!cid)
		cid = "";
	if (strlen(cid) >= VG_FLOW_ID_LEN || dns_parse(payload, len, m, err, sizeof(err))) {
		c->st.malformed++;
		free(m);
		return -1;
	}
	if (!m->qr || m->opcode != 0 || m->rcode != 0 || m->qdcount != 1 || !m->has_question ||
	    m->qclass != DNS_CLASS_IN) {
		c->st.ignored++;
		free(m);
		return 0;
	}
	/* the CNAME chain from the question's name, with the smallest TTL up to each link */
	const char *chain[DNS_CACHE_MAX_CHAIN + 1];
	uint64_t ttl_upto[DNS_CACHE_MAX_CHAIN + 1];
	size_t nchain = 1;
	chain[0] = m->qname;
	ttl_upto[0] = UINT64_MAX;
	while (nchain <= DNS_CACHE_MAX_CHAIN) {
		const struct dns_rr *next = NULL;
		for (size_t i = 0; i < m->nanswers && !next; i++) {
			const struct dns_rr *rr = &m->answers[i];
			if (rr->type == DNS_TYPE_CNAME && rr->rclass == DNS_CLASS_IN && !strcmp(rr->name, chain[nchain - 1]))
				next = rr;
		}
		if (!next)
			break;
		bool seen = false; /* a CNAME loop: stop at the repeat */
		for (size_t k = 0; k < nchain; k++)
			seen |= !strcmp(chain[k], next->u.cname);
		if (seen)
			break;
		uint64_t t = (uint64_t)next->ttl * NS;
		ttl_upto[nchain] = t < ttl_upto[nchain - 1] ? t : ttl_upto[nchain - 1];
		chain[nchain++] = next->u.cname;
	}
	for (size_t i = 0; i < m->nanswers; i++) {
		const struct dns_rr *rr = &m->answers[i];
		if ((rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA) || rr->rclass != DNS_CLASS_IN)
			continue;
		for (size_t k = 0; k < nchain; k++) {
			if (strcmp(rr->name, chain[k]))
				continue;
			uint64_t t = (uint64_t)rr->ttl * NS;
			if (ttl_upto[k] < t)
				t = ttl_upto[k];
			put(c, cid, rr->type == DNS_TYPE_A ? AF_INET : AF_INET6, rr->u.addr, m->qname, server, now, t);
			n++;
			break;
		}
	}
	if (n == 0)
		c->st.ignored++;
	free(m);
	return n;
}

int dns_cache_learn_tcp(struct dns_cache *c, const char *cid, const uint8_t *stream, size_t len, uint64_t now)
{
	return dns_cache_learn_tcp_from(c, cid, NULL, stream, len, now);
}

int dns_cache_learn_tcp_from(struct dns_cache *c, const char *cid, const struct dns_cache_addr *server,
			     const uint8_t *stream, size_t len, uint64_t now)
{
	size_t off = 0;
	int total = 0;
	while (off + 2 <= len) {
		size_t mlen = (size_t)stream[off] << 8 | stream[off + 1];
		off += 2;
		if (mlen == 0)
			continue;
		size_t have = len - off < mlen ? len - off : mlen;
		int n = dns_cache_learn_from(c, cid, server, stream + off, have, now);
		if (n < 0)
			return -1;
		total += n;
		off += have;
	}
	return total;
}

bool dns_cache_lookup(struct dns_cache *c, const char *cid, int family, const uint8_t *addr, uint64_t now,
		      char out[DNS_NAME_MAX])
{
	out[0] = 0;
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (!cid)
		cid = "";
	uint64_t h = key_hash(cid, family, addr);
	struct entry *e = find(c, cid, family, addr, h);
	/* valid until its TTL ends (a flow opened before the answer came takes it too) */
	if (!e || now >= e->expires_ns)
		return false;
	snprintf(out, DNS_NAME_MAX, "%s", e->name);
	lru_unlink(c, e);
	lru_append(c, e);
	owner_unlink(e);
	owner_append(e);
	return true;
}

bool dns_cache_name_flow(struct dns_cache *c, struct vg_flow *f)
{
	uint64_t t = f->start_ns ? f->start_ns : f->ts_ns;
	return dns_cache_lookup(c, f->container_id, f->remote.family, f->remote.addr, t, f->remote_name);
}

size_t dns_cache_expire(struct dns_cache *c, uint64_t now)
{
	size_t n = 0;
	for (struct entry *e = c->lru_head, *next; e; e = next) {
		next = e->next;
		if (e->expires_ns + LINGER_NS <= now) {
			drop(c, e);
			c->st.expired++;
			n++;
		}
	}
	return n;
}

void dns_cache_stats(const struct dns_cache *c, struct dns_cache_stats *out)
{
	*out = c->st;
}

static bool addr_eq(const struct dns_cache_addr *a, const struct dns_cache_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

size_t dns_cache_addrs_of(const struct dns_cache *c, const char *name, const struct dns_cache_addr *servers,
			  size_t nservers, uint64_t now_ns, struct dns_cache_addr *out, size_t max)
{
	size_t n = 0;
	for (const struct entry *e = c->lru_head; e && n < max; e = e->next) {
		if (e->expires_ns + LINGER_NS <= now_ns || strcasecmp(e->name, name))
			continue;
		bool from = !servers;
		for (size_t i = 0; !from && i < nservers; i++)
			from = addr_eq(&e->server, &servers[i]);
		if (!from)
			continue;
		out[n].family = e->family;
		memcpy(out[n].addr, e->addr, sizeof(out[n].addr));
		n++;
	}
	return n;
}
