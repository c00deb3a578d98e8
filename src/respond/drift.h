/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drift prevention (deny exec): fanotify permission events on each container's
 * root filesystem answer before a program is executed. A file that exists in
 * the container's overlay upper layer -- written or changed after the
 * container started -- is refused (execve fails with EPERM); programs of the
 * image run. The answering thread only reads /proc and the upper layer's
 * directory, so it cannot wait on its own decisions; when it cannot decide (an
 * error, an unknown filesystem) the configured default applies and is counted.
 */
#ifndef VIGIL_DRIFT_H
#define VIGIL_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct drift;

struct drift_stats {
	uint64_t allowed, denied, undecided;
};

/* fail_open: what an undecidable event gets (allow, or deny). NULL with the reason in err. */
struct drift *drift_start(bool fail_open, char *err, size_t errlen);
void drift_stop(struct drift *d);
/* Guard a container's root filesystem (its overlay "merged" directory). 0 or -1 (err set). */
int drift_add(struct drift *d, const char *container_id, const char *rootfs, char *err, size_t errlen);
void drift_stats(struct drift *d, struct drift_stats *out);

#endif
