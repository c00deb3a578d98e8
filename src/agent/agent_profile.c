/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour profiles in the agent (docs/profiles.md): each event of a
 * container becomes observations (profile/profile_events.c) of the profile of
 * its workload; learning adds them, monitoring turns what is new into an alert
 * that takes the agent's normal alert path (answered, stored, forwarded,
 * printed). Once a second: the learning clocks (learning ends after a set time
 * or a quiet time), what was learnt written to the store, and the store's
 * generation counter polled, so that `vigil profile mode|reset|import` apply
 * live. All on the agent's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent/agent_int.h"
#include "common/log.h"
#include "profile/profile_events.h"
#include "profile/profile_store.h"
#include "state/container_table.h"
#include "state/flow_table.h"

#define CACHE_MAX 65536 /* cgroups remembered with their profile */
#define DEV_RATE 100.0  /* deviation alerts a second, after ... */
#define DEV_BURST 1000.0 /* ... a burst of this many */

struct cg_entry {
	struct hmap_node node; /* key: cgroup id */
	struct profile *p;     /* NULL: not profiled (host, or no image) */
};

struct agent_profile {
	struct profile_set set;
	struct profile_store *store;
	struct hmap cache;     /* cgroup id -> profile */
	uint8_t kinds[VG_EVT_MAX]; /* event types that make observations */
	bool use_connect;      /* connect records name peers (no flows) */
	int64_t generation;
	uint64_t tick_at;
	uint64_t observations, deviations, learnt, unprofiled, store_errors;
	/* deviation alerts: at most DEV_RATE a second after a burst of DEV_BURST, the rest counted */
	double tokens;
	uint64_t tokens_at, suppressed;
	bool warned_full;
};

static int64_t wall_s(void)
{
	return (int64_t)time(NULL);
}

static void cache_clear(struct agent_profile *ap)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&ap->cache, n, tmp, i)
		free(hmap_entry(n, struct cg_entry, node));
	hmap_free(&ap->cache);
	hmap_init(&ap->cache, 256);
}

void agent_profile_want(struct agent *a)
{
	if (!a->cfg.profiles.on)
		return;
	bool flows = a->want[VG_EVT_FLOW_TCP] || a->want[VG_EVT_FLOW_UDP];
	profile_want(a->want, flows);
}

/* A new profile: learning from now, or what the same workload's last image learnt (inherit). */
static void inherit(struct agent_profile *ap, struct profile *p, const struct profile_ident *id)
{
	struct hmap_node *n, *tmp;
	size_t i;
	struct profile *best = NULL;
	hmap_for_each(&ap->set.map, n, tmp, i) {
		struct profile *q = hmap_entry(n, struct profile, node);
		struct profile_ident qi = { 0 };
		if (q == p)
			continue;
		/* the same lineage: the key without its digest part, or the same repository */
		const char *at = strrchr(q->key, '@');
		if (!strncmp(id->lineage, "k8s:", 4)) {
			if (!at || strlen(id->lineage) != (size_t)(at - q->key) || strncmp(q->key, id->lineage, (size_t)(at - q->key)))
				continue;
		} else {
			snprintf(qi.lineage, sizeof(qi.lineage), "repo:%s", q->image);
			char *c = strrchr(qi.lineage, ':'), *s = strrchr(qi.lineage, '/');
			if (c && c > qi.lineage + 4 && (!s || c > s))
				*c = 0;
			if (strcmp(qi.lineage, id->lineage))
				continue;
		}
		if (!best || q->last_new > best->last_new)
			best = q;
	}
	if (!best)
		return;
	size_t n_items;
	const struct profile_item **items = profile_sorted_items(best, &n_items);
	int64_t now = wall_s();
	/* learnt as the new profile's own (p is learning): stored with it */
	for (size_t j = 0; j < n_items; j++)
		profile_observe(&ap->set, p, items[j]->kind, items[j]->value, now);
	free(items);
	p->mode = best->mode;
	vg_info("profile %s inherits %zu items and mode %s from %s", p->key, p->nlearnt, profile_mode_name(p->mode),
		best->key);
}

static struct profile *profile_of(struct agent *a, struct agent_profile *ap, uint64_t cgroup_id)
{
	struct hmap_node *n = hmap_get(&ap->cache, cgroup_id);
	if (n)
		return hmap_entry(n, struct cg_entry, node)->p;
	const struct vg_cgroup *cg = state_cgroup(a->state, cgroup_id);
	struct profile_ident id;
	if (!cg)
		return NULL;
	bool container = cg->meta.id[0] != 0;
	if (container && !profile_ident_of(&cg->meta, &id)) {
		/* metadata not read yet (or no image): ask again next time, but not forever */
		if (cg->meta.metadata_found)
			container = false;
		else {
			ap->unprofiled++;
			return NULL;
		}
	}
	struct profile *p = NULL;
	if (container) {
		p = profile_get(&ap->set, id.key);
		if (!p) {
			int64_t now = wall_s();
			p = profile_make(&ap->set, id.key, id.image, id.digest, id.owner, id.ns, now);
			if (p && a->cfg.profiles.inherit) {
				inherit(ap, p, &id);
				profile_note_meta(&ap->set, p);
			} else if (p) {
				vg_info("profile %s (%s): learning", p->key, p->image);
			} else if (!ap->warned_full) {
				vg_warn("profiles: no room for %s (%zu profiles, %zu bytes): not profiled", id.key,
					ap->set.map.count, ap->set.bytes);
				ap->warned_full = true;
			}
		}
	}
	if (ap->cache.count >= CACHE_MAX)
		cache_clear(ap);
	struct cg_entry *e = xcalloc(1, sizeof(*e));
	e->node.key = cgroup_id;
	e->p = p;
	hmap_put(&ap->cache, &e->node);
	return p;
}

/* A deviation: an alert in Falco's shape through the agent's alert path (blocked: refused by protecting). */
static void deviation_ex(struct agent *a, const struct profile *p, const struct vg_event *ev, enum profile_kind k,
			 const char *value, bool blocked)
{
	static const struct fref str_ref = { .type = FT_STR };
	char g[PROF_VALUE_MAX], text[3 * PROF_VALUE_MAX];
	const struct vg_cgroup *cg = state_cgroup(a->state, ev->hdr.cgroup_id);
	const char *cname = cg && cg->meta.name ? cg->meta.name : cg ? cg->meta.id : "";
	static const char *const what[PROF_NKINDS] = { "program", "file written", "sensitive file read",
						       "listening port", "outbound destination", "privilege change",
						       "sensitive syscall" };
	profile_generalise(k, value, g, sizeof(g));
	int len = snprintf(text, sizeof(text),
			   "New %s %s in container %s (image %s) departs from profile %s (%s, %zu items learnt)%s",
			   what[k], value, cname, p->image[0] ? p->image : "?", p->key, profile_mode_name(p->mode),
			   p->nlearnt, blocked ? ": blocked (EPERM)" : "");
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(text))
		len = sizeof(text) - 1;
	struct fval vals[5] = {
		{ .s = profile_kind_name(k), .len = strlen(profile_kind_name(k)) },
		{ .s = value, .len = strlen(value) },
		{ .s = g, .len = strlen(g) },
		{ .s = p->key, .len = strlen(p->key) },
		{ .s = profile_mode_name(p->mode), .len = strlen(profile_mode_name(p->mode)) },
	};
	struct alert_field fields[5] = {
		{ "profile.kind", &str_ref, vals[0].s, vals[0].len, 1, &vals[0] },
		{ "profile.new", &str_ref, vals[1].s, vals[1].len, 1, &vals[1] },
		{ "profile.pattern", &str_ref, vals[2].s, vals[2].len, 1, &vals[2] },
		{ "profile.key", &str_ref, vals[3].s, vals[3].len, 1, &vals[3] },
		{ "profile.mode", &str_ref, vals[4].s, vals[4].len, 1, &vals[4] },
	};
	const char *const *tags = profile_kind_tags(k);
	size_t ntags = 0;
	while (tags[ntags])
		ntags++;
	struct alert al = {
		.name = profile_kind_rule(k),
		.priority = PRIO_WARNING,
		.tags = (char *const *)tags,
		.ntags = ntags,
		.output = text,
		.output_len = (size_t)len,
		.fields = fields,
		.nfields = 5,
		.ev = ev,
		.st = a->state,
	};
	agent_alert(a, &al);
}

static void deviation(struct agent *a, const struct profile *p, const struct vg_event *ev, enum profile_kind k,
		      const char *value)
{
	deviation_ex(a, p, ev, k, value, false);
}

/* The deviations' rate limit (DEV_RATE a second after a burst of DEV_BURST): true when one may be alerted. */
static bool take_token(struct agent_profile *ap, uint64_t now)
{
	if (now > ap->tokens_at) {
		ap->tokens += (double)(now - ap->tokens_at) / 1e9 * DEV_RATE;
		if (ap->tokens > DEV_BURST)
			ap->tokens = DEV_BURST;
		ap->tokens_at = now;
	}
	if (ap->tokens < 1)
		return false;
	ap->tokens -= 1;
	return true;
}

static void observe(struct agent *a, struct agent_profile *ap, struct profile *p, const struct vg_event *ev,
		    const struct profile_obs *o)
{
	ap->observations++;
	enum profile_seen r = profile_observe(&ap->set, p, o->kind, o->value, wall_s());
	if (r == PROF_LEARNT)
		ap->learnt++;
	else if (r == PROF_DEVIATION) {
		ap->deviations++;
		if (take_token(ap, ev->hdr.ts)) {
			deviation(a, p, ev, o->kind, o->value);
		} else if (ap->suppressed++ == 0) {
			vg_warn("profiles: more than %.0f deviations a second: the rest are counted, not alerted",
				DEV_RATE);
		}
	}
}

/* ---- protecting (agent_protect.c enforces; these are its hooks here) ---- */

struct profile *agent_profile_of(struct agent *a, uint64_t cgroup_id)
{
	return a->profiles ? profile_of(a, a->profiles, cgroup_id) : NULL;
}

/* Rate-limited like every deviation; never learnt (what was refused did not happen). */
static void blocked(struct agent *a, struct profile *p, const struct vg_event *ev, enum profile_kind k,
		    const char *value)
{
	struct agent_profile *ap = a->profiles;
	if (!ap)
		return;
	ap->deviations++;
	if (!take_token(ap, ev->hdr.ts)) {
		ap->suppressed++;
		return;
	}
	deviation_ex(a, p, ev, k, value, true);
}

void agent_profile_blocked(struct agent *a, struct profile *p, const struct vg_event *ev, const char *value)
{
	blocked(a, p, ev, PROF_EXEC, value);
}

/* ---- end of protecting hooks ---- */

void agent_profile_event(struct agent *a, const struct vg_event *ev)
{
	struct agent_profile *ap = a->profiles;
	struct profile_obs obs[PROF_OBS_MAX];
	if (!ap || ev->hdr.type >= VG_EVT_MAX || !ap->kinds[ev->hdr.type])
		return;
	if (ev->hdr.type == VG_EVT_FLOW_TCP || ev->hdr.type == VG_EVT_FLOW_UDP) {
		const struct vg_flow *f = flow_table_last(a->flows, ev);
		if (!f || !profile_flow_observation(f, &obs[0]))
			return;
		struct profile *p = profile_of(a, ap, f->cgroup_id);
		if (p)
			observe(a, ap, p, ev, &obs[0]);
		return;
	}
	struct profile *p = profile_of(a, ap, ev->hdr.cgroup_id);
	if (!p)
		return;
	if (p->mode == PROF_PROTECTING && ev->hdr.type == VG_EVT_CONNECT) {
		/* refused by the egress allow list (agent_protect.c): no flow will say it */
		char v[PROF_VALUE_MAX];
		if (profile_connect_refused(ev, v, sizeof(v))) {
			blocked(a, p, ev, PROF_CONNECT, v);
			return;
		}
	}
	size_t n = profile_observations(ev, a->state, ap->use_connect, obs, PROF_OBS_MAX);
	for (size_t i = 0; i < n; i++)
		observe(a, ap, p, ev, &obs[i]);
}

static void flush_store(struct agent_profile *ap)
{
	if (!ap->set.nops)
		return;
	if (ap->store && profile_store_apply(ap->store, &ap->set, ap->set.ops, ap->set.nops)) {
		if (ap->store_errors++ < 5)
			vg_warn("profiles: not stored: %s", profile_store_error(ap->store));
	}
	profile_ops_free(ap->set.ops, ap->set.nops);
	ap->set.ops = NULL;
	ap->set.nops = ap->set.cap_ops = 0;
}

/* What the store holds, again (a change from outside): modes, items, resets. */
static void reload(struct agent_profile *ap)
{
	struct profile_set fresh;
	profile_set_init(&fresh, &ap->set.lim);
	if (profile_store_load(ap->store, &fresh)) {
		vg_warn("profiles: cannot read the store again: %s", profile_store_error(ap->store));
		profile_set_free(&fresh);
		return;
	}
	fresh.record_ops = true;
	cache_clear(ap); /* its pointers are to the old set */
	profile_set_free(&ap->set);
	ap->set = fresh;
	vg_info("profiles: %zu read again from the store (generation %lld)", ap->set.map.count,
		(long long)ap->generation);
}

void agent_profile_tick(struct agent *a, uint64_t now)
{
	struct agent_profile *ap = a->profiles;
	if (ap)
		agent_protect_poll(a); /* refused executions reported at once */
	if (!ap || now - ap->tick_at < 1000000000ULL)
		return;
	ap->tick_at = now;
	int64_t t = wall_s();
	double learn = a->cfg.profiles.learn_s, quiet = a->cfg.profiles.quiet_s;
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&ap->set.map, n, tmp, i) {
		struct profile *p = hmap_entry(n, struct profile, node);
		if (p->mode != PROF_LEARNING)
			continue;
		bool by_time = learn > 0 && t - p->learn_started >= (int64_t)learn;
		bool by_quiet = quiet > 0 && p->nlearnt && t - p->last_new >= (int64_t)quiet;
		if (!by_time && !by_quiet)
			continue;
		p->mode = PROF_MONITORING;
		profile_note_meta(&ap->set, p);
		vg_info("profile %s (%s): learnt %zu items, monitoring (%s)", p->key, p->image, p->nlearnt,
			by_time ? "learning time over" : "nothing new for the quiet time");
	}
	flush_store(ap);
	if (ap->store) {
		int64_t g = profile_store_generation(ap->store);
		if (g >= 0 && g != ap->generation) {
			ap->generation = g;
			reload(ap);
		}
	}
	agent_protect_sync(a); /* protecting: allow lists armed, changed or disarmed */
}

int agent_profile_start(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	char err[512];
	if (!c->profiles.on)
		return 0;
	struct agent_profile *ap = xcalloc(1, sizeof(*ap));
	struct profile_limits lim = { .max_profiles = c->profiles.max_profiles, .max_items = c->profiles.max_items };
	profile_set_init(&ap->set, &lim);
	hmap_init(&ap->cache, 256);
	ap->tokens = DEV_BURST;
	for (size_t i = 0; i < profile_nneeds; i++) {
		enum vg_event_type t = profile_needs[i].type;
		if (t != VG_EVT_CLONE && t != VG_EVT_CLONE3 && t != VG_EVT_FORK && t != VG_EVT_VFORK &&
		    t != VG_EVT_PROCEXIT && t != VG_EVT_FLOW_DNS)
			ap->kinds[t] = 1;
	}
	/* a capture's flow records, or the live flows: the peers with their names; else connects */
	bool live = c->mode != AGENT_REPLAY;
	ap->use_connect = !live || (!a->want[VG_EVT_FLOW_TCP] && !a->want[VG_EVT_FLOW_UDP]);
	a->profiles = ap;
	if (c->store_path && live) {
		if (!(ap->store = profile_store_open(c->store_path, true, err, sizeof(err)))) {
			vg_err("profiles: %s", err);
			return -1;
		}
		if (profile_store_load(ap->store, &ap->set)) {
			vg_err("profiles: %s", profile_store_error(ap->store));
			return -1;
		}
		ap->generation = profile_store_generation(ap->store);
		agent_profile_fleet_start(a); /* with --nats: share through the store (agent_profile_fleet.c) */
	}
	ap->set.record_ops = ap->store != NULL;
	vg_info("profiles: %zu loaded; learning %s%s%s", ap->set.map.count,
		c->profiles.learn_s > 0 ? "ends after " : "has no time limit",
		c->profiles.learn_s > 0 ? "the learning time" : "",
		c->profiles.quiet_s > 0 ? " or after the quiet time" : "");
	return 0;
}

void agent_profile_stop(struct agent *a)
{
	struct agent_profile *ap = a->profiles;
	if (!ap)
		return;
	agent_protect_stop(a);
	flush_store(ap);
	size_t items = 0;
	struct hmap_node *n, *tmp;
	size_t i;
	uint64_t dropped = 0;
	hmap_for_each(&ap->set.map, n, tmp, i) {
		struct profile *p = hmap_entry(n, struct profile, node);
		items += p->nlearnt;
		dropped += p->dropped;
	}
	vg_info("profiles: %zu profiles, %zu items, %zu bytes; %llu observations, %llu learnt, %llu deviations "
		"(%llu not alerted: rate), %llu not learnt (full), %llu profiles refused (full)",
		ap->set.map.count, items, ap->set.bytes, (unsigned long long)ap->observations,
		(unsigned long long)ap->learnt, (unsigned long long)ap->deviations,
		(unsigned long long)ap->suppressed, (unsigned long long)dropped, (unsigned long long)ap->set.refused);
	cache_clear(ap);
	hmap_free(&ap->cache);
	profile_set_free(&ap->set);
	profile_store_close(ap->store);
	free(ap);
	a->profiles = NULL;
}
