/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common/buf.h"
#include "sensor/percpu.h"

void *percpu_read(int map_fd, uint32_t key, size_t size, int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0)
		return NULL;
	void *v = xcalloc(*ncpu, size);
	if (bpf_map_lookup_elem(map_fd, &key, v) == 0)
		return v;
	free(v);
	return NULL;
}

uint64_t percpu_sum(int map_fd, uint32_t key)
{
	int ncpu;
	uint64_t *v = percpu_read(map_fd, key, sizeof(*v), &ncpu), total = 0;
	for (int i = 0; v && i < ncpu; i++)
		total += v[i];
	free(v);
	return total;
}
