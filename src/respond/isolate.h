/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network isolation of containers (the `isolate` action): cgroup_skb ingress
 * and egress programs on the cgroup v2 root drop the packets of isolated
 * containers' sockets, loopback excepted. The isolated set is a map pinned at
 * ISOLATE_PIN so that `vigil respond release` can lift one. Isolation lasts
 * while the agent runs: stopping the agent detaches the programs (it says how
 * many containers that released).
 */
#ifndef VIGIL_ISOLATE_H
#define VIGIL_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#define ISOLATE_PIN_DIR "/sys/fs/bpf/vigil"
#define ISOLATE_PIN ISOLATE_PIN_DIR "/isolated"

struct isolate;

/* Load, pin and attach. NULL with the reason in err. */
struct isolate *isolate_start(char *err, size_t errlen);
void isolate_stop(struct isolate *iso);
/* Isolate a cgroup (by id). 0 or -1 (err set). */
int isolate_add(struct isolate *iso, uint64_t cgroup_id, char *err, size_t errlen);
/* From any process: lift the isolation of a cgroup through the pinned map. 0 or -1. */
int isolate_release(uint64_t cgroup_id, char *err, size_t errlen);
uint64_t isolate_dropped(const struct isolate *iso);

#endif
