/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fd.* and fs.path.*: the file or socket an event is about, Falco's way
 * (the descriptor it created or acted on), worked out once per event by
 * fd_of, and the paths filesystem syscalls acted on.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "common/buf.h"
#include "common/path.h"
#include "engine/fields_internal.h"
#include "vigil/flow.h"

/* Whether the component starting at c (before end) is empty, "." or "..". */
static inline bool component_bad(const char *c, const char *end)
{
	return c == end || *c == '/' ||
	       (*c == '.' && (c + 1 == end || c[1] == '/' || (c[1] == '.' && (c + 2 == end || c[2] == '/'))));
}

/*
 * Whether the components from c (a component's start) to end are all
 * normal: none empty (no "//", no trailing slash), ".", or "..". Only a slash
 * followed by a slash or a dot can start a bad one after the first: those
 * pairs are searched for sixteen bytes at a time where the CPU has SSE2.
 */
static bool components_clean(const char *c, const char *end)
{
	if (component_bad(c, end) || end[-1] == '/')
		return false;
	size_t n = (size_t)(end - c);
#ifdef __SSE2__
	/* windows of sixteen positions, the last one overlapping the one before; a
	 * short string is copied into a zero-padded window (a zero is no slash) */
	char pad[33];
	const char *w = c;
	if (n < 17) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, c, n);
		w = pad;
	}
	size_t last = n < 17 ? 0 : n - 17;
	const __m128i slash = _mm_set1_epi8('/'), dot = _mm_set1_epi8('.');
	for (size_t i = 0;; i = i + 16 < last ? i + 16 : last) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(w + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(w + i + 1));
		__m128i hit = _mm_and_si128(_mm_cmpeq_epi8(a, slash),
					    _mm_or_si128(_mm_cmpeq_epi8(b, slash), _mm_cmpeq_epi8(b, dot)));
		for (unsigned int z = (unsigned int)_mm_movemask_epi8(hit); z; z &= z - 1)
			if (component_bad(c + i + (size_t)__builtin_ctz(z) + 1, end))
				return false;
		if (i == last)
			return true;
	}
#else
	for (size_t i = 0; i + 1 < n; i++)
		if (c[i] == '/' && (c[i + 1] == '/' || c[i + 1] == '.') && component_bad(c + i + 1, end))
			return false;
	return true;
#endif
}

/* Whether path_resolve would give raw itself: absolute, no empty, "." or ".." component. */
static bool path_is_clean(const char *raw)
{
	if (raw[0] != '/')
		return false;
	return !raw[1] || components_clean(raw + 1, raw + strlen(raw));
}

const char *resolved_path(struct ectx *c, int i, size_t *len)
{
	const char *raw = event_param_str(c->ev, i);
	/* most paths are absolute and already normal: the record's own string is the
	 * answer (it lives as long as the event), no copy and no normalising pass */
	size_t n = strlen(raw);
	if (raw[0] == '/' && (n == 1 || components_clean(raw + 1, raw + n))) {
		*len = n;
		return raw;
	}
	struct vg_buf *b = scratch_buf(c);
	const char *base = event_param_base(c->ev, i);
	if (raw[0] && raw[0] != '/' && components_clean(raw, raw + n) && (!base || path_is_clean(base))) {
		/* a normal relative path below a normal directory (a build's "src/x.c"):
		 * path_resolve would join them as they are */
		if (base && base[1])
			buf_adds(b, base);
		buf_addc(b, '/');
		buf_adds(b, raw);
	} else {
		path_resolve(base, raw, b);
	}
	*len = arena_kept(b->len);
	return arena_dup(&c->arena, b->data ? b->data : "", b->len);
}

static bool tuple_of(const struct vg_event *ev, struct vg_tuple *t)
{
	int i = param_at(ev, PN_TUPLE);
	if (i < 0 || ev->params[i].len != sizeof(*t))
		return false;
	memcpy(t, ev->params[i].data, sizeof(*t));
	return true;
}

static void fd_from_sockaddr(struct fd_info *fd, const struct vg_param_val *pv, bool local)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = pv->len < sizeof(ss) ? pv->len : sizeof(ss);
	if (!pv->data || n < sizeof(sa_family_t))
		return;
	memcpy(&ss, pv->data, n);
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		fd->fam = AF_INET;
		memcpy(local ? fd->lip : fd->rip, &in->sin_addr, 4);
		*(local ? &fd->lport : &fd->rport) = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		fd->fam = AF_INET6;
		memcpy(local ? fd->lip : fd->rip, &in6->sin6_addr, 16);
		*(local ? &fd->lport : &fd->rport) = ntohs(in6->sin6_port);
	} else if (ss.ss_family == AF_UNIX) {
		fd->fam = AF_UNIX;
	}
}

static void fd_socket_name(struct ectx *c, struct fd_info *fd)
{
	char cl[INET6_ADDRSTRLEN] = "", sv[INET6_ADDRSTRLEN] = "", s[2 * INET6_ADDRSTRLEN + 32];
	const uint8_t *cip = fd->local_is_server ? fd->rip : fd->lip;
	const uint8_t *sip = fd->local_is_server ? fd->lip : fd->rip;
	unsigned int cport = fd->local_is_server ? fd->rport : fd->lport;
	unsigned int sport = fd->local_is_server ? fd->lport : fd->rport;
	inet_ntop(fd->fam, cip, cl, sizeof(cl));
	inet_ntop(fd->fam, sip, sv, sizeof(sv));
	snprintf(s, sizeof(s), "%s:%u->%s:%u", cl, cport, sv, sport);
	fd->name = arena_dup(&c->arena, s, strlen(s));
}

/*
 * Which file descriptor an event is about, Falco's way: the one it created
 * (open, socket, accept) or the one it acted on (connect, fchmod).
 */
static struct fd_info *fd_of(struct ectx *c)
{
	struct fd_info *fd = c->fd;
	const struct vg_event *ev = c->ev;
	unsigned int t = ev->hdr.type;
	int i;

	if (c->fd_done)
		return fd->valid ? fd : NULL;
	c->fd_done = true;
	memset(fd, 0, sizeof(*fd));

	if (is_open(t)) {
		i = param_at(ev, PN_PATH);
		fd->valid = true;
		fd->num = ev->hdr.retval;
		fd->name = resolved_path(c, i, &fd->name_len);
		fd->nameraw = event_param_str(ev, i);
		int fi = param_at(ev, PN_FLAGS);
		bool dir = fi >= 0 && (event_param_int(ev, fi) & O_DIRECTORY);
		fd->typechar = dir ? 'd' : 'f';
		fd->type = dir ? "directory" : "file";
		return fd;
	}
	struct vg_tuple dt;
	bool dup_socket = (t == VG_EVT_DUP || t == VG_EVT_DUP2 || t == VG_EVT_DUP3) && tuple_of(ev, &dt) &&
			  (dt.family == AF_INET || dt.family == AF_INET6 || dt.family == AF_UNIX);
	switch (dup_socket ? VG_EVT_SENDMSG : t) {
	case VG_EVT_FLOW_TCP: /* flow records (docs/flows.md): the socket's ends, no fd number */
	case VG_EVT_FLOW_UDP:
	case VG_EVT_FLOW_DNS:
	case VG_EVT_SENDMSG:
	case VG_EVT_RECVMSG:
	case VG_EVT_CONNECT:
	case VG_EVT_ACCEPT:
	case VG_EVT_ACCEPT4:
	case VG_EVT_SENDTO:
	case VG_EVT_RECVFROM:
	case VG_EVT_BIND:
	case VG_EVT_LISTEN: {
		struct vg_tuple tp;
		fd->valid = true;
		fd->is_socket = true;
		fd->num = (t == VG_EVT_ACCEPT || t == VG_EVT_ACCEPT4) ? ev->hdr.retval
								      : (int32_t)event_param_int(ev, 0);
		fd->local_is_server = t == VG_EVT_ACCEPT || t == VG_EVT_ACCEPT4 || t == VG_EVT_BIND ||
				      t == VG_EVT_LISTEN;
		if (t == VG_EVT_FLOW_TCP || t == VG_EVT_FLOW_UDP || t == VG_EVT_FLOW_DNS) {
			struct vg_tuple ft;
			fd->num = -1;
			/* the tuple's pad holds the flow's direction: an inbound flow's local end serves */
			fd->local_is_server = tuple_of(ev, &ft) && ft.pad == VG_FLOW_REC_IN;
		}
		if (tuple_of(ev, &tp) && (tp.family == AF_INET || tp.family == AF_INET6)) {
			fd->fam = tp.family;
			memcpy(fd->lip, tp.saddr, 16);
			memcpy(fd->rip, tp.daddr, 16);
			fd->lport = tp.sport;
			fd->rport = tp.dport;
			fd->connected = tp.dport != 0 || t == VG_EVT_CONNECT;
		} else if (tuple_of(ev, &tp) && tp.family == AF_UNIX) {
			fd->fam = AF_UNIX;
		}
		/* the address argument fills what the socket did not have: the remote end of a
		 * connect that failed or is in progress, the local end of a bind */
		if ((i = param_at(ev, PN_ADDR)) >= 0 && ev->params[i].data &&
		    ((t == VG_EVT_CONNECT && !fd->rport) || (t == VG_EVT_BIND && !fd->lport) ||
		     (!fd->lport && !fd->rport)))
			fd_from_sockaddr(fd, &ev->params[i], t == VG_EVT_BIND);
		if (fd->fam == AF_INET || fd->fam == AF_INET6) {
			fd->typechar = fd->fam == AF_INET ? '4' : '6';
			fd->type = fd->fam == AF_INET ? "ipv4" : "ipv6";
			fd_socket_name(c, fd);
		} else if (fd->fam == AF_UNIX) {
			fd->typechar = 'u';
			fd->type = "unix";
			fd->name = "";
			if ((i = param_at(ev, PN_ADDR)) >= 0 && ev->params[i].len > offsetof(struct sockaddr_un, sun_path)) {
				const char *p = ev->params[i].data + offsetof(struct sockaddr_un, sun_path);
				size_t n = ev->params[i].len - offsetof(struct sockaddr_un, sun_path);
				fd->name = arena_dup(&c->arena, p, strnlen(p, n));
			}
		} else {
			fd->valid = false;
		}
		return fd->valid ? fd : NULL;
	}
	case VG_EVT_SOCKET: {
		int dom = (int)event_param_int(ev, 0);
		fd->valid = dom == AF_INET || dom == AF_INET6 || dom == AF_UNIX;
		fd->is_socket = true;
		fd->num = ev->hdr.retval;
		fd->fam = dom;
		fd->typechar = dom == AF_INET ? '4' : dom == AF_INET6 ? '6' : 'u';
		fd->type = dom == AF_INET ? "ipv4" : dom == AF_INET6 ? "ipv6" : "unix";
		fd->name = "";
		return fd->valid ? fd : NULL;
	}
	default:
		break;
	}
	/* events on an fd whose path the kernel resolved (fchmod, fchown, ftruncate, setns, fchdir) */
	for (unsigned int k = 0; k < ev->nparams; k++) {
		if (ev->params[k].info->kind == VG_CK_FD_PATH && ev->params[k].data) {
			fd->valid = true;
			fd->num = (int32_t)event_param_int(ev, 0); /* the fd argument comes first */
			fd->name = event_param_str(ev, k);
			fd->nameraw = fd->name;
			fd->typechar = 'f';
			fd->type = "file";
			return fd;
		}
	}
	return NULL;
}

/* ---- fd.* ---- */

/* The transport of a flow record; other events do not capture it. */
static int f_fd_l4proto(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	unsigned int t = c->ev->hdr.type;
	return t == VG_EVT_FLOW_TCP ? put_str(o, "tcp") : t == VG_EVT_FLOW_UDP || t == VG_EVT_FLOW_DNS ? put_str(o, "udp") : 0;
}

#define FD_OR_NA(c, fd) struct fd_info *fd = fd_of(c); if (!fd) return 0

static int f_fd_num(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; FD_OR_NA(c, fd); return put_int(o, fd->num); }

static int f_fd_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	return fd->name_len ? put_strn(o, fd->name, fd->name_len) : put_str(o, fd->name);
}

static int f_fd_nameraw(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; FD_OR_NA(c, fd); return put_str(o, fd->nameraw ? fd->nameraw : fd->name); }

static int f_fd_type(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; FD_OR_NA(c, fd); return put_str(o, fd->type); }

static int f_fd_typechar(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	char *s = arena_dup(&c->arena, &fd->typechar, 1);
	return put_strn(o, s, 1);
}

static int f_fd_directory(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (fd->is_socket || !fd->name)
		return 0;
	if (fd->typechar == 'd')
		return put_str(o, fd->name);
	const char *slash = strrchr(fd->name, '/');
	if (!slash)
		return 0;
	return put_strn(o, fd->name, slash == fd->name ? 1 : (size_t)(slash - fd->name));
}

static int f_fd_filename(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (fd->is_socket || !fd->name || fd->typechar == 'd')
		return 0;
	const char *slash = strrchr(fd->name, '/');
	return put_str(o, slash ? slash + 1 : fd->name);
}

static bool fd_is_ip(const struct fd_info *fd)
{
	return fd->is_socket && (fd->fam == AF_INET || fd->fam == AF_INET6);
}

enum ip_role { R_CLIENT, R_SERVER, R_LOCAL, R_REMOTE, R_ANY };

/*
 * The addresses (FT_IP, FT_NET) or ports (FT_PORT) of the socket's ends in
 * the role the field's `off` names: the local end, the remote one, the server
 * or client end (by which side accepted, bound or listened), or both.
 */
static int f_fd_end(struct ectx *c, const struct fref *r, struct fval *o)
{
	FD_OR_NA(c, fd);
	if (!fd_is_ip(fd))
		return 0;
	enum ip_role role = (enum ip_role)r->def->off;
	bool port = r->def->type == FT_PORT;
	bool server_local = fd->local_is_server;
	bool local = role == R_LOCAL || role == R_ANY || (role == R_SERVER && server_local) ||
		     (role == R_CLIENT && !server_local);
	bool remote = role == R_REMOTE || role == R_ANY || (role == R_SERVER && !server_local) ||
		      (role == R_CLIENT && server_local);
	int n = 0;
	if (local)
		n += port ? put_int(&o[n], fd->lport) : put_ip(&o[n], fd->fam, fd->lip);
	if (remote)
		n += port ? put_int(&o[n], fd->rport) : put_ip(&o[n], fd->fam, fd->rip);
	return n;
}

static int f_fd_sockfamily(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	FD_OR_NA(c, fd);
	if (!fd->is_socket)
		return 0;
	return put_str(o, fd->fam == AF_UNIX ? "unix" : "ip");
}

static int f_fd_connected(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; FD_OR_NA(c, fd); return put_int(o, fd->connected); }

static int f_fd_name_changed(struct ectx *c, const struct fref *r, struct fval *o) { (void)r; FD_OR_NA(c, fd); return put_int(o, 0); }

/* ---- fs.path.* (Falco 0.38): the path a filesystem syscall acted on ---- */

static int path_param(struct ectx *c, const char *const *names, struct fval *o)
{
	for (; *names; names++) {
		int i = param_index(c->ev, *names);
		if (i < 0)
			continue;
		if (c->ev->params[i].info->kind == VG_CK_PATH) {
			size_t n;
			const char *path = resolved_path(c, i, &n);
			return put_strn(o, path, n);
		}
		if (c->ev->params[i].data)
			return put_str(o, event_param_str(c->ev, i));
	}
	return 0;
}

static int f_fs_path_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "path", "exe", "newpath", "linkpath", "target", NULL };
	(void)r;
	if (c->ev->info->category != VG_CAT_FILE && c->ev->hdr.type != VG_EVT_MOUNT &&
	    c->ev->hdr.type != VG_EVT_UMOUNT2 && c->ev->hdr.type != VG_EVT_CHROOT)
		return 0;
	return path_param(c, names, o);
}

static int f_fs_path_source(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "oldpath", "target", "source", NULL };
	(void)r;
	if (c->ev->info->category != VG_CAT_FILE && c->ev->hdr.type != VG_EVT_MOUNT)
		return 0;
	return path_param(c, names, o);
}

static int f_fs_path_target(struct ectx *c, const struct fref *r, struct fval *o)
{
	static const char *const names[] = { "newpath", "linkpath", NULL };
	static const char *const mount_names[] = { "target", NULL };
	(void)r;
	if (c->ev->hdr.type == VG_EVT_MOUNT)
		return path_param(c, mount_names, o);
	if (c->ev->info->category != VG_CAT_FILE)
		return 0;
	return path_param(c, names, o);
}

/* ---- memo keys of fd.name and the fields derived from it ---- */

bool fref_derived_from(const struct fref *r, const struct fref *host)
{
	/* f_fd_directory and f_fd_filename read nothing but fd_of's name, type
	 * character and socket flag, and the type character tells sockets apart */
	return r->def->of && host->def->get == f_fd_name && !strcmp(r->def->of, host->def->name) && !r->nxf &&
	       !host->nxf && !r->arg && !host->arg;
}

char fref_derived_key(struct ectx *c, const struct fref *host)
{
	(void)host; /* fd.name: the only host */
	const struct fd_info *fd = fd_of(c);
	return fd ? fd->typechar : 0;
}

bool fref_source_keyed(const struct fref *r)
{
	return r->def->get == f_fd_name && !r->nxf && !r->arg;
}

bool fref_source_key(struct ectx *c, const struct fref *r, const char **key, size_t *len, char *extra)
{
	/* as fd_of reads an open: the path parameter (raw path, NUL, the
	 * directory a relative one is resolved against) alone gives fd.name, and
	 * O_DIRECTORY the type character */
	const struct vg_event *ev = c->ev;
	if (!fref_source_keyed(r) || !is_open(ev->hdr.type))
		return false;
	int i = param_at(ev, PN_PATH);
	if (i < 0 || !ev->params[i].data)
		return false;
	*key = ev->params[i].data;
	*len = ev->params[i].len;
	int fi = param_at(ev, PN_FLAGS);
	*extra = fi >= 0 && (event_param_int(ev, fi) & O_DIRECTORY) ? 'd' : 'f';
	return true;
}

static const struct fdef defs[] = {
	{ "fd.num", FT_INT, FA_NONE, false, f_fd_num, "file descriptor number" },
	{ "fd.name", FT_STR, FA_NONE, false, f_fd_name, "absolute path, or client->server addresses" },
	{ "fd.nameraw", FT_STR, FA_NONE, false, f_fd_nameraw, "path as the process wrote it" },
	{ "fd.type", FT_STR, FA_NONE, false, f_fd_type, "file, directory, ipv4, ipv6, unix" },
	{ "fd.typechar", FT_STR, FA_NONE, false, f_fd_typechar, "f, d, 4, 6, u" },
	{ "fd.directory", FT_STR, FA_NONE, false, f_fd_directory, "directory of the file", "fd.name" },
	{ "fd.filename", FT_STR, FA_NONE, false, f_fd_filename, "file name without directory", "fd.name" },
	{ "fd.ip", FT_IP, FA_NONE, false, f_fd_end, "client or server address", NULL, R_ANY },
	{ "fd.cip", FT_IP, FA_NONE, false, f_fd_end, "client address", NULL, R_CLIENT },
	{ "fd.sip", FT_IP, FA_NONE, false, f_fd_end, "server address", NULL, R_SERVER },
	{ "fd.lip", FT_IP, FA_NONE, false, f_fd_end, "local address", NULL, R_LOCAL },
	{ "fd.rip", FT_IP, FA_NONE, false, f_fd_end, "remote address", NULL, R_REMOTE },
	{ "fd.net", FT_NET, FA_NONE, false, f_fd_end, "client or server address, compared with networks", NULL, R_ANY },
	{ "fd.cnet", FT_NET, FA_NONE, false, f_fd_end, "client address, compared with networks", NULL, R_CLIENT },
	{ "fd.snet", FT_NET, FA_NONE, false, f_fd_end, "server address, compared with networks", NULL, R_SERVER },
	{ "fd.lnet", FT_NET, FA_NONE, false, f_fd_end, "local address, compared with networks", NULL, R_LOCAL },
	{ "fd.rnet", FT_NET, FA_NONE, false, f_fd_end, "remote address, compared with networks", NULL, R_REMOTE },
	{ "fd.port", FT_PORT, FA_NONE, false, f_fd_end, "client or server port", NULL, R_ANY },
	{ "fd.cport", FT_PORT, FA_NONE, false, f_fd_end, "client port", NULL, R_CLIENT },
	{ "fd.sport", FT_PORT, FA_NONE, false, f_fd_end, "server port", NULL, R_SERVER },
	{ "fd.lport", FT_PORT, FA_NONE, false, f_fd_end, "local port", NULL, R_LOCAL },
	{ "fd.rport", FT_PORT, FA_NONE, false, f_fd_end, "remote port", NULL, R_REMOTE },
	{ "fd.sip.name", FT_STR, FA_NONE, false, field_none, "server DNS name (not resolved: no value)" },
	{ "fd.cip.name", FT_STR, FA_NONE, false, field_none, "client DNS name (not resolved: no value)" },
	{ "fd.lip.name", FT_STR, FA_NONE, false, field_none, "local DNS name (not resolved: no value)" },
	{ "fd.rip.name", FT_STR, FA_NONE, false, field_none, "remote DNS name (not resolved: no value)" },
	{ "fd.l4proto", FT_STR, FA_NONE, false, f_fd_l4proto,
	  "tcp, udp: on flow records (docs/flows.md); other events: not captured, no value" },
	{ "fd.sockfamily", FT_STR, FA_NONE, false, f_fd_sockfamily, "ip or unix" },
	{ "fd.connected", FT_BOOL, FA_NONE, false, f_fd_connected, "socket is connected" },
	{ "fd.name_changed", FT_BOOL, FA_NONE, false, f_fd_name_changed, "fd name changed by this event" },
	{ "fd.types", FT_STR, FA_OPTIONAL, true, f_fd_type, "fd types (of this event's fd)" },
	{ "fs.path.name", FT_STR, FA_NONE, false, f_fs_path_name, "path a filesystem syscall acted on" },
	{ "fs.path.source", FT_STR, FA_NONE, false, f_fs_path_source, "source path (rename, link, symlink target, mount source)" },
	{ "fs.path.target", FT_STR, FA_NONE, false, f_fs_path_target, "target path (rename, link, mount point)" },
};

const struct field_class fields_fd = FIELD_CLASS(defs);
