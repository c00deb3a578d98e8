/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common/buf.h"
#include "common/log.h"
#include "common/pseudofs.h"
#include "respond/isolate.h"
#include "respond/netlist.h"
#include "sensor/percpu.h"
#include "state/container_table.h"
#include "vigil/isolate.h"
#include "isolate.skel.h"

struct isolate {
	struct isolate_bpf *skel;
	struct bpf_link *ingress, *egress;
	int cgroup_fd;
};

/* Containers in the isolated map (bounded walk). */
static size_t count_isolated(int fd)
{
	uint64_t key, next, *prev = NULL;
	size_t n = 0;
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0 && n < VG_ISOLATE_MAX_CGROUPS) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Pin fd at path unless something is pinned there already. 0 or -1. */
static int pin_once(int fd, const char *path)
{
	if (bpf_obj_pin(fd, path) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/*
 * The link at pin (left by an earlier agent) now runs prog, or a new link of
 * prog on the cgroup, pinned there. NULL on error (errno set).
 */
static struct bpf_link *take_over(struct bpf_program *prog, int cgroup_fd, const char *pin)
{
	struct bpf_link *l = bpf_link__open(pin);
	if (l) {
		if (bpf_link__update_program(l, prog) == 0)
			return l;
		/* a link of another kind or a detached one: start afresh */
		bpf_link__destroy(l);
		unlink(pin);
	}
	l = bpf_program__attach_cgroup(prog, cgroup_fd);
	if (l && pin_once(bpf_link__fd(l), pin)) {
		int e = errno;
		bpf_link__destroy(l);
		errno = e;
		return NULL;
	}
	return l;
}

static int fill_allow(struct isolate *iso, const struct netlist_net *allow, size_t n, char *err, size_t errlen)
{
	int fd = bpf_map__fd(iso->skel->maps.vg_isolate_allow);
	for (size_t i = 0; i < n; i++) {
		const struct netlist_net *a = &allow[i];
		struct vg_isolate_key k = { .prefixlen = VG_ISOLATE_KEY_BITS(a->len), .family = (uint32_t)a->family };
		memcpy(k.addr, a->addr, a->family == 4 ? 4 : 16);
		struct vg_isolate_allow v = { .nports = (uint8_t)a->nports };
		memcpy(v.ports, a->ports, sizeof(v.ports));
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
			snprintf(err, errlen, "isolate cannot be carried out: allow list entry %zu: %s", i + 1,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct isolate *isolate_start(const struct netlist_net *allow, size_t n, char *err, size_t errlen)
{
	struct isolate *iso = xcalloc(1, sizeof(*iso));
	const char *root = cgroup2_mount();
	int old = -1;

	iso->cgroup_fd = -1;
	if (!root[0]) {
		snprintf(err, errlen, "isolate cannot be carried out: no cgroup v2 hierarchy is mounted");
		goto fail;
	}
	if (n > VG_ISOLATE_MAX_ALLOW) {
		snprintf(err, errlen, "isolate cannot be carried out: more than %d allowed networks", VG_ISOLATE_MAX_ALLOW);
		goto fail;
	}
	/* pins need bpffs; a fresh node may not have mounted it (private to root, as pins are) */
	int m = pseudofs_ensure(PSEUDOFS_BPFFS, "bpf", "bpf", BPF_FS_MAGIC, "mode=0700");
	if (m < 0) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot mount bpffs on %s: %s", PSEUDOFS_BPFFS,
			 strerror(errno));
		goto fail;
	}
	if (m > 0)
		vg_info("mounted bpffs on %s (the isolation is pinned there)", PSEUDOFS_BPFFS);
	if (mkdir(ISOLATE_PIN_DIR, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot create %s: %s (is bpffs mounted?)",
			 ISOLATE_PIN_DIR, strerror(errno));
		goto fail;
	}
	iso->skel = isolate_bpf__open();
	/* containers an earlier agent isolated stay isolated: its map is taken over */
	old = bpf_obj_get(ISOLATE_PIN);
	if (iso->skel && old >= 0 && bpf_map__reuse_fd(iso->skel->maps.vg_isolated, old)) {
		vg_warn("isolate: the pinned map %s does not fit, replacing it: %s", ISOLATE_PIN, strerror(errno));
		unlink(ISOLATE_PIN);
	}
	if (!iso->skel || isolate_bpf__load(iso->skel)) {
		snprintf(err, errlen, "isolate cannot be carried out: the kernel refused the cgroup_skb programs");
		goto fail;
	}
	if (fill_allow(iso, allow, n, err, errlen))
		goto fail;
	if (pin_once(bpf_map__fd(iso->skel->maps.vg_isolated), ISOLATE_PIN)) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot pin %s: %s", ISOLATE_PIN, strerror(errno));
		goto fail;
	}
	iso->cgroup_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (iso->cgroup_fd < 0 ||
	    !(iso->ingress = take_over(iso->skel->progs.vg_isolate_ingress, iso->cgroup_fd, ISOLATE_PIN_INGRESS)) ||
	    !(iso->egress = take_over(iso->skel->progs.vg_isolate_egress, iso->cgroup_fd, ISOLATE_PIN_EGRESS))) {
		snprintf(err, errlen, "isolate cannot be carried out: cannot attach to %s: %s", root, strerror(errno));
		goto fail;
	}
	size_t still = count_isolated(bpf_map__fd(iso->skel->maps.vg_isolated));
	if (still)
		vg_warn("isolate: %zu container(s) isolated by an earlier agent stay isolated", still);
	if (old >= 0)
		close(old);
	return iso;
fail:
	if (old >= 0)
		close(old);
	isolate_stop(iso);
	return NULL;
}

void isolate_stop(struct isolate *iso)
{
	if (!iso)
		return;
	/* a start that failed leaves alone what an earlier agent pinned */
	bool started = iso->ingress && iso->egress;
	size_t n = started ? count_isolated(bpf_map__fd(iso->skel->maps.vg_isolated)) : 0;
	if (started && n) {
		/* the links stay attached through their pins (a release may have removed them) */
		if (pin_once(bpf_link__fd(iso->ingress), ISOLATE_PIN_INGRESS) ||
		    pin_once(bpf_link__fd(iso->egress), ISOLATE_PIN_EGRESS))
			vg_err("isolate: cannot keep the isolation programs pinned: %s: %zu container(s) released",
			       strerror(errno), n);
		else
			vg_warn("isolate: %zu container(s) stay isolated after the agent stops "
				"(vigil respond release CONTAINER lifts it)", n);
	} else if (started) {
		/* nothing isolated: nothing stays behind */
		unlink(ISOLATE_PIN_INGRESS);
		unlink(ISOLATE_PIN_EGRESS);
		unlink(ISOLATE_PIN);
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
	/* a release of the last container removed the pins: a crash from now on must not lift this */
	if (pin_once(bpf_link__fd(iso->ingress), ISOLATE_PIN_INGRESS) ||
	    pin_once(bpf_link__fd(iso->egress), ISOLATE_PIN_EGRESS) ||
	    pin_once(bpf_map__fd(iso->skel->maps.vg_isolated), ISOLATE_PIN))
		vg_warn("isolate: cannot pin the isolation programs (%s): the isolation ends with the agent",
			strerror(errno));
	return 0;
}

int isolate_release(uint64_t cgroup_id, char *err, size_t errlen)
{
	/* a bpffs mounted now would be a new, empty one: without it nothing is pinned */
	if (!pseudofs_mounted(PSEUDOFS_BPFFS, BPF_FS_MAGIC)) {
		snprintf(err, errlen, "no isolation in force (no bpffs is mounted on %s: nothing is pinned)",
			 PSEUDOFS_BPFFS);
		errno = ENOENT;
		return -1;
	}
	int fd = bpf_obj_get(ISOLATE_PIN);
	if (fd < 0) {
		int e0 = errno;
		snprintf(err, errlen, "no isolation in force (%s: %s)", ISOLATE_PIN, strerror(e0));
		errno = e0;
		return -1;
	}
	int rc = bpf_map_delete_elem(fd, &cgroup_id);
	int e = errno;
	if (rc == 0 && count_isolated(fd) == 0) {
		/* nothing left to enforce: without pins the programs go with the agent (or now) */
		unlink(ISOLATE_PIN_INGRESS);
		unlink(ISOLATE_PIN_EGRESS);
	}
	close(fd);
	if (rc) {
		snprintf(err, errlen, "cgroup %llu is not isolated (%s)", (unsigned long long)cgroup_id, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

uint64_t isolate_dropped(const struct isolate *iso)
{
	return iso ? percpu_sum(bpf_map__fd(iso->skel->maps.vg_isolate_dropped), 0) : 0;
}
