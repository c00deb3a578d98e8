/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the running agent is, so that rules can see acts against it
 * (docs/events.md, "Tampering with the agent"): its process, the files it is
 * made of and reads (binary, rules, policies, alert store), the BPF objects it
 * holds and where it pins them. The live agent records it as a STATE_AGENT
 * record (JSON, agent_self_to_json), so that a capture replays with the same
 * agent; replay makes no live lookups (below), so it matches the agent's
 * files by path and its threads by the main pid only.
 *
 * agent_self_target() names what of the agent an event acts on. It reads the
 * event and, for paths, stats them as the acting process sees them
 * (/proc/PID/root/PATH), so that a container that bind-mounted the agent's
 * rules under another name is still caught: a file is the agent's when it is
 * the same inode, or (after an unlink or a rename) the same name in the same
 * directory inode.
 */
#ifndef VIGIL_STATE_AGENT_SELF_H
#define VIGIL_STATE_AGENT_SELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sensor/decode.h"

#define AGENT_SELF_FILES 64
#define AGENT_SELF_BPF_IDS 256

struct vg_agent_file {
	const char *kind; /* "binary", "rules", "config", "store" (static strings) */
	char *path;
	char *base;       /* last component */
	dev_t dev, pdev;  /* the file and its directory */
	ino_t ino, pino;
	bool have_file, have_dir;
};

struct vg_agent_self {
	bool live;                      /* may look at /proc and stat files (not in replay) */
	uint32_t pid, pgid;
	uint64_t pidns, mntns;          /* inodes of the agent's pid and mount namespaces */
	const char *procfs;             /* "/proc" */
	struct vg_agent_file files[AGENT_SELF_FILES];
	size_t nfiles;
	/* ids of the BPF objects the agent holds, as (type << 32 | id); type 1 prog, 2 map, 3 link */
	uint64_t bpf_ids[AGENT_SELF_BPF_IDS];
	size_t nbpf_ids;
	uint64_t bpf_scanned_ns;        /* last scan of /proc/self/fdinfo (CLOCK_MONOTONIC) */
	char pin_dir[256];              /* where its objects are pinned */
	char bpffs[256];                /* the bpffs mount point they are pinned on */
};

/* The agent that calls it: its pid, process group and pid namespace. Never fails; free with agent_self_free. */
struct vg_agent_self *agent_self_new(const char *pin_dir, const char *bpffs);
void agent_self_free(struct vg_agent_self *s);

/*
 * Record a file of the agent (path need not exist yet: its directory is
 * recorded). kind is a static string. Returns 0, or -1 when the table is full
 * or the path is not absolute after realpath of its directory.
 */
int agent_self_add_file(struct vg_agent_self *s, const char *kind, const char *path);

/* The description as a JSON object (the STATE_AGENT record's body). Owned by the caller. */
char *agent_self_to_json(const struct vg_agent_self *s);
/*
 * A description read back from a STATE_AGENT record (never reads outside
 * [data, data+len)); live lookups off. NULL when it does not parse.
 */
struct vg_agent_self *agent_self_from_json(const char *data, size_t len);

/* Read the ids of the BPF objects this process holds (/proc/self/fdinfo). Returns how many. */
size_t agent_self_scan_bpf(struct vg_agent_self *s);

/*
 * What of the agent `ev` acts on: "signal", "ptrace", "memory", "binary",
 * "rules", "config", "store", "bpf", "bpffs", or NULL (nothing, or s is NULL).
 * path and path2 are the event's resolved paths (the file, and a rename's
 * new path), NULL when it has none. Live lookups (stat, /proc) happen only
 * for events that can be such an act.
 */
const char *agent_self_target(struct vg_agent_self *s, const struct vg_event *ev, const char *path,
			      const char *path2);

#endif
