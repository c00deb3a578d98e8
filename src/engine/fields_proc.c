/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.* and thread.*: the process an event came from, its ancestors and
 * its session, as the process table holds them (no value where the table
 * does not know the process), and the thread's ids and capabilities.
 */
#include <string.h>
#include "common/buf.h"
#include "engine/fields_internal.h"

/* ---- proc.* ---- */

#define PROC_OR_NA(c) do { if (!(c)->p) return 0; } while (0)

static const char *proc_name(const struct vg_proc *p)
{
	return p->comm;
}

static const char *exe_base(struct ectx *c, const struct vg_proc *p, size_t *len)
{
	(void)c; /* the signature of the other texts of a process (proc_text) */
	/* Falco's proc.exe is argv[0] as written; proc.exepath the full path */
	if (p->args && p->args_len) {
		*len = strnlen(p->args, p->args_len);
		return p->args;
	}
	*len = strlen(p->exe);
	return p->exe;
}

static int f_proc_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (c->p)
		return put_str(o, proc_name(c->p));
	return put_strn(o, c->ev->hdr.comm, strnlen(c->ev->hdr.comm, sizeof(c->ev->hdr.comm)));
}

static int f_proc_exepath(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_str(o, c->p->exe);
}

/* s[0..n) with every NUL made a space (argv and environ joined, as Falco shows them). */
static void nul_to_space(char *s, size_t n)
{
	for (char *q = s, *end = s + n; q < end && (q = memchr(q, 0, (size_t)(end - q))); q++)
		*q = ' ';
}

/* argv[1..] joined by spaces */
static const char *args_text(struct ectx *c, const struct vg_proc *p, size_t *len)
{
	size_t first = p->args ? strnlen(p->args, p->args_len) : 0;
	size_t n = p->args && first + 1 < p->args_len ? p->args_len - first - 1 : 0;
	char *s = arena_dup(&c->arena, n ? p->args + first + 1 : "", n);
	n = arena_kept(n);
	nul_to_space(s, n);
	*len = n;
	return s;
}

static const char *cmdline_text(struct ectx *c, const struct vg_proc *p, size_t *len)
{
	size_t alen;
	const char *a = args_text(c, p, &alen);
	struct vg_buf *b = scratch_buf(c);
	buf_adds(b, proc_name(p));
	if (alen) {
		buf_addc(b, ' ');
		buf_add(b, a, alen);
	}
	const char *s = arena_dup(&c->arena, b->data ? b->data : "", b->len);
	*len = b->len;
	return s;
}

/* The text `text` builds from process p as the value; no value without p. Inline: `text` is a constant. */
static inline int proc_text(struct ectx *c, const struct vg_proc *p, struct fval *o,
			    const char *(*text)(struct ectx *, const struct vg_proc *, size_t *))
{
	if (!p)
		return 0;
	o->s = text(c, p, &o->len);
	return 1;
}

static int f_proc_exe(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return proc_text(c, c->p, o, exe_base); }
static int f_proc_args(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return proc_text(c, c->p, o, args_text); }
static int f_proc_cmdline(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return proc_text(c, c->p, o, cmdline_text); }

static int f_proc_cwd(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	/* Falco's cwd ends with a slash */
	size_t n = strlen(c->p->cwd);
	if (n && c->p->cwd[n - 1] == '/')
		return put_str(o, c->p->cwd);
	char *s = arena_dup(&c->arena, c->p->cwd, n + 1);
	s[n] = '/';
	return put_strn(o, s, n + 1);
}

static int f_proc_ppid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->p ? c->p->ppid : c->ev->hdr.ppid);
}

static const struct vg_proc *parent_of(const struct ectx *c)
{
	return c->p ? proc_table_ancestor(&c->st->procs, c->p, 1) : NULL;
}

static int f_proc_pname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	return pp ? put_str(o, proc_name(pp)) : 0;
}

static int f_proc_pexepath(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	return pp ? put_str(o, pp->exe) : 0;
}

static int f_proc_pexe(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return proc_text(c, parent_of(c), o, exe_base); }
static int f_proc_pcmdline(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return proc_text(c, parent_of(c), o, cmdline_text); }

/*
 * Ancestor fields: with an index N the N-th ancestor (0 = the process itself,
 * 1 = parent); without one, every ancestor (Falco: "any ancestor matches").
 * Which member of each ancestor is the field table's `off`.
 */
enum anc_what { ANC_NAME, ANC_EXE, ANC_EXEPATH, ANC_PID, ANC_CMDLINE };

static int f_proc_ancestors(struct ectx *c, const struct fref *r, struct fval *o)
{
	enum anc_what w = (enum anc_what)r->def->off;
	const struct vg_proc *p = c->p;
	int n = 0;
	if (!p)
		return 0;
	long from = r->argn >= 0 ? r->argn : 1, to = r->argn >= 0 ? r->argn : FV_MAX;
	const struct vg_proc *a = from ? proc_table_ancestor(&c->st->procs, p, (unsigned int)from) : p;
	for (long k = from; a && k <= to && n < FV_MAX; k++) {
		size_t len;
		const char *s;
		switch (w) {
		case ANC_NAME: n += put_str(&o[n], proc_name(a)); break;
		case ANC_EXE: s = exe_base(c, a, &len); n += put_strn(&o[n], s, len); break;
		case ANC_EXEPATH: n += put_str(&o[n], a->exe); break;
		case ANC_PID: n += put_int(&o[n], a->pid); break;
		case ANC_CMDLINE: s = cmdline_text(c, a, &len); n += put_strn(&o[n], s, len); break;
		}
		a = proc_table_ancestor(&c->st->procs, a, 1);
	}
	return n;
}

/* The session leader: the nearest ancestor (or self) whose pid is the session id. */
static int f_proc_sname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *a = c->p;
	uint32_t sid = c->ev->hdr.sid;
	for (int k = 0; a && k < 4096; k++) {
		if (a->pid == sid || a->vpid == sid)
			return put_str(o, proc_name(a));
		a = proc_table_ancestor(&c->st->procs, a, 1);
	}
	return 0;
}

static int f_proc_is_upper(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_int(o, !!(c->p->exe_flags & VG_EXE_UPPER_LAYER));
}

static int f_proc_is_memfd(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_int(o, !!(c->p->exe_flags & VG_EXE_MEMFD));
}

static int f_proc_exe_ino(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return c->p->exe_ino ? put_int(o, (int64_t)c->p->exe_ino) : 0;
}

static int f_proc_exec_count(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	return put_int(o, c->p->exec_count);
}

static int f_proc_duration(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	PROC_OR_NA(c);
	if (!c->p->start_ns || c->p->start_ns > c->ev->hdr.ts)
		return 0;
	return put_int(o, (int64_t)(c->ev->hdr.ts - c->p->start_ns));
}

static int f_proc_ppid_duration(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	const struct vg_proc *pp = parent_of(c);
	if (!pp || !pp->start_ns || pp->start_ns > c->ev->hdr.ts)
		return 0;
	return put_int(o, (int64_t)(c->ev->hdr.ts - pp->start_ns));
}

static int f_proc_env(struct ectx *c, const struct fref *r, struct fval *o)
{
	PROC_OR_NA(c);
	const char *e = c->p->env;
	size_t n = c->p->env_len;
	if (!e)
		return 0;
	if (r->arg) {
		size_t klen = strlen(r->arg);
		for (size_t i = 0; i < n;) {
			size_t l = strnlen(e + i, n - i);
			if (l > klen && !memcmp(e + i, r->arg, klen) && e[i + klen] == '=')
				return put_strn(o, e + i + klen + 1, l - klen - 1);
			i += l + 1;
		}
		return 0;
	}
	char *s = arena_dup(&c->arena, e, n);
	n = arena_kept(n);
	nul_to_space(s, n);
	return put_strn(o, s, n);
}

static int f_proc_pid_is_leader(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.pid == c->ev->hdr.sid);
}

/* ---- thread capabilities ---- */

static const char *cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static int caps_text(struct ectx *c, uint64_t caps, struct fval *o)
{
	struct vg_buf b = { 0 };
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
		if (caps & (1ull << i)) {
			if (b.len)
				buf_addc(&b, ' ');
			buf_adds(&b, cap_names[i]);
		}
	}
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

/* The capability set at the field's `off` in the event header, as names. */
static int f_thread_caps(struct ectx *c, const struct fref *r, struct fval *o)
{
	uint64_t caps;
	memcpy(&caps, (const char *)&c->ev->hdr + r->def->off, sizeof(caps));
	return caps_text(c, caps, o);
}

static const struct fdef defs[] = {
	{ "proc.name", FT_STR, FA_NONE, false, f_proc_name, "process name (comm)" },
	{ "proc.exe", FT_STR, FA_NONE, false, f_proc_exe, "argv[0]" },
	{ "proc.exepath", FT_STR, FA_NONE, false, f_proc_exepath, "absolute executable path" },
	{ "proc.args", FT_STR, FA_NONE, false, f_proc_args, "arguments after argv[0]" },
	{ "proc.cmdline", FT_STR, FA_NONE, false, f_proc_cmdline, "name and arguments" },
	{ "proc.cwd", FT_STR, FA_NONE, false, f_proc_cwd, "working directory" },
	{ "proc.pid", FT_INT, FA_NONE, false, field_hdr_u32, "process id", NULL, HDR_OFF(pid) },
	{ "proc.ppid", FT_INT, FA_NONE, false, f_proc_ppid, "parent process id" },
	{ "proc.vpid", FT_INT, FA_NONE, false, field_hdr_u32, "process id in its pid namespace", NULL, HDR_OFF(vpid) },
	{ "proc.sid", FT_INT, FA_NONE, false, field_hdr_u32, "session id", NULL, HDR_OFF(sid) },
	{ "proc.tty", FT_INT, FA_NONE, false, field_hdr_u32, "controlling terminal (0: none)", NULL, HDR_OFF(tty) },
	{ "proc.pname", FT_STR, FA_NONE, false, f_proc_pname, "parent name" },
	{ "proc.pexe", FT_STR, FA_NONE, false, f_proc_pexe, "parent argv[0]" },
	{ "proc.pexepath", FT_STR, FA_NONE, false, f_proc_pexepath, "parent executable path" },
	{ "proc.pcmdline", FT_STR, FA_NONE, false, f_proc_pcmdline, "parent command line" },
	{ "proc.aname", FT_STR, FA_OPTIONAL, true, f_proc_ancestors, "ancestor name ([N]: N-th, none: any)", NULL, ANC_NAME },
	{ "proc.aexe", FT_STR, FA_OPTIONAL, true, f_proc_ancestors, "ancestor argv[0]", NULL, ANC_EXE },
	{ "proc.aexepath", FT_STR, FA_OPTIONAL, true, f_proc_ancestors, "ancestor executable path", NULL, ANC_EXEPATH },
	{ "proc.apid", FT_INT, FA_OPTIONAL, true, f_proc_ancestors, "ancestor pid", NULL, ANC_PID },
	{ "proc.acmdline", FT_STR, FA_OPTIONAL, true, f_proc_ancestors, "ancestor command line", NULL, ANC_CMDLINE },
	{ "proc.sname", FT_STR, FA_NONE, false, f_proc_sname, "session leader name" },
	{ "proc.is_exe_upper_layer", FT_BOOL, FA_NONE, false, f_proc_is_upper,
	  "executable on the overlay upper layer (written in the container)" },
	{ "proc.is_exe_from_memfd", FT_BOOL, FA_NONE, false, f_proc_is_memfd, "executable is a memfd" },
	{ "proc.exe_ino", FT_INT, FA_NONE, false, f_proc_exe_ino, "executable inode" },
	{ "proc.exe_ino.ctime", FT_INT, FA_NONE, false, field_none, "executable ctime (not captured)" },
	{ "proc.exe_ino.mtime", FT_INT, FA_NONE, false, field_none, "executable mtime (not captured)" },
	{ "proc.exe_ino.ctime_duration_proc_start", FT_INT, FA_NONE, false, field_none,
	  "executable ctime to process start (not captured)" },
	{ "proc.exec_count", FT_INT, FA_NONE, false, f_proc_exec_count,
	  "successful execs since the process's fork, this one included (counted from 1 when the fork was not seen)" },
	{ "proc.duration", FT_INT, FA_NONE, false, f_proc_duration, "nanoseconds since the process started" },
	{ "proc.ppid.duration", FT_INT, FA_NONE, false, f_proc_ppid_duration, "parent age in nanoseconds" },
	{ "proc.env", FT_STR, FA_OPTIONAL, false, f_proc_env, "environment ([NAME]: one variable)" },
	{ "proc.is_vpgid_leader", FT_BOOL, FA_NONE, false, f_proc_pid_is_leader,
	  "process leads its session (process groups are not tracked)" },
	{ "proc.vpgid.name", FT_STR, FA_NONE, false, f_proc_sname, "session leader name (group approximated by session)" },
	{ "proc.vpgid.exe", FT_STR, FA_NONE, false, field_none, "process group leader argv[0] (not tracked)" },
	{ "thread.tid", FT_INT, FA_NONE, false, field_hdr_u32, "thread id", NULL, HDR_OFF(tid) },
	{ "thread.vtid", FT_INT, FA_NONE, false, field_hdr_u32, "thread id in its pid namespace", NULL, HDR_OFF(vtid) },
	{ "thread.cap_effective", FT_STR, FA_NONE, false, f_thread_caps, "effective capabilities", NULL, HDR_OFF(cap_eff) },
	{ "thread.cap_permitted", FT_STR, FA_NONE, false, f_thread_caps, "permitted capabilities", NULL, HDR_OFF(cap_prm) },
};

const struct field_class fields_proc = FIELD_CLASS(defs);
