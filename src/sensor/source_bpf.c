/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live event source: the kernel programs of src/bpf/vigil.bpf.c and their ring
 * buffer. Lifecycle: check what is needed -> choose the attachment (per-syscall
 * tracepoints or sys_exit, see enum vg_attach) -> open -> configure -> load
 * (tp_btf, or raw_tp when the kernel refuses tp_btf) -> attach -> poll -> destroy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "common/buf.h"
#include "common/log.h"
#include "common/pseudofs.h"
#include "sensor/capture.h"
#include "sensor/event_table.h"
#include "sensor/percpu.h"
#include "sensor/source.h"
#include "vigil/fair.h"
#include "vigil/flow.h"
#include "vigil/kdrop.h"
#include "vigil/kill.h"
#include "vigil.skel.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

struct bpf_source {
	struct vg_source base;
	struct vigil_bpf *skel;
	struct ring_buffer *rb;
	vg_record_fn fn; /* set for the duration of a poll */
	void *ctx;
	int stop;        /* fn's non-zero result */
	int delivered;
	uint64_t received;
	int ncpus;
	bool per_syscall;                  /* the program sits on syscalls/sys_exit_NAME tracepoints */
	struct bpf_link *tp[VG_EVT_MAX];   /* per-syscall: the link of each attached event type */
	bool tp_warned[VG_EVT_MAX];        /* per-syscall: a failed attach was reported */
	/* network flows (src/bpf/lib/flow.bpf.h): see flow_attach() and flow_report() */
	bool flows;                        /* the flow programs are loaded and attached */
	struct bpf_link *flow_links[4];    /* cgroup/sock_release, cgroup_skb/ingress, iter/tcp, iter/udp */
	uint64_t flow_interval_ns, flow_next_ns;
	uint64_t flow_reports;             /* periodic reports read from the iterators */
	int self_netns;                    /* this thread's netns, to come back after a report */
	bool kill_pinned;                  /* the programs that kill are pinned (kill terms armed) */
	bool kill_adopted;                 /* an earlier agent's pinned programs were taken (below) */
	struct bpf_link *old_kill[64];     /* ... and are held until this agent's kill is armed */
	size_t nold_kill;
};

static void kill_pins(struct bpf_source *bs, bool on);

/* libbpf speaks only when asked: our own messages say what failed, and
 * VIGIL_DEBUG_BPF=1 shows libbpf's detail (the verifier log). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!getenv("VIGIL_DEBUG_BPF"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Network flows (src/bpf/lib/flow.bpf.h, docs/flows.md). The flow event types
 * in want[] turn on the flow programs at load; the periodic reports of live
 * flows come from BPF iterators over TCP and UDP sockets, which the kernel runs
 * in the network namespace of the thread that creates them: once per interval
 * flow_report() visits each netns (found in /proc) and reads the records the
 * iterators write, handing them to the poll's callback like ring records.
 */
static uint64_t flow_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t flow_bits(const uint8_t *want)
{
	return (want[VG_EVT_FLOW_TCP] ? VG_WANT_FLOW_TCP : 0) | (want[VG_EVT_FLOW_UDP] ? VG_WANT_FLOW_UDP : 0) |
	       (want[VG_EVT_FLOW_DNS] ? VG_WANT_FLOW_DNS : 0);
}

static struct bpf_program **flow_progs(struct vigil_bpf *skel, size_t *n)
{
	static struct bpf_program *p[8];
	p[0] = skel->progs.vg_flow_tcp_state;
	p[1] = skel->progs.vg_flow_tcp_state_nested;
	p[2] = skel->progs.vg_flow_send;
	p[3] = skel->progs.vg_flow_recv;
	p[4] = skel->progs.vg_flow_release;
	p[5] = skel->progs.vg_flow_dns;
	p[6] = skel->progs.vg_flow_iter_tcp;
	p[7] = skel->progs.vg_flow_iter_udp;
	*n = 8;
	return p;
}

/* Load the flow programs or not; the cgroup and iterator ones are attached by flow_attach(). */
static void flow_autoload(struct vigil_bpf *skel, bool on)
{
	size_t n;
	struct bpf_program **p = flow_progs(skel, &n);
	for (size_t i = 0; i < n; i++) {
		bpf_program__set_autoload(p[i], on);
		if (i >= 4) /* the tracepoint ones attach with the skeleton */
			bpf_program__set_autoattach(p[i], false);
	}
}

/* Attach UDP close and DNS to the cgroup v2 root, create the iterators. 0 or -1 (logged). */
static int flow_attach(struct bpf_source *bs, const char *cgroup2_root)
{
	struct vigil_bpf *skel = bs->skel;
	int cg = cgroup2_root && *cgroup2_root ? open(cgroup2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (cg < 0) {
		vg_warn("no cgroup v2 hierarchy (%s): UDP flows are reported without their close and DNS answers "
			"are not captured", cgroup2_root && *cgroup2_root ? strerror(errno) : "not mounted");
	} else {
		bs->flow_links[0] = bpf_program__attach_cgroup(skel->progs.vg_flow_release, cg);
		bs->flow_links[1] = bpf_program__attach_cgroup(skel->progs.vg_flow_dns, cg);
		if (!bs->flow_links[0] || !bs->flow_links[1])
			vg_warn("cannot attach the flow programs to the cgroup v2 root %s: %s", cgroup2_root,
				strerror(errno));
		close(cg);
	}
	bs->flow_links[2] = bpf_program__attach_iter(skel->progs.vg_flow_iter_tcp, NULL);
	bs->flow_links[3] = bpf_program__attach_iter(skel->progs.vg_flow_iter_udp, NULL);
	if (!bs->flow_links[2] || !bs->flow_links[3])
		vg_warn("cannot create the socket iterators (%s): live flows are reported only when they close",
			strerror(errno));
	bs->self_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	bs->flow_next_ns = flow_now_ns() + bs->flow_interval_ns;
	return 0;
}

/* Run one iterator in the current netns and deliver its records; fn's non-zero result or 0. */
static int flow_iter_read(struct bpf_source *bs, struct bpf_link *link)
{
	static char buf[1 << 16];
	size_t have = 0;
	int fd = link ? bpf_iter_create(bpf_link__fd(link)) : -1;
	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
		size_t off = 0;
		while (have - off >= sizeof(struct vg_event_hdr)) {
			uint32_t len;
			memcpy(&len, buf + off + offsetof(struct vg_event_hdr, len), sizeof(len));
			if (len < sizeof(struct vg_event_hdr) || len > sizeof(buf)) {
				off = have; /* cannot happen: the kernel writes whole records */
				break;
			}
			if (have - off < len)
				break;
			bs->received++;
			bs->flow_reports++;
			int r = bs->fn(bs->ctx, buf + off, len);
			off += len;
			if (r) {
				close(fd);
				return r;
			}
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	close(fd);
	return 0;
}

/* The netns inodes already visited in this report (a small set: a node runs few). */
struct netns_seen {
	ino_t *ino;
	size_t n, cap;
};

static bool netns_add(struct netns_seen *s, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ino = xrealloc(s->ino, s->cap * sizeof(*s->ino));
	}
	s->ino[s->n++] = ino;
	return true;
}

/*
 * The periodic report: every netns that a process is in, once. A netns no
 * process is in any more (its sockets draining) is not visited: its flows
 * are reported when they close. fn's non-zero result, or 0.
 */
static int flow_report(struct bpf_source *bs)
{
	struct netns_seen seen = { 0 };
	DIR *d = opendir("/proc");
	struct dirent *de;
	int ret = 0;
	uint64_t t0 = flow_now_ns(), reports0 = bs->flow_reports;

	if (!d || bs->self_netns < 0) {
		if (d)
			closedir(d);
		return 0;
	}
	while (!ret && (de = readdir(d))) {
		char path[300];
		struct stat st;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) || !netns_add(&seen, st.st_ino))
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (setns(fd, CLONE_NEWNET) == 0) {
			ret = flow_iter_read(bs, bs->flow_links[2]);
			if (!ret)
				ret = flow_iter_read(bs, bs->flow_links[3]);
		}
		close(fd);
	}
	closedir(d);
	if (setns(bs->self_netns, CLONE_NEWNET))
		vg_err("cannot return to the agent's network namespace: %s", strerror(errno));
	/* VIGIL_DEBUG_FLOWS=1: what a report costs (bench/flows.sh reads it) */
	if (getenv("VIGIL_DEBUG_FLOWS"))
		vg_info("flow report: %zu netns, %llu records, %.2f ms", seen.n,
			(unsigned long long)(bs->flow_reports - reports0), (flow_now_ns() - t0) / 1e6);
	free(seen.ino);
	return ret;
}

/* The periodic report when it is due: fn's non-zero result, or 0. */
static int flow_report_due(struct bpf_source *bs)
{
	uint64_t now = flow_now_ns();
	if (now < bs->flow_next_ns)
		return 0;
	bs->flow_next_ns = now + bs->flow_interval_ns;
	return flow_report(bs);
}

/*
 * Records handed to the caller per poll at most: under a storm the ring buffer
 * never empties, and the caller must get control back (signals, deadlines).
 */
#define POLL_BATCH 16384

/* libbpf stops consuming only on a negative return (the record is consumed). */
#define STOP_CONSUMING (-ECANCELED)

static int on_record(void *ctx, void *data, size_t len)
{
	struct bpf_source *bs = ctx;

	bs->received++;
	bs->delivered++;
	bs->stop = bs->fn(bs->ctx, data, len);
	if (bs->stop || bs->delivered >= POLL_BATCH)
		return STOP_CONSUMING;
	return 0;
}

static int bpf_poll(struct vg_source *src, int timeout_ms, vg_record_fn fn, void *ctx)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	int ret;

	bs->fn = fn;
	bs->ctx = ctx;
	bs->stop = 0;
	bs->delivered = 0;
	ret = ring_buffer__poll(bs->rb, timeout_ms);
	/* records below the wakeup threshold are not signalled: collect them too */
	if (ret >= 0)
		ret = ring_buffer__consume(bs->rb);
	if (bs->stop)
		return bs->stop;
	if (bs->flows && ret >= 0 && bs->delivered < POLL_BATCH) {
		int r = flow_report_due(bs);
		if (r)
			return r;
	}
	if (ret < 0 && ret != -EINTR && ret != STOP_CONSUMING) {
		vg_err("cannot read the event ring buffer: %s", strerror(-ret));
		return ret;
	}
	return bs->delivered;
}

static void bpf_stats(struct vg_source *src, struct vg_source_stats *st)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	int ncpu;
	struct vg_kernel_stats *per_cpu =
		percpu_read(bpf_map__fd(bs->skel->maps.vg_stats_map), 0, sizeof(*per_cpu), &ncpu);
	uint64_t rerun = 0;

	memset(st, 0, sizeof(*st));
	st->received = bs->received;
	st->ncpus = bs->ncpus;
	for (int c = 0; per_cpu && c < ncpu; c++) {
		st->lost += per_cpu[c].lost_full;
		st->truncated += per_cpu[c].truncated;
		st->killed += per_cpu[c].killed;
		st->kill_limited += per_cpu[c].kill_limited;
		st->shed += per_cpu[c].shed;
		rerun += per_cpu[c].rerun;
		if (c < 64)
			st->lost_per_cpu[c] = per_cpu[c].lost_full;
	}
	free(per_cpu);
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, bs->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);
		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			st->missed += info.recursion_misses;
	}
	/* runs a second copy did (lib/flow.bpf.h) were not missed */
	st->missed = st->missed > rerun ? st->missed - rerun : 0;
	st->rerun = rerun;
}

static void bpf_close(struct vg_source *src)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	/* a stop, not a crash: the kill ends with the agent */
	if (bs->kill_pinned)
		kill_pins(bs, false);
	for (size_t i = 0; i < bs->nold_kill; i++)
		bpf_link__destroy(bs->old_kill[i]);
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		bpf_link__destroy(bs->tp[t]);
	for (unsigned int i = 0; i < sizeof(bs->flow_links) / sizeof(bs->flow_links[0]); i++)
		bpf_link__destroy(bs->flow_links[i]);
	if (bs->self_netns > 0)
		close(bs->self_netns);
	ring_buffer__free(bs->rb);
	vigil_bpf__destroy(bs->skel);
	free(bs);
}

static const struct vg_source_ops bpf_ops = {
	.name = "bpf",
	.poll = bpf_poll,
	.stats = bpf_stats,
	.close = bpf_close,
};

/* The tracepoint of a syscall event: the kernel names it after its SYSCALL_DEFINE. */
static const char *tracepoint_of(unsigned int type)
{
	const char *name = event_table_get(type)->name;
	return strcmp(name, "umount2") == 0 ? "umount" : name;
}

/* Per-syscall attachment: attach the wanted syscalls' tracepoints, detach the rest. */
static void attach_syscall_tracepoints(struct bpf_source *bs, const uint8_t *want)
{
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		if (event_table_syscall_nr(t) < 0)
			continue;
		if (!want[t]) {
			bpf_link__destroy(bs->tp[t]);
			bs->tp[t] = NULL;
			continue;
		}
		if (bs->tp[t])
			continue;
		char tp[64];
		snprintf(tp, sizeof(tp), "sys_exit_%s", tracepoint_of(t));
		bs->tp[t] = bpf_program__attach_tracepoint(bs->skel->progs.vg_sys_exit_tp, "syscalls", tp);
		if (!bs->tp[t] && !bs->tp_warned[t]) {
			int e = errno;
			bs->tp_warned[t] = true;
			if (e == ENOENT) /* not built: it can only fail (ENOSYS); said at the choice */
				vg_info("this kernel has no tracepoint syscalls/%s (the syscall is not built in): "
					"%s events are not captured", tp, event_table_get(t)->name);
			else
				vg_warn("cannot attach the tracepoint syscalls/%s: %s; %s events are not captured", tp,
					strerror(e), event_table_get(t)->name);
		}
	}
}

void source_bpf_set_wanted(struct vg_source *src, const uint8_t *want)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	struct vigil_bpf__bss *bss = bs->skel->bss;

	const int slots = sizeof(bss->vg_syscall_event) / sizeof(bss->vg_syscall_event[0]);
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		int nr = event_table_syscall_nr(t), nrs[4];
		size_t n = event_table_ia32_nrs(t, nrs, 4);
		if (nr >= 0 && nr < slots)
			bss->vg_syscall_event[nr] = want[t] ? t : 0;
		for (size_t i = 0; i < n; i++)
			if (nrs[i] < slots)
				bss->vg_syscall_event_ia32[nrs[i]] = want[t] ? t : 0;
	}
	bss->vg_want_procexit = want[VG_EVT_PROCEXIT] ? 1 : 0;
	if (bs->flows)
		bss->vg_want_flow = flow_bits(want);
	bool pinned = bs->kill_pinned;
	bss->vg_uring_want = (want[VG_EVT_OPENAT] ? VG_URING_WANT_OPENAT : 0) |
			     (want[VG_EVT_OPENAT2] ? VG_URING_WANT_OPENAT2 : 0) |
			     (want[VG_EVT_CONNECT] ? VG_URING_WANT_CONNECT : 0) |
			     (want[VG_EVT_IO_URING_OP] ? VG_URING_WANT_OP : 0);
	if (bs->per_syscall) {
		attach_syscall_tracepoints(bs, want);
		if (pinned)
			kill_pins(bs, true); /* the tracepoints attached now */
	}
}

void source_bpf_forget_cgroup(struct vg_source *src, uint64_t cgroup_id)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	bpf_map__delete_elem(bs->skel->maps.vg_known_cgroups, &cgroup_id, sizeof(cgroup_id), 0);
	bpf_map__delete_elem(bs->skel->maps.vg_cgroup_side, &cgroup_id, sizeof(cgroup_id), 0);
	bpf_map__delete_elem(bs->skel->maps.vg_fair_cgroups, &cgroup_id, sizeof(cgroup_id), 0);
	__sync_synchronize();
	bs->skel->bss->vg_cgroup_side_gen++; /* after the change: the filter's per-CPU answers are stale */
}

long source_bpf_cgroup_drops(struct vg_source *src, struct vg_cgroup_drops **out)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	struct bpf_map *m = bs->skel->maps.vg_fair_cgroups;
	struct vg_cgroup_drops *v = NULL;
	size_t n = 0, cap = 0;
	__u64 key, next;
	const __u64 *prev = NULL;

	*out = NULL;
	/* bounded by the map's size: an LRU map can hand a key back while it changes */
	for (unsigned int guard = 0; guard < 2 * VG_FAIR_CGROUPS; guard++) {
		struct vg_fair_cgroup c;
		if (bpf_map__get_next_key(m, prev, &next, sizeof(next)))
			break;
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(m, &key, sizeof(key), &c, sizeof(c), 0) || (!c.lost && !c.shed))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct vg_cgroup_drops){ key, c.lost, c.shed };
		if (n >= VG_FAIR_CGROUPS)
			break;
	}
	*out = v;
	return (long)n;
}

/*
 * In-kernel kill that outlives the agent. While kill terms are armed, the
 * links of the programs that kill (sys_exit, or each per-syscall tracepoint,
 * and io_uring's completion) are pinned as KILL_PIN_DIR/sensor_*: the
 * programs, their kill terms and their classification of cgroups stay in the
 * kernel when the agent dies (its records are then lost: nobody reads the ring
 * buffer). The next agent holds those links (kill_adopt), removes their pins,
 * pins its own once its terms are armed, and lets the old ones go only after
 * (source_bpf_kill_take_over): the two overlap, they never leave a gap. A stop
 * unpins: the kill ends with the agent. Not for trace or capture, which never
 * arm kills and leave the pins alone.
 */
#define KILL_PIN_DIR "/sys/fs/bpf/vigil"
#define KILL_PIN_PREFIX "sensor_"

/* Call fn on each link of a program that can kill, with a name for its pin. */
static void kill_links(struct bpf_source *bs, void (*fn)(struct bpf_link *l, const char *name))
{
	struct bpf_link *fixed[4] = { bs->skel->links.vg_sys_exit, bs->skel->links.vg_sys_exit_raw,
				      bs->skel->links.vg_uring_complete, bs->skel->links.vg_uring_complete_raw };
	static const char *const names[4] = { "sys_exit", "sys_exit_raw", "uring_complete", "uring_complete_raw" };
	char name[96];
	for (int i = 0; i < 4; i++)
		if (fixed[i])
			fn(fixed[i], names[i]);
	for (unsigned int t = 1; t < VG_EVT_MAX; t++)
		if (bs->tp[t]) {
			snprintf(name, sizeof(name), "tp_%s", event_table_get(t)->name);
			fn(bs->tp[t], name);
		}
}

static void pin_link(struct bpf_link *l, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), KILL_PIN_DIR "/" KILL_PIN_PREFIX "%s", name);
	if (bpf_link__pin_path(l))
		return;
	if (bpf_link__pin(l, path))
		vg_warn("in-kernel kill: cannot pin %s: %s; it ends with the agent", path, strerror(errno));
}

static void unpin_link(struct bpf_link *l, const char *name)
{
	(void)name;
	if (bpf_link__pin_path(l))
		bpf_link__unpin(l);
}

static void kill_pins(struct bpf_source *bs, bool on)
{
	if (on && !bs->kill_pinned) {
		int m = pseudofs_ensure(PSEUDOFS_BPFFS, "bpf", "bpf", BPF_FS_MAGIC, "mode=0700");
		if (m < 0 || (mkdir(KILL_PIN_DIR, 0700) && errno != EEXIST)) {
			vg_warn("in-kernel kill: cannot pin below %s (%s): it ends with the agent", KILL_PIN_DIR,
				strerror(errno));
			return;
		}
		vg_info("in-kernel kill: programs pinned below %s, in force even if the agent dies", KILL_PIN_DIR);
	}
	kill_links(bs, on ? pin_link : unpin_link);
	bs->kill_pinned = on;
}

/* Hold the links an earlier agent pinned and remove their pins (they stay attached while held). */
static void kill_adopt(struct bpf_source *bs)
{
	DIR *d;
	struct dirent *de;

	if (bs->kill_adopted)
		return;
	bs->kill_adopted = true;
	if (!(d = opendir(KILL_PIN_DIR)))
		return;
	while ((de = readdir(d)) && bs->nold_kill < sizeof(bs->old_kill) / sizeof(bs->old_kill[0])) {
		char path[512];
		if (strncmp(de->d_name, KILL_PIN_PREFIX, strlen(KILL_PIN_PREFIX)))
			continue;
		snprintf(path, sizeof(path), KILL_PIN_DIR "/%s", de->d_name);
		struct bpf_link *l = bpf_link__open(path);
		if (l)
			bs->old_kill[bs->nold_kill++] = l;
		unlink(path);
	}
	closedir(d);
	if (bs->nold_kill)
		vg_info("in-kernel kill: %zu program(s) an earlier agent left pinned stay in force until this agent's "
			"kill is armed", bs->nold_kill);
}

void source_bpf_kill_take_over(struct vg_source *src)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	kill_adopt(bs);
	if (bs->nold_kill)
		vg_info("in-kernel kill: taken over from the earlier agent (%zu program(s) released)", bs->nold_kill);
	for (size_t i = 0; i < bs->nold_kill; i++)
		bpf_link__destroy(bs->old_kill[i]);
	bs->nold_kill = 0;
}

int source_bpf_set_kill(struct vg_source *src, const struct vg_kill_term *terms, size_t n,
			const struct vg_kill_name *names, size_t nnames)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	struct bpf_map *tm = bs->skel->maps.vg_kill_terms, *nm = bs->skel->maps.vg_kill_names;
	struct vg_kill_name key;
	__u8 one = 1;

	if (n > VG_KILL_TERMS || nnames > VG_KILL_NAMES)
		return -E2BIG;
	/* unpublish first: the program never tests a half-written set */
	bs->skel->bss->vg_nkill = 0;
	__sync_synchronize();
	while (bpf_map__get_next_key(nm, NULL, &key, sizeof(key)) == 0) {
		if (bpf_map__delete_elem(nm, &key, sizeof(key), 0))
			return -errno;
	}
	for (__u32 i = 0; i < n; i++)
		if (bpf_map__update_elem(tm, &i, sizeof(i), &terms[i], sizeof(terms[i]), BPF_ANY))
			return -errno;
	for (size_t i = 0; i < nnames; i++)
		if (bpf_map__update_elem(nm, &names[i], sizeof(names[i]), &one, sizeof(one), BPF_ANY))
			return -errno;
	__sync_synchronize();
	bs->skel->bss->vg_nkill = (__u32)n;
	/* armed: the programs stay in force if the agent dies (an earlier agent's are taken first) */
	kill_adopt(bs);
	kill_pins(bs, n > 0);
	return 0;
}

/* Delete the keys of one bank from a hash map (key size ks; bank_of tells a key's bank). */
static int clear_bank(struct bpf_map *m, size_t ks, __u32 bank, __u32 (*bank_of)(const void *key))
{
	char key[128], next[128];
	bool have = false;

	while (bpf_map__get_next_key(m, have ? key : NULL, next, ks) == 0) {
		memcpy(key, next, ks);
		have = true;
		if (bank_of(key) == bank) {
			if (bpf_map__delete_elem(m, key, ks, 0))
				return -errno;
			have = false; /* the walk restarts: deleting may reorder it */
		}
	}
	return 0;
}

static __u32 comm_bank(const void *key)
{
	return ((const struct vg_kdrop_comm *)key)->type >> 15;
}

static __u32 path_bank(const void *key)
{
	return ((const struct vg_kdrop_path *)key)->type >> 15;
}

int source_bpf_set_kdrop(struct vg_source *src, const struct vg_kdrop_set *set)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	struct vigil_bpf__bss *bss = bs->skel->bss;
	__u32 bank = !(bss->vg_kdrop_bank & 1);
	int rc;

	if (!set) {
		bss->vg_kdrop_on = 0;
		return 0;
	}
	if (set->nterms > VG_KDROP_TERMS || set->ncomms > VG_KDROP_NAMES || set->npaths > VG_KDROP_PATHS ||
	    set->nplens > VG_KDROP_PLENS) {
		bss->vg_kdrop_on = 0;
		return -E2BIG;
	}
	/* the idle bank: the program reads the other one (or none) */
	if ((rc = clear_bank(bs->skel->maps.vg_kdrop_comms, sizeof(struct vg_kdrop_comm), bank, comm_bank)) ||
	    (rc = clear_bank(bs->skel->maps.vg_kdrop_paths, sizeof(struct vg_kdrop_path), bank, path_bank)))
		goto fail;
	for (__u32 i = 0; i < set->nterms; i++) {
		__u32 k = i + bank * VG_KDROP_TERMS;
		if (bpf_map__update_elem(bs->skel->maps.vg_kdrop_terms, &k, sizeof(k), &set->terms[i],
					 sizeof(set->terms[i]), BPF_ANY))
			goto fail_errno;
	}
	for (size_t i = 0; i < set->ncomms; i++) {
		struct vg_kdrop_comm c = set->comms[i];
		c.type |= (__u16)(bank << 15);
		if (bpf_map__update_elem(bs->skel->maps.vg_kdrop_comms, &c, sizeof(c), &set->cvals[i],
					 sizeof(set->cvals[i]), BPF_ANY))
			goto fail_errno;
	}
	for (size_t i = 0; i < set->npaths; i++) {
		struct vg_kdrop_path p = set->paths[i];
		p.type |= (__u16)(bank << 15);
		if (bpf_map__update_elem(bs->skel->maps.vg_kdrop_paths, &p, sizeof(p), &set->masks[i],
					 sizeof(set->masks[i]), BPF_ANY))
			goto fail_errno;
	}
	for (unsigned int t = 0; t < 128; t++) {
		bss->vg_kdrop_mode[bank][t] = t < VG_EVT_MAX ? set->mode[t] : 0;
		bss->vg_kdrop_first[bank][t] = t < VG_EVT_MAX ? set->first[t] : 0;
		bss->vg_kdrop_count[bank][t] = t < VG_EVT_MAX ? set->count[t] : 0;
		memset(&bss->vg_kdrop_fast[bank][t], 0, sizeof(bss->vg_kdrop_fast[bank][t]));
		if (t < VG_EVT_MAX && set->fast)
			bss->vg_kdrop_fast[bank][t] = set->fast[t];
	}
	for (size_t i = 0; i < VG_KDROP_PLENS; i++)
		bss->vg_kdrop_plen[bank][i] = i < set->nplens ? set->plens[i] : 0;
	bss->vg_kdrop_nplen[bank] = (__u32)set->nplens;
	for (size_t i = 0; i < VG_KDROP_BLOOM / 64; i++)
		bss->vg_kdrop_bloom[bank][i] = set->bloom ? set->bloom[i] : ~0ull; /* none: every bit set, no say */
	__sync_synchronize();
	bss->vg_kdrop_bank = bank; /* the swap */
	__sync_synchronize();
	bss->vg_kdrop_on = 1;
	return 0;
fail_errno:
	rc = -errno;
fail:
	bss->vg_kdrop_on = 0; /* keep everything rather than test a half-written bank */
	return rc;
}

void source_bpf_kdrop_dropped(struct vg_source *src, uint64_t *out)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	int fd = bpf_map__fd(bs->skel->maps.vg_kdrop_dropped);
	for (unsigned int t = 0; t < VG_EVT_MAX; t++)
		out[t] = t < 128 ? percpu_sum(fd, t) : 0;
}

void source_bpf_set_cgroup_side(struct vg_source *src, uint64_t cgroup_id, int side)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	__u8 v = (__u8)side;
	bpf_map__update_elem(bs->skel->maps.vg_cgroup_side, &cgroup_id, sizeof(cgroup_id), &v, sizeof(v), BPF_ANY);
	__sync_synchronize();
	bs->skel->bss->vg_cgroup_side_gen++; /* after the change: the filter's per-CPU answers are stale */
}

/* Say once, plainly, what stops the sensor from running here. */
static int check_prerequisites(void)
{
	if (geteuid() != 0) {
		vg_err("cannot start the sensor: it needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE); "
		       "run it as root, or use 'vigil replay' on a capture file");
		return -EPERM;
	}
	if (access(VMLINUX_BTF, R_OK) != 0) {
		vg_err("cannot start the sensor: this kernel has no BTF (%s missing); "
		       "Vigil needs CONFIG_DEBUG_INFO_BTF=y", VMLINUX_BTF);
		return -ENOENT;
	}
	return 0;
}

#if defined(__x86_64__)
/* i386 getpid through int 0x80 (the kernel refuses it with SIGSEGV when it has no gate). */
static long ia32_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* x32 getpid: the 64-bit instruction with bit 30 of the number set. */
static long x32_getpid(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(0x40000000L | 39) : "rcx", "r11", "memory");
	return ret;
}

/*
 * Whether the kernel runs a syscall ABI, asked by making `probe` (a harmless
 * getpid of that ABI) in a child: the kernel answers it, or refuses with
 * SIGSEGV or ENOSYS. In a child, so that a refusal or a seccomp filter that
 * kills on a foreign ABI (systemd's SystemCallArchitectures=native) cannot
 * touch the agent. Any doubt (fork fails, another signal, odd status)
 * answers yes, the safe side.
 */
static bool abi_possible(long (*probe)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return true;
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);           /* the kernel's answer, not a handler's (ASan's) */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file when the kernel refuses */
		_exit(probe() == -ENOSYS ? 2 : 0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return true;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		return false; /* no gate for it: emulation off or not built */
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}
#endif

/*
 * Whether this kernel runs 32-bit syscalls. Probed rather than read from the
 * kernel's configuration, which is not always there and can be overridden at
 * boot (ia32_emulation=).
 */
static bool ia32_syscalls_possible(void)
{
#if defined(__x86_64__)
	return abi_possible(ia32_getpid);
#else
	return false; /* no other ABI the per-syscall tracepoints would miss */
#endif
}

/*
 * Whether this kernel runs x32 syscalls (CONFIG_X86_X32_ABI; Debian's kernels
 * need syscall.x32=y at boot, most others lack it). Vigil does not decode
 * that ABI and neither attachment sees it (the number is out of the tables;
 * per-syscall tracepoints skip it like 32-bit ones), so the agent says so.
 */
static bool x32_syscalls_possible(void)
{
#if defined(__x86_64__)
	return abi_possible(x32_getpid);
#else
	return false;
#endif
}

#define TRACEFS PSEUDOFS_TRACEFS

/* libbpf finds a classic tracepoint's id in tracefs: mount it when absent, as other agents do. */
static bool tracefs_ready(void)
{
	int m = pseudofs_ensure(TRACEFS, "nodev", "tracefs", TRACEFS_MAGIC, NULL);
	if (m < 0) {
		vg_warn("cannot mount tracefs on %s: %s", TRACEFS, strerror(errno));
		return false;
	}
	if (m > 0)
		vg_info("mounted tracefs on %s (per-syscall tracepoints are found there)", TRACEFS);
	return true;
}

/* The first syscall Vigil knows that has no syscalls/sys_exit_* tracepoint here, or NULL. */
static const char *syscall_without_tracepoint(void)
{
	for (unsigned int t = 1; t < VG_EVT_MAX; t++) {
		char path[128];
		if (event_table_syscall_nr(t) < 0)
			continue;
		snprintf(path, sizeof(path), TRACEFS "/events/syscalls/sys_exit_%s", tracepoint_of(t));
		if (access(path, F_OK) != 0)
			return event_table_get(t)->name;
	}
	return NULL;
}

/* Per-syscall tracepoints or one sys_exit program (enum vg_attach); says why. */
static bool choose_per_syscall(enum vg_attach attach)
{
	if (attach == VG_ATTACH_SYS_EXIT)
		return false;
	bool ia32 = ia32_syscalls_possible();
	if (attach == VG_ATTACH_AUTO && ia32) {
		vg_info("32-bit syscalls can run on this kernel: one program on every syscall exit, so that none "
			"goes unseen (a kernel booted with ia32_emulation=0 lets Vigil attach per syscall, cheaper)");
		return false;
	}
	if (!tracefs_ready()) {
		vg_warn("per-syscall tracepoints need tracefs: one program on every syscall exit instead");
		return false;
	}
	/*
	 * A syscall the kernel does not build (no module support: init_module, ...)
	 * has no tracepoint and can only fail (ENOSYS). Seeing its attempts would
	 * take the program on every syscall exit (about 170-220 ns on every
	 * syscall here, docs/platform-notes.md "Attachment"); kprobes and fentry on
	 * sys_ni_syscall are not offered on the kernels Vigil targets (and the
	 * stubs may not call it). So auto attaches per syscall anyway and says
	 * what it does not see; --attach sys-exit sees the attempts.
	 */
	const char *missing = attach == VG_ATTACH_AUTO ? syscall_without_tracepoint() : NULL;
	if (missing)
		vg_info("this kernel has no tracepoint for %s (not built in: it can only fail with ENOSYS): its "
			"attempts are not captured per syscall; --attach sys-exit captures them, at a cost to every "
			"syscall", missing);
	if (ia32)
		vg_warn("per-syscall tracepoints, as asked: 32-bit syscalls (int 0x80, compat tasks) run on this "
			"kernel and are NOT captured");
	else
		vg_info("this kernel runs no 32-bit syscalls: attaching per syscall");
	return true;
}

/*
 * Whether this kernel has the io_uring tracepoints lib/uring.bpf.h attaches to
 * (CONFIG_IO_URING; both appeared in 5.x and kept their arguments since 6.0).
 * Asked of the kernel's BTF, which names every tracepoint it was built with.
 */
static bool uring_tracepoints_present(void)
{
	static int present = -1;
	if (present < 0) {
		struct btf *vmlinux = btf__load_vmlinux_btf();
		present = vmlinux && btf__find_by_name_kind(vmlinux, "btf_trace_io_uring_submit_req", BTF_KIND_TYPEDEF) > 0 &&
			  btf__find_by_name_kind(vmlinux, "btf_trace_io_uring_complete", BTF_KIND_TYPEDEF) > 0;
		btf__free(vmlinux);
		if (!present)
			vg_warn("this kernel has no io_uring tracepoints (io_uring not built in): io_uring operations are not "
				"captured (nor can a process use io_uring here)");
	}
	return present;
}

static struct vigil_bpf *open_and_load(const struct vg_bpf_opts *opts, int raw_tp, bool per_syscall, bool flows,
				       int *err)
{
	struct vigil_bpf *skel = vigil_bpf__open();
	unsigned int ring_mb = opts->ring_mb ? opts->ring_mb : 16;
	int ncpus = libbpf_num_possible_cpus();

	if (!skel) {
		*err = -errno;
		vg_err("cannot open the kernel programs: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->vg_self_tgid = getpid();
	skel->rodata->vg_wakeup_bytes = (opts->wakeup_kb ? opts->wakeup_kb : 64) * 1024;
	bpf_map__set_max_entries(skel->maps.vg_events, ring_mb << 20);
	bpf_map__set_max_entries(skel->maps.vg_scratch_map, ncpus > 0 ? ncpus : 1);
	/* floods: each cgroup's share of the ring buffer under pressure (lib/fair.bpf.h) */
	if (opts->fair_rate == VG_FAIR_OFF) {
		skel->rodata->vg_fair_ns_per_kib = 0;
	} else {
		uint64_t ring = (uint64_t)ring_mb << 20;
		uint64_t rate = opts->fair_rate ? (uint64_t)opts->fair_rate << 10 : ring / VG_FAIR_RATE_DIVISOR;
		uint64_t burst = opts->fair_burst ? (uint64_t)opts->fair_burst << 10 : rate;
		unsigned int pct = opts->fair_pressure_pct ? opts->fair_pressure_pct : VG_FAIR_PRESSURE_DEFAULT;
		skel->rodata->vg_fair_ns_per_kib = 1024000000000ull / rate;
		skel->rodata->vg_fair_tolerance_ns = burst * skel->rodata->vg_fair_ns_per_kib / 1024;
		skel->rodata->vg_fair_pressure_bytes = ring / 100 * pct;
		skel->rodata->vg_fair_critical_bytes = ring - (ring - skel->rodata->vg_fair_pressure_bytes) / 4;
	}
	bpf_program__set_autoload(skel->progs.vg_sys_exit, !raw_tp && !per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sched_exit, !raw_tp);
	bpf_program__set_autoload(skel->progs.vg_sys_exit_raw, raw_tp && !per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sys_exit_tp, per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sched_exit_raw, raw_tp);
	flow_autoload(skel, flows && !raw_tp);
	bool uring = uring_tracepoints_present();
	bpf_program__set_autoload(skel->progs.vg_uring_submit, uring && !raw_tp);
	bpf_program__set_autoload(skel->progs.vg_uring_complete, uring && !raw_tp);
	bpf_program__set_autoload(skel->progs.vg_uring_submit_raw, uring && raw_tp);
	bpf_program__set_autoload(skel->progs.vg_uring_complete_raw, uring && raw_tp);
	*err = vigil_bpf__load(skel);
	if (*err) {
		vigil_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct vg_source *source_bpf_open(const struct vg_bpf_opts *opts)
{
	struct bpf_source *bs;
	struct vigil_bpf *skel;
	int err;

	if (check_prerequisites())
		return NULL;
	if (opts->ring_mb & (opts->ring_mb - 1)) {
		vg_err("cannot start the sensor: ring buffer size %u MiB is not a power of two", opts->ring_mb);
		return NULL;
	}
	libbpf_set_print(libbpf_print);
	/* VIGIL_FORCE_RAW_TP=1 takes the fallback path on purpose (tests, odd kernels) */
	const char *force_raw = getenv("VIGIL_FORCE_RAW_TP");
	int raw_only = force_raw && *force_raw && strcmp(force_raw, "0");
	bool per_syscall = choose_per_syscall(opts->attach);
	if (x32_syscalls_possible())
		vg_warn("x32 syscalls (the x86-64 instruction with bit 30 of the number set) run on this kernel and are "
			"NOT captured: boot without syscall.x32=y, or a kernel without CONFIG_X86_X32_ABI, to close it");
	if (raw_only)
		vg_info("using raw tracepoints (VIGIL_FORCE_RAW_TP is set)");
	bool flows = flow_bits(opts->want) != 0 && !raw_only;
	skel = open_and_load(opts, raw_only, per_syscall, flows, &err);
	if (!skel && flows) {
		vg_warn("the network flow programs were refused (%s): flows are not captured", strerror(-err));
		flows = false;
		skel = open_and_load(opts, raw_only, per_syscall, flows, &err);
	}
	if (!skel && per_syscall) {
		vg_warn("the per-syscall tracepoint program was refused (%s); one program on every syscall exit instead",
			strerror(-err));
		per_syscall = false;
		skel = open_and_load(opts, raw_only, false, flows, &err);
	}
	if (!skel && !raw_only) {
		vg_warn("BTF tracepoints (tp_btf) refused by this kernel (%s); falling back to raw tracepoints",
			strerror(-err));
		if (flows)
			vg_warn("network flows need BTF tracepoints: not captured");
		flows = false;
		skel = open_and_load(opts, 1, false, false, &err);
	}
	if (!skel) {
		vg_err("cannot load the kernel programs: %s (set VIGIL_DEBUG_BPF=1 for the verifier log)",
		       strerror(-err));
		return NULL;
	}
	bs = xcalloc(1, sizeof(*bs));
	bs->base.ops = &bpf_ops;
	bs->skel = skel;
	bs->ncpus = libbpf_num_possible_cpus();
	bs->per_syscall = per_syscall;
	bs->flows = flows;
	bs->self_netns = -1;
	bs->flow_interval_ns = (uint64_t)(opts->flow_interval_s ? opts->flow_interval_s : 30) * 1000000000ull;
	bs->base.boot_to_realtime = capture_boot_to_realtime();
	gethostname(bs->base.hostname, sizeof(bs->base.hostname) - 1);
	source_bpf_set_wanted(&bs->base, opts->want);
	err = vigil_bpf__attach(skel);
	if (err) {
		vg_err("cannot attach the kernel programs: %s", strerror(-err));
		goto fail;
	}
	if (bs->flows && flow_attach(bs, opts->cgroup2_root) < 0)
		goto fail;
	bs->rb = ring_buffer__new(bpf_map__fd(skel->maps.vg_events), on_record, bs, NULL);
	if (!bs->rb) {
		vg_err("cannot map the event ring buffer: %s", strerror(errno));
		goto fail;
	}
	return &bs->base;
fail:
	bpf_close(&bs->base);
	return NULL;
}
