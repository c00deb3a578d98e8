/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evt.*: the event itself -- its type, result, time and arguments. Where
 * Falco and the kernel record differ, Falco's meaning wins: evt.arg.name of
 * an open is the path (Falco's parameter name), evt.res is "SUCCESS" or the
 * errno name.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "common/buf.h"
#include "engine/fields_internal.h"
#include "sensor/param_text.h"

/* ---- Falco parameter names ---- */

/*
 * Falco's name for a parameter where it differs from ours, per event. "@res"
 * is the return value.
 */
static const struct {
	unsigned int type;
	const char *falco, *ours;
} arg_alias[] = {
	{ VG_EVT_OPEN, "name", "path" },     { VG_EVT_OPENAT, "name", "path" },
	{ VG_EVT_OPENAT2, "name", "path" },  { VG_EVT_CREAT, "name", "path" },
	{ VG_EVT_OPEN, "fd", "@res" },       { VG_EVT_OPENAT, "fd", "@res" },
	{ VG_EVT_OPENAT2, "fd", "@res" },    { VG_EVT_CREAT, "fd", "@res" },
	{ VG_EVT_UNLINKAT, "name", "path" }, { VG_EVT_CHMOD, "filename", "path" },
	{ VG_EVT_FCHMODAT, "filename", "path" }, { VG_EVT_FCHMODAT2, "filename", "path" },
	{ VG_EVT_FCHOWNAT, "pathname", "path" }, { VG_EVT_EXECVE, "filename", "exe" },
	{ VG_EVT_EXECVEAT, "filename", "exe" }, { VG_EVT_EXECVE, "exe", "exe" },
	{ VG_EVT_EXECVE, "flags", "@exeflags" }, { VG_EVT_EXECVEAT, "flags", "@exeflags" },
	{ VG_EVT_EXECVE, "args", "argv" },  { VG_EVT_EXECVEAT, "args", "argv" },
	{ VG_EVT_MOUNT, "dev", "source" },   { VG_EVT_MOUNT, "dir", "target" },
	{ VG_EVT_MOUNT, "type", "fstype" },  { VG_EVT_UMOUNT2, "name", "target" },
	{ VG_EVT_SOCKET, "proto", "protocol" }, { VG_EVT_SOCKET, "fd", "@res" },
	{ VG_EVT_ACCEPT, "fd", "@res" },     { VG_EVT_ACCEPT4, "fd", "@res" },
	{ VG_EVT_MEMFD_CREATE, "fd", "@res" }, { VG_EVT_SYMLINK, "linkpath", "linkpath" },
	{ VG_EVT_CHROOT, "path", "path" },   { VG_EVT_FINIT_MODULE, "name", "path" },
	{ VG_EVT_KILL, "sig", "sig" },
};

/* Index of Falco's parameter `name` in event type `type`'s table, -1 none, -2 the return value, -3 exe flags. */
static int falco_param_info(unsigned int type, const struct vg_event_info *info, const char *name)
{
	for (size_t k = 0; k < sizeof(arg_alias) / sizeof(arg_alias[0]); k++) {
		if (arg_alias[k].type == type && !strcmp(arg_alias[k].falco, name)) {
			if (!strcmp(arg_alias[k].ours, "@res"))
				return -2;
			if (!strcmp(arg_alias[k].ours, "@exeflags"))
				return -3;
			return info_param_index(info, arg_alias[k].ours);
		}
	}
	if (!strcmp(name, "res") || !strcmp(name, "res_or_fd"))
		return -2;
	return info_param_index(info, name);
}

/*
 * falco_param for this event. The answer depends only on the event type, so
 * it is remembered per type in the field reference (r->argidx): evt.arg.flags
 * is read on most events, and the name lookup was a dozen strcmp calls. (An
 * engine and its field references are used by one thread at a time.)
 */
static int falco_param(const struct vg_event *ev, const struct fref *r)
{
	unsigned int t = ev->hdr.type;
	int i;
	if (r->argidx && t < VG_EVT_MAX) {
		if (r->argidx[t] == INT16_MIN)
			r->argidx[t] = (int16_t)falco_param_info(t, ev->info, r->arg);
		i = r->argidx[t];
	} else {
		i = falco_param_info(t, ev->info, r->arg);
	}
	return i >= (int)ev->nparams ? -1 : i;
}

static int exe_flags_of(const struct vg_event *ev, uint32_t *flags)
{
	int i = param_at(ev, PN_EXE_INFO);
	struct vg_exe_info ei;
	if (i < 0 || ev->params[i].len != sizeof(ei))
		return 0;
	memcpy(&ei, ev->params[i].data, sizeof(ei));
	*flags = ei.flags;
	return 1;
}

static int render_arg(struct ectx *c, int i, struct fval *out)
{
	struct vg_buf *b = scratch_buf(c);
	char num[32];
	uint32_t ef;

	if (i == -2) {
		snprintf(num, sizeof(num), "%lld", (long long)c->ev->hdr.retval);
		return put_str(out, arena_dup(&c->arena, num, strlen(num)));
	}
	if (i == -3) {
		if (!exe_flags_of(c->ev, &ef))
			return 0;
		param_text_exe_flags(b, ef);
	} else if (i < 0) {
		return 0;
	} else {
		if (!c->ev->params[i].data && c->ev->params[i].info->kind != VG_CK_PATH &&
		    c->ev->params[i].info->kind != VG_CK_EXE)
			return 0;
		param_text(b, c->ev, (unsigned int)i);
	}
	return put_str(out, arena_dup(&c->arena, b->data ? b->data : "", b->len));
}

/* ---- evt.* ---- */

static int f_evt_type(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, c->ev->info->name);
}

static int f_evt_dir(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)c;
	(void)r;
	return put_str(o, "<"); /* Vigil records syscalls at exit only */
}

/* The number of the event among those the engine has evaluated (1, 2, ...). */
static int f_evt_num(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, (int64_t)c->gen);
}

/*
 * Its own function, not field_hdr_s64 reading the offset from the table row:
 * Falco's spawned-process macros test evt.rawres on every exec, and the row's
 * offset cost two loads per call there.
 */
static int f_evt_rawres(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, c->ev->hdr.retval);
}

static int f_evt_res(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t v = c->ev->hdr.retval;
	if (c->ev->hdr.type == VG_EVT_PROCEXIT || v >= 0 || v <= -4096)
		return put_str(o, "SUCCESS");
	const char *name = strerrorname_np((int)-v);
	return put_str(o, name ? name : "EUNKNOWN");
}

static int f_evt_failed(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	int64_t v = c->ev->hdr.retval;
	return put_int(o, c->ev->hdr.type != VG_EVT_PROCEXIT && v < 0 && v > -4096);
}

static int f_evt_time(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint64_t ns = c->ev->hdr.ts + c->boot_to_realtime;
	time_t s = ns / 1000000000ull;
	struct tm tm;
	char buf[64];
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09llu", (unsigned long long)(ns % 1000000000ull));
	return put_str(o, arena_dup(&c->arena, buf, strlen(buf)));
}

static int f_evt_rawtime(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, (int64_t)(c->ev->hdr.ts + c->boot_to_realtime));
}

static int f_evt_hostname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, c->hostname ? c->hostname : "");
}

static int f_evt_arg(struct ectx *c, const struct fref *r, struct fval *o)
{
	int i;
	if (r->argn >= 0)
		i = r->argn < (long)c->ev->nparams ? (int)r->argn : -1;
	else
		i = falco_param(c->ev, r);
	return render_arg(c, i, o);
}

static int f_evt_args(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	struct vg_buf b = { 0 };
	for (unsigned int i = 0; i < c->ev->nparams; i++) {
		const struct vg_param_val *pv = &c->ev->params[i];
		if (pv->info->kind == VG_CK_EXE_INFO || pv->info->kind == VG_CK_TUPLE || pv->info->kind == VG_CK_ENV)
			continue;
		if (b.len)
			buf_addc(&b, ' ');
		buf_printf(&b, "%s=", pv->info->name);
		param_text(&b, c->ev, i);
	}
	const char *s = arena_dup(&c->arena, b.data ? b.data : "", b.len);
	buf_free(&b);
	return put_str(o, s);
}

static int open_flags(const struct ectx *c, int64_t *flags)
{
	if (!is_open(c->ev->hdr.type))
		return 0;
	if (c->ev->hdr.type == VG_EVT_CREAT) {
		*flags = O_CREAT | O_WRONLY | O_TRUNC;
		return 1;
	}
	int i = param_at(c->ev, PN_FLAGS);
	*flags = i >= 0 ? event_param_int(c->ev, i) : 0;
	return 1;
}

/*
 * Whether an open allows access mode `mode` (O_RDONLY, O_WRONLY); false for
 * other events. Inline with a constant mode, not one accessor reading the
 * mode from its table row: evt.is_open_read is read on every open by
 * Falco's open_read macro, and the row's mode cost 4 instructions per event.
 */
static inline int open_mode_is(struct ectx *c, struct fval *o, int64_t mode)
{
	int64_t f;
	if (!open_flags(c, &f))
		return put_int(o, 0);
	return put_int(o, (f & O_ACCMODE) == mode || (f & O_ACCMODE) == O_RDWR);
}

static int f_evt_is_open_read(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return open_mode_is(c, o, O_RDONLY); }
static int f_evt_is_open_write(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; return open_mode_is(c, o, O_WRONLY); }

static int f_evt_is_open_exec(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	/* Linux's open(2) has no "for execution" mode (Falco's flag comes from O_PATH|FMODE_EXEC
	 * opens inside exec): false for every open, no value for other events */
	return is_open(c->ev->hdr.type) ? put_int(o, 0) : 0;
}

static int f_evt_category(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, event_table_category_name(c->ev->info->category));
}

/* ---- io_uring (records of src/bpf/lib/uring.bpf.h) ---- */

/* IORING_OP_* names (include/uapi/linux/io_uring.h, Linux 6.18), lower case. */
static const char *const uring_ops[] = {
	"nop", "readv", "writev", "fsync", "read_fixed", "write_fixed", "poll_add", "poll_remove",
	"sync_file_range", "sendmsg", "recvmsg", "timeout", "timeout_remove", "accept", "async_cancel",
	"link_timeout", "connect", "fallocate", "openat", "close", "files_update", "statx", "read", "write",
	"fadvise", "madvise", "send", "recv", "openat2", "epoll_ctl", "splice", "provide_buffers",
	"remove_buffers", "tee", "shutdown", "renameat", "unlinkat", "mkdirat", "symlinkat", "linkat",
	"msg_ring", "fsetxattr", "setxattr", "fgetxattr", "getxattr", "socket", "uring_cmd", "send_zc",
	"sendmsg_zc", "read_multishot", "waitid", "futex_wait", "futex_wake", "futex_waitv",
	"fixed_fd_install", "ftruncate", "bind", "listen", "recv_zc", "epoll_wait", "readv_fixed",
	"writev_fixed", "pipe",
};

static int f_evt_is_io_uring(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_int(o, (c->ev->hdr.flags & VG_HDR_IO_URING) != 0);
}

/* The operation's name: io_uring records only (an open or connect is its syscall twin's name). */
static int f_evt_io_uring_op(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!(c->ev->hdr.flags & VG_HDR_IO_URING))
		return 0;
	if (c->ev->hdr.type != VG_EVT_IO_URING_OP)
		return put_str(o, c->ev->info->name);
	if (c->ev->nparams < 1 || !c->ev->params[0].data)
		return 0;
	uint64_t op = (uint64_t)event_param_int(c->ev, 0);
	if (op < sizeof(uring_ops) / sizeof(uring_ops[0]))
		return put_str(o, uring_ops[op]);
	char num[32];
	snprintf(num, sizeof(num), "op%llu", (unsigned long long)op);
	return put_str(o, arena_dup(&c->arena, num, strlen(num)));
}

static const struct fdef defs[] = {
	{ "evt.type", FT_STR, FA_NONE, false, f_evt_type, "event type (syscall name)" },
	{ "evt.dir", FT_STR, FA_NONE, false, f_evt_dir, "direction: always '<' (exit)" },
	{ "evt.num", FT_INT, FA_NONE, false, f_evt_num, "event sequence number" },
	{ "evt.res", FT_STR, FA_NONE, false, f_evt_res, "SUCCESS or the errno name" },
	{ "evt.rawres", FT_INT, FA_NONE, false, f_evt_rawres, "return value" },
	{ "evt.failed", FT_BOOL, FA_NONE, false, f_evt_failed, "the syscall failed" },
	{ "evt.time", FT_STR, FA_NONE, false, f_evt_time, "time of day, UTC, with nanoseconds" },
	{ "evt.rawtime", FT_INT, FA_NONE, false, f_evt_rawtime, "nanoseconds since the epoch" },
	{ "evt.hostname", FT_STR, FA_NONE, false, f_evt_hostname, "host name" },
	{ "evt.category", FT_STR, FA_NONE, false, f_evt_category, "event category" },
	{ "evt.arg", FT_STR, FA_REQUIRED, false, f_evt_arg, "an argument by name or index, as text" },
	{ "evt.args", FT_STR, FA_NONE, false, f_evt_args, "all arguments as name=value text" },
	{ "evt.is_open_read", FT_BOOL, FA_NONE, false, f_evt_is_open_read, "open for reading" },
	{ "evt.is_open_write", FT_BOOL, FA_NONE, false, f_evt_is_open_write, "open for writing" },
	{ "evt.is_open_exec", FT_BOOL, FA_NONE, false, f_evt_is_open_exec, "open for execution" },
	{ "evt.buffer", FT_STR, FA_NONE, false, field_none, "I/O data (not captured: no value)" },
	{ "evt.is_io_uring", FT_BOOL, FA_NONE, false, f_evt_is_io_uring,
	  "an io_uring operation, not a syscall (an open or connect has its syscall's type)" },
	{ "evt.io_uring.op", FT_STR, FA_NONE, false, f_evt_io_uring_op,
	  "the io_uring operation (openat, read, socket, ...); no value for syscalls" },
};

const struct field_class fields_evt = FIELD_CLASS(defs);
