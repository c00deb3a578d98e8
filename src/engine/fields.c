/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco's filter fields over Vigil's events and state. Each accessor writes
 * the field's values and returns how many; 0 is Falco's <NA>.
 *
 * Where Falco and the kernel record differ, Falco's meaning wins: evt.arg.name
 * of an open is the path (Falco's parameter name), evt.res is "SUCCESS" or
 * the errno name, container.id is the 12-character short id or "host".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "common/buf.h"
#include "common/path.h"
#include "engine/fields.h"
#include "sensor/param_text.h"

/* ---- arena ---- */

#define ARENA_BLOCK (64u << 10)

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

/* How many of n bytes arena_dup keeps. */
static size_t arena_kept(size_t n)
{
	return n + 1 > ARENA_BLOCK ? ARENA_BLOCK - 1 : n;
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

/* Index of parameter `name` in the event type's table, -1 none. */
static int info_param_index(const struct vg_event_info *info, const char *name)
{
	for (unsigned int i = 0; info && i < info->nparams; i++)
		if (!strcmp(info->params[i].name, name))
			return (int)i;
	return -1;
}

/*
 * Parameters the fd and flag fields read on every event. Where a parameter
 * sits depends only on the event type (decoding puts parameter i's
 * description at info->params[i]), so the index is looked up once per type
 * here instead of by strcmp per event.
 */
enum pname { PN_PATH, PN_FLAGS, PN_TUPLE, PN_ADDR, PN_EXE_INFO, PN_MAX };
static const char *const pname_str[PN_MAX] = { "path", "flags", "tuple", "addr", "exe_info" };
static int8_t pname_idx[VG_EVT_MAX][PN_MAX];
static pthread_once_t pname_once = PTHREAD_ONCE_INIT;

static void pname_init(void)
{
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		for (int k = 0; k < PN_MAX; k++)
			pname_idx[t][k] = (int8_t)info_param_index(event_table_get(t), pname_str[k]);
}

/* The parameter's index in this event (as a lookup by name would give), -1 none. */
static int param_at(const struct vg_event *ev, enum pname k)
{
	int i = ev->hdr.type < VG_EVT_MAX ? pname_idx[ev->hdr.type][k] : -1;
	return i < (int)ev->nparams ? i : -1;
}

static int param_index(const struct vg_event *ev, const char *name)
{
	int i = info_param_index(ev->info, name);
	return i < (int)ev->nparams ? i : -1;
}

/* ---- fd view of the event ---- */

struct fd_info {
	bool valid;
	bool is_socket;
	char typechar;
	const char *type;   /* "file", "directory", "ipv4", "ipv6", "unix" */
	int64_t num;
	const char *name;   /* resolved */
	size_t name_len;    /* strlen(name) where fd_of knew it, else 0 */
	const char *nameraw;
	int fam;            /* AF_INET / AF_INET6 for ip sockets */
	uint8_t lip[16], rip[16];
	uint16_t lport, rport;
	bool local_is_server;
	bool connected;
};

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

/* ---- helpers ---- */

static int put_str(struct fval *out, const char *s)
{
	if (!s)
		return 0;
	out->s = s;
	out->len = strlen(s);
	return 1;
}

static int put_strn(struct fval *out, const char *s, size_t n)
{
	out->s = s;
	out->len = n;
	return 1;
}

static int put_int(struct fval *out, int64_t v)
{
	out->i = v;
	return 1;
}

static int put_ip(struct fval *out, int fam, const uint8_t *addr)
{
	out->fam = fam == AF_INET ? 4 : 6;
	memcpy(out->ip, addr, fam == AF_INET ? 4 : 16);
	return 1;
}

static bool is_open(unsigned int t)
{
	return t == VG_EVT_OPEN || t == VG_EVT_OPENAT || t == VG_EVT_OPENAT2 || t == VG_EVT_CREAT;
}

/* The context's scratch buffer, emptied: text built per event without a malloc each time. */
static struct vg_buf *scratch_buf(struct ectx *c)
{
	buf_reset(&c->scratch);
	return &c->scratch;
}

/* Whether the component starting at c (before end) is empty, "." or "..". */
static inline bool component_bad(const char *c, const char *end)
{
	return c == end || *c == '/' ||
	       (*c == '.' && (c + 1 == end || c[1] == '/' || (c[1] == '.' && (c + 2 == end || c[2] == '/'))));
}

/*
 * Whether the components from c (a component's start) to end are all
 * normal: none empty (no "//", no trailing slash), ".", or "..". Only a slash
 * followed by a slash or a dot can start a bad one after the first: those
 * pairs are searched for sixteen bytes at a time where the CPU has SSE2.
 */
static bool components_clean(const char *c, const char *end)
{
	if (component_bad(c, end) || end[-1] == '/')
		return false;
	size_t n = (size_t)(end - c);
#ifdef __SSE2__
	/* windows of sixteen positions, the last one overlapping the one before; a
	 * short string is copied into a zero-padded window (a zero is no slash) */
	char pad[33];
	const char *w = c;
	if (n < 17) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, c, n);
		w = pad;
	}
	size_t last = n < 17 ? 0 : n - 17;
	const __m128i slash = _mm_set1_epi8('/'), dot = _mm_set1_epi8('.');
	for (size_t i = 0;; i = i + 16 < last ? i + 16 : last) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(w + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(w + i + 1));
		__m128i hit = _mm_and_si128(_mm_cmpeq_epi8(a, slash),
					    _mm_or_si128(_mm_cmpeq_epi8(b, slash), _mm_cmpeq_epi8(b, dot)));
		for (unsigned int z = (unsigned int)_mm_movemask_epi8(hit); z; z &= z - 1)
			if (component_bad(c + i + (size_t)__builtin_ctz(z) + 1, end))
				return false;
		if (i == last)
			return true;
	}
#else
	for (size_t i = 0; i + 1 < n; i++)
		if (c[i] == '/' && (c[i + 1] == '/' || c[i + 1] == '.') && component_bad(c + i + 1, end))
			return false;
	return true;
#endif
}

/* Whether path_resolve would give raw itself: absolute, no empty, "." or ".." component. */
static bool path_is_clean(const char *raw)
{
	if (raw[0] != '/')
		return false;
	return !raw[1] || components_clean(raw + 1, raw + strlen(raw));
}

static const char *resolved_path(struct ectx *c, int i, size_t *len)
{
	const char *raw = event_param_str(c->ev, i);
	/* most paths are absolute and already normal: the record's own string is the
	 * answer (it lives as long as the event), no copy and no normalising pass */
	size_t n = strlen(raw);
	if (raw[0] == '/' && (n == 1 || components_clean(raw + 1, raw + n))) {
		*len = n;
		return raw;
	}
	struct vg_buf *b = scratch_buf(c);
	const char *base = event_param_base(c->ev, i);
	if (raw[0] && raw[0] != '/' && components_clean(raw, raw + n) && (!base || path_is_clean(base))) {
		/* a normal relative path below a normal directory (a build's "src/x.c"):
		 * path_resolve would join them as they are */
		if (base && base[1])
			buf_adds(b, base);
		buf_addc(b, '/');
		buf_adds(b, raw);
	} else {
		path_resolve(base, raw, b);
	}
	*len = arena_kept(b->len);
	return arena_dup(&c->arena, b->data ? b->data : "", b->len);
}

static bool tuple_of(const struct vg_event *ev, struct vg_tuple *t)
{
	int i = param_at(ev, PN_TUPLE);
	if (i < 0 || ev->params[i].len != sizeof(*t))
		return false;
	memcpy(t, ev->params[i].data, sizeof(*t));
	return true;
}

static void fd_from_sockaddr(struct fd_info *fd, const struct vg_param_val *pv, bool local)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = pv->len < sizeof(ss) ? pv->len : sizeof(ss);
	if (!pv->data || n < sizeof(sa_family_t))
		return;
	memcpy(&ss, pv->data, n);
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		fd->fam = AF_INET;
		memcpy(local ? fd->lip : fd->rip, &in->sin_addr, 4);
		*(local ? &fd->lport : &fd->rport) = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		fd->fam = AF_INET6;
		memcpy(local ? fd->lip : fd->rip, &in6->sin6_addr, 16);
		*(local ? &fd->lport : &fd->rport) = ntohs(in6->sin6_port);
	} else if (ss.ss_family == AF_UNIX) {
		fd->fam = AF_UNIX;
	}
}

static void fd_socket_name(struct ectx *c, struct fd_info *fd)
{
	char cl[INET6_ADDRSTRLEN] = "", sv[INET6_ADDRSTRLEN] = "", s[2 * INET6_ADDRSTRLEN + 32];
	const uint8_t *cip = fd->local_is_server ? fd->rip : fd->lip;
	const uint8_t *sip = fd->local_is_server ? fd->lip : fd->rip;
	unsigned int cport = fd->local_is_server ? fd->rport : fd->lport;
	unsigned int sport = fd->local_is_server ? fd->lport : fd->rport;
	inet_ntop(fd->fam, cip, cl, sizeof(cl));
	inet_ntop(fd->fam, sip, sv, sizeof(sv));
	snprintf(s, sizeof(s), "%s:%u->%s:%u", cl, cport, sv, sport);
	fd->name = arena_dup(&c->arena, s, strlen(s));
}

/*
 * Which file descriptor an event is about, Falco's way: the one it created
 * (open, socket, accept) or the one it acted on (connect, fchmod).
 */
static struct fd_info *fd_of(struct ectx *c)
{
	struct fd_info *fd = c->fd;
	const struct vg_event *ev = c->ev;
	unsigned int t = ev->hdr.type;
	int i;

	if (c->fd_done)
		return fd->valid ? fd : NULL;
	c->fd_done = true;
	memset(fd, 0, sizeof(*fd));

	if (is_open(t)) {
		i = param_at(ev, PN_PATH);
		fd->valid = true;
		fd->num = ev->hdr.retval;
		fd->name = resolved_path(c, i, &fd->name_len);
		fd->nameraw = event_param_str(ev, i);
		int fi = param_at(ev, PN_FLAGS);
		bool dir = fi >= 0 && (event_param_int(ev, fi) & O_DIRECTORY);
		fd->typechar = dir ? 'd' : 'f';
		fd->type = dir ? "directory" : "file";
		return fd;
	}
	struct vg_tuple dt;
	bool dup_socket = (t == VG_EVT_DUP || t == VG_EVT_DUP2 || t == VG_EVT_DUP3) && tuple_of(ev, &dt) &&
			  (dt.family == AF_INET || dt.family == AF_INET6 || dt.family == AF_UNIX);
	switch (dup_socket ? VG_EVT_SENDMSG : t) {
	case VG_EVT_SENDMSG:
	case VG_EVT_RECVMSG:
	case VG_EVT_CONNECT:
	case VG_EVT_ACCEPT:
	case VG_EVT_ACCEPT4:
	case VG_EVT_SENDTO:
	case VG_EVT_RECVFROM:
	case VG_EVT_BIND:
	case VG_EVT_LISTEN: {
		struct vg_tuple tp;
		fd->valid = true;
		fd->is_socket = true;
		fd->num = (t == VG_EVT_ACCEPT || t == VG_EVT_ACCEPT4) ? ev->hdr.retval
								      : (int32_t)event_param_int(ev, 0);
		fd->local_is_server = t == VG_EVT_ACCEPT || t == VG_EVT_ACCEPT4 || t == VG_EVT_BIND ||
				      t == VG_EVT_LISTEN;
		if (tuple_of(ev, &tp) && (tp.family == AF_INET || tp.family == AF_INET6)) {
			fd->fam = tp.family;
			memcpy(fd->lip, tp.saddr, 16);
			memcpy(fd->rip, tp.daddr, 16);
			fd->lport = tp.sport;
			fd->rport = tp.dport;
			fd->connected = tp.dport != 0 || t == VG_EVT_CONNECT;
		} else if (tuple_of(ev, &tp) && tp.family == AF_UNIX) {
			fd->fam = AF_UNIX;
		}
		/* the address argument fills what the socket did not have: the remote end of a
		 * connect that failed or is in progress, the local end of a bind */
		if ((i = param_at(ev, PN_ADDR)) >= 0 && ev->params[i].data &&
		    ((t == VG_EVT_CONNECT && !fd->rport) || (t == VG_EVT_BIND && !fd->lport) ||
		     (!fd->lport && !fd->rport)))
			fd_from_sockaddr(fd, &ev->params[i], t == VG_EVT_BIND);
		if (fd->fam == AF_INET || fd->fam == AF_INET6) {
			fd->typechar = fd->fam == AF_INET ? '4' : '6';
			fd->type = fd->fam == AF_INET ? "ipv4" : "ipv6";
			fd_socket_name(c, fd);
		} else if (fd->fam == AF_UNIX) {
			fd->typechar = 'u';
			fd->type = "unix";
			fd->name = "";
			if ((i = param_at(ev, PN_ADDR)) >= 0 && ev->params[i].len > offsetof(struct sockaddr_un, sun_path)) {
				const char *p = ev->params[i].data + offsetof(struct sockaddr_un, sun_path);
				size_t n = ev->params[i].len - offsetof(struct sockaddr_un, sun_path);
				fd->name = arena_dup(&c->arena, p, strnlen(p, n));
			}
		} else {
			fd->valid = false;
		}
		return fd->valid ? fd : NULL;
	}
	case VG_EVT_SOCKET: {
		int dom = (int)event_param_int(ev, 0);
		fd->valid = dom == AF_INET || dom == AF_INET6 || dom == AF_UNIX;
		fd->is_socket = true;
		fd->num = ev->hdr.retval;
		fd->fam = dom;
		fd->typechar = dom == AF_INET ? '4' : dom == AF_INET6 ? '6' : 'u';
		fd->type = dom == AF_INET ? "ipv4" : dom == AF_INET6 ? "ipv6" : "unix";
		fd->name = "";
		return fd->valid ? fd : NULL;
	}
	default:
		break;
	}
	/* events on an fd whose path the kernel resolved (fchmod, fchown, ftruncate, setns, fchdir) */
	for (unsigned int k = 0; k < ev->nparams; k++) {
		if (ev->params[k].info->kind == VG_CK_FD_PATH && ev->params[k].data) {
			fd->valid = true;
			fd->num = (int32_t)event_param_int(ev, 0); /* the fd argument comes first */
			fd->name = event_param_str(ev, k);
			fd->nameraw = fd->name;
			fd->typechar = 'f';
			fd->type = "file";
			return fd;
		}
	}
	return NULL;
}

/* ---- Falco parameter names ---- */

/*
 * Falco's name for a parameter where it differs from ours, per event. "@res"
 * is the return value.
 */
static const struct {
	unsigned int type;
	const char *falco, *ours;
} arg_alias[] = {
	{ VG_EVT_OPEN, "name", "path" },     { VG_EVT_OPENAT, "name", "path" },
	{ VG_EVT_OPENAT2, "name", "path" },  { VG_EVT_CREAT, "name", "path" },
	{ VG_EVT_OPEN, "fd", "@res" },       { VG_EVT_OPENAT, "fd", "@res" },
	{ VG_EVT_OPENAT2, "fd", "@res" },    { VG_EVT_CREAT, "fd", "@res" },
	{ VG_EVT_UNLINKAT, "name", "path" }, { VG_EVT_CHMOD, "filename", "path" },
	{ VG_EVT_FCHMODAT, "filename", "path" }, { VG_EVT_FCHMODAT2, "filename", "path" },
	{ VG_EVT_FCHOWNAT, "pathname", "path" }, { VG_EVT_EXECVE, "filename", "exe" },
	{ VG_EVT_EXECVEAT, "filename", "exe" }, { VG_EVT_EXECVE, "exe", "exe" },
	{ VG_EVT_EXECVE, "flags", "@exeflags" }, { VG_EVT_EXECVEAT, "flags", "@exeflags" },
	{ VG_EVT_EXECVE, "args", "argv" },  { VG_EVT_EXECVEAT, "args", "argv" },
	{ VG_EVT_MOUNT, "dev", "source" },   { VG_EVT_MOUNT, "dir", "target" },
	{ VG_EVT_MOUNT, "type", "fstype" },  { VG_EVT_UMOUNT2, "name", "target" },
	{ VG_EVT_SOCKET, "proto", "protocol" }, { VG_EVT_SOCKET, "fd", "@res" },
	{ VG_EVT_ACCEPT, "fd", "@res" },     { VG_EVT_ACCEPT4, "fd", "@res" },
	{ VG_EVT_MEMFD_CREATE, "fd", "@res" }, { VG_EVT_SYMLINK, "linkpath", "linkpath" },
	{ VG_EVT_CHROOT, "path", "path" },   { VG_EVT_FINIT_MODULE, "name", "path" },
	{ VG_EVT_KILL, "sig", "sig" },
};

/* Index of Falco's parameter `name` in event type `type`'s table, -1 none, -2 the return value, -3 exe flags. */
static int falco_param_info(unsigned int type, const struct vg_event_info *info, const char *name)
{
	for (size_t k = 0; k < sizeof(arg_alias) / sizeof(arg_alias[0]); k++) {
		if (arg_alias[k].type == type && !strcmp(arg_alias[k].falco, name)) {
			if (!strcmp(arg_alias[k].ours, "@res"))
				return -2;
			if (!strcmp(arg_alias[k].ours, "@exeflags"))
				return -3;
			return info_param_index(info, arg_alias[k].ours);
		}
	}
	if (!strcmp(name, "res") || !strcmp(name, "res_or_fd"))
		return -2;
	return info_param_index(info, name);
}

/*
 * falco_param for this event. The answer depends only on the event type, so
 * it is remembered per type in the field reference (r->argidx): evt.arg.flags
 * is read on most events, and the name lookup was a dozen strcmp calls. (An
 * engine and its field references are used by one thread at a time.)
 */
static int falco_param(const struct vg_event *ev, const struct fref *r)
{
	unsigned int t = ev->hdr.type;
	int i;
	if (r->argidx && t < VG_EVT_MAX) {
		if (r->argidx[t] == INT16_MIN)
			r->argidx[t] = (int16_t)falco_param_info(t, ev->info, r->arg);
		i = r->argidx[t];
	} else {
		i = falco_param_info(t, ev->info, r->arg);
	}
	return i >= (int)ev->nparams ? -1 : i;
}

static int exe_flags_of(const struct vg_event *ev, uint32_t *flags)
{
	int i = param_at(ev, PN_EXE_INFO);
	struct vg_exe_info ei;
	if (i < 0 || ev->params[i].len != sizeof(ei))
		return 0;
	memcpy(&ei, ev->params[i].data, sizeof(ei));
	*flags = ei.flags;
	return 1;
}

static int render_arg(struct ectx *c, int i, struct fval *out)
{
	struct vg_buf *b = scratch_buf(c);
	char num[32];
	uint32_t ef;

	if (i == -2) {
		snprintf(num, sizeof(num), "%lld", (long long)c->ev->hdr.retval);
		return put_str(out, arena_dup(&c->arena, num, strlen(num)));
	}
	if (i == -3) {
		if (!exe_flags_of(c->ev, &ef))
			return 0;
		param_text_exe_flags(b, ef);
	} else if (i < 0) {
		return 0;
	} else {
		if (!c->ev->params[i].data && c->ev->params[i].info->kind != VG_CK_PATH &&
		    c->ev->params[i].info->kind != VG_CK_EXE)
			return 0;
		param_text(b, c->ev, (unsigned int)i);
	}
	return put_str(out, arena_dup(&c->arena, b->data ? b->data : "", b->len));
}

/* ---- evt.* ---- */

static int f_evt_type(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, c->ev->info->name);
}

static int f_evt_dir(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)c;
	(void)r;
	return put_str(o, "<"); /* Vigil records syscalls at exit only */
}

/* The number of the event among those the engine has evaluated (1, 2, ...). */
static int f_evt_num(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, (int64_t)c->gen);
}

static int f_evt_rawres(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.retval);
}

static int f_evt_res(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t v = c->ev->hdr.retval;
	if (c->ev->hdr.type == VG_EVT_PROCEXIT || v >= 0 || v <= -4096)
		return put_str(o, "SUCCESS");
	const char *name = strerrorname_np((int)-v);
	return put_str(o, name ? name : "EUNKNOWN");
}

static int f_evt_failed(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t v = c->ev->hdr.retval;
	return put_int(o, c->ev->hdr.type != VG_EVT_PROCEXIT && v < 0 && v > -4096);
}

static int f_evt_time(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint64_t ns = c->ev->hdr.ts + c->boot_to_realtime;
	time_t s = ns / 1000000000ull;
	struct tm tm;
	char buf[64];
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09llu", (unsigned long long)(ns % 1000000000ull));
	return put_str(o, arena_dup(&c->arena, buf, strlen(buf)));
}

static int f_evt_rawtime(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, (int64_t)(c->ev->hdr.ts + c->boot_to_realtime));
}

static int f_evt_hostname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, c->hostname ? c->hostname : "");
}

static int f_evt_arg(struct ectx *c, const struct fref *r, struct fval *o)
{
	int i;
	if (r->argn >= 0)
		i = r->argn < (long)c->ev->nparams ? (int)r->argn : -1;
	else
		i = falco_param(c->ev, r);
	return render_arg(c, i, o);
}

static int f_evt_args(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	struct vg_buf b = { 0 };
	for (unsigned int i = 0; i < c->ev->nparams; i++) {
		const struct vg_param_val *pv = &c->ev->params[i];
		if (pv->info->kind == VG_CK_EXE_INFO || pv->info->kind == VG_CK_TUPLE || pv->info->kind == VG_CK_ENV)
			continue;
		if (b.len)
			buf_addc(&b, ' ');
		buf_printf(&b, "%s=", pv->info->name);
		param_text(&b, c->ev, i);
	}
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

static int open_flags(const struct ectx *c, int64_t *flags)
{
	if (!is_open(c->ev->hdr.type))
		return 0;
	if (c->ev->hdr.type == VG_EVT_CREAT) {
		*flags = O_CREAT | O_WRONLY | O_TRUNC;
		return 1;
	}
	int i = param_at(c->ev, PN_FLAGS);
	*flags = i >= 0 ? event_param_int(c->ev, i) : 0;
	return 1;
}

static int f_evt_is_open_read(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t f;
	if (!open_flags(c, &f))
		return put_int(o, 0);
	return put_int(o, (f & O_ACCMODE) == O_RDONLY || (f & O_ACCMODE) == O_RDWR);
}

static int f_evt_is_open_write(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t f;
	if (!open_flags(c, &f))
		return put_int(o, 0);
	return put_int(o, (f & O_ACCMODE) == O_WRONLY || (f & O_ACCMODE) == O_RDWR);
}

static int f_evt_is_open_exec(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	/* Linux's open(2) has no "for execution" mode (Falco's flag comes from O_PATH|FMODE_EXEC
	 * opens inside exec): false for every open, no value for other events */
	return is_open(c->ev->hdr.type) ? put_int(o, 0) : 0;
}

static int f_evt_category(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, event_table_category_name(c->ev->info->category));
}

static int f_none(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)c;
	(void)r;
	(void)o;
	return 0;
}

/* ---- proc.* ---- */

#define PROC_OR_NA(c) do { if (!(c)->p) return 0; } while (0)

static const char *proc_name(const struct vg_proc *p)
{
	return p->comm;
}

static const char *exe_base(const struct vg_proc *p, size_t *len)
{
	/* Falco's proc.exe is argv[0] as written; proc.exepath the full path */
	if (p->args && p->args_len) {
		*len = strnlen(p->args, p->args_len);
		return p->args;
	}
	*len = strlen(p->exe);
	return p->exe;
}

static int f_proc_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (c->p)
		return put_str(o, proc_name(c->p));
	return put_strn(o, c->ev->hdr.comm, strnlen(c->ev->hdr.comm, sizeof(c->ev->hdr.comm)));
}

static int f_proc_exe(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	size_t n;
	const char *s = exe_base(c->p, &n);
	return put_strn(o, s, n);
}

static int f_proc_exepath(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_str(o, c->p->exe);
}

/* s[0..n) with every NUL made a space (argv and environ joined, as Falco shows them). */
static void nul_to_space(char *s, size_t n)
{
	for (char *q = s, *end = s + n; q < end && (q = memchr(q, 0, (size_t)(end - q))); q++)
		*q = ' ';
}

/* argv[1..] joined by spaces */
static const char *args_text(struct ectx *c, const struct vg_proc *p, size_t *len)
{
	size_t first = p->args ? strnlen(p->args, p->args_len) : 0;
	size_t n = p->args && first + 1 < p->args_len ? p->args_len - first - 1 : 0;
	char *s = arena_dup(&c->arena, n ? p->args + first + 1 : "", n);
	n = arena_kept(n);
	nul_to_space(s, n);
	*len = n;
	return s;
}

static const char *cmdline_text(struct ectx *c, const struct vg_proc *p, size_t *len)
{
	size_t alen;
	const char *a = args_text(c, p, &alen);
	struct vg_buf *b = scratch_buf(c);
	buf_adds(b, proc_name(p));
	if (alen) {
		buf_addc(b, ' ');
		buf_add(b, a, alen);
	}
	const char *s = arena_dup(&c->arena, b->data ? b->data : "", b->len);
	*len = b->len;
	return s;
}

static int f_proc_args(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	size_t n;
	const char *s = args_text(c, c->p, &n);
	return put_strn(o, s, n);
}

static int f_proc_cmdline(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	size_t n;
	const char *s = cmdline_text(c, c->p, &n);
	return put_strn(o, s, n);
}

static int f_proc_cwd(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	/* Falco's cwd ends with a slash */
	size_t n = strlen(c->p->cwd);
	if (n && c->p->cwd[n - 1] == '/')
		return put_str(o, c->p->cwd);
	char *s = arena_dup(&c->arena, c->p->cwd, n + 1);
	s[n] = '/';
	return put_strn(o, s, n + 1);
}

static int f_proc_pid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.pid);
}

static int f_proc_ppid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->p ? c->p->ppid : c->ev->hdr.ppid);
}

static int f_proc_vpid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.vpid);
}

static int f_proc_sid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.sid);
}

static int f_proc_tty(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.tty);
}

static int f_thread_tid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.tid);
}

static int f_thread_vtid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.vtid);
}

static const struct vg_proc *parent_of(const struct ectx *c)
{
	return c->p ? proc_table_ancestor(&c->st->procs, c->p, 1) : NULL;
}

static int f_proc_pname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	return pp ? put_str(o, proc_name(pp)) : 0;
}

static int f_proc_pexe(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	size_t n;
	if (!pp)
		return 0;
	const char *s = exe_base(pp, &n);
	return put_strn(o, s, n);
}

static int f_proc_pexepath(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	return pp ? put_str(o, pp->exe) : 0;
}

static int f_proc_pcmdline(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	size_t n;
	if (!pp)
		return 0;
	const char *s = cmdline_text(c, pp, &n);
	return put_strn(o, s, n);
}

/*
 * Ancestor fields: with an index N the N-th ancestor (0 = the process itself,
 * 1 = parent); without one, every ancestor (Falco: "any ancestor matches").
 */
enum anc_what { ANC_NAME, ANC_EXE, ANC_EXEPATH, ANC_PID, ANC_CMDLINE };

static int ancestors(struct ectx *c, const struct fref *r, struct fval *o, enum anc_what w)
{
	const struct vg_proc *p = c->p;
	int n = 0;
	if (!p)
		return 0;
	long from = r->argn >= 0 ? r->argn : 1, to = r->argn >= 0 ? r->argn : FV_MAX;
	const struct vg_proc *a = from ? proc_table_ancestor(&c->st->procs, p, (unsigned int)from) : p;
	for (long k = from; a && k <= to && n < FV_MAX; k++) {
		size_t len;
		const char *s;
		switch (w) {
		case ANC_NAME: n += put_str(&o[n], proc_name(a)); break;
		case ANC_EXE: s = exe_base(a, &len); n += put_strn(&o[n], s, len); break;
		case ANC_EXEPATH: n += put_str(&o[n], a->exe); break;
		case ANC_PID: n += put_int(&o[n], a->pid); break;
		case ANC_CMDLINE: s = cmdline_text(c, a, &len); n += put_strn(&o[n], s, len); break;
		}
		a = proc_table_ancestor(&c->st->procs, a, 1);
	}
	return n;
}

static int f_proc_aname(struct ectx *c, const struct fref *r, struct fval *o) { return ancestors(c, r, o, ANC_NAME); }
static int f_proc_aexe(struct ectx *c, const struct fref *r, struct fval *o) { return ancestors(c, r, o, ANC_EXE); }
static int f_proc_aexepath(struct ectx *c, const struct fref *r, struct fval *o) { return ancestors(c, r, o, ANC_EXEPATH); }
static int f_proc_apid(struct ectx *c, const struct fref *r, struct fval *o) { return ancestors(c, r, o, ANC_PID); }
static int f_proc_acmdline(struct ectx *c, const struct fref *r, struct fval *o) { return ancestors(c, r, o, ANC_CMDLINE); }

/* The session leader: the nearest ancestor (or self) whose pid is the session id. */
static int f_proc_sname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *a = c->p;
	uint32_t sid = c->ev->hdr.sid;
	for (int k = 0; a && k < 4096; k++) {
		if (a->pid == sid || a->vpid == sid)
			return put_str(o, proc_name(a));
		a = proc_table_ancestor(&c->st->procs, a, 1);
	}
	return 0;
}

static int f_proc_is_upper(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_int(o, !!(c->p->exe_flags & VG_EXE_UPPER_LAYER));
}

static int f_proc_is_memfd(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_int(o, !!(c->p->exe_flags & VG_EXE_MEMFD));
}

static int f_proc_exe_ino(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return c->p->exe_ino ? put_int(o, (int64_t)c->p->exe_ino) : 0;
}

static int f_proc_duration(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	if (!c->p->start_ns || c->p->start_ns > c->ev->hdr.ts)
		return 0;
	return put_int(o, (int64_t)(c->ev->hdr.ts - c->p->start_ns));
}

static int f_proc_ppid_duration(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	if (!pp || !pp->start_ns || pp->start_ns > c->ev->hdr.ts)
		return 0;
	return put_int(o, (int64_t)(c->ev->hdr.ts - pp->start_ns));
}

static int f_proc_env(struct ectx *c, const struct fref *r, struct fval *o)
{
	PROC_OR_NA(c);
	const char *e = c->p->env;
	size_t n = c->p->env_len;
	if (!e)
		return 0;
	if (r->arg) {
		size_t klen = strlen(r->arg);
		for (size_t i = 0; i < n;) {
			size_t l = strnlen(e + i, n - i);
			if (l > klen && !memcmp(e + i, r->arg, klen) && e[i + klen] == '=')
				return put_strn(o, e + i + klen + 1, l - klen - 1);
			i += l + 1;
		}
		return 0;
	}
	char *s = arena_dup(&c->arena, e, n);
	n = arena_kept(n);
	nul_to_space(s, n);
	return put_strn(o, s, n);
}

static int f_proc_pid_is_leader(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.pid == c->ev->hdr.sid);
}

/* ---- thread capabilities ---- */

static const char *cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static int caps_text(struct ectx *c, uint64_t caps, struct fval *o)
{
	struct vg_buf b = { 0 };
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (caps & (1ull << i)) {
			if (b.len)
				buf_addc(&b, ' ');
			buf_adds(&b, cap_names[i]);
		}
	}
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

static int f_cap_effective(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return caps_text(c, c->ev->hdr.cap_eff, o);
}

static int f_cap_permitted(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return caps_text(c, c->ev->hdr.cap_prm, o);
}

/* ---- users ---- */

/*
 * A user or group name as the process's own system names it: the agent looks
 * it up live in the passwd/group file the process sees (a container's own) and
 * keeps it in the capture, so replay gives the same name. id 0 is "root" when
 * nothing better is known.
 */
static const char *id_name(struct ectx *c, uint32_t id, bool group)
{
	const struct vg_idname *e = c->cg ? container_table_idname(c->cg, id, group) : NULL;
	if (e && e->name[0])
		return e->name;
	return id == 0 ? "root" : NULL;
}

static int f_user_uid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.euid);
}

static int f_user_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, id_name(c, c->ev->hdr.euid, false));
}

static int f_user_loginuid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint32_t l = c->ev->hdr.loginuid;
	return put_int(o, l == UINT32_MAX ? -1 : (int64_t)l);
}

static int f_user_loginname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint32_t l = c->ev->hdr.loginuid;
	return l == UINT32_MAX ? 0 : put_str(o, id_name(c, l, false));
}

static int f_group_gid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.egid);
}

static int f_group_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, id_name(c, c->ev->hdr.egid, true));
}

/* ---- fd.* ---- */

#define FD_OR_NA(c, fd) struct fd_info *fd = fd_of(c); if (!fd) return 0

static int f_fd_num(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return put_int(o, fd->num);
}

static int f_fd_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return fd->name_len ? put_strn(o, fd->name, fd->name_len) : put_str(o, fd->name);
}

static int f_fd_nameraw(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return put_str(o, fd->nameraw ? fd->nameraw : fd->name);
}

static int f_fd_type(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return put_str(o, fd->type);
}

static int f_fd_typechar(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	char *s = arena_dup(&c->arena, &fd->typechar, 1);
	return put_strn(o, s, 1);
}

static int f_fd_directory(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (fd->is_socket || !fd->name)
		return 0;
	if (fd->typechar == 'd')
		return put_str(o, fd->name);
	const char *slash = strrchr(fd->name, '/');
	if (!slash)
		return 0;
	return put_strn(o, fd->name, slash == fd->name ? 1 : (size_t)(slash - fd->name));
}

static int f_fd_filename(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (fd->is_socket || !fd->name || fd->typechar == 'd')
		return 0;
	const char *slash = strrchr(fd->name, '/');
	return put_str(o, slash ? slash + 1 : fd->name);
}

static bool fd_is_ip(const struct fd_info *fd)
{
	return fd->is_socket && (fd->fam == AF_INET || fd->fam == AF_INET6);
}

enum ip_role { R_CLIENT, R_SERVER, R_LOCAL, R_REMOTE, R_ANY };

static int fd_ip(struct ectx *c, struct fval *o, enum ip_role role)
{
	FD_OR_NA(c, fd);
	if (!fd_is_ip(fd))
		return 0;
	switch (role) {
	case R_LOCAL: return put_ip(o, fd->fam, fd->lip);
	case R_REMOTE: return put_ip(o, fd->fam, fd->rip);
	case R_SERVER: return put_ip(o, fd->fam, fd->local_is_server ? fd->lip : fd->rip);
	case R_CLIENT: return put_ip(o, fd->fam, fd->local_is_server ? fd->rip : fd->lip);
	case R_ANY: put_ip(&o[0], fd->fam, fd->lip); put_ip(&o[1], fd->fam, fd->rip); return 2;
	}
	return 0;
}

static int fd_port(struct ectx *c, struct fval *o, enum ip_role role)
{
	FD_OR_NA(c, fd);
	if (!fd_is_ip(fd))
		return 0;
	switch (role) {
	case R_LOCAL: return put_int(o, fd->lport);
	case R_REMOTE: return put_int(o, fd->rport);
	case R_SERVER: return put_int(o, fd->local_is_server ? fd->lport : fd->rport);
	case R_CLIENT: return put_int(o, fd->local_is_server ? fd->rport : fd->lport);
	case R_ANY: put_int(&o[0], fd->lport); put_int(&o[1], fd->rport); return 2;
	}
	return 0;
}

#define IPF(fn, role) \
	static int fn(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return fd_ip(c, o, role); }
#define PORTF(fn, role) \
	static int fn(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return fd_port(c, o, role); }
IPF(f_fd_ip, R_ANY) IPF(f_fd_cip, R_CLIENT) IPF(f_fd_sip, R_SERVER) IPF(f_fd_lip, R_LOCAL) IPF(f_fd_rip, R_REMOTE)
PORTF(f_fd_port, R_ANY) PORTF(f_fd_cport, R_CLIENT) PORTF(f_fd_sport, R_SERVER)
PORTF(f_fd_lport, R_LOCAL) PORTF(f_fd_rport, R_REMOTE)

static int f_fd_sockfamily(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (!fd->is_socket)
		return 0;
	return put_str(o, fd->fam == AF_UNIX ? "unix" : "ip");
}

static int f_fd_connected(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return put_int(o, fd->connected);
}

static int f_fd_name_changed(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return put_int(o, 0);
}

/* ---- fs.path.* (Falco 0.38): the path a filesystem syscall acted on ---- */

static int path_param(struct ectx *c, const char *const *names, struct fval *o)
{
	for (; *names; names++) {
		int i = param_index(c->ev, *names);
		if (i < 0)
			continue;
		if (c->ev->params[i].info->kind == VG_CK_PATH) {
			size_t n;
			const char *path = resolved_path(c, i, &n);
			return put_strn(o, path, n);
		}
		if (c->ev->params[i].data)
			return put_str(o, event_param_str(c->ev, i));
	}
	return 0;
}

static int f_fs_path_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "path", "exe", "newpath", "linkpath", "target", NULL };
	(void)r;
	if (c->ev->info->category != VG_CAT_FILE && c->ev->hdr.type != VG_EVT_MOUNT &&
	    c->ev->hdr.type != VG_EVT_UMOUNT2 && c->ev->hdr.type != VG_EVT_CHROOT)
		return 0;
	return path_param(c, names, o);
}

static int f_fs_path_source(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "oldpath", "target", "source", NULL };
	(void)r;
	if (c->ev->info->category != VG_CAT_FILE && c->ev->hdr.type != VG_EVT_MOUNT)
		return 0;
	return path_param(c, names, o);
}

static int f_fs_path_target(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "newpath", "linkpath", NULL };
	static const char *const mount_names[] = { "target", NULL };
	(void)r;
	if (c->ev->hdr.type == VG_EVT_MOUNT)
		return path_param(c, mount_names, o);
	if (c->ev->info->category != VG_CAT_FILE)
		return 0;
	return path_param(c, names, o);
}

/* ---- container.* and k8s.* ---- */

static const struct vg_container_meta *meta_of(const struct ectx *c)
{
	return c->cg && c->cg->meta.id[0] ? &c->cg->meta : NULL;
}

static int f_container_id(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_strn(o, m->id, strnlen(m->id, 12)) : put_str(o, "host");
}

static int f_container_full_id(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->id) : put_str(o, "host");
}

static int f_container_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->name) : put_str(o, "host");
}

static int f_container_image(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->image) : 0;
}

/* Split "registry:5000/repo/name:tag@sha256:..." into repository and tag. */
static void image_split(const char *img, size_t *repo_len, const char **tag, size_t *tag_len)
{
	size_t n = strlen(img);
	const char *at = strchr(img, '@');
	if (at)
		n = at - img;
	const char *slash = memrchr(img, '/', n);
	const char *colon = memrchr(slash ? slash : img, ':', n - (slash ? slash - img : 0));
	*tag = NULL;
	*tag_len = 0;
	*repo_len = n;
	if (colon) {
		*repo_len = colon - img;
		*tag = colon + 1;
		*tag_len = n - (colon + 1 - img);
	}
}

static int f_container_image_repository(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	size_t rl, tl;
	const char *tag;
	if (!m || !m->image)
		return 0;
	image_split(m->image, &rl, &tag, &tl);
	return put_strn(o, m->image, rl);
}

static int f_container_image_tag(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	size_t rl, tl;
	const char *tag;
	if (!m || !m->image)
		return 0;
	image_split(m->image, &rl, &tag, &tl);
	return tag ? put_strn(o, tag, tl) : 0;
}

static int f_container_image_id(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->image_id) : 0;
}

static int f_container_privileged(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m && m->privileged >= 0 ? put_int(o, m->privileged) : 0;
}

static int f_container_type(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, container_meta_runtime_name(m->runtime)) : put_str(o, "host");
}

/*
 * container.mount.dest[X]: the destination of the mount whose source matches X
 * (a glob) or of mount number X; container.mount.source[X] the other way round.
 * "N/A" in a container that has no such mount, as Falco's rules expect.
 */
static int mount_lookup(struct ectx *c, const struct fref *r, struct fval *o, bool want_dest)
{
	const struct vg_container_meta *m = meta_of(c);
	if (!m)
		return 0;
	for (size_t i = 0; i < m->nmounts; i++) {
		const struct vg_mount *mt = &m->mounts[i];
		bool hit = r->argn >= 0 ? (size_t)r->argn == i
					: fnmatch(r->arg, want_dest ? mt->source : mt->dest, 0) == 0;
		if (hit)
			return put_str(o, want_dest ? mt->dest : mt->source);
	}
	return put_str(o, "N/A");
}

static int f_container_mount_dest(struct ectx *c, const struct fref *r, struct fval *o)
{
	return mount_lookup(c, r, o, true);
}

static int f_container_mount_source(struct ectx *c, const struct fref *r, struct fval *o)
{
	return mount_lookup(c, r, o, false);
}

/* "source:dest:ro|rw" of every mount, comma-separated */
static int f_container_mounts(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	struct vg_buf b = { 0 };
	if (!m)
		return 0;
	for (size_t i = 0; i < m->nmounts; i++)
		buf_printf(&b, "%s%s:%s:%s", i ? "," : "", m->mounts[i].source, m->mounts[i].dest,
			   m->mounts[i].ro ? "ro" : "rw");
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

static int f_k8s_ns(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->k8s_namespace) : 0;
}

static int f_k8s_pod(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->k8s_pod_name) : 0;
}

static int f_k8s_pod_uid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->k8s_pod_uid) : 0;
}

static int f_k8s_container(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_container_meta *m = meta_of(c);
	return m ? put_str(o, m->k8s_container_name) : 0;
}

/* ---- the table ---- */

static const struct fdef fields[] = {
	{ "evt.type", FT_STR, FA_NONE, false, f_evt_type, "event type (syscall name)" },
	{ "evt.dir", FT_STR, FA_NONE, false, f_evt_dir, "direction: always '<' (exit)" },
	{ "evt.num", FT_INT, FA_NONE, false, f_evt_num, "event sequence number" },
	{ "evt.res", FT_STR, FA_NONE, false, f_evt_res, "SUCCESS or the errno name" },
	{ "evt.rawres", FT_INT, FA_NONE, false, f_evt_rawres, "return value" },
	{ "evt.failed", FT_BOOL, FA_NONE, false, f_evt_failed, "the syscall failed" },
	{ "evt.time", FT_STR, FA_NONE, false, f_evt_time, "time of day, UTC, with nanoseconds" },
	{ "evt.rawtime", FT_INT, FA_NONE, false, f_evt_rawtime, "nanoseconds since the epoch" },
	{ "evt.hostname", FT_STR, FA_NONE, false, f_evt_hostname, "host name" },
	{ "evt.category", FT_STR, FA_NONE, false, f_evt_category, "event category" },
	{ "evt.arg", FT_STR, FA_REQUIRED, false, f_evt_arg, "an argument by name or index, as text" },
	{ "evt.args", FT_STR, FA_NONE, false, f_evt_args, "all arguments as name=value text" },
	{ "evt.is_open_read", FT_BOOL, FA_NONE, false, f_evt_is_open_read, "open for reading" },
	{ "evt.is_open_write", FT_BOOL, FA_NONE, false, f_evt_is_open_write, "open for writing" },
	{ "evt.is_open_exec", FT_BOOL, FA_NONE, false, f_evt_is_open_exec, "open for execution" },
	{ "evt.buffer", FT_STR, FA_NONE, false, f_none, "I/O data (not captured: no value)" },
	{ "proc.name", FT_STR, FA_NONE, false, f_proc_name, "process name (comm)" },
	{ "proc.exe", FT_STR, FA_NONE, false, f_proc_exe, "argv[0]" },
	{ "proc.exepath", FT_STR, FA_NONE, false, f_proc_exepath, "absolute executable path" },
	{ "proc.args", FT_STR, FA_NONE, false, f_proc_args, "arguments after argv[0]" },
	{ "proc.cmdline", FT_STR, FA_NONE, false, f_proc_cmdline, "name and arguments" },
	{ "proc.cwd", FT_STR, FA_NONE, false, f_proc_cwd, "working directory" },
	{ "proc.pid", FT_INT, FA_NONE, false, f_proc_pid, "process id" },
	{ "proc.ppid", FT_INT, FA_NONE, false, f_proc_ppid, "parent process id" },
	{ "proc.vpid", FT_INT, FA_NONE, false, f_proc_vpid, "process id in its pid namespace" },
	{ "proc.sid", FT_INT, FA_NONE, false, f_proc_sid, "session id" },
	{ "proc.tty", FT_INT, FA_NONE, false, f_proc_tty, "controlling terminal (0: none)" },
	{ "proc.pname", FT_STR, FA_NONE, false, f_proc_pname, "parent name" },
	{ "proc.pexe", FT_STR, FA_NONE, false, f_proc_pexe, "parent argv[0]" },
	{ "proc.pexepath", FT_STR, FA_NONE, false, f_proc_pexepath, "parent executable path" },
	{ "proc.pcmdline", FT_STR, FA_NONE, false, f_proc_pcmdline, "parent command line" },
	{ "proc.aname", FT_STR, FA_OPTIONAL, true, f_proc_aname, "ancestor name ([N]: N-th, none: any)" },
	{ "proc.aexe", FT_STR, FA_OPTIONAL, true, f_proc_aexe, "ancestor argv[0]" },
	{ "proc.aexepath", FT_STR, FA_OPTIONAL, true, f_proc_aexepath, "ancestor executable path" },
	{ "proc.apid", FT_INT, FA_OPTIONAL, true, f_proc_apid, "ancestor pid" },
	{ "proc.acmdline", FT_STR, FA_OPTIONAL, true, f_proc_acmdline, "ancestor command line" },
	{ "proc.sname", FT_STR, FA_NONE, false, f_proc_sname, "session leader name" },
	{ "proc.is_exe_upper_layer", FT_BOOL, FA_NONE, false, f_proc_is_upper,
	  "executable on the overlay upper layer (written in the container)" },
	{ "proc.is_exe_from_memfd", FT_BOOL, FA_NONE, false, f_proc_is_memfd, "executable is a memfd" },
	{ "proc.exe_ino", FT_INT, FA_NONE, false, f_proc_exe_ino, "executable inode" },
	{ "proc.exe_ino.ctime", FT_INT, FA_NONE, false, f_none, "executable ctime (not captured)" },
	{ "proc.exe_ino.mtime", FT_INT, FA_NONE, false, f_none, "executable mtime (not captured)" },
	{ "proc.exe_ino.ctime_duration_proc_start", FT_INT, FA_NONE, false, f_none,
	  "executable ctime to process start (not captured)" },
	{ "proc.duration", FT_INT, FA_NONE, false, f_proc_duration, "nanoseconds since the process started" },
	{ "proc.ppid.duration", FT_INT, FA_NONE, false, f_proc_ppid_duration, "parent age in nanoseconds" },
	{ "proc.env", FT_STR, FA_OPTIONAL, false, f_proc_env, "environment ([NAME]: one variable)" },
	{ "proc.is_vpgid_leader", FT_BOOL, FA_NONE, false, f_proc_pid_is_leader,
	  "process leads its session (process groups are not tracked)" },
	{ "proc.vpgid.name", FT_STR, FA_NONE, false, f_proc_sname, "session leader name (group approximated by session)" },
	{ "proc.vpgid.exe", FT_STR, FA_NONE, false, f_none, "process group leader argv[0] (not tracked)" },
	{ "thread.tid", FT_INT, FA_NONE, false, f_thread_tid, "thread id" },
	{ "thread.vtid", FT_INT, FA_NONE, false, f_thread_vtid, "thread id in its pid namespace" },
	{ "thread.cap_effective", FT_STR, FA_NONE, false, f_cap_effective, "effective capabilities" },
	{ "thread.cap_permitted", FT_STR, FA_NONE, false, f_cap_permitted, "permitted capabilities" },
	{ "user.uid", FT_INT, FA_NONE, false, f_user_uid, "effective user id" },
	{ "user.name", FT_STR, FA_NONE, false, f_user_name, "effective user name" },
	{ "user.loginuid", FT_INT, FA_NONE, false, f_user_loginuid, "audit login uid (-1: none)" },
	{ "user.loginname", FT_STR, FA_NONE, false, f_user_loginname, "audit login user name" },
	{ "group.gid", FT_INT, FA_NONE, false, f_group_gid, "effective group id" },
	{ "group.name", FT_STR, FA_NONE, false, f_group_name, "effective group name" },
	{ "fd.num", FT_INT, FA_NONE, false, f_fd_num, "file descriptor number" },
	{ "fd.name", FT_STR, FA_NONE, false, f_fd_name, "absolute path, or client->server addresses" },
	{ "fd.nameraw", FT_STR, FA_NONE, false, f_fd_nameraw, "path as the process wrote it" },
	{ "fd.type", FT_STR, FA_NONE, false, f_fd_type, "file, directory, ipv4, ipv6, unix" },
	{ "fd.typechar", FT_STR, FA_NONE, false, f_fd_typechar, "f, d, 4, 6, u" },
	{ "fd.directory", FT_STR, FA_NONE, false, f_fd_directory, "directory of the file", "fd.name" },
	{ "fd.filename", FT_STR, FA_NONE, false, f_fd_filename, "file name without directory", "fd.name" },
	{ "fd.ip", FT_IP, FA_NONE, false, f_fd_ip, "client or server address" },
	{ "fd.cip", FT_IP, FA_NONE, false, f_fd_cip, "client address" },
	{ "fd.sip", FT_IP, FA_NONE, false, f_fd_sip, "server address" },
	{ "fd.lip", FT_IP, FA_NONE, false, f_fd_lip, "local address" },
	{ "fd.rip", FT_IP, FA_NONE, false, f_fd_rip, "remote address" },
	{ "fd.net", FT_NET, FA_NONE, false, f_fd_ip, "client or server address, compared with networks" },
	{ "fd.cnet", FT_NET, FA_NONE, false, f_fd_cip, "client address, compared with networks" },
	{ "fd.snet", FT_NET, FA_NONE, false, f_fd_sip, "server address, compared with networks" },
	{ "fd.lnet", FT_NET, FA_NONE, false, f_fd_lip, "local address, compared with networks" },
	{ "fd.rnet", FT_NET, FA_NONE, false, f_fd_rip, "remote address, compared with networks" },
	{ "fd.port", FT_PORT, FA_NONE, false, f_fd_port, "client or server port" },
	{ "fd.cport", FT_PORT, FA_NONE, false, f_fd_cport, "client port" },
	{ "fd.sport", FT_PORT, FA_NONE, false, f_fd_sport, "server port" },
	{ "fd.lport", FT_PORT, FA_NONE, false, f_fd_lport, "local port" },
	{ "fd.rport", FT_PORT, FA_NONE, false, f_fd_rport, "remote port" },
	{ "fd.sip.name", FT_STR, FA_NONE, false, f_none, "server DNS name (not resolved: no value)" },
	{ "fd.cip.name", FT_STR, FA_NONE, false, f_none, "client DNS name (not resolved: no value)" },
	{ "fd.lip.name", FT_STR, FA_NONE, false, f_none, "local DNS name (not resolved: no value)" },
	{ "fd.rip.name", FT_STR, FA_NONE, false, f_none, "remote DNS name (not resolved: no value)" },
	{ "fd.l4proto", FT_STR, FA_NONE, false, f_none, "tcp, udp (not captured: no value)" },
	{ "fd.sockfamily", FT_STR, FA_NONE, false, f_fd_sockfamily, "ip or unix" },
	{ "fd.connected", FT_BOOL, FA_NONE, false, f_fd_connected, "socket is connected" },
	{ "fd.name_changed", FT_BOOL, FA_NONE, false, f_fd_name_changed, "fd name changed by this event" },
	{ "fd.types", FT_STR, FA_OPTIONAL, true, f_fd_type, "fd types (of this event's fd)" },
	{ "fs.path.name", FT_STR, FA_NONE, false, f_fs_path_name, "path a filesystem syscall acted on" },
	{ "fs.path.source", FT_STR, FA_NONE, false, f_fs_path_source, "source path (rename, link, symlink target, mount source)" },
	{ "fs.path.target", FT_STR, FA_NONE, false, f_fs_path_target, "target path (rename, link, mount point)" },
	{ "container.id", FT_STR, FA_NONE, false, f_container_id, "12-character id, or host" },
	{ "container.full_id", FT_STR, FA_NONE, false, f_container_full_id, "full id, or host" },
	{ "container.name", FT_STR, FA_NONE, false, f_container_name, "name, or host" },
	{ "container.image", FT_STR, FA_NONE, false, f_container_image, "image reference" },
	{ "container.image.repository", FT_STR, FA_NONE, false, f_container_image_repository,
	  "image repository (reference without tag and digest)" },
	{ "container.image.tag", FT_STR, FA_NONE, false, f_container_image_tag, "image tag" },
	{ "container.image.id", FT_STR, FA_NONE, false, f_container_image_id, "image id" },
	{ "container.privileged", FT_BOOL, FA_NONE, false, f_container_privileged, "privileged container" },
	{ "container.type", FT_STR, FA_NONE, false, f_container_type, "runtime: podman, docker, ..." },
	{ "container.start_ts", FT_INT, FA_NONE, false, f_none, "container start time (not known: no value)" },
	{ "container.mounts", FT_STR, FA_NONE, false, f_container_mounts, "mounts as source:dest:ro|rw, comma-separated" },
	{ "container.mount.dest", FT_STR, FA_REQUIRED, false, f_container_mount_dest,
	  "destination of the mount whose source matches [GLOB] (or number [N]); N/A if none" },
	{ "container.mount.source", FT_STR, FA_REQUIRED, false, f_container_mount_source,
	  "source of the mount whose destination matches [GLOB] (or number [N]); N/A if none" },
	{ "k8s.ns.name", FT_STR, FA_NONE, false, f_k8s_ns, "Kubernetes namespace" },
	{ "k8s.pod.name", FT_STR, FA_NONE, false, f_k8s_pod, "Kubernetes pod name" },
	{ "k8s.pod.uid", FT_STR, FA_NONE, false, f_k8s_pod_uid, "Kubernetes pod uid" },
	{ "k8s.container.name", FT_STR, FA_NONE, false, f_k8s_container, "Kubernetes container name" },
};

const struct fdef *field_table(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

/*
 * Field names hashed once (open addressing, slots hold index + 1, the first
 * entry of a name wins as in a scan): compiling Falco's rules resolves a few
 * thousand field names, and a strcmp scan of the table was a tenth of it.
 */
#define FIELD_SLOTS 1024
_Static_assert(sizeof(fields) / sizeof(fields[0]) < FIELD_SLOTS / 2, "the field index stays half empty");
static uint16_t field_slots[FIELD_SLOTS];
static pthread_once_t field_once = PTHREAD_ONCE_INIT;

static size_t field_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h ^ h >> 15) & (FIELD_SLOTS - 1);
}

static void field_index_init(void)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t k = field_hash(fields[i].name);
		while (field_slots[k] && strcmp(fields[field_slots[k] - 1].name, fields[i].name))
			k = (k + 1) & (FIELD_SLOTS - 1);
		if (!field_slots[k])
			field_slots[k] = (uint16_t)(i + 1);
	}
}

const struct fdef *field_find(const char *name)
{
	pthread_once(&field_once, field_index_init);
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
	if (arg && r->argn < 0 && d->get == f_evt_arg) {
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

bool fref_derived_from(const struct fref *r, const struct fref *host)
{
	/* f_fd_directory and f_fd_filename read nothing but fd_of's name, type
	 * character and socket flag, and the type character tells sockets apart */
	return r->def->of && host->def->get == f_fd_name && !strcmp(r->def->of, host->def->name) && !r->nxf &&
	       !host->nxf && !r->arg && !host->arg;
}

char fref_derived_key(struct ectx *c, const struct fref *host)
{
	(void)host; /* fd.name: the only host */
	const struct fd_info *fd = fd_of(c);
	return fd ? fd->typechar : 0;
}

bool fref_source_keyed(const struct fref *r)
{
	return r->def->get == f_fd_name && !r->nxf && !r->arg;
}

bool fref_source_key(struct ectx *c, const struct fref *r, const char **key, size_t *len, char *extra)
{
	/* as fd_of reads an open: the path parameter (raw path, NUL, the
	 * directory a relative one is resolved against) alone gives fd.name, and
	 * O_DIRECTORY the type character */
	const struct vg_event *ev = c->ev;
	if (!fref_source_keyed(r) || !is_open(ev->hdr.type))
		return false;
	int i = param_at(ev, PN_PATH);
	if (i < 0 || !ev->params[i].data)
		return false;
	*key = ev->params[i].data;
	*len = ev->params[i].len;
	int fi = param_at(ev, PN_FLAGS);
	*extra = fi >= 0 && (event_param_int(ev, fi) & O_DIRECTORY) ? 'd' : 'f';
	return true;
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
