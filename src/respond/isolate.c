/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common/buf.h"
#include "common/log.h"
#include "respond/isolate.h"
#include "state/container_table.h"
#include "isolate.skel.h"

struct isolate {
	struct isolate_bpf *skel;
	struct bpf_link *ingress, *egress;
	int cgroup_fd;
};

struct isolate *isolate_start(char *err, size_t errlen)
{
	struct isolate *iso = xcalloc(1, sizeof(*iso));
	const char *root = cgroup2_mount();

	iso->cgroup_fd = -1;
	if (!root[0]) {
		snprintf(err, errlen, "isolate cannot be carried out: no cgroup v2 hierarchy is mounted");
		goto fail;
	}
	iso->skel = isolate_bpf__open_and_load();
	if (!iso->skel) {
		snprintf(err, errlen, "isolate cannot be carried out: the kernel refused the cgroup_skb programs");
		goto fail;
	}
	/* a map left pinned by an agent that died is replaced: its programs are gone with it */
	if (mkdir(ISOLATE_PIN_DIR, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot create %s: %s (is bpffs mounted?)",
			 ISOLATE_PIN_DIR, strerror(errno));
		goto fail;
	}
	unlink(ISOLATE_PIN);
	if (bpf_map__pin(iso->skel->maps.vg_isolated, ISOLATE_PIN)) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot pin %s: %s", ISOLATE_PIN, strerror(errno));
		goto fail;
	}
	iso->cgroup_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (iso->cgroup_fd < 0 ||
	    !(iso->ingress = bpf_program__attach_cgroup(iso->skel->progs.vg_isolate_ingress, iso->cgroup_fd)) ||
	    !(iso->egress = bpf_program__attach_cgroup(iso->skel->progs.vg_isolate_egress, iso->cgroup_fd))) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot attach to %s: %s", root, strerror(errno));
		goto fail;
	}
	return iso;
fail:
	isolate_stop(iso);
	return NULL;
}

void isolate_stop(struct isolate *iso)
{
	if (!iso)
		return;
	if (iso->skel) {
		int fd = bpf_map__fd(iso->skel->maps.vg_isolated);
		uint64_t key, next, *prev = NULL;
		size_t n = 0;
		while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0 && n < 100000) {
			key = next;
			prev = &key;
			n++;
		}
		if (n)
			vg_warn("isolation of %zu container(s) lifted: the agent is stopping", n);
		bpf_map__unpin(iso->skel->maps.vg_isolated, ISOLATE_PIN);
	}
	bpf_link__destroy(iso->ingress);
	bpf_link__destroy(iso->egress);
	isolate_bpf__destroy(iso->skel);
	if (iso->cgroup_fd >= 0)
		close(iso->cgroup_fd);
	free(iso);
}

int isolate_add(struct isolate *iso, uint64_t cgroup_id, char *err, size_t errlen)
{
	uint8_t one = 1;
	if (bpf_map_update_elem(bpf_map__fd(iso->skel->maps.vg_isolated), &cgroup_id, &one, BPF_ANY)) {
		snprintf(err, errlen, "cannot isolate cgroup %llu: %s", (unsigned long long)cgroup_id, strerror(errno));
		return -1;
	}
	return 0;
}

int isolate_release(uint64_t cgroup_id, char *err, size_t errlen)
{
	int fd = bpf_obj_get(ISOLATE_PIN);
	if (fd < 0) {
		snprintf(err, errlen, "no isolation in force (%s: %s): is the agent running?", ISOLATE_PIN,
			 strerror(errno));
		return -1;
	}
	int rc = bpf_map_delete_elem(fd, &cgroup_id);
	int e = errno;
	close(fd);
	if (rc) {
		snprintf(err, errlen, "cgroup %llu is not isolated (%s)", (unsigned long long)cgroup_id, strerror(e));
		return -1;
	}
	return 0;
}

uint64_t isolate_dropped(const struct isolate *iso)
{
	int ncpu = libbpf_num_possible_cpus();
	if (!iso || ncpu <= 0)
		return 0;
	uint64_t *v = xcalloc(ncpu, sizeof(*v)), total = 0;
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(iso->skel->maps.vg_isolate_dropped), &zero, v) == 0)
		for (int i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	return total;
}
