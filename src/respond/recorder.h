/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flight recorder for the `capture` action: the last records of each container,
 * kept in memory so that a forensic bundle can hold what led up to an alert.
 * Bounded per container (bytes and age) and in the number of containers (the
 * least recently written one is dropped).
 */
#ifndef VIGIL_RECORDER_H
#define VIGIL_RECORDER_H

#include <stddef.h>
#include <stdint.h>

struct recorder;

struct recorder *recorder_new(size_t bytes_per_container, uint64_t window_ns, size_t max_containers);
void recorder_free(struct recorder *r);
/* Keep a copy of one record of a container's cgroup (ts: its timestamp). */
void recorder_add(struct recorder *r, uint64_t cgroup_id, const void *rec, size_t len, uint64_t ts);
/* Call fn for each kept record of the cgroup, oldest first. Returns how many. */
size_t recorder_each(const struct recorder *r, uint64_t cgroup_id,
		     void (*fn)(void *ctx, const void *rec, size_t len), void *ctx);
void recorder_forget(struct recorder *r, uint64_t cgroup_id);

#endif
