/* SPDX-License-Identifier: Apache-2.0 */
/* Behaviour profiles: the bounded model, generalisation and matching (profile.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "profile/profile.h"

static const char *const kind_names[PROF_NKINDS] = { "exec", "write", "read", "listen", "connect", "privilege",
						     "syscall" };
static const char *const kind_rules[PROF_NKINDS] = {
	"Behaviour deviation: new program",
	"Behaviour deviation: new file written",
	"Behaviour deviation: sensitive file read",
	"Behaviour deviation: new listening port",
	"Behaviour deviation: new outbound destination",
	"Behaviour deviation: new privilege change",
	"Behaviour deviation: new sensitive syscall",
};
static const char *const tags_exec[] = { "profile", "container", "mitre_execution", "T1059", NULL };
static const char *const tags_write[] = { "profile", "container", "mitre_persistence", "T1105", NULL };
static const char *const tags_read[] = { "profile", "container", "mitre_credential_access", "T1552", NULL };
static const char *const tags_listen[] = { "profile", "container", "mitre_command_and_control", "T1571", NULL };
static const char *const tags_connect[] = { "profile", "container", "mitre_command_and_control", "T1071", NULL };
static const char *const tags_priv[] = { "profile", "container", "mitre_privilege_escalation", "T1548", NULL };
static const char *const tags_sys[] = { "profile", "container", "mitre_privilege_escalation", "T1611", NULL };
static const char *const *const kind_tags[PROF_NKINDS] = { tags_exec,    tags_write, tags_read, tags_listen,
							   tags_connect, tags_priv,  tags_sys };
static const char *const mode_names[PROF_NMODES] = { "learning", "monitoring", "protecting" };

const char *profile_kind_name(enum profile_kind k)
{
	return (unsigned)k < PROF_NKINDS ? kind_names[k] : "";
}

int profile_kind_from_name(const char *s)
{
	for (int i = 0; i < PROF_NKINDS; i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	return -1;
}

const char *profile_mode_name(enum profile_mode m)
{
	return (unsigned)m < PROF_NMODES ? mode_names[m] : "";
}

int profile_mode_from_name(const char *s)
{
	for (int i = 0; i < PROF_NMODES; i++)
		if (!strcmp(s, mode_names[i]))
			return i;
	return -1;
}

const char *profile_kind_rule(enum profile_kind k)
{
	return (unsigned)k < PROF_NKINDS ? kind_rules[k] : "Behaviour deviation";
}

const char *const *profile_kind_tags(enum profile_kind k)
{
	static const char *const none[] = { NULL };
	return (unsigned)k < PROF_NKINDS ? kind_tags[k] : none;
}

/* FNV-1a 64 of the kind byte and the string. */
static uint64_t item_hash(unsigned kind, const char *v)
{
	uint64_t h = 1469598103934665603ULL;
	h = (h ^ (kind + 1)) * 1099511628211ULL;
	for (; *v; v++)
		h = (h ^ (unsigned char)*v) * 1099511628211ULL;
	return h;
}

static uint64_t key_hash(const char *k)
{
	return item_hash(0xff, k);
}

void profile_set_init(struct profile_set *s, const struct profile_limits *lim)
{
	memset(s, 0, sizeof(*s));
	if (lim)
		s->lim = *lim;
	if (!s->lim.max_profiles)
		s->lim.max_profiles = 1024;
	if (!s->lim.max_items)
		s->lim.max_items = 4096;
	if (!s->lim.max_bytes)
		s->lim.max_bytes = 64u << 20;
	if (!s->lim.collapse)
		s->lim.collapse = 32;
	hmap_init(&s->map, 64);
}

static void profile_free(struct profile *p)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&p->items, n, tmp, i)
		free(hmap_entry(n, struct profile_item, node));
	hmap_free(&p->items);
	free(p->key);
	free(p->image);
	free(p->digest);
	free(p->owner);
	free(p->ns);
	free(p);
}

void profile_ops_free(struct profile_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ops[i].key);
		free(ops[i].value);
	}
	free(ops);
}

void profile_set_free(struct profile_set *s)
{
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&s->map, n, tmp, i)
		profile_free(hmap_entry(n, struct profile, node));
	hmap_free(&s->map);
	profile_ops_free(s->ops, s->nops);
	memset(s, 0, sizeof(*s));
}

static void add_op(struct profile_set *s, enum profile_op_kind op, const char *key, unsigned kind, const char *value,
		   int64_t ts)
{
	if (!s->record_ops)
		return;
	if (s->nops == s->cap_ops) {
		s->cap_ops = s->cap_ops ? s->cap_ops * 2 : 64;
		s->ops = xrealloc(s->ops, s->cap_ops * sizeof(*s->ops));
	}
	s->ops[s->nops++] = (struct profile_op){ op, xstrdup(key), (uint8_t)kind, value ? xstrdup(value) : NULL, ts };
}

void profile_note_meta(struct profile_set *s, const struct profile *p)
{
	add_op(s, PROF_OP_META, p->key, 0, NULL, 0);
}

struct profile *profile_get(const struct profile_set *s, const char *key)
{
	struct hmap_node *n = hmap_get(&s->map, key_hash(key));
	struct profile *p = n ? hmap_entry(n, struct profile, node) : NULL;
	return p && !strcmp(p->key, key) ? p : NULL;
}

struct profile *profile_make(struct profile_set *s, const char *key, const char *image, const char *digest,
			     const char *owner, const char *ns, int64_t now)
{
	struct profile *p = profile_get(s, key);
	if (p)
		return p;
	if (hmap_get(&s->map, key_hash(key)) || s->map.count >= s->lim.max_profiles ||
	    s->bytes + sizeof(*p) + 512 > s->lim.max_bytes || strlen(key) >= PROF_KEY_MAX) {
		s->refused++;
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->key = xstrdup(key);
	p->image = xstrdup(image ? image : "");
	p->digest = xstrdup(digest ? digest : "");
	p->owner = xstrdup(owner ? owner : "");
	p->ns = xstrdup(ns ? ns : "");
	p->learn_started = p->last_new = now;
	hmap_init(&p->items, 16);
	p->bytes = sizeof(*p) + strlen(p->key) + strlen(p->image) + strlen(p->digest) + strlen(p->owner) +
		   strlen(p->ns) + 5;
	s->bytes += p->bytes;
	p->node.key = key_hash(key);
	hmap_put(&s->map, &p->node);
	profile_note_meta(s, p);
	return p;
}

static void item_unlink(struct profile_set *s, struct profile *p, struct profile_item *it)
{
	hmap_del(&p->items, it->node.key);
	for (struct profile_item **pp = &p->patterns[it->kind]; *pp; pp = &(*pp)->next_pattern)
		if (*pp == it) {
			*pp = it->next_pattern;
			break;
		}
	size_t b = sizeof(*it) + strlen(it->value) + 1;
	p->bytes -= b;
	s->bytes -= b;
	p->nitems--;
	if (!it->deviation)
		p->nlearnt--;
	free(it);
}

void profile_remove(struct profile_set *s, const char *key)
{
	struct profile *p = profile_get(s, key);
	if (!p)
		return;
	hmap_del(&s->map, p->node.key);
	s->bytes -= p->bytes;
	profile_free(p);
}

bool profile_glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == *s) {
			pat++;
			s++;
		} else if (star && *resume != '/') {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

static struct profile_item *get_exact(const struct profile *p, unsigned k, const char *v)
{
	struct hmap_node *n = hmap_get(&p->items, item_hash(k, v));
	struct profile_item *it = n ? hmap_entry(n, struct profile_item, node) : NULL;
	return it && it->kind == k && !strcmp(it->value, v) ? it : NULL;
}

const struct profile_item *profile_find(const struct profile *p, enum profile_kind k, const char *value)
{
	const struct profile_item *it = get_exact(p, k, value);
	if (it)
		return it;
	for (it = p->patterns[k]; it; it = it->next_pattern)
		if (profile_glob(it->value, value))
			return it;
	return NULL;
}

/* A new item; NULL when the profile or the set is full (or a hash collides). */
static struct profile_item *item_new(struct profile_set *s, struct profile *p, unsigned k, const char *v, int64_t ts,
				     bool deviation)
{
	size_t len = strlen(v), b = sizeof(struct profile_item) + len + 1;
	uint64_t h = item_hash(k, v);
	if (len >= PROF_VALUE_MAX || p->nitems >= s->lim.max_items || s->bytes + b > s->lim.max_bytes ||
	    hmap_get(&p->items, h))
		return NULL;
	struct profile_item *it = xcalloc(1, b);
	memcpy(it->value, v, len + 1);
	it->kind = (uint8_t)k;
	it->first_seen = ts;
	it->deviation = deviation;
	it->node.key = h;
	hmap_put(&p->items, &it->node);
	if (strchr(v, '*')) {
		it->next_pattern = p->patterns[k];
		p->patterns[k] = it;
	}
	p->nitems++;
	if (!deviation)
		p->nlearnt++;
	p->bytes += b;
	s->bytes += b;
	return it;
}

static bool is_path_kind(unsigned k)
{
	return k == PROF_WRITE || k == PROF_READ;
}

/*
 * A directory of a path kind holding more than lim.collapse learnt children
 * (files or patterns) becomes one pattern "DIR/ *": its children are removed.
 */
static void maybe_collapse(struct profile_set *s, struct profile *p, unsigned k, const char *v, int64_t now)
{
	const char *slash = strrchr(v, '/');
	if (!is_path_kind(k) || !slash || slash == v)
		return;
	size_t dlen = (size_t)(slash - v) + 1; /* with the '/' */
	size_t count = 0;
	struct hmap_node *n, *tmp;
	size_t i;
	hmap_for_each(&p->items, n, tmp, i) {
		struct profile_item *it = hmap_entry(n, struct profile_item, node);
		if (it->kind == k && !it->deviation && !strncmp(it->value, v, dlen) && !strchr(it->value + dlen, '/'))
			count++;
	}
	if (count <= s->lim.collapse)
		return;
	char pat[PROF_VALUE_MAX];
	if (dlen + 2 > sizeof(pat))
		return;
	memcpy(pat, v, dlen);
	pat[dlen] = '*';
	pat[dlen + 1] = 0;
	hmap_for_each(&p->items, n, tmp, i) {
		struct profile_item *it = hmap_entry(n, struct profile_item, node);
		if (it->kind == k && !it->deviation && !strncmp(it->value, v, dlen) && !strchr(it->value + dlen, '/')) {
			add_op(s, PROF_OP_DEL, p->key, k, it->value, now);
			item_unlink(s, p, it);
		}
	}
	if (item_new(s, p, k, pat, now, false))
		add_op(s, PROF_OP_ADD, p->key, k, pat, now);
}

int profile_add(struct profile_set *s, struct profile *p, enum profile_kind k, const char *value, int64_t first_seen)
{
	if ((unsigned)k >= PROF_NKINDS)
		return -1;
	struct profile_item *it = get_exact(p, k, value);
	if (it) {
		if (it->deviation) {
			it->deviation = false;
			p->nlearnt++;
		}
		return 0;
	}
	return item_new(s, p, k, value, first_seen, false) ? 0 : -1;
}

enum profile_seen profile_observe(struct profile_set *s, struct profile *p, enum profile_kind k, const char *value,
				  int64_t now)
{
	char g[PROF_VALUE_MAX];
	profile_generalise(k, value, g, sizeof(g));
	const struct profile_item *known = profile_find(p, k, g);
	if (known && !known->deviation)
		return PROF_KNOWN;
	if (known)
		return PROF_REPEATED;
	if (p->mode == PROF_LEARNING) {
		if (!item_new(s, p, k, g, now, false)) {
			p->dropped++;
			return PROF_FULL;
		}
		p->last_new = now;
		add_op(s, PROF_OP_ADD, p->key, k, g, now);
		maybe_collapse(s, p, k, g, now);
		return PROF_LEARNT;
	}
	p->deviations++;
	item_new(s, p, k, g, now, true); /* reported once; when full, reported each time */
	return PROF_DEVIATION;
}

/* ---- generalisation ---- */

static bool in_temp_dir(const char *path)
{
	static const char *const dirs[] = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/", "/var/run/" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (!strncmp(path, dirs[i], strlen(dirs[i])))
			return true;
	return false;
}

static bool is_sep(char c)
{
	return c == '.' || c == '-' || c == '_' || c == '/' || c == 0 || c == ' ' || c == ':' || c == '@';
}

/* One segment [b, e) of a component (between separators): its replacement or NULL to keep it. */
static bool wild_segment(const char *b, const char *e, bool temp, bool after_dot)
{
	size_t len = (size_t)(e - b), digits = 0, hex = 0, upper = 0, lower = 0, alpha = 0;
	for (const char *c = b; c < e; c++) {
		digits += isdigit((unsigned char)*c) != 0;
		hex += isxdigit((unsigned char)*c) != 0;
		upper += isupper((unsigned char)*c) != 0;
		lower += islower((unsigned char)*c) != 0;
		alpha += isalpha((unsigned char)*c) != 0;
	}
	if (!len)
		return false;
	if (digits == len)
		return true; /* a number: pid, counter, date part, rotation suffix */
	if (len >= 8 && hex == len && digits)
		return true; /* a hex id */
	if (temp && len >= 6 && digits + alpha == len && ((digits && alpha) || (upper && lower)))
		return true; /* a per-process temporary name (mktemp's XXXXXX) */
	if (temp && after_dot && len == 6 && digits + alpha == len && (!e[0] || e[0] == '/'))
		return true; /* "NAME.XXXXXX" at a component's end: mkstemp's suffix, whatever its letters */
	return false;
}

void profile_generalise(enum profile_kind k, const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return;
	if (k != PROF_EXEC && !is_path_kind(k)) {
		/* ports, peers, privilege and syscall names are kept as they are */
		snprintf(out, outlen, "%s", in);
		return;
	}
	bool temp = in[0] == '/' && in_temp_dir(in);
	const char *p = in;
	while (*p && o + 1 < outlen) {
		if (is_sep(*p)) {
			out[o++] = *p++;
			continue;
		}
		const char *e = p;
		while (!is_sep(*e))
			e++;
		/* a run of 3+ digits inside a segment ("v1000x") is a number too */
		if (wild_segment(p, e, temp, p > in && p[-1] == '.')) {
			out[o++] = '*';
			p = e;
			continue;
		}
		while (p < e && o + 1 < outlen) {
			if (isdigit((unsigned char)*p)) {
				const char *d = p;
				while (d < e && isdigit((unsigned char)*d))
					d++;
				if (d - p >= 3) {
					out[o++] = '*';
					p = d;
					continue;
				}
			}
			out[o++] = *p++;
		}
	}
	out[o] = 0;
}

bool profile_sensitive_path(const char *path)
{
	static const char *const exact[] = { "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-",
					     "/etc/sudoers", "/etc/master.passwd", "/etc/security/opasswd" };
	static const char *const prefixes[] = { "/etc/sudoers.d/", "/root/.ssh/", "/etc/ssh/ssh_host_",
						"/etc/ssl/private/", "/var/run/secrets/", "/run/secrets/",
						"/root/.aws/", "/root/.kube/", "/root/.docker/config.json" };
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(path, exact[i]))
			return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
			return true;
	/* a user's keys and cloud credentials */
	if (!strncmp(path, "/home/", 6)) {
		const char *rest = strchr(path + 6, '/');
		if (rest && (!strncmp(rest, "/.ssh/", 6) || !strncmp(rest, "/.aws/", 6) || !strncmp(rest, "/.kube/", 7)))
			return true;
	}
	return false;
}

static int item_cmp(const void *a, const void *b)
{
	const struct profile_item *x = *(const struct profile_item *const *)a, *y = *(const struct profile_item *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->value, y->value);
}

const struct profile_item **profile_sorted_items(const struct profile *p, size_t *n)
{
	const struct profile_item **v = xcalloc(p->nitems + 1, sizeof(*v));
	size_t m = 0;
	struct hmap_node *node, *tmp;
	size_t i;
	hmap_for_each(&p->items, node, tmp, i) {
		const struct profile_item *it = hmap_entry(node, struct profile_item, node);
		if (!it->deviation)
			v[m++] = it;
	}
	qsort(v, m, sizeof(*v), item_cmp);
	*n = m;
	return v;
}
