/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The forwarders (output/forwarder.h) by name, and what they share: the
 * syntax of --output NAME:SPEC, where SPEC is a target and options,
 *
 *     TARGET[;KEY=VALUE]...      e.g. "udp://127.0.0.1:514;facility=auth"
 *
 * (docs/outputs.md). Each forwarder is one file, forward_NAME.c, and one
 * line in forwarder.c's table.
 */
#ifndef VIGIL_OUTPUT_FORWARDERS_H
#define VIGIL_OUTPUT_FORWARDERS_H

#include <stdbool.h>
#include <stddef.h>
#include "output/forwarder.h"

extern const struct vg_forwarder_ops forward_syslog_ops;
extern const struct vg_forwarder_ops forward_webhook_ops;
extern const struct vg_forwarder_ops forward_file_ops;

struct vg_buf;
/*
 * One record as an RFC 5424 message (forward_syslog.c): PRI from facility
 * (0..23) and the record's priority, its time, hostname (NULL or "": the
 * record's "hostname"), app, the pid, the kind as MSGID, structured data
 * [vigil@32473 ...] and the JSON as MSG. Appended to out. Can't fail.
 */
void forward_syslog_format(struct vg_buf *out, const struct outbox_record *r, int facility, const char *hostname,
			   const char *app);

struct vg_series;
/*
 * What a forwarder counts beyond what the outbox sees (metrics.h):
 * vigil_output_poisoned_total, vigil_output_retries_total and
 * vigil_output_truncated_total, labelled with the output's name. Can't fail.
 */
struct vg_series *fwd_metric(const char *what, const char *output);

/*
 * Add a forwarder of a module above output (fleet's NATS publisher), so that
 * forwarder_find and --output know it. Call at start, before any lookup (not
 * thread-safe). 0, or -1 when the name is taken or the table (8) is full.
 */
int forwarder_register(const struct vg_forwarder_ops *ops);
/* The forwarder called name (built in or registered), or NULL. */
const struct vg_forwarder_ops *forwarder_find(const char *name);
/* The names of every forwarder, ", "-separated, for messages. Static text. */
const char *forwarder_names(void);
/*
 * Split an --output argument "NAME:SPEC": the forwarder and its spec (a
 * pointer into arg). 0, or -1 with the reason in err (no ':', unknown name).
 */
int forwarder_parse_arg(const char *arg, const struct vg_forwarder_ops **ops, const char **spec, char *err,
			size_t errlen);

/*
 * The option name=NAME of an --output spec, which every output takes: the
 * output's own name (its cursor in the store, its metrics' label), for
 * several outputs of one kind. Copies it to name ("" when absent) and the
 * spec without it to *rest (malloc'd). 0, or -1 with err (a bad or second
 * name=; nothing to free then).
 */
int forwarder_split_name(const char *spec, char *name, size_t namelen, char **rest, char *err, size_t errlen);

#define FWD_SPEC_MAX_OPTS 16
#define FWD_SPEC_MAX_LEN 4096

/* A spec cut into its target and options (copies, owned). */
struct fwd_spec {
	char *target;
	size_t n;
	char *key[FWD_SPEC_MAX_OPTS], *val[FWD_SPEC_MAX_OPTS]; /* val "" for a bare KEY */
	bool used[FWD_SPEC_MAX_OPTS];
};

/*
 * Parse "TARGET[;KEY[=VALUE]]...". Keys are [a-z0-9-]+, at most
 * FWD_SPEC_MAX_OPTS options, the whole at most FWD_SPEC_MAX_LEN bytes, the
 * target not empty. 0, or -1 with the reason in err (nothing to free then).
 */
int fwd_spec_parse(const char *spec, struct fwd_spec *s, char *err, size_t errlen);
/* The value of the last option key (marked used), or NULL. */
const char *fwd_spec_get(struct fwd_spec *s, const char *key);
/* 0 when every option was asked for by fwd_spec_get, else -1 naming the first
 * other one, with the forwarder's name and its known options, in err. */
int fwd_spec_check_used(const struct fwd_spec *s, const char *fwd, const char *known, char *err, size_t errlen);
void fwd_spec_free(struct fwd_spec *s);

/* "alert,action,loss" -> a bitmask of 1 << enum outbox_kind. 0, or -1 on an unknown word. */
int fwd_parse_kinds(const char *list, unsigned *mask);
/* Parse a byte size: N, NK, NM, NG (powers of 1024). 0, or -1. */
int fwd_parse_size(const char *s, uint64_t *out);
/* Parse a positive duration in seconds (decimal, "0.5"). 0, or -1. */
int fwd_parse_seconds(const char *s, double *out);

#endif
