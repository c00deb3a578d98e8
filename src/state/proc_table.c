/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "common/buf.h"
#include "state/proc_table.h"
#include "vigil/event.h"

void proc_table_init(struct vg_proc_table *t, size_t max)
{
	hmap_init(&t->map, 1024);
	t->max = max;
	t->refused = 0;
}

static void proc_free(struct vg_proc *p)
{
	free(p->exe);
	free(p->args);
	free(p->cwd);
	free(p->env);
	free(p);
}

void proc_table_free(struct vg_proc_table *t)
{
	struct hmap_node *n, *tmp;
	size_t i;

	hmap_for_each(&t->map, n, tmp, i)
		proc_free(hmap_entry(n, struct vg_proc, node));
	hmap_free(&t->map);
}

struct vg_proc *proc_table_get(const struct vg_proc_table *t, uint32_t pid)
{
	struct hmap_node *n = hmap_get(&t->map, pid);
	return n ? hmap_entry(n, struct vg_proc, node) : NULL;
}

struct vg_proc *proc_table_add(struct vg_proc_table *t, uint32_t pid)
{
	struct vg_proc *p;

	proc_table_remove(t, pid);
	if (t->map.count >= t->max) {
		t->refused++;
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->node.key = pid;
	p->pid = pid;
	p->exe = xstrdup("");
	p->cwd = xstrdup("");
	p->loginuid = UINT32_MAX;
	p->exec_count = 1;
	hmap_put(&t->map, &p->node);
	return p;
}

void proc_table_remove(struct vg_proc_table *t, uint32_t pid)
{
	struct hmap_node *n = hmap_del(&t->map, pid);
	if (n)
		proc_free(hmap_entry(n, struct vg_proc, node));
}

struct vg_proc *proc_table_ancestor(const struct vg_proc_table *t, const struct vg_proc *p, unsigned int n)
{
	/* a pid table can hold a loop after pid reuse; 4096 generations is beyond any real tree */
	for (unsigned int i = 0; i < n && p && i < 4096; i++) {
		if (p->ppid == 0 || p->ppid == p->pid)
			return NULL;
		p = proc_table_get(t, p->ppid);
	}
	return (struct vg_proc *)p;
}

void proc_set_exe(struct vg_proc *p, const char *exe)
{
	free(p->exe);
	p->exe = xstrdup(exe);
}

void proc_set_cwd(struct vg_proc *p, const char *cwd)
{
	free(p->cwd);
	p->cwd = xstrdup(cwd);
}

/* The length kept of a NUL-separated list: at most VG_ARGV_MAX bytes, without
 * trailing NULs, so that the length counts separators only between strings. */
static size_t proc_list_len(const char *list, size_t len)
{
	if (len > VG_ARGV_MAX)
		len = VG_ARGV_MAX;
	while (len > 0 && list[len - 1] == 0)
		len--;
	return len;
}

void proc_set_args(struct vg_proc *p, const char *args, size_t len)
{
	free(p->args);
	p->args = NULL;
	p->args_len = 0;
	len = proc_list_len(args, len);
	if (len) {
		p->args = xstrndup(args, len);
		p->args_len = len;
	}
}

void proc_set_env(struct vg_proc *p, const char *env, size_t len)
{
	free(p->env);
	len = proc_list_len(env, len);
	p->env = xmalloc(len + 1);
	memcpy(p->env, env, len);
	p->env[len] = 0;
	p->env_len = len;
}

void proc_inherit(struct vg_proc *child, const struct vg_proc *parent)
{
	if (parent->env)
		proc_set_env(child, parent->env, parent->env_len);
	proc_set_exe(child, parent->exe);
	proc_set_cwd(child, parent->cwd);
	proc_set_args(child, parent->args ? parent->args : "", parent->args_len);
	child->exe_ino = parent->exe_ino;
	child->exe_flags = parent->exe_flags;
}

/* The fields of a STATE_PROC record, however it was parsed. */
enum { PJ_PID, PJ_PPID, PJ_VPID, PJ_SID, PJ_TTY, PJ_UID, PJ_GID, PJ_EUID, PJ_EGID, PJ_LOGINUID, PJ_CGROUP_ID,
       PJ_EXE_INO, PJ_EXE_FLAGS, PJ_START_NS, PJ_NUMS, PJ_COMM = PJ_NUMS, PJ_EXE, PJ_CWD, PJ_STRS, PJ_ARGS = PJ_STRS,
       PJ_KEYS };
static const char *const pj_keys[PJ_KEYS] = {
	"pid", "ppid", "vpid", "sid", "tty", "uid", "gid", "euid", "egid", "loginuid", "cgroup_id",
	"exe_ino", "exe_flags", "start_ns", "comm", "exe", "cwd", "args",
};

/* Where each numeric field lives in struct vg_proc, and which are 64-bit. */
static const size_t pj_off[PJ_NUMS] = {
	[PJ_PID] = offsetof(struct vg_proc, pid),         [PJ_PPID] = offsetof(struct vg_proc, ppid),
	[PJ_VPID] = offsetof(struct vg_proc, vpid),       [PJ_SID] = offsetof(struct vg_proc, sid),
	[PJ_TTY] = offsetof(struct vg_proc, tty),         [PJ_UID] = offsetof(struct vg_proc, uid),
	[PJ_GID] = offsetof(struct vg_proc, gid),         [PJ_EUID] = offsetof(struct vg_proc, euid),
	[PJ_EGID] = offsetof(struct vg_proc, egid),       [PJ_LOGINUID] = offsetof(struct vg_proc, loginuid),
	[PJ_CGROUP_ID] = offsetof(struct vg_proc, cgroup_id), [PJ_EXE_INO] = offsetof(struct vg_proc, exe_ino),
	[PJ_EXE_FLAGS] = offsetof(struct vg_proc, exe_flags), [PJ_START_NS] = offsetof(struct vg_proc, start_ns),
};
#define PJ_WIDE (1u << PJ_CGROUP_ID | 1u << PJ_EXE_INO | 1u << PJ_START_NS)

static uint64_t pj_get(const struct vg_proc *p, int k)
{
	const char *f = (const char *)p + pj_off[k];
	return PJ_WIDE & 1u << k ? *(const uint64_t *)f : *(const uint32_t *)f;
}

static void pj_set(struct vg_proc *p, int k, uint64_t v)
{
	char *f = (char *)p + pj_off[k];
	if (PJ_WIDE & 1u << k)
		*(uint64_t *)f = v;
	else
		*(uint32_t *)f = (uint32_t)v;
}

char *proc_to_json(const struct vg_proc *p)
{
	struct vg_buf b = { 0 };
	struct vg_json j;
	size_t i = 0;

	jw_init(&j, &b);
	jw_obj_begin(&j, NULL);
	/* the order captures have always had: identity, comm/exe/cwd, exe identity */
	for (int k = PJ_PID; k <= PJ_CGROUP_ID; k++)
		jw_uint(&j, pj_keys[k], pj_get(p, k));
	jw_strn(&j, "comm", p->comm, strnlen(p->comm, sizeof(p->comm)));
	jw_str(&j, "exe", p->exe);
	jw_str(&j, "cwd", p->cwd);
	for (int k = PJ_EXE_INO; k < PJ_NUMS; k++)
		jw_uint(&j, pj_keys[k], pj_get(p, k));
	jw_arr_begin(&j, "args");
	while (i < p->args_len) {
		size_t n = strnlen(p->args + i, p->args_len - i);
		jw_strn(&j, NULL, p->args + i, n);
		i += n + 1;
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	return b.data;
}

struct proc_fields {
	uint64_t num[PJ_NUMS];  /* 0 when absent or not an integer */
	const char *str[PJ_STRS - PJ_NUMS]; /* comm, exe, cwd: "" when absent */
	struct vg_buf args;     /* NUL-separated, each string with its NUL */
};

/* Make the table entry the fields describe; 0 (also when the table is full: counted). */
static int proc_apply(struct vg_proc_table *t, const struct proc_fields *f)
{
	struct vg_proc *p = proc_table_add(t, (uint32_t)f->num[PJ_PID]);
	if (!p)
		return 0;
	for (int k = PJ_PPID; k < PJ_NUMS; k++)
		pj_set(p, k, f->num[k]);
	snprintf(p->comm, sizeof(p->comm), "%s", f->str[PJ_COMM - PJ_NUMS]);
	proc_set_exe(p, f->str[PJ_EXE - PJ_NUMS]);
	proc_set_cwd(p, f->str[PJ_CWD - PJ_NUMS]);
	proc_set_args(p, f->args.data ? f->args.data : "", f->args.len);
	return 0;
}

/*
 * The exact form proc_to_json writes, without jansson (which took ~10 us a
 * record, the larger part of replaying a capture's process snapshot): one
 * object, no whitespace, each known key at most once, unsigned integers,
 * strings of printable ASCII without escapes, "args" an array of such
 * strings. Anything else returns -1 and is left to the general parser, so
 * what this accepts gives exactly what jansson would have given.
 * Strings are copied into `scratch` (NUL-terminated) and f->str points there.
 */
static int fields_fast(const char *s, size_t len, struct proc_fields *f, struct vg_buf *scratch)
{
	const char *end = s + len;
	size_t str_off[PJ_STRS - PJ_NUMS];
	unsigned int seen = 0;

	if (len < 2 || *s++ != '{')
		return -1;
	for (;;) {
		/* "key": */
		const char *k = s + 1;
		if (s >= end || *s != '"')
			return -1;
		for (s = k; s < end && *s != '"'; s++)
			if (*s < 0x20 || *s > 0x7e || *s == '\\')
				return -1;
		if (end - s < 2 || s[1] != ':')
			return -1;
		int key = -1;
		for (int i = 0; i < PJ_KEYS; i++)
			if ((size_t)(s - k) == strlen(pj_keys[i]) && !memcmp(k, pj_keys[i], s - k)) {
				key = i;
				break;
			}
		if (key < 0 || seen & 1u << key)
			return -1; /* unknown keys and duplicates: the general parser */
		seen |= 1u << key;
		s += 2;
		if (key < PJ_NUMS) {
			/* a JSON integer: no sign, no leading zero, fits jansson's int64 */
			uint64_t v = 0;
			const char *d = s;
			while (s < end && *s >= '0' && *s <= '9') {
				if (s - d >= 18 || (s > d && *d == '0'))
					return -1;
				v = v * 10 + (uint64_t)(*s++ - '0');
			}
			if (s == d || (s < end && (*s == '.' || *s == 'e' || *s == 'E')))
				return -1;
			f->num[key] = v;
		} else {
			bool array = key == PJ_ARGS;
			if (array && (s >= end || *s++ != '['))
				return -1;
			while (!array || (s < end && *s != ']')) {
				const char *b = s + 1;
				if (s >= end || *s != '"')
					return -1;
				for (s = b; s < end && *s != '"'; s++)
					if (*s < 0x20 || *s > 0x7e || *s == '\\')
						return -1;
				if (s >= end)
					return -1;
				if (array) {
					buf_add(&f->args, b, s - b);
					buf_addc(&f->args, 0);
				} else {
					str_off[key - PJ_NUMS] = scratch->len;
					buf_add(scratch, b, s - b);
					buf_addc(scratch, 0);
				}
				s++;
				if (!array)
					break;
				if (s < end && *s == ',' && s + 1 < end && s[1] == '"')
					s++;
				else if (s >= end || *s != ']')
					return -1;
			}
			if (array)
				s++; /* ']' */
		}
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s + 1 == end && *s == '}')
			break;
		return -1;
	}
	if (!(seen & 1u << PJ_PID))
		return -1;
	for (int i = PJ_NUMS; i < PJ_STRS; i++)
		f->str[i - PJ_NUMS] = seen & 1u << i ? scratch->data + str_off[i - PJ_NUMS] : "";
	return 0;
}

static uint64_t jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

int proc_from_json(struct vg_proc_table *t, const char *json, size_t len)
{
	struct proc_fields f = { 0 };
	struct vg_buf scratch = { 0 };
	json_t *o, *a, *v;
	size_t i;
	int ret;

	if (fields_fast(json, len, &f, &scratch) == 0) {
		ret = proc_apply(t, &f);
		buf_free(&f.args);
		buf_free(&scratch);
		return ret;
	}
	buf_free(&scratch);
	memset(&f.num, 0, sizeof(f.num));
	buf_free(&f.args);
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "pid"))) {
		json_decref(o);
		return -1;
	}
	for (int k = 0; k < PJ_NUMS; k++)
		f.num[k] = jnum(o, pj_keys[k]);
	for (int k = PJ_NUMS; k < PJ_STRS; k++)
		f.str[k - PJ_NUMS] = jstr(o, pj_keys[k]);
	a = json_object_get(o, "args");
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		if (s)
			buf_add(&f.args, s, strlen(s) + 1);
	}
	ret = proc_apply(t, &f);
	buf_free(&f.args);
	json_decref(o);
	return ret;
}

/* Read a whole small /proc file; returns bytes read or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* readlink of a /proc link, with the process's root (as we see it) removed, so
 * that a container's paths read as the container sees them (as in events). */
static void read_link_in_root(const char *dir, const char *name, const char *root, char *out, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = readlink(path, out, size - 1);
	if (n < 0) {
		out[0] = 0;
		return;
	}
	out[n] = 0;
	size_t rl = strlen(root);
	if (rl > 1 && strncmp(out, root, rl) == 0 && (out[rl] == '/' || out[rl] == 0)) {
		memmove(out, out + rl, strlen(out + rl) + 1);
		if (!out[0])
			strcpy(out, "/");
	}
}

struct vg_proc *proc_table_load_procfs(struct vg_proc_table *t, const char *procfs, uint32_t pid)
{
	char dir[64], path[96], root[PATH_MAX], buf[4096];
	struct vg_proc *p;
	struct stat st;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s/%u", procfs, pid);
	snprintf(path, sizeof(path), "%s/stat", dir);
	n = read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return NULL;
	/* pid (comm) state ppid pgrp session tty_nr ...; comm may hold spaces and ')' */
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned int ppid = 0, pgrp = 0, sid = 0;
	int tty = 0;
	char state;
	if (!open || !close || close < open ||
	    sscanf(close + 1, " %c %u %u %u %d", &state, &ppid, &pgrp, &sid, &tty) != 5)
		return NULL;
	p = proc_table_add(t, pid);
	if (!p)
		return NULL;
	size_t clen = close - open - 1;
	if (clen >= sizeof(p->comm))
		clen = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, clen);
	p->ppid = ppid;
	p->sid = sid;
	p->tty = tty > 0 ? ((unsigned)tty >> 8 & 0xfff) << 20 | ((unsigned)tty & 0xff) | (((unsigned)tty >> 12) & 0xfff00) : 0;
	/* field 22, starttime: clock ticks after boot (CLOCK_BOOTTIME, like event timestamps) */
	{
		const char *f = close + 1;
		int field = 2;
		while (*f && field < 22)
			if (*f++ == ' ')
				field++;
		unsigned long long ticks;
		long hz = sysconf(_SC_CLK_TCK);
		if (field == 22 && sscanf(f, "%llu", &ticks) == 1 && hz > 0)
			p->start_ns = ticks * (1000000000ULL / (unsigned long long)hz);
	}

	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_file(path, buf, sizeof(buf)) > 0) {
		char *l;
		if ((l = strstr(buf, "\nUid:")))
			sscanf(l + 5, "%u %u", &p->uid, &p->euid);
		if ((l = strstr(buf, "\nGid:")))
			sscanf(l + 5, "%u %u", &p->gid, &p->egid);
		if ((l = strstr(buf, "\nNSpid:"))) {
			/* the last number is the pid in the process's own namespace */
			char *end = strchr(l + 1, '\n');
			if (end)
				*end = 0;
			char *last = strrchr(l, '\t');
			p->vpid = last ? strtoul(last + 1, NULL, 10) : pid;
		}
	}
	snprintf(path, sizeof(path), "%s/loginuid", dir);
	if (read_file(path, buf, sizeof(buf)) > 0)
		p->loginuid = strtoul(buf, NULL, 10);

	read_link_in_root(dir, "root", "", root, sizeof(root));
	read_link_in_root(dir, "exe", root, buf, sizeof(buf));
	proc_set_exe(p, buf);
	read_link_in_root(dir, "cwd", root, buf, sizeof(buf));
	proc_set_cwd(p, buf);
	snprintf(path, sizeof(path), "%s/exe", dir);
	if (stat(path, &st) == 0)
		p->exe_ino = st.st_ino;
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	n = read_file(path, buf, sizeof(buf));
	if (n > 0)
		proc_set_args(p, buf, n);
	return p;
}
