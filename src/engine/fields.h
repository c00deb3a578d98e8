/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter fields: Falco's field names with Falco's types and meanings, read
 * from a decoded event and the enrichment state.
 *
 * A field is extracted into zero or more values: zero means "no value"
 * (Falco's <NA>: every comparison is false), several values come from fields
 * such as proc.aname without an index (any ancestor). Strings produced for an
 * event (a command line, a rendered argument) live in the context's arena
 * until the next event.
 */
#ifndef VIGIL_ENGINE_FIELDS_H
#define VIGIL_ENGINE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/buf.h"
#include "engine/cond.h"
#include "sensor/decode.h"
#include "state/state.h"

enum ftype {
	FT_STR,
	FT_INT,   /* signed 64-bit */
	FT_BOOL,
	FT_IP,    /* an address compared with addresses */
	FT_NET,   /* an address compared with networks (CIDR) */
	FT_PORT,
};

struct fval {
	const char *s; /* FT_STR (not NUL-terminated necessarily: use len) */
	size_t len;
	int64_t i;     /* FT_INT, FT_BOOL, FT_PORT */
	uint8_t ip[16];
	uint8_t fam;   /* 4 or 6 for FT_IP / FT_NET */
};

#define FV_MAX 64 /* values per field: ancestors beyond this are not compared */

enum farg { FA_NONE, FA_OPTIONAL, FA_REQUIRED };

struct ectx;
struct fref;
typedef int (*field_get_fn)(struct ectx *c, const struct fref *r, struct fval *out);

struct fdef {
	const char *name;
	enum ftype type;
	enum farg arg;
	bool arg_index;   /* the argument is a number (proc.aname[2]) */
	field_get_fn get; /* returns how many values it wrote (at most FV_MAX) */
	const char *desc;
	const char *of;   /* the field this one is a function of (fref_derived_from), or NULL */
	size_t off;       /* for shared accessors: the member they read (an offset) or the variant they give */
};

/* A field as used in a condition or output: definition, argument, transformers. */
struct fref {
	const struct fdef *def;
	char *arg;
	long argn;
	enum cond_xform xf[4];
	int nxf;
	enum ftype type; /* after transformers (len gives FT_INT) */
	int slot;        /* per-event cache slot, -1 none */
	int16_t *argidx; /* evt.arg.NAME: parameter index per event type, INT16_MIN not looked up yet */
};

/* Chunked arena: strings never move until reset. */
struct arena {
	char *blocks[64];
	size_t nblocks, used, size;
};

struct fd_info; /* fields_internal.h */

struct ectx {
	const struct vg_event *ev;
	const struct vg_state *st;
	const struct vg_proc *p;
	const struct vg_cgroup *cg;
	uint64_t boot_to_realtime;
	const char *hostname;
	struct arena arena;
	struct vg_buf scratch;   /* reused for text built per event (no malloc per event) */
	/* fd fields are derived once per event */
	bool fd_done;
	struct fd_info *fd;
	/* cache of extracted values per slot, valid for generation `gen`; stamp, count
	 * and values pointer side by side, so a cached read touches one cache line */
	uint32_t gen;
	struct ectx_slot {
		uint32_t gen;
		int n;
		struct fval *vals;
	} *slots;
	size_t nslots;
	/* memoised macro results, valid for generation `gen` (stamp and value together) */
	struct ectx_memo {
		uint32_t gen;
		bool val;
	} *memo;
	size_t nmemo;
};

void ectx_init(struct ectx *c, size_t nslots, size_t nmemo);
void ectx_free(struct ectx *c);
/* Point the context at a new event; invalidates the previous event's values. */
void ectx_reset(struct ectx *c, const struct vg_event *ev, const struct vg_state *st);

/* Look a field up by name ("proc.aname", "evt.arg"); NULL if unknown. */
const struct fdef *field_find(const char *name);
/* The whole table, for `vigil rules fields` and docs. */
const struct fdef *field_table(size_t *n);

/*
 * Resolve a parsed field into r (owning a copy of the argument). "evt.arg.x"
 * is evt.arg with argument x. Returns 0 or -1 with a message in err.
 */
int fref_resolve(struct fref *r, const struct cond_field *f, char *err, size_t errlen);
void fref_free(struct fref *r);

/* Extract r's values (transformers applied). Returns the count; *vals is valid until the next event. */
int fref_extract(struct ectx *c, const struct fref *r, const struct fval **vals);

/*
 * Whether r's values are a function of host's single value and of
 * fref_derived_key's byte, so that whoever memoises host's value may keep
 * r's answers with it: fd.directory and fd.filename are fd.name's directory
 * and last component, told apart by the fd's type (an opened directory is its
 * own fd.directory, a socket has neither). Fields with transformers or
 * arguments are not.
 */
bool fref_derived_from(const struct fref *r, const struct fref *host);
/* That byte for this event (the fd's type character, 0 without an fd). */
char fref_derived_key(struct ectx *c, const struct fref *host);

/*
 * Whether r's value, and the byte fref_derived_key gives, can be known from
 * record bytes read before extracting it (fref_source_key): fd.name of an
 * open is the resolution of the path argument as the process passed it
 * (with the directory a relative one is taken from), so a memo keyed by
 * those bytes skips resolving the path.
 */
bool fref_source_keyed(const struct fref *r);
/*
 * For this event: the bytes that determine r's value (*key, *len, pointing
 * into the record) and fref_derived_key's byte (*extra). False when the
 * event has none (not an open): key by the value then.
 */
bool fref_source_key(struct ectx *c, const struct fref *r, const char **key, size_t *len, char *extra);

/* Text of a value for outputs ("<NA>" when n == 0; several values joined with ','). */
void fval_text(struct arena *a, const struct fref *r, const struct fval *v, int n, const char **s, size_t *len);

/* Parse text as a value of type t (for literals). Returns 0 or -1. FT_NET accepts a CIDR. */
int fval_parse(enum ftype t, const char *text, struct fval *out, uint8_t *prefix_len);

char *arena_dup(struct arena *a, const char *s, size_t n);

#endif
