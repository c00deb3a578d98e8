/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file guard: deny exec and deny open, answered by one fanotify group
 * before the file is executed or opened, for two policies at once:
 *
 * - drift prevention: a file that exists in the container's overlay upper
 *   layer -- written or changed after the container started -- is refused
 *   (execve fails with EPERM); programs of the image run;
 * - the file policy (src/respond/file_policy.h): named paths that must not be
 *   opened (open fails with EPERM) and named programs that must not run.
 *
 * Each container's root filesystem (its overlay superblock) is marked with
 * FAN_OPEN_EXEC_PERM (drift, deny_exec, allow_exec) and FAN_OPEN_PERM
 * (deny_open) as its metadata becomes known. The answering thread only reads
 * /proc/self/fd and the upper layer's directory, never the marked
 * filesystems, so it cannot wait on its own decisions; the agent's own opens
 * are allowed without looking. An event that cannot be decided (an error)
 * gets the default of the part that could not decide -- drift's or the file
 * policy's fail-open/fail-closed -- and is counted.
 */
#ifndef VIGIL_FILE_GUARD_H
#define VIGIL_FILE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state/container_meta.h"

struct file_guard;
struct file_policy;

struct file_guard_opts {
	bool drift;                      /* refuse executing files of the upper layer */
	bool drift_fail_open;            /* what an undecidable drift check gets */
	const struct file_policy *files; /* named paths and programs, or NULL; the caller keeps it
					  * alive until file_guard_stop */
};

struct file_guard_stats {
	uint64_t allowed, denied, undecided;                /* executions */
	uint64_t open_allowed, open_denied, open_undecided; /* opens (file policy) */
};

/* Start the fanotify group and its answering thread. NULL with the reason in err. */
struct file_guard *file_guard_start(const struct file_guard_opts *o, char *err, size_t errlen);
/* Stop answering; the kernel allows what was pending. Accepts NULL. */
void file_guard_stop(struct file_guard *d);
/*
 * A container's metadata is known: guard its root filesystem (the overlay
 * "merged" directory) with what applies to it. 0 (also when nothing applies)
 * or -1 with the reason in err. Calling it again for the same container is cheap.
 */
int file_guard_add(struct file_guard *d, const struct vg_container_meta *meta, char *err, size_t errlen);
void file_guard_stats(struct file_guard *d, struct file_guard_stats *out);

/*
 * A container's exec allow list (a protecting behaviour profile,
 * docs/profiles.md): while set, an executable of its root filesystem whose
 * path (from the container's root) matches none of the patterns is refused
 * (execve fails with EPERM), whatever drift and the file policy say. A pattern
 * is an absolute path where `*` matches any run of characters other than `/`,
 * or (without a `/` at its start) the same on the file's base name.
 * n == 0 with progs NULL clears the list (the container is no longer
 * protected). The container is guarded (marked) if it was not. 0, or -1 with
 * the reason in err (then nothing is refused by the list).
 */
#define FILE_GUARD_ALLOW_MAX 4096
int file_guard_allow_exec(struct file_guard *d, const struct vg_container_meta *meta, const char *const *progs,
			  size_t n, char *err, size_t errlen);

/* One execution refused by an exec allow list, for the agent to report. */
struct file_guard_denial {
	char id[65];          /* the container's id */
	char path[512];       /* the executable, from the container's root */
	uint32_t pid;         /* the process that tried (host pid namespace) */
	uint64_t ts;          /* CLOCK_BOOTTIME, ns */
};
/* Take up to max refusals of the allow lists noted since the last call (the oldest first); how many. A
 * bounded queue: what did not fit is counted in *lost (may be NULL). */
size_t file_guard_take_denials(struct file_guard *d, struct file_guard_denial *out, size_t max, uint64_t *lost);

#endif
