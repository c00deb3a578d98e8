/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata read ahead of the event stream.
 *
 * The agent looks a container's metadata up at the container's first event,
 * but it reads events after the kernel wrote them: under load that can be
 * seconds later, when a `--rm` container and its runtime state are already
 * gone. A watcher thread follows the runtimes' state directories with inotify
 * and reads each new container's metadata the moment its state appears,
 * keeping it in a bounded cache that the first-event lookup falls back to.
 */
#ifndef VIGIL_CONTAINER_WATCH_H
#define VIGIL_CONTAINER_WATCH_H

#include "state/container_meta.h"

struct vg_container_watch;

/*
 * Start watching the runtime state under `root` ("/" in production). Returns
 * NULL (and logs why, once) when nothing can be watched; lookups then simply
 * find nothing. on_meta (may be NULL) is called on the watcher's thread with
 * each container's metadata as soon as it is read -- before the container's
 * first event reaches the agent -- so that prevention can be armed before the
 * container's process starts; it must be thread-safe and must not keep `m`.
 */
struct vg_container_watch *container_watch_start(const char *root,
						 void (*on_meta)(void *ctx, const struct vg_container_meta *m),
						 void *ctx);
/* Copy the cached metadata of container `id` (full 64-hex id) into *out.
 * Returns 1 when found (caller frees *out with container_meta_free), else 0. */
int container_watch_get(struct vg_container_watch *w, const char *id, struct vg_container_meta *out);
void container_watch_stop(struct vg_container_watch *w);

#endif
