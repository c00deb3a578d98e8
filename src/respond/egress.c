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
#include "common/strv.h"
#include "common/yaml.h"
#include "respond/egress.h"
#include "respond/isolate.h"
#include "respond/netlist.h"
#include "respond/selector.h"
#include "sensor/percpu.h"
#include "vigil/egress.h"
#include "egress.skel.h"

#define POLICY_MAX_SIZE (1u << 20)
#define ENTRY_MAX 256
#define NET_MAX 1024

struct entry {
	struct strv containers;
	uint8_t def;
	struct netlist_net *nets;
	size_t nnets;
};

/*
 * Pins (below the isolation's directory): the two policy maps and the four
 * links, so that the lists stay in force when the agent dies. A restarted agent
 * loads its programs on the pinned maps (the lists of running containers are
 * there already) and puts them in the pinned links: no moment without a policy.
 * A normal stop removes the pins: the policy is the agent's configuration.
 */
#define EGRESS_PIN_POLICY ISOLATE_PIN_DIR "/egress_policy"
#define EGRESS_PIN_RULES ISOLATE_PIN_DIR "/egress_rules"
static const char *const egress_link_pins[4] = {
	ISOLATE_PIN_DIR "/egress_connect4", ISOLATE_PIN_DIR "/egress_connect6",
	ISOLATE_PIN_DIR "/egress_sendmsg4", ISOLATE_PIN_DIR "/egress_sendmsg6",
};

struct egress {
	struct egress_bpf *skel;
	struct bpf_link *links[4];
	struct entry *entries;
	size_t nentries;
	int cgroup_fd;
	bool pinned; /* the maps and links are pinned (bpffs usable) */
};

static void entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(&v[i].containers);
		free(v[i].nets);
	}
	free(v);
}

static int parse_policy(const char *path, struct entry **out, size_t *nout, char *err, size_t errlen)
{
	struct yaml_stream ys;
	int rc;
	*out = NULL;
	*nout = 0;
	if (yaml_parse_file(path, POLICY_MAX_SIZE, &ys, err, errlen)) {
		yaml_stream_free(&ys);
		return -1;
	}
	const struct yaml_node *root = ys.ndocs ? ys.docs[0] : NULL, *list = yaml_get(root, "egress");
	struct entry *v = NULL;
	size_t n = 0;
	rc = -1;
	if (!list || list->kind != YAML_SEQ) {
		yaml_errorf(err, errlen, path, root, "expected 'egress:' with a list of entries");
		goto out;
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct yaml_node *it = list->items[i], *c = yaml_get(it, "containers"), *d = yaml_get(it, "default");
		if (n == ENTRY_MAX) {
			yaml_errorf(err, errlen, path, it, "more than %d entries", ENTRY_MAX);
			goto out;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		struct entry *e = &v[n++];
		memset(e, 0, sizeof(*e));
		e->def = VG_EGRESS_ALLOW;
		if (!c || c->kind != YAML_SEQ || !c->n) {
			yaml_errorf(err, errlen, path, c ? c : it, "'containers' must list container names or id prefixes");
			goto out;
		}
		if (yaml_strings(path, c, "containers", 0, &e->containers, err, errlen))
			goto out;
		if (d && !yaml_is(d, "allow") && !yaml_is(d, "deny")) {
			yaml_errorf(err, errlen, path, d, "'default' must be allow or deny");
			goto out;
		}
		if (d && yaml_is(d, "deny"))
			e->def = VG_EGRESS_DENY;
		if (netlist_parse(path, yaml_get(it, "deny"), VG_EGRESS_DENY, &e->nets, &e->nnets, NET_MAX, err, errlen) ||
		    netlist_parse(path, yaml_get(it, "allow"), VG_EGRESS_ALLOW, &e->nets, &e->nnets, NET_MAX, err, errlen))
			goto out;
	}
	rc = 0;
out:
	yaml_stream_free(&ys);
	if (rc)
		entries_free(v, n);
	else {
		*out = v;
		*nout = n;
	}
	return rc;
}

int egress_check(const char *policy_path, char *err, size_t errlen)
{
	struct entry *v;
	size_t n;
	if (parse_policy(policy_path, &v, &n, err, errlen))
		return -1;
	entries_free(v, n);
	return 0;
}

/* bpffs mounted (mounted here when absent) and the pin directory there. */
static bool pin_dir_ready(void)
{
	int m = pseudofs_ensure(PSEUDOFS_BPFFS, "bpf", "bpf", BPF_FS_MAGIC, "mode=0700");
	if (m < 0 || (mkdir(ISOLATE_PIN_DIR, 0700) && errno != EEXIST)) {
		vg_warn("egress: cannot pin below %s (%s): the policy ends with the agent", ISOLATE_PIN_DIR,
			strerror(errno));
		return false;
	}
	return true;
}

/* Load the programs on the maps an earlier agent pinned, if any. 1 when both were taken. */
static int adopt_maps(struct egress *e)
{
	int n = 0;
	struct { struct bpf_map *map; const char *pin; } m[2] = {
		{ e->skel->maps.vg_egress_policy, EGRESS_PIN_POLICY },
		{ e->skel->maps.vg_egress_rules, EGRESS_PIN_RULES },
	};
	for (int i = 0; i < 2; i++) {
		int fd = bpf_obj_get(m[i].pin);
		if (fd < 0)
			continue;
		if (bpf_map__reuse_fd(m[i].map, fd)) {
			vg_warn("egress: the pinned map %s does not fit, replacing it: %s", m[i].pin, strerror(errno));
			unlink(m[i].pin);
		} else {
			n++;
		}
		close(fd);
	}
	return n == 2;
}

static int pin_map(struct bpf_map *map, const char *path)
{
	if (bpf_obj_pin(bpf_map__fd(map), path) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/*
 * The link pinned at pin (left by an earlier agent) now runs prog, or a new
 * link of prog on the cgroup, pinned there. NULL on error (errno set).
 */
static struct bpf_link *take_over(struct bpf_program *prog, int cgroup_fd, const char *pin)
{
	struct bpf_link *l = bpf_link__open(pin);
	if (l) {
		if (bpf_link__update_program(l, prog) == 0)
			return l;
		bpf_link__destroy(l);
		unlink(pin);
	}
	l = bpf_program__attach_cgroup(prog, cgroup_fd);
	if (l && bpf_obj_pin(bpf_link__fd(l), pin) && errno != EEXIST) {
		int e = errno;
		bpf_link__destroy(l);
		errno = e;
		return NULL;
	}
	return l;
}

static struct egress *start(struct egress *e, bool pin, const char *what, char *err, size_t errlen);

struct egress *egress_start(const char *policy_path, char *err, size_t errlen)
{
	struct egress *e = xcalloc(1, sizeof(*e));
	e->cgroup_fd = -1;
	if (parse_policy(policy_path, &e->entries, &e->nentries, err, errlen)) {
		free(e);
		return NULL;
	}
	return start(e, true, "egress policy", err, errlen);
}

struct egress *egress_start_lists(char *err, size_t errlen)
{
	struct egress *e = xcalloc(1, sizeof(*e));
	e->cgroup_fd = -1;
	return start(e, false, "egress allow lists", err, errlen);
}

static struct egress *start(struct egress *e, bool pin, const char *what, char *err, size_t errlen)
{
	const char *root = cgroup2_mount();
	if (!root[0]) {
		snprintf(err, errlen, "%s cannot be enforced: no cgroup v2 hierarchy is mounted", what);
		goto fail;
	}
	e->cgroup_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e->pinned = pin && pin_dir_ready();
	e->skel = egress_bpf__open();
	int adopted = e->pinned && e->skel ? adopt_maps(e) : 0;
	if (e->skel && egress_bpf__load(e->skel)) {
		egress_bpf__destroy(e->skel);
		e->skel = NULL;
	}
	if (e->skel && e->pinned &&
	    (pin_map(e->skel->maps.vg_egress_policy, EGRESS_PIN_POLICY) ||
	     pin_map(e->skel->maps.vg_egress_rules, EGRESS_PIN_RULES))) {
		vg_warn("egress: cannot pin the policy maps (%s): the policy ends with the agent", strerror(errno));
		e->pinned = false;
	}
	if (adopted)
		vg_info("egress: the lists an earlier agent left pinned stay in force, taken over");
	if (e->cgroup_fd < 0 || !e->skel) {
		snprintf(err, errlen, "%s cannot be enforced: %s", what,
			 e->cgroup_fd < 0 ? "cannot open the cgroup v2 root" : "the kernel refused the cgroup programs");
		goto fail;
	}
	struct bpf_program *progs[4] = { e->skel->progs.vg_connect4, e->skel->progs.vg_connect6,
					 e->skel->progs.vg_sendmsg4, e->skel->progs.vg_sendmsg6 };
	for (int i = 0; i < 4; i++) {
		e->links[i] = e->pinned ? take_over(progs[i], e->cgroup_fd, egress_link_pins[i])
				       : bpf_program__attach_cgroup(progs[i], e->cgroup_fd);
		if (!e->links[i]) {
			snprintf(err, errlen, "%s cannot be enforced: attaching %s to %s: %s", what,
				 bpf_program__name(progs[i]), root, strerror(errno));
			goto fail;
		}
	}
	return e;
fail:
	egress_stop(e);
	return NULL;
}

void egress_stop(struct egress *e)
{
	if (!e)
		return;
	/* a stop (not a crash): the policy is this agent's configuration, it ends with it */
	if (e->pinned) {
		for (int i = 0; i < 4; i++)
			if (e->links[i])
				unlink(egress_link_pins[i]);
		unlink(EGRESS_PIN_POLICY);
		unlink(EGRESS_PIN_RULES);
	}
	for (int i = 0; i < 4; i++)
		bpf_link__destroy(e->links[i]);
	egress_bpf__destroy(e->skel);
	if (e->cgroup_fd >= 0)
		close(e->cgroup_fd);
	entries_free(e->entries, e->nentries);
	free(e);
}

void egress_container(struct egress *e, uint64_t cgroup_id, const struct vg_container_meta *meta)
{
	if (!e || !meta || !meta->id[0])
		return;
	const struct entry *en = NULL;
	for (size_t i = 0; i < e->nentries && !en; i++)
		if (selector_match(&e->entries[i].containers, meta))
			en = &e->entries[i];
	if (!en)
		return;
	int rules = bpf_map__fd(e->skel->maps.vg_egress_rules);
	for (size_t i = 0; i < en->nnets; i++) {
		const struct netlist_net *n = &en->nets[i];
		struct vg_egress_key k = { .prefixlen = VG_EGRESS_KEY_BITS(n->len), .cgroup_id = cgroup_id,
					   .family = (uint32_t)n->family };
		memcpy(k.addr, n->addr, n->family == 4 ? 4 : 16);
		struct vg_egress_rule r = { .verdict = n->verdict, .nports = (uint8_t)n->nports };
		memcpy(r.ports, n->ports, sizeof(r.ports));
		if (bpf_map_update_elem(rules, &k, &r, BPF_ANY))
			vg_warn("egress: cannot add a rule for container %.12s: %s", meta->id, strerror(errno));
	}
	struct vg_egress_policy pol = { .default_verdict = en->def };
	/* the policy goes in last: until then the container is not policed at all */
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.vg_egress_policy), &cgroup_id, &pol, BPF_ANY))
		vg_warn("egress: cannot police container %.12s: %s", meta->id, strerror(errno));
	else
		vg_info("egress policy applied to container %s (%.12s)", meta->name ? meta->name : "?", meta->id);
}

void egress_forget(struct egress *e, uint64_t cgroup_id)
{
	if (!e)
		return;
	bpf_map_delete_elem(bpf_map__fd(e->skel->maps.vg_egress_policy), &cgroup_id);
	/* rules: walk the trie for this cgroup's keys */
	int fd = bpf_map__fd(e->skel->maps.vg_egress_rules);
	struct vg_egress_key k, next, *prev = NULL;
	struct vg_egress_key dead[256];
	size_t ndead = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0 && ndead < 256) {
		if (next.cgroup_id == cgroup_id)
			dead[ndead++] = next;
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(fd, &dead[i]);
}

uint64_t egress_denied(const struct egress *e)
{
	return e ? percpu_sum(bpf_map__fd(e->skel->maps.vg_egress_denied), 0) : 0;
}

/* The keys of the rules of one cgroup (at most max), from the trie. */
static size_t rules_of(int fd, uint64_t cgroup_id, struct vg_egress_key *out, size_t max)
{
	struct vg_egress_key k, next, *prev = NULL;
	size_t n = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < max) {
		if (next.cgroup_id == cgroup_id)
			out[n++] = next;
		k = next;
		prev = &k;
	}
	return n;
}

int egress_allow_only(struct egress *e, uint64_t cgroup_id, const struct egress_dest *d, size_t n, char *err,
		      size_t errlen)
{
	if (!e || n > EGRESS_ALLOW_MAX) {
		snprintf(err, errlen, "%s", e ? "too many destinations" : "not started");
		return -1;
	}
	int rules = bpf_map__fd(e->skel->maps.vg_egress_rules);
	/* one rule per address: its ports (at most VG_EGRESS_MAX_PORTS; more: every port of it) */
	struct vg_egress_key *keys = xcalloc(n ? n : 1, sizeof(*keys));
	struct vg_egress_rule *vals = xcalloc(n ? n : 1, sizeof(*vals));
	bool *all = xcalloc(n ? n : 1, sizeof(*all)); /* every port of the address */
	size_t nk = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct vg_egress_key k = { .prefixlen = VG_EGRESS_KEY_BITS(d[i].family == 4 ? 32 : 128),
					   .cgroup_id = cgroup_id, .family = (uint32_t)d[i].family };
		memcpy(k.addr, d[i].addr, d[i].family == 4 ? 4 : 16);
		size_t j = 0;
		while (j < nk && memcmp(&keys[j], &k, sizeof(k)))
			j++;
		if (j == nk) {
			keys[nk] = k;
			vals[nk++] = (struct vg_egress_rule){ .verdict = VG_EGRESS_ALLOW };
		}
		struct vg_egress_rule *r = &vals[j];
		bool have = all[j];
		if (d[i].port == 0 || (r->nports == VG_EGRESS_MAX_PORTS && !have)) {
			all[j] = true; /* port 0, or more ports than a rule holds: every port of the address */
			continue;
		}
		for (size_t p = 0; p < r->nports && !have; p++)
			have = r->ports[p] == d[i].port;
		if (!have)
			r->ports[r->nports++] = d[i].port;
	}
	for (size_t j = 0; j < nk; j++) {
		if (all[j])
			vals[j].nports = 0;
		if (bpf_map_update_elem(rules, &keys[j], &vals[j], BPF_ANY)) {
			snprintf(err, errlen, "cannot add an allow rule: %s", strerror(errno));
			rc = -1;
			break;
		}
	}
	free(all);
	/* the rules of an earlier list that this one does not hold */
	struct vg_egress_key *old = xcalloc(EGRESS_ALLOW_MAX, sizeof(*old));
	size_t nold = rules_of(rules, cgroup_id, old, EGRESS_ALLOW_MAX);
	for (size_t i = 0; i < nold; i++) {
		bool keep = false;
		for (size_t j = 0; j < nk && !keep; j++)
			keep = !memcmp(&old[i], &keys[j], sizeof(old[i]));
		if (!keep)
			bpf_map_delete_elem(rules, &old[i]);
	}
	free(old);
	free(keys);
	free(vals);
	if (rc) {
		egress_forget(e, cgroup_id);
		return -1;
	}
	/* the default last: until then the cgroup is not policed (or by its earlier list) */
	struct vg_egress_policy pol = { .default_verdict = VG_EGRESS_DENY };
	if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.vg_egress_policy), &cgroup_id, &pol, BPF_ANY)) {
		snprintf(err, errlen, "cannot police the cgroup: %s", strerror(errno));
		egress_forget(e, cgroup_id);
		return -1;
	}
	return 0;
}
