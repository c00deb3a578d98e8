/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event source interface: everything above it (decoding, state, rules,
 * outputs) reads raw records the same way from the live kernel or from a
 * capture file, which is what makes it testable without root.
 */
#ifndef VIGIL_SOURCE_H
#define VIGIL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_SOURCE_EOF (-100000) /* poll: a finite source (capture file) is exhausted; not an errno */

/* Called for each record; a non-zero return stops the poll and is returned by it. */
typedef int (*vg_record_fn)(void *ctx, const void *rec, size_t len);
struct vg_event;
/* Called for each decoded record (valid for the call only); as vg_record_fn otherwise. */
typedef int (*vg_event_fn)(void *ctx, const struct vg_event *ev);

struct vg_source_stats {
	uint64_t received;  /* records delivered */
	uint64_t lost;      /* records the kernel could not queue (ring buffer full) */
	uint64_t truncated; /* records with a parameter cut to fit */
	uint64_t missed;    /* program runs the kernel skipped (recursion) */
	uint64_t rerun;     /* of those, runs a second copy of the program did (not in missed) */
	uint64_t killed;    /* processes the kernel killed (in-kernel kill) */
	uint64_t kill_limited; /* in-kernel kills left to userspace by the rate limit */
	unsigned int ncpus;
	uint64_t lost_per_cpu[64]; /* first 64 CPUs */
	uint64_t shed;      /* records the per-cgroup fairness dropped (over a cgroup's share) */
};

struct vg_source;

struct vg_source_ops {
	const char *name;
	/* Deliver pending records to fn, waiting up to timeout_ms for the first.
	 * Returns the number delivered (0 on timeout), VG_SOURCE_EOF, fn's
	 * non-zero result, or another negative errno with the reason logged. */
	int (*poll)(struct vg_source *src, int timeout_ms, vg_record_fn fn, void *ctx);
	/* Optional (NULL: not offered): as poll, but each record is handed over
	 * decoded by the check the source makes anyway, so that it is decoded once
	 * (the capture reader). Records that fail the check are not delivered. */
	int (*poll_events)(struct vg_source *src, int timeout_ms, vg_event_fn fn, void *ctx);
	void (*stats)(struct vg_source *src, struct vg_source_stats *st);
	void (*close)(struct vg_source *src);
};

struct vg_source {
	const struct vg_source_ops *ops;
	uint64_t boot_to_realtime; /* ns to add to a record's ts to get wall-clock time */
	char hostname[64];
};

static inline int source_poll(struct vg_source *s, int timeout_ms, vg_record_fn fn, void *ctx)
{
	return s->ops->poll(s, timeout_ms, fn, ctx);
}

static inline void source_stats(struct vg_source *s, struct vg_source_stats *st)
{
	s->ops->stats(s, st);
}

static inline void source_close(struct vg_source *s)
{
	if (s)
		s->ops->close(s);
}

/* Live kernel capture. */
/*
 * How the syscall program is attached (docs/platform-notes.md, "Attachment").
 * One program on the kernel's sys_exit tracepoint runs for every syscall of
 * every task and sees 32-bit syscalls too; per-syscall tracepoints run it only
 * for the wanted syscalls (an unwanted one costs about half as much) but never
 * fire for 32-bit syscalls. AUTO takes per-syscall tracepoints only where the
 * kernel cannot run 32-bit syscalls, so nothing can hide behind the other ABI.
 */
enum vg_attach {
	VG_ATTACH_AUTO,
	VG_ATTACH_SYS_EXIT,
	VG_ATTACH_SYSCALLS,
};

struct vg_bpf_opts {
	const uint8_t *want;      /* want[type] != 0: capture that event type (VG_EVT_MAX entries) */
	enum vg_attach attach;
	unsigned int ring_mb;     /* ring buffer size in MiB (power of two), 0: default 16 */
	unsigned int wakeup_kb;   /* wake the reader when this much is queued, 0: default 64 */
	/* network flows (want[] holds flow_tcp/flow_udp/flow_dns): docs/flows.md */
	unsigned int flow_interval_s; /* live flows reported every this many seconds, 0: default 30 */
	const char *cgroup2_root;     /* where cgroup v2 is mounted (UDP close, DNS answers), NULL: none */
	/* floods: per-cgroup fairness of the ring buffer (include/vigil/fair.h) */
	unsigned int fair_rate;         /* KiB/s per cgroup under pressure; 0: default (ring/16 a second); VG_FAIR_OFF: none */
	unsigned int fair_burst;        /* KiB of burst; 0: one second of fair_rate */
	unsigned int fair_pressure_pct; /* ring buffer filled from which shares apply; 0: default */
};

#define VG_FAIR_OFF UINT32_MAX

/* Load and attach the kernel programs. On failure returns NULL and logs one
 * message that says what is missing (root, BTF, a program type). */
struct vg_source *source_bpf_open(const struct vg_bpf_opts *opts);
/* Change the captured event types of a running live source. */
void source_bpf_set_wanted(struct vg_source *src, const uint8_t *want);
/*
 * In-kernel kill (include/vigil/kill.h): replace the kernel's terms and their
 * process names (n = 0 turns it off). 0 or a negative errno.
 */
struct vg_kill_term;
struct vg_kill_name;
int source_bpf_set_kill(struct vg_source *src, const struct vg_kill_term *terms, size_t n,
			const struct vg_kill_name *names, size_t nnames);
/*
 * The running agent's kill is armed (or it has none): the kill programs an
 * earlier agent left pinned are released. Only `vigil run` calls it. Can't fail.
 */
void source_bpf_kill_take_over(struct vg_source *src);
/* Tell the kill program whether a cgroup is a container's (VG_KILL_CONTAINER) or the host's. */
void source_bpf_set_cgroup_side(struct vg_source *src, uint64_t cgroup_id, int side);
/* The cgroup is gone: the kernel may forget it was announced. Can't fail. */
void source_bpf_forget_cgroup(struct vg_source *src, uint64_t cgroup_id);

/*
 * Floods: what each cgroup lost, as the kernel counts it (lost: refused by a
 * full ring buffer; shed: over its share under pressure). Only cgroups with
 * a loss are listed; *out is malloc'd (NULL when none). Count, or -errno.
 */
struct vg_cgroup_drops {
	uint64_t cgroup_id, lost, shed;
};
long source_bpf_cgroup_drops(struct vg_source *src, struct vg_cgroup_drops **out);

/*
 * In-kernel dropping (include/vigil/kdrop.h; engine/kdrop.h builds the
 * tables): the filter is written to the bank the program is not reading,
 * then the banks are swapped, so the program never sees half of one. NULL
 * turns dropping off (every event kept). 0 or a negative errno (dropping is
 * then off).
 */
struct vg_kdrop_term;
struct vg_kdrop_comm;
struct vg_kdrop_comm_val;
struct vg_kdrop_path;
struct vg_kdrop_set {
	const uint8_t *mode;   /* VG_EVT_MAX entries each */
	const uint16_t *first;
	const uint8_t *count;
	const struct vg_kdrop_term *terms;
	size_t nterms;
	const struct vg_kdrop_comm *comms; /* process names by type, and their masks */
	const struct vg_kdrop_comm_val *cvals;
	size_t ncomms;
	const struct vg_kdrop_path *paths;
	const uint64_t *masks;
	size_t npaths;
	const uint16_t *plens;
	size_t nplens;
	const struct vg_kdrop_fast *fast; /* VG_EVT_MAX entries */
	const uint64_t *bloom;            /* VG_KDROP_BLOOM bits */
};
int source_bpf_set_kdrop(struct vg_source *src, const struct vg_kdrop_set *set);
/* Events dropped so far, per event type (out: VG_EVT_MAX entries, summed over CPUs). */
void source_bpf_kdrop_dropped(struct vg_source *src, uint64_t *out);

/* Replay of a capture file (see capture.h). NULL with a logged error on failure. */
struct vg_source *source_capture_open(const char *path);

#endif
