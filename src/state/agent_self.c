/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "common/buf.h"
#include "common/log.h"
#include "state/agent_self.h"

#define BPF_OBJ_PIN 6
#define BPF_OBJ_GET 7
#define BPF_PROG_GET_FD_BY_ID 13
#define BPF_MAP_GET_FD_BY_ID 14
#define BPF_LINK_GET_FD_BY_ID 30
#define ID_PROG 1ull
#define ID_MAP 2ull
#define ID_LINK 3ull

static uint64_t ns_inode(const char *procfs, const char *ns)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/self/ns/%s", procfs, ns);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

struct vg_agent_self *agent_self_new(const char *pin_dir, const char *bpffs)
{
	struct vg_agent_self *s = xcalloc(1, sizeof(*s));
	s->live = true;
	s->pid = (uint32_t)getpid();
	s->pgid = (uint32_t)getpgrp();
	s->procfs = "/proc";
	s->pidns = ns_inode(s->procfs, "pid");
	s->mntns = ns_inode(s->procfs, "mnt");
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", pin_dir ? pin_dir : "");
	snprintf(s->bpffs, sizeof(s->bpffs), "%s", bpffs ? bpffs : "");
	return s;
}

void agent_self_free(struct vg_agent_self *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].base);
	}
	free(s);
}

int agent_self_add_file(struct vg_agent_self *s, const char *kind, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX];
	struct stat st;

	if (!path || s->nfiles >= AGENT_SELF_FILES)
		return -1;
	/* the directory made absolute and free of links; the name kept as given */
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (!*base || !realpath(dir, real))
		return -1;
	struct vg_agent_file *f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->base = xstrdup(base);
	size_t n = strlen(real);
	f->path = xmalloc(n + strlen(base) + 2);
	sprintf(f->path, "%s%s%s", real, n > 1 ? "/" : "", base);
	if (stat(real, &st) == 0) {
		f->pdev = st.st_dev;
		f->pino = st.st_ino;
		f->have_dir = true;
	}
	if (stat(f->path, &st) == 0) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->have_file = true;
	}
	s->nfiles++;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t agent_self_scan_bpf(struct vg_agent_self *s)
{
	char path[PATH_MAX], line[256];
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *de;

	s->nbpf_ids = 0;
	s->bpf_scanned_ns = now_ns();
	if (!d)
		return 0;
	while ((de = readdir(d)) && s->nbpf_ids < AGENT_SELF_BPF_IDS) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && s->nbpf_ids < AGENT_SELF_BPF_IDS) {
			unsigned long id;
			uint64_t type = 0;
			if (sscanf(line, "prog_id: %lu", &id) == 1)
				type = ID_PROG;
			else if (sscanf(line, "map_id: %lu", &id) == 1)
				type = ID_MAP;
			else if (sscanf(line, "link_id: %lu", &id) == 1)
				type = ID_LINK;
			if (type)
				s->bpf_ids[s->nbpf_ids++] = type << 32 | (uint32_t)id;
		}
		fclose(f);
	}
	closedir(d);
	return s->nbpf_ids;
}

static bool holds_bpf_id(struct vg_agent_self *s, uint64_t key)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->nbpf_ids; i++)
			if (s->bpf_ids[i] == key)
				return true;
		/* objects made since the last scan (an isolation, a reload): look again, once a second at most */
		if (pass || !s->live || now_ns() - s->bpf_scanned_ns < 1000000000ull)
			break;
		agent_self_scan_bpf(s);
	}
	return false;
}

/* Whether tid is a thread of the agent. */
static bool agent_thread(const struct vg_agent_self *s, int64_t tid)
{
	char path[64];
	if (tid <= 0)
		return false;
	if (tid == s->pid)
		return true;
	if (!s->live)
		return false;
	snprintf(path, sizeof(path), "%s/%u/task/%lld", s->procfs, s->pid, (long long)tid);
	return access(path, F_OK) == 0;
}

static int64_t param_i(const struct vg_event *ev, const char *name)
{
	for (unsigned int i = 0; i < ev->nparams; i++)
		if (!strcmp(ev->info->params[i].name, name) && ev->params[i].data)
			return event_param_int(ev, i);
	return INT64_MIN;
}

/* Whether path is dir or below it. */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return n && !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

/* /proc/<agent pid>/mem, /proc/<agent pid>/task/<tid>/mem */
static bool agent_mem_path(const struct vg_agent_self *s, const char *path)
{
	char pfx[64];
	int n = snprintf(pfx, sizeof(pfx), "/proc/%u/", s->pid);
	if (strncmp(path, pfx, (size_t)n))
		return false;
	const char *rest = path + n;
	if (!strncmp(rest, "task/", 5)) {
		rest += 5;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		if (*rest++ != '/')
			return false;
	}
	return !strcmp(rest, "mem");
}

/* The agent file `path` is, as process pid sees it, or NULL. */
static const struct vg_agent_file *agent_file(const struct vg_agent_self *s, const struct vg_event *ev,
					      const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct vg_agent_file *f = &s->files[i];
		if (!strcmp(path, f->path))
			return f; /* the agent's own path (the host's view) */
	}
	if (!s->live)
		return NULL;
	/* another view (a container's bind mount): the same inode, or the same name in the
	 * same directory, through the root of the process (or of its parent, once it is gone) */
	char buf[PATH_MAX];
	uint32_t who[2] = { ev->hdr.pid, ev->hdr.ppid };
	for (int w = 0; w < 2; w++) {
		struct stat st, dst;
		snprintf(buf, sizeof(buf), "%s/%u/root%s", s->procfs, who[w], path);
		bool have = stat(buf, &st) == 0;
		char *slash = strrchr(buf, '/');
		*slash = 0;
		bool have_dir = stat(buf, &dst) == 0;
		if (!have && !have_dir)
			continue;
		for (size_t i = 0; i < s->nfiles; i++) {
			const struct vg_agent_file *f = &s->files[i];
			if (have && f->have_file && st.st_dev == f->dev && st.st_ino == f->ino)
				return f;
			if (have_dir && f->have_dir && dst.st_dev == f->pdev && dst.st_ino == f->pino &&
			    !strcmp(base, f->base))
				return f;
		}
		return NULL;
	}
	return NULL;
}

static bool name_of_agent_file(const struct vg_agent_self *s, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(base, s->files[i].base))
			return true;
	return false;
}

/* An act on a path: a file of the agent, its pins, or /proc/<agent>/mem. */
static const char *path_target(struct vg_agent_self *s, const struct vg_event *ev, const char *path, bool write)
{
	if (!path || !*path)
		return NULL;
	bool same_pidns = ev->hdr.pidns == s->pidns;
	if (!write)
		return same_pidns && agent_mem_path(s, path) ? "memory" : NULL;
	if (under(path, s->pin_dir))
		return "bpf";
	if (same_pidns && agent_mem_path(s, path))
		return "memory";
	if (!name_of_agent_file(s, path))
		return NULL; /* the cheap test first: most writes are to other names */
	const struct vg_agent_file *f = agent_file(s, ev, path);
	return f ? f->kind : NULL;
}

const char *agent_self_target(struct vg_agent_self *s, const struct vg_event *ev, const char *path,
			      const char *path2)
{
	if (!s || !ev->info)
		return NULL;
	bool same_pidns = ev->hdr.pidns == s->pidns;
	int64_t pid, sig, flags;
	const char *t;

	switch (ev->hdr.type) {
	case VG_EVT_KILL:
		pid = param_i(ev, "pid");
		sig = param_i(ev, "sig");
		if (!same_pidns || sig == 0 || sig == INT64_MIN)
			return NULL;
		return pid == s->pid || pid == -1 || (s->pgid > 1 && pid == -(int64_t)s->pgid) ? "signal" : NULL;
	case VG_EVT_TKILL:
		sig = param_i(ev, "sig");
		return same_pidns && sig != 0 && agent_thread(s, param_i(ev, "tid")) ? "signal" : NULL;
	case VG_EVT_TGKILL:
		sig = param_i(ev, "sig");
		return same_pidns && sig != 0 && param_i(ev, "tgid") == s->pid ? "signal" : NULL;
	case VG_EVT_PIDFD_SEND_SIGNAL:
		/* the pid is the host's, resolved from the pidfd by the kernel */
		sig = param_i(ev, "sig");
		return sig != 0 && param_i(ev, "pid") == s->pid ? "signal" : NULL;
	case VG_EVT_PTRACE:
		return same_pidns && param_i(ev, "request") != 0 && agent_thread(s, param_i(ev, "pid")) ? "ptrace"
													  : NULL;
	case VG_EVT_PROCESS_VM_READV:
	case VG_EVT_PROCESS_VM_WRITEV:
		return same_pidns && param_i(ev, "pid") == s->pid ? "memory" : NULL;
	case VG_EVT_OPEN:
	case VG_EVT_OPENAT:
	case VG_EVT_OPENAT2:
		flags = param_i(ev, "flags");
		return path_target(s, ev, path, flags != INT64_MIN && (flags & (O_WRONLY | O_RDWR | O_TRUNC | O_CREAT)));
	case VG_EVT_CREAT:
	case VG_EVT_UNLINK:
	case VG_EVT_UNLINKAT:
	case VG_EVT_RMDIR:
	case VG_EVT_TRUNCATE:
	case VG_EVT_FTRUNCATE:
	case VG_EVT_CHMOD:
	case VG_EVT_FCHMOD:
	case VG_EVT_FCHMODAT:
	case VG_EVT_FCHMODAT2:
	case VG_EVT_CHOWN:
	case VG_EVT_LCHOWN:
	case VG_EVT_FCHOWN:
	case VG_EVT_FCHOWNAT:
		return path_target(s, ev, path, true);
	case VG_EVT_RENAME:
	case VG_EVT_RENAMEAT:
	case VG_EVT_RENAMEAT2:
		t = path_target(s, ev, path, true);
		return t ? t : path_target(s, ev, path2, true);
	case VG_EVT_UMOUNT2:
		/* the agent's bpffs, or a mount above it, in the agent's mount namespace */
		if (!path || !s->bpffs[0] || ev->hdr.mntns != s->mntns)
			return NULL;
		return under(s->bpffs, path) && strcmp(path, "/") ? "bpffs" : NULL;
	case VG_EVT_BPF: {
		int64_t cmd = param_i(ev, "cmd"), attr = param_i(ev, "attr");
		uint64_t id = (uint64_t)attr & 0xffffffffu;
		if (cmd == BPF_PROG_GET_FD_BY_ID && attr != INT64_MIN)
			return holds_bpf_id(s, ID_PROG << 32 | id) ? "bpf" : NULL;
		if (cmd == BPF_MAP_GET_FD_BY_ID && attr != INT64_MIN)
			return holds_bpf_id(s, ID_MAP << 32 | id) ? "bpf" : NULL;
		if (cmd == BPF_LINK_GET_FD_BY_ID && attr != INT64_MIN)
			return holds_bpf_id(s, ID_LINK << 32 | id) ? "bpf" : NULL;
		if ((cmd == BPF_OBJ_GET || cmd == BPF_OBJ_PIN) && path)
			return under(path, s->pin_dir) ? "bpf" : NULL;
		return NULL;
	}
	default:
		return NULL;
	}
}

char *agent_self_to_json(const struct vg_agent_self *s)
{
	json_t *o = json_object(), *files = json_array(), *ids = json_array();
	json_object_set_new(o, "pid", json_integer(s->pid));
	json_object_set_new(o, "pgid", json_integer(s->pgid));
	json_object_set_new(o, "pidns", json_integer((json_int_t)s->pidns));
	json_object_set_new(o, "mntns", json_integer((json_int_t)s->mntns));
	json_object_set_new(o, "pin_dir", json_string(s->pin_dir));
	json_object_set_new(o, "bpffs", json_string(s->bpffs));
	for (size_t i = 0; i < s->nfiles; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "kind", json_string(s->files[i].kind));
		json_object_set_new(f, "path", json_string(s->files[i].path));
		json_array_append_new(files, f);
	}
	for (size_t i = 0; i < s->nbpf_ids; i++)
		json_array_append_new(ids, json_integer((json_int_t)s->bpf_ids[i]));
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "bpf_ids", ids);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* The static kind string for a name, NULL if unknown. */
static const char *kind_of(const char *k)
{
	static const char *const kinds[] = { "binary", "rules", "config", "store" };
	for (size_t i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(k, kinds[i]))
			return kinds[i];
	return NULL;
}

static bool get_u64(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

struct vg_agent_self *agent_self_from_json(const char *data, size_t len)
{
	json_error_t e;
	json_t *o = data ? json_loadb(data, strnlen(data, len), 0, &e) : NULL;
	struct vg_agent_self *s = xcalloc(1, sizeof(*s));
	uint64_t pid, pgid, pidns, mntns;
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	const char *bpffs = json_string_value(json_object_get(o, "bpffs"));
	json_t *files = json_object_get(o, "files"), *ids = json_object_get(o, "bpf_ids"), *v;
	size_t i;

	s->procfs = "/proc";
	if (!json_is_object(o) || !get_u64(o, "pid", UINT32_MAX, &pid) || !get_u64(o, "pgid", UINT32_MAX, &pgid) ||
	    !get_u64(o, "pidns", UINT64_MAX >> 1, &pidns) || !get_u64(o, "mntns", UINT64_MAX >> 1, &mntns) ||
	    !pin || !bpffs || !json_is_array(files) || !json_is_array(ids))
		goto bad;
	s->pid = (uint32_t)pid;
	s->pgid = (uint32_t)pgid;
	s->pidns = pidns;
	s->mntns = mntns;
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", pin);
	snprintf(s->bpffs, sizeof(s->bpffs), "%s", bpffs);
	json_array_foreach(files, i, v) {
		const char *kind = kind_of(json_string_value(json_object_get(v, "kind")));
		const char *path = json_string_value(json_object_get(v, "path"));
		const char *base = path ? strrchr(path, '/') : NULL;
		if (!kind || !base || path[0] != '/' || !base[1] || s->nfiles >= AGENT_SELF_FILES)
			goto bad;
		struct vg_agent_file *f = &s->files[s->nfiles++];
		f->kind = kind;
		f->path = xstrdup(path);
		f->base = xstrdup(base + 1);
	}
	json_array_foreach(ids, i, v) {
		if (!json_is_integer(v) || s->nbpf_ids >= AGENT_SELF_BPF_IDS)
			goto bad;
		s->bpf_ids[s->nbpf_ids++] = (uint64_t)json_integer_value(v);
	}
	json_decref(o);
	return s;
bad:
	json_decref(o);
	agent_self_free(s);
	return NULL;
}
