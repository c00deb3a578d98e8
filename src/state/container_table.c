/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/buf.h"
#include "state/container_table.h"

void container_table_init(struct vg_container_table *t)
{
	hmap_init(&t->map, 256);
}

static void cgroup_free(struct vg_cgroup *c)
{
	free(c->ids);
	container_meta_free(&c->meta);
	free(c->path);
	free(c);
}

void container_table_free(struct vg_container_table *t)
{
	struct hmap_node *n, *tmp;
	size_t i;

	hmap_for_each(&t->map, n, tmp, i)
		cgroup_free(hmap_entry(n, struct vg_cgroup, node));
	hmap_free(&t->map);
}

struct vg_cgroup *container_table_get(const struct vg_container_table *t, uint64_t cgroup_id)
{
	struct hmap_node *n = hmap_get(&t->map, cgroup_id);
	return n ? hmap_entry(n, struct vg_cgroup, node) : NULL;
}

struct vg_cgroup *container_table_add(struct vg_container_table *t, uint64_t cgroup_id, const char *path)
{
	struct vg_cgroup *c = container_table_get(t, cgroup_id);

	if (c)
		return c;
	c = xcalloc(1, sizeof(*c));
	c->node.key = cgroup_id;
	c->path = xstrdup(path);
	c->meta.privileged = -1;
	if (container_meta_parse_cgroup(path, c->meta.id, &c->meta.runtime) != 1) {
		c->meta.id[0] = 0;
		c->meta.runtime = VG_RT_NONE;
	}
	hmap_put(&t->map, &c->node);
	return c;
}

void container_table_remove(struct vg_container_table *t, uint64_t cgroup_id)
{
	struct hmap_node *n = hmap_del(&t->map, cgroup_id);
	if (n)
		cgroup_free(hmap_entry(n, struct vg_cgroup, node));
}

const char *cgroup2_mount(void)
{
	static char mount[PATH_MAX];
	static int done;
	char line[4096];
	FILE *f;

	if (done)
		return mount;
	done = 1;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return mount;
	/* id parent major:minor root mountpoint options... - fstype source superoptions */
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");
		char mp[PATH_MAX];
		if (!sep)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
			snprintf(mount, sizeof(mount), "%s", mp);
			break;
		}
	}
	fclose(f);
	return mount;
}

bool cgroup_path_of_pid(const char *procfs, uint32_t pid, char *out, size_t size)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/cgroup", procfs, pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, size, "%s", line + 3);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

uint64_t cgroup_id_of_path(const char *path)
{
	char full[PATH_MAX * 2];
	struct stat st;

	if (!cgroup2_mount()[0])
		return 0;
	snprintf(full, sizeof(full), "%s%s", cgroup2_mount(), path);
	return stat(full, &st) == 0 ? st.st_ino : 0;
}

const struct vg_idname *container_table_idname(const struct vg_cgroup *c, uint32_t id, bool group)
{
	for (size_t i = 0; c && i < c->nids; i++)
		if (c->ids[i].id == id && c->ids[i].group == group)
			return &c->ids[i];
	return NULL;
}

void container_table_set_idname(struct vg_cgroup *c, uint32_t id, bool group, const char *name)
{
	struct vg_idname *e = (struct vg_idname *)container_table_idname(c, id, group);
	if (!e) {
		if (c->nids >= VG_IDNAMES_MAX)
			return;
		c->ids = xrealloc(c->ids, (c->nids + 1) * sizeof(*c->ids));
		e = &c->ids[c->nids++];
		e->id = id;
		e->group = group;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
}
