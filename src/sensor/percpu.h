/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading per-CPU array maps (BPF_MAP_TYPE_PERCPU_ARRAY): the kernel's
 * counters are kept per CPU so that programs never contend on them, and a
 * lookup from userspace returns one value for each possible CPU.
 */
#ifndef VIGIL_PERCPU_H
#define VIGIL_PERCPU_H

#include <stddef.h>
#include <stdint.h>

/*
 * Element key of the per-CPU map map_fd: a new buffer (the caller frees it)
 * of *ncpu values of size bytes each (size a multiple of 8, as the kernel lays
 * them out). NULL when the CPUs cannot be counted or the lookup fails.
 */
void *percpu_read(int map_fd, uint32_t key, size_t size, int *ncpu);
/* The sum over CPUs of the u64 counter at element key; 0 when it cannot be read. */
uint64_t percpu_sum(int map_fd, uint32_t key);

#endif
