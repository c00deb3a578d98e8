/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process table: one entry per live process (thread group), keyed by host
 * pid, kept by fork/exec/exit records. Memory is bounded: entries are freed
 * when their process exits, and the table refuses new entries past its limit
 * (counted in `refused`).
 */
#ifndef VIGIL_PROC_TABLE_H
#define VIGIL_PROC_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "common/hmap.h"

struct vg_proc {
	struct hmap_node node; /* key: pid */
	uint32_t pid, ppid, vpid, sid, tty;
	uint32_t uid, gid, euid, egid, loginuid;
	uint64_t cgroup_id;
	char comm[16];
	char *exe;          /* absolute path as the process sees it, never NULL */
	char *args;         /* argv, NUL-separated, argv[0] included; args_len bytes */
	uint32_t args_len;
	char *cwd;          /* never NULL */
	uint64_t exe_ino;
	uint32_t exe_flags; /* VG_EXE_* */
	uint64_t start_ns;  /* CLOCK_BOOTTIME ns of the fork (0: unknown) */
	/* successful execs since the fork that made it: 0 until its first; an entry whose
	 * fork was not seen (read from /proc, a state record) starts at 1 */
	uint32_t exec_count;
	char *env;          /* environment, NUL-separated, env_len bytes; NULL: not known */
	uint32_t env_len;
	uint64_t gone_since; /* live sweep: when the process was first found gone (0: alive) */
};

struct vg_proc_table {
	struct hmap map;
	size_t max;
	uint64_t refused;
};

void proc_table_init(struct vg_proc_table *t, size_t max);
void proc_table_free(struct vg_proc_table *t);
struct vg_proc *proc_table_get(const struct vg_proc_table *t, uint32_t pid);
/* A new zeroed entry for pid (replacing any old one), or NULL when the table is full. */
struct vg_proc *proc_table_add(struct vg_proc_table *t, uint32_t pid);
void proc_table_remove(struct vg_proc_table *t, uint32_t pid);
/* The n-th ancestor (1 = parent), or NULL when unknown. Stops on loops. */
struct vg_proc *proc_table_ancestor(const struct vg_proc_table *t, const struct vg_proc *p, unsigned int n);

/* Entry fields; each replaces the old value and copies its input. */
void proc_set_exe(struct vg_proc *p, const char *exe);
void proc_set_cwd(struct vg_proc *p, const char *cwd);
void proc_set_args(struct vg_proc *p, const char *args, size_t len);
void proc_set_env(struct vg_proc *p, const char *env, size_t len);
/* Copy exe, args, cwd and exe identity from another entry (fork). */
void proc_inherit(struct vg_proc *child, const struct vg_proc *parent);

/* JSON for STATE_PROC records, and back. from_json returns 0 or -1 (bad input, any input). */
char *proc_to_json(const struct vg_proc *p);
int proc_from_json(struct vg_proc_table *t, const char *json, size_t len);

/* Live only: read /proc/<pid> into a new entry (NULL if the process is gone). */
struct vg_proc *proc_table_load_procfs(struct vg_proc_table *t, const char *procfs, uint32_t pid);

#endif
