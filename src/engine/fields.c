/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco's filter fields over Vigil's events and state: the machinery every
 * field class shares. Each accessor writes the field's values and returns
 * how many; 0 is Falco's <NA>. The accessors and their tables live in one
 * file per class, as libsinsp's filterchecks do (fields_internal.h lists
 * them); here: the per-event context and its arena, parameter indexes by
 * name, the table they make together and the lookup of names in it,
 * resolving a field reference (arguments, transformers), extracting values,
 * and the text of values and the parsing of literals.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "common/buf.h"
#include "engine/fields_internal.h"

/* ---- arena ---- */

char *arena_dup(struct arena *a, const char *s, size_t n)
{
	if (n + 1 > ARENA_BLOCK) /* longer than a block: truncate (argv and paths are bounded well below) */
		n = ARENA_BLOCK - 1;
	if (!a->nblocks || a->used + n + 1 > ARENA_BLOCK) {
		if (a->nblocks && a->size < a->nblocks)
			a->size = a->nblocks;
		if (a->nblocks == 64)
			a->nblocks = 0; /* a pathological event: reuse from the start rather than grow */
		if (!a->blocks[a->nblocks])
			a->blocks[a->nblocks] = xmalloc(ARENA_BLOCK);
		a->nblocks++;
		a->used = 0;
	}
	char *p = a->blocks[a->nblocks - 1] + a->used;
	memcpy(p, s, n);
	p[n] = 0;
	a->used += n + 1;
	return p;
}

static void arena_reset(struct arena *a)
{
	a->nblocks = 0;
	a->used = 0;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < 64; i++)
		free(a->blocks[i]);
	memset(a, 0, sizeof(*a));
}

/* ---- parameters by name ---- */

int8_t pname_idx[VG_EVT_MAX][PN_MAX];
static const char *const pname_str[PN_MAX] = { "path", "flags", "tuple", "addr", "exe_info" };
static pthread_once_t pname_once = PTHREAD_ONCE_INIT;

static void pname_init(void)
{
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		for (int k = 0; k < PN_MAX; k++)
			pname_idx[t][k] = (int8_t)info_param_index(event_table_get(t), pname_str[k]);
}

/* ---- the per-event context ---- */

void ectx_init(struct ectx *c, size_t nslots, size_t nmemo)
{
	pthread_once(&pname_once, pname_init);
	memset(c, 0, sizeof(*c));
	c->nmemo = nmemo;
	c->memo = xcalloc(nmemo ? nmemo : 1, sizeof(*c->memo));
	c->fd = xcalloc(1, sizeof(*c->fd));
	c->nslots = nslots;
	c->slots = xcalloc(nslots ? nslots : 1, sizeof(*c->slots));
	for (size_t i = 0; i < nslots; i++)
		c->slots[i].vals = xcalloc(FV_MAX, sizeof(struct fval));
}

void ectx_free(struct ectx *c)
{
	for (size_t i = 0; i < c->nslots; i++)
		free(c->slots[i].vals);
	free(c->slots);
	free(c->memo);
	free(c->fd);
	buf_free(&c->scratch);
	arena_free(&c->arena);
}

void ectx_reset(struct ectx *c, const struct vg_event *ev, const struct vg_state *st)
{
	c->ev = ev;
	c->st = st;
	c->p = st ? state_proc(st, ev->hdr.pid) : NULL;
	c->cg = st ? state_cgroup(st, ev->hdr.cgroup_id) : NULL;
	c->fd_done = false;
	arena_reset(&c->arena);
	if (++c->gen == 0) { /* wrapped: old stamps could match again */
		for (size_t i = 0; i < c->nslots; i++)
			c->slots[i].gen = 0;
		for (size_t i = 0; i < c->nmemo; i++)
			c->memo[i].gen = 0;
		c->gen = 1;
	}
}

/* ---- accessors any class uses ---- */

int field_none(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)c;
	(void)r;
	(void)o;
	return 0;
}

int field_hdr_u32(struct ectx *c, const struct fref *r, struct fval *o)
{
	uint32_t v;
	memcpy(&v, (const char *)&c->ev->hdr + r->def->off, sizeof(v));
	return put_int(o, v);
}

/* ---- the table ---- */

static const struct field_class *const classes[] = {
	&fields_evt, &fields_proc, &fields_user, &fields_fd, &fields_container, &fields_flow, &fields_vigil,
};

/*
 * Field names hashed once (open addressing, slots hold index + 1, the first
 * entry of a name wins as in a scan): compiling Falco's rules resolves a few
 * thousand field names, and a strcmp scan of the table was a tenth of it.
 */
#define FIELD_SLOTS 1024
#define FIELDS_MAX (FIELD_SLOTS / 2) /* the index stays half empty */
static struct fdef fields[FIELDS_MAX];
static size_t nfields;
static uint16_t field_slots[FIELD_SLOTS];
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static size_t field_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ h >> 15) & (FIELD_SLOTS - 1);
}

/* The class tables one after the other, then their names' index. */
static void fields_init(void)
{
	for (size_t k = 0; k < sizeof(classes) / sizeof(classes[0]); k++) {
		if (nfields + classes[k]->n > FIELDS_MAX)
			abort(); /* a table grew past FIELDS_MAX: raise FIELD_SLOTS */
		memcpy(&fields[nfields], classes[k]->defs, classes[k]->n * sizeof(fields[0]));
		nfields += classes[k]->n;
	}
	for (size_t i = 0; i < nfields; i++) {
		size_t k = field_hash(fields[i].name);
		while (field_slots[k] && strcmp(fields[field_slots[k] - 1].name, fields[i].name))
			k = (k + 1) & (FIELD_SLOTS - 1);
		if (!field_slots[k])
			field_slots[k] = (uint16_t)(i + 1);
	}
}

const struct fdef *field_table(size_t *n)
{
	pthread_once(&fields_once, fields_init);
	*n = nfields;
	return fields;
}

const struct fdef *field_find(const char *name)
{
	pthread_once(&fields_once, fields_init);
	for (size_t k = field_hash(name); field_slots[k]; k = (k + 1) & (FIELD_SLOTS - 1))
		if (!strcmp(fields[field_slots[k] - 1].name, name))
			return &fields[field_slots[k] - 1];
	return NULL;
}

int fref_resolve(struct fref *r, const struct cond_field *f, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->argn = -1;
	r->slot = -1;
	const char *name = f->name;
	char *arg = f->arg ? xstrdup(f->arg) : NULL;
	char tmp[128];

	const struct fdef *d = field_find(name);
	if (!d && !strncmp(name, "evt.arg.", 8) && !arg) {
		d = field_find("evt.arg");
		arg = xstrdup(name + 8);
	}
	if (!d) {
		/* a dotted argument on another field: proc.aname.x is not Falco syntax */
		snprintf(err, errlen, "unknown field '%s'", name);
		free(arg);
		return -1;
	}
	if (d->arg == FA_NONE && arg) {
		snprintf(err, errlen, "field '%s' takes no argument", name);
		free(arg);
		return -1;
	}
	if (d->arg == FA_REQUIRED && (!arg || !*arg)) {
		snprintf(err, errlen, "field '%s' needs an argument, as in %s[...]", name, name);
		free(arg);
		return -1;
	}
	if (arg && (d->arg_index || ((!strcmp(d->name, "evt.arg") || !strncmp(d->name, "container.mount.", 16)) &&
					   isdigit((unsigned char)arg[0])))) {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || v < 0 || v > 4096) {
			snprintf(tmp, sizeof(tmp), "%.60s", arg);
			snprintf(err, errlen, "field '%s' needs a number as its argument, not '%s'", name, tmp);
			free(arg);
			return -1;
		}
		r->argn = v;
	}
	if (arg && r->argn < 0 && !strcmp(d->name, "evt.arg")) {
		r->argidx = xmalloc(VG_EVT_MAX * sizeof(*r->argidx));
		for (unsigned int t = 0; t < VG_EVT_MAX; t++)
			r->argidx[t] = INT16_MIN; /* not looked up yet */
	}
	r->def = d;
	r->arg = arg;
	r->type = d->type;
	for (int i = 0; i < f->nxf; i++) {
		r->xf[r->nxf++] = f->xf[i];
		if (f->xf[i] == XF_LEN) {
			r->type = FT_INT;
		} else if (r->type != FT_STR) {
			snprintf(err, errlen, "transformer on '%s' needs a string field", name);
			free(r->arg);
			r->arg = NULL;
			return -1;
		}
	}
	return 0;
}

void fref_free(struct fref *r)
{
	free(r->arg);
	r->arg = NULL;
	free(r->argidx);
	r->argidx = NULL;
}

/* Falco's b64 transformer decodes; input that is not base64 has no value. */
static bool b64_decode(struct vg_buf *b, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int v;
		if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
		else if (ch == '+') v = 62;
		else if (ch == '/') v = 63;
		else if (ch == '=') break;
		else return false;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(b, (char)((acc >> bits) & 0xff));
		}
	}
	return true;
}

static int apply_xf(struct ectx *c, enum cond_xform xf, struct fval *v)
{
	struct vg_buf b = { 0 };
	switch (xf) {
	case XF_TOLOWER:
	case XF_TOUPPER: {
		char *s = arena_dup(&c->arena, v->s, v->len);
		for (size_t i = 0; i < v->len; i++)
			s[i] = xf == XF_TOLOWER ? tolower((unsigned char)s[i]) : toupper((unsigned char)s[i]);
		v->s = s;
		return 1;
	}
	case XF_B64:
		if (!b64_decode(&b, v->s, v->len)) {
			buf_free(&b);
			return 0;
		}
		v->s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
		v->len = b.len;
		buf_free(&b);
		return 1;
	case XF_BASENAME: {
		const char *slash = memrchr(v->s, '/', v->len);
		if (slash) {
			v->len -= slash + 1 - v->s;
			v->s = slash + 1;
		}
		return 1;
	}
	case XF_LEN:
		v->i = (int64_t)v->len;
		return 1;
	case XF_NONE:
		break;
	}
	return 1;
}

int fref_extract(struct ectx *c, const struct fref *r, const struct fval **vals)
{
	struct fval *out;
	int n;

	struct ectx_slot *sl = r->slot >= 0 && (size_t)r->slot < c->nslots ? &c->slots[r->slot] : NULL;
	if (sl) {
		out = sl->vals;
		if (sl->gen == c->gen) {
			*vals = out;
			return sl->n;
		}
	} else {
		static __thread struct fval scratch[FV_MAX];
		out = scratch;
	}
	n = r->def->get(c, r, out);
	for (int x = 0; x < r->nxf; x++) {
		int k = 0;
		for (int i = 0; i < n; i++)
			if (apply_xf(c, r->xf[x], &out[i]))
				out[k++] = out[i];
		n = k;
	}
	if (sl) {
		sl->gen = c->gen;
		sl->n = n;
	}
	*vals = out;
	return n;
}

void fval_text(struct arena *a, const struct fref *r, const struct fval *v, int n, const char **s, size_t *len)
{
	struct vg_buf b = { 0 };
	if (n == 0) {
		*s = "<NA>";
		*len = 4;
		return;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ',');
		switch (r->type) {
		case FT_STR:
			buf_add(&b, v[i].s, v[i].len);
			break;
		case FT_BOOL:
			buf_adds(&b, v[i].i ? "true" : "false");
			break;
		case FT_INT:
		case FT_PORT:
			buf_printf(&b, "%lld", (long long)v[i].i);
			break;
		case FT_IP:
		case FT_NET: {
			char ip[INET6_ADDRSTRLEN] = "";
			inet_ntop(v[i].fam == 4 ? AF_INET : AF_INET6, v[i].ip, ip, sizeof(ip));
			buf_adds(&b, ip);
			break;
		}
		}
	}
	*s = arena_dup(a, b.data ? b.data : "", b.len);
	*len = b.len;
	buf_free(&b);
}

int fval_parse(enum ftype t, const char *text, struct fval *out, uint8_t *prefix_len)
{
	memset(out, 0, sizeof(*out));
	switch (t) {
	case FT_STR:
		out->s = text;
		out->len = strlen(text);
		return 0;
	case FT_INT:
	case FT_PORT: {
		char *end;
		if (!*text)
			return -1;
		long long v = strtoll(text, &end, 0);
		if (*end)
			return -1;
		out->i = v;
		return 0;
	}
	case FT_BOOL:
		if (!strcasecmp(text, "true"))
			out->i = 1;
		else if (!strcasecmp(text, "false"))
			out->i = 0;
		else
			return -1;
		return 0;
	case FT_IP:
	case FT_NET: {
		char buf[INET6_ADDRSTRLEN + 8];
		snprintf(buf, sizeof(buf), "%s", text);
		char *slash = strchr(buf, '/');
		long pl = -1;
		if (slash) {
			char *end;
			if (t != FT_NET)
				return -1;
			*slash = 0;
			pl = strtol(slash + 1, &end, 10);
			if (*end || slash[1] == 0)
				return -1;
		}
		if (inet_pton(AF_INET, buf, out->ip) == 1) {
			out->fam = 4;
			if (pl > 32)
				return -1;
			if (prefix_len)
				*prefix_len = pl < 0 ? 32 : pl;
		} else if (inet_pton(AF_INET6, buf, out->ip) == 1) {
			out->fam = 6;
			if (pl > 128)
				return -1;
			if (prefix_len)
				*prefix_len = pl < 0 ? 128 : pl;
		} else {
			return -1;
		}
		return 0;
	}
	}
	return -1;
}
