/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network isolation of containers (the `isolate` action): cgroup_skb ingress
 * and egress programs on the cgroup v2 root drop the packets of isolated
 * containers' sockets, loopback and an allow list of peers excepted.
 *
 * The isolated set (map) and the two program links are pinned under
 * ISOLATE_PIN_DIR, so isolation outlives the agent: a crash or a stop leaves
 * isolated containers cut off, the next agent takes the pinned map and links
 * over (its programs replace the old ones in the same links), and
 * `vigil respond release` lifts a container through the pinned map with or
 * without an agent. When no container is isolated any more, the agent's stop
 * (or the release of the last one) detaches the programs and removes the pins.
 */
#ifndef VIGIL_ISOLATE_H
#define VIGIL_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#define ISOLATE_PIN_DIR "/sys/fs/bpf/vigil"
#define ISOLATE_PIN ISOLATE_PIN_DIR "/isolated"
#define ISOLATE_PIN_INGRESS ISOLATE_PIN_DIR "/isolate_ingress"
#define ISOLATE_PIN_EGRESS ISOLATE_PIN_DIR "/isolate_egress"

struct isolate;
struct netlist_net;

/* Load, attach (or take over the pinned links) and pin; allow: the peers isolated containers
 * may still reach (n of them, may be 0). NULL with the reason in err. */
struct isolate *isolate_start(const struct netlist_net *allow, size_t n, char *err, size_t errlen);
/* Stop: with containers still isolated the pinned programs stay in force (said on stderr),
 * otherwise they are detached and unpinned. Accepts NULL. */
void isolate_stop(struct isolate *iso);
/* Isolate a cgroup (by id). 0 or -1 (err set). */
int isolate_add(struct isolate *iso, uint64_t cgroup_id, char *err, size_t errlen);
/* From any process: lift the isolation of a cgroup through the pinned map; the last one
 * released removes the link pins. 0 or -1 (err set; errno ENOENT: nothing isolates that cgroup). */
int isolate_release(uint64_t cgroup_id, char *err, size_t errlen);
uint64_t isolate_dropped(const struct isolate *iso);

#endif
