/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the field files share and nothing outside them needs: the class
 * tables fields.c assembles into one, the fd view of an event, parameter
 * indexes by name, and the small helpers accessors write their values with.
 *
 * fields.c             the table, name lookup, parsing of field references,
 *                      extraction with transformers, value text and literals,
 *                      the per-event context and its arena
 * fields_evt.c         evt.* (the event and its arguments)
 * fields_proc.c        proc.* and thread.* (the process table)
 * fields_user.c        user.* and group.*
 * fields_fd.c          fd.* and fs.path.* (the file or socket an event is about)
 * fields_container.c   container.* and k8s.* (the container's metadata)
 * fields_flow.c        flow.* (the flow source: network flow records)
 * fields_vigil.c       vigil.* (acts against the agent itself)
 */
#ifndef VIGIL_ENGINE_FIELDS_INTERNAL_H
#define VIGIL_ENGINE_FIELDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include "common/buf.h"
#include "engine/fields.h"

/* ---- the class tables, in the order `vigil rules fields` lists them ---- */

struct field_class {
	const struct fdef *defs;
	size_t n;
};

extern const struct field_class fields_evt;       /* fields_evt.c */
extern const struct field_class fields_proc;      /* fields_proc.c */
extern const struct field_class fields_user;      /* fields_user.c */
extern const struct field_class fields_fd;        /* fields_fd.c */
extern const struct field_class fields_container; /* fields_container.c */
extern const struct field_class fields_flow;      /* fields_flow.c */
extern const struct field_class fields_vigil;     /* fields_vigil.c */

#define FIELD_CLASS(defs) { defs, sizeof(defs) / sizeof(defs[0]) }

/* ---- accessors any class uses (fields.c) ---- */

/* A field Vigil does not capture: always no value. */
int field_none(struct ectx *c, const struct fref *r, struct fval *o);
/*
 * Table-driven accessor of plain header members: the __u32 at the field's
 * `off` in the event header (struct vg_event_hdr). Reading the offset costs
 * two loads a call: a member a hot macro reads keeps a function of its own.
 */
int field_hdr_u32(struct ectx *c, const struct fref *r, struct fval *o);
#define HDR_OFF(member) offsetof(struct vg_event_hdr, member)

/* ---- the arena ---- */

#define ARENA_BLOCK (64u << 10)

/* How many of n bytes arena_dup keeps. */
static inline size_t arena_kept(size_t n)
{
	return n + 1 > ARENA_BLOCK ? ARENA_BLOCK - 1 : n;
}

/* The context's scratch buffer, emptied: text built per event without a malloc each time. */
static inline struct vg_buf *scratch_buf(struct ectx *c)
{
	buf_reset(&c->scratch);
	return &c->scratch;
}

/* ---- parameters by name ---- */

/* Index of parameter `name` in the event type's table, -1 none. Inline: with a
 * constant name (fs.path.*'s lists) the compiler compares without strcmp calls. */
static inline int info_param_index(const struct vg_event_info *info, const char *name)
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
 * (by ectx_init) instead of by strcmp per event.
 */
enum pname { PN_PATH, PN_FLAGS, PN_TUPLE, PN_ADDR, PN_EXE_INFO, PN_MAX };
extern int8_t pname_idx[VG_EVT_MAX][PN_MAX];

/* The parameter's index in this event (as a lookup by name would give), -1 none. */
static inline int param_at(const struct vg_event *ev, enum pname k)
{
	int i = ev->hdr.type < VG_EVT_MAX ? pname_idx[ev->hdr.type][k] : -1;
	return i < (int)ev->nparams ? i : -1;
}

static inline int param_index(const struct vg_event *ev, const char *name)
{
	int i = info_param_index(ev->info, name);
	return i < (int)ev->nparams ? i : -1;
}

/* Parameter i's path, resolved against its base directory (fields_fd.c); lives as long as the event. */
const char *resolved_path(struct ectx *c, int i, size_t *len);

static inline bool is_open(unsigned int t)
{
	return t == VG_EVT_OPEN || t == VG_EVT_OPENAT || t == VG_EVT_OPENAT2 || t == VG_EVT_CREAT;
}

/* ---- the fd view of the event (fields_fd.c) ---- */

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

/* ---- writing values ---- */

static inline int put_str(struct fval *out, const char *s)
{
	if (!s)
		return 0;
	out->s = s;
	out->len = strlen(s);
	return 1;
}

static inline int put_strn(struct fval *out, const char *s, size_t n)
{
	out->s = s;
	out->len = n;
	return 1;
}

static inline int put_int(struct fval *out, int64_t v)
{
	out->i = v;
	return 1;
}

static inline int put_ip(struct fval *out, int fam, const uint8_t *addr)
{
	out->fam = fam == AF_INET ? 4 : 6;
	memcpy(out->ip, addr, fam == AF_INET ? 4 : 16);
	return 1;
}

#endif
