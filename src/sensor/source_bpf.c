/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live event source: the kernel programs of src/bpf/vigil.bpf.c and their ring
 * buffer. Lifecycle: check what is needed -> choose the attachment (per-syscall
 * tracepoints or sys_exit, see enum vg_attach) -> open -> configure -> load
 * (tp_btf, or raw_tp when the kernel refuses tp_btf) -> attach -> poll -> destroy.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

	memset(st, 0, sizeof(*st));
	st->received = bs->received;
	st->ncpus = bs->ncpus;
	for (int c = 0; per_cpu && c < ncpu; c++) {
		st->lost += per_cpu[c].lost_full;
		st->truncated += per_cpu[c].truncated;
		st->killed += per_cpu[c].killed;
		st->kill_limited += per_cpu[c].kill_limited;
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
			if (e == ENOENT)
				vg_warn("this kernel has no tracepoint syscalls/%s (the syscall is not built in): "
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

void source_bpf_set_cgroup_side(struct vg_source *src, uint64_t cgroup_id, int side)
{
	struct bpf_source *bs = (struct bpf_source *)src;
	__u8 v = (__u8)side;
	bpf_map__update_elem(bs->skel->maps.vg_cgroup_side, &cgroup_id, sizeof(cgroup_id), &v, sizeof(v), BPF_ANY);
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
	const char *missing = attach == VG_ATTACH_AUTO ? syscall_without_tracepoint() : NULL;
	if (missing) {
		vg_info("this kernel has no tracepoint for %s (not built in): one program on every syscall exit, "
			"so that even a failing attempt is seen", missing);
		return false;
	}
	if (ia32)
		vg_warn("per-syscall tracepoints, as asked: 32-bit syscalls (int 0x80, compat tasks) run on this "
			"kernel and are NOT captured");
	else
		vg_info("32-bit syscalls cannot run on this kernel: attaching per syscall");
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

static struct vigil_bpf *open_and_load(const struct vg_bpf_opts *opts, int raw_tp, bool per_syscall, int *err)
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
	bpf_program__set_autoload(skel->progs.vg_sys_exit, !raw_tp && !per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sched_exit, !raw_tp);
	bpf_program__set_autoload(skel->progs.vg_sys_exit_raw, raw_tp && !per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sys_exit_tp, per_syscall);
	bpf_program__set_autoload(skel->progs.vg_sched_exit_raw, raw_tp);
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
	skel = open_and_load(opts, raw_only, per_syscall, &err);
	if (!skel && per_syscall) {
		vg_warn("the per-syscall tracepoint program was refused (%s); one program on every syscall exit instead",
			strerror(-err));
		per_syscall = false;
		skel = open_and_load(opts, raw_only, false, &err);
	}
	if (!skel && !raw_only) {
		vg_warn("BTF tracepoints (tp_btf) refused by this kernel (%s); falling back to raw tracepoints",
			strerror(-err));
		skel = open_and_load(opts, 1, false, &err);
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
	bs->base.boot_to_realtime = capture_boot_to_realtime();
	gethostname(bs->base.hostname, sizeof(bs->base.hostname) - 1);
	source_bpf_set_wanted(&bs->base, opts->want);
	err = vigil_bpf__attach(skel);
	if (err) {
		vg_err("cannot attach the kernel programs: %s", strerror(-err));
		goto fail;
	}
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
