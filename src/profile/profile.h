/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour profiles (docs/profiles.md): what each workload normally does,
 * learnt from the event stream, so that what it never did is a deviation.
 *
 * A profile is keyed by the workload: the image digest (and, under Kubernetes,
 * the owner and container name), so that replicas and restarts share one
 * profile and a new image digest starts a new one. It holds items of seven
 * kinds (enum profile_kind), each a string in a generalised form
 * (profile_generalise: numbers, hex ids, per-process temp names become '*',
 * a directory with more than `collapse` children becomes "dir/ *").
 *
 * The set of profiles is bounded: at most max_profiles profiles, max_items
 * items per profile and max_bytes in all; what does not fit is counted, never
 * allocated. Not thread-safe: the agent's loop is its one user; the CLI uses
 * its own set.
 */
#ifndef VIGIL_PROFILE_H
#define VIGIL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/hmap.h"

enum profile_kind {
	PROF_EXEC,    /* "PROGRAM <- PARENT": a program run, and the program that ran it */
	PROF_WRITE,   /* a path opened for writing (or created) */
	PROF_READ,    /* a sensitive path (profile_sensitive_path) opened for reading */
	PROF_LISTEN,  /* a port bound: "8080" */
	PROF_CONNECT, /* an outbound peer: "tcp/NAME:PORT", "udp/IP:PORT" (flows), "IP:PORT" (connect) */
	PROF_PRIV,    /* a privilege change: "setuid 0", "capset" */
	PROF_SYSCALL, /* a sensitive syscall: "mount", "ptrace", "bpf", "unshare", ... */
	PROF_NKINDS
};

enum profile_mode { PROF_LEARNING, PROF_MONITORING, PROF_PROTECTING, PROF_NMODES };

/* "exec", "write", ...; "learning", "monitoring", "protecting". */
const char *profile_kind_name(enum profile_kind k);
int profile_kind_from_name(const char *s); /* -1: unknown */
const char *profile_mode_name(enum profile_mode m);
int profile_mode_from_name(const char *s);  /* -1: unknown */

/* The alert's rule name for a kind: "Behaviour deviation: new program", ... */
const char *profile_kind_rule(enum profile_kind k);
/* Its MITRE tags, NULL-terminated ("mitre_execution", "T1059", ...). */
const char *const *profile_kind_tags(enum profile_kind k);

#define PROF_VALUE_MAX 1024 /* longest item, bytes with the NUL */
#define PROF_KEY_MAX 512

struct profile_item {
	struct hmap_node node; /* key: hash of kind and value */
	struct profile_item *next_pattern; /* the kind's items holding '*' */
	int64_t first_seen;    /* wall clock, seconds */
	uint8_t kind;
	bool deviation;        /* not learnt: a deviation already reported (not stored) */
	char value[];
};

struct profile {
	struct hmap_node node; /* key: hash of key */
	char *key;             /* "sha256:<hex>" or "k8s:NS/OWNER/CONTAINER@sha256:<hex>" */
	char *image;           /* repository:tag as the runtime names it ("" unknown) */
	char *digest;          /* "sha256:<hex>" ("" unknown) */
	char *owner;           /* Kubernetes "Kind/name" ("" none) */
	char *ns;              /* Kubernetes namespace ("" none) */
	enum profile_mode mode;
	int64_t learn_started; /* wall clock, seconds */
	int64_t last_new;      /* when the last item was learnt */
	struct hmap items;
	struct profile_item *patterns[PROF_NKINDS];
	size_t nitems, nlearnt; /* all items; those learnt (not deviations) */
	size_t bytes;          /* memory held, counted */
	uint64_t dropped;      /* items not learnt: the profile or the set was full */
	uint64_t deviations;
};

struct profile_limits {
	size_t max_profiles; /* default 1024 */
	size_t max_items;    /* per profile, default 4096 */
	size_t max_bytes;    /* all profiles, default 64 MiB */
	unsigned collapse;   /* a directory with more children than this collapses, default 32 */
};

/* A pending change for the store: an item learnt or removed, a profile's header changed. */
enum profile_op_kind { PROF_OP_ADD, PROF_OP_DEL, PROF_OP_META };
struct profile_op {
	enum profile_op_kind op;
	char *key;
	uint8_t kind;
	char *value; /* ADD/DEL */
	int64_t ts;
};

struct profile_set {
	struct hmap map;
	struct profile_limits lim;
	size_t bytes;
	uint64_t refused;   /* profiles not made: max_profiles or max_bytes */
	struct profile_op *ops; /* pending changes for the store, in order */
	size_t nops, cap_ops;
	bool record_ops;    /* keep ops (the agent does; the CLI's import writes directly) */
};

void profile_set_init(struct profile_set *s, const struct profile_limits *lim);
void profile_set_free(struct profile_set *s);
/* The profile of key, or NULL. */
struct profile *profile_get(const struct profile_set *s, const char *key);
/*
 * The profile of key, made (learning since now) when absent; NULL when the set
 * is full. image/digest/owner/ns may be NULL.
 */
struct profile *profile_make(struct profile_set *s, const char *key, const char *image, const char *digest,
			     const char *owner, const char *ns, int64_t now);
void profile_remove(struct profile_set *s, const char *key);

/*
 * Whether value (already generalised) is in p: the exact item, or a pattern
 * item whose '*' match it ('*' matches any run of characters but '/').
 */
const struct profile_item *profile_find(const struct profile *p, enum profile_kind k, const char *value);

/* The outcome of profile_observe. */
enum profile_seen {
	PROF_KNOWN,     /* in the profile */
	PROF_LEARNT,    /* new, learnt (learning) */
	PROF_FULL,      /* new, not learnt: no room (learning; counted in dropped) */
	PROF_DEVIATION, /* new, not learnt (monitoring/protecting): report it */
	PROF_REPEATED,  /* a deviation reported before */
};

/*
 * One observation of a workload: value is generalised here. Learning adds it
 * (collapsing a crowded directory); otherwise a new value is a deviation,
 * remembered so that it is reported once.
 */
enum profile_seen profile_observe(struct profile_set *s, struct profile *p, enum profile_kind k,
				  const char *value, int64_t now);

/* Add an item as it is (import, store load): 0, or -1 when full. */
int profile_add(struct profile_set *s, struct profile *p, enum profile_kind k, const char *value, int64_t first_seen);

/*
 * Generalise an observed value into its profile form (docs/profiles.md):
 * per path component, a run of 3+ digits, a dot/dash/underscore-separated
 * run of digits, a run of 8+ hex digits holding a digit, and (under /tmp,
 * /var/tmp, /dev/shm, /run) a 6+ character segment mixing letters and digits
 * or cases, each become '*'. out always NUL-terminated.
 */
void profile_generalise(enum profile_kind k, const char *in, char *out, size_t outlen);

/* '*' matches any run of characters other than '/'; everything else is literal. */
bool profile_glob(const char *pat, const char *s);

/* Whether a path is a credential or secret whose reads are profiled. */
bool profile_sensitive_path(const char *path);

/* Ops pending for the store: take them (the caller frees with profile_ops_free). */
void profile_ops_free(struct profile_op *ops, size_t n);
void profile_note_meta(struct profile_set *s, const struct profile *p);

/* Items of p in a stable order (kind, then value): a malloc'd array of n pointers. */
const struct profile_item **profile_sorted_items(const struct profile *p, size_t *n);

#endif
