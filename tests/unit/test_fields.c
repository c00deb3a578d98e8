/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field accessors by class (src/engine/fields_*.c) on hand-built records:
 * a container's cgroup and metadata, three processes (one in the
 * container), then an open, a connect and an exec. Each field is resolved
 * by name, extracted through the per-event context and compared as the text
 * an output shows, so the table-driven accessors (header members, container
 * metadata strings, ancestor members, address roles, open modes, image
 * parts, mounts) are checked through the row that names them.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "engine/fields.h"
#include "sensor/decode.h"
#include "state/container_meta.h"
#include "state/state.h"
#include "test_helpers.h"

#define CID "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19"
#define CG_CTR 4242
#define CG_HOST 1

struct fixture {
	struct vg_state *st;
	struct ectx c;
	struct vg_buf rec;
	struct vg_event ev;
};

/* Start a record as the sensor writes it for pid in cgroup. */
static void begin(struct fixture *f, uint16_t type, uint32_t pid, uint32_t ppid, uint64_t cgroup, const char *comm)
{
	rec_begin(&f->rec, type, pid);
	struct vg_event_hdr *h = (struct vg_event_hdr *)f->rec.data;
	h->ppid = ppid;
	h->vpid = h->vtid = cgroup == CG_CTR ? pid - 4000 : pid;
	h->tid = pid + 1; /* a thread other than the leader: thread.tid is not proc.pid */
	h->vtid = h->vpid + 1;
	h->sid = 4001;
	h->tty = 34817;
	h->cgroup_id = cgroup;
	h->euid = 1000;
	h->egid = 1001;
	h->cap_eff = (1ull << 0) | (1ull << 21); /* CAP_CHOWN, CAP_SYS_ADMIN */
	h->cap_prm = 1ull << 7;                  /* CAP_SETUID */
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
}

/* Finish the record, decode it into f->ev and let the state see it. */
static void feed(struct fixture *f, int64_t retval)
{
	char err[128];
	rec_finish(&f->rec, retval);
	assert_int_equal(event_decode(f->rec.data, f->rec.len, &f->ev, err, sizeof(err)), 0);
	state_ingest(f->st, &f->ev);
}

/* Feed a record that only builds state. */
static void feed_state(struct fixture *f, int64_t retval)
{
	feed(f, retval);
	state_done(f->st, &f->ev);
}

static void proc(struct fixture *f, uint32_t pid, uint32_t ppid, uint64_t cgroup, const char *comm, const char *exe,
		 const char *args_json, const char *extra)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"pid\":%u,\"ppid\":%u,\"sid\":%u,\"comm\":\"%s\",\"exe\":\"%s\",\"cwd\":\"/srv\","
		 "\"cgroup_id\":%llu,\"loginuid\":4294967295,\"args\":%s%s}",
		 pid, ppid, pid, comm, exe, (unsigned long long)cgroup, args_json, extra);
	begin(f, VG_EVT_STATE_PROC, pid, ppid, cgroup, comm);
	rec_param(&f->rec, json, (uint16_t)(strlen(json) + 1));
	feed_state(f, 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vg_state_opts so = { .live = false };
	struct vg_mount mounts[] = { { "/var/run/docker.sock", "/run/docker.sock", 0 }, { "/data", "/srv/data", 1 } };
	struct vg_container_meta meta = { .id = CID, .runtime = VG_RT_PODMAN, .privileged = 1, .metadata_found = 1 };
	const char *cg = "/libpod_parent/libpod-" CID;

	f->st = state_new(&so);
	begin(f, VG_EVT_CGROUP, 1, 0, CG_HOST, "systemd");
	rec_param(&f->rec, "/", 2);
	feed_state(f, 0);
	begin(f, VG_EVT_CGROUP, 4001, 900, CG_CTR, "sh");
	rec_param(&f->rec, cg, (uint16_t)(strlen(cg) + 1));
	feed_state(f, 0);
	meta.name = "web";
	meta.image = "registry:5000/team/app:1.2@sha256:00";
	meta.image_id = "0123abcd";
	meta.k8s_namespace = "prod";
	meta.k8s_pod_name = "web-0";
	meta.k8s_pod_uid = "uid-1";
	meta.k8s_container_name = "app";
	meta.mounts = mounts;
	meta.nmounts = 2;
	char *json = container_meta_to_json(&meta);
	begin(f, VG_EVT_STATE_CONTAINER, 0, 0, CG_CTR, "");
	rec_param(&f->rec, json, (uint16_t)(strlen(json) + 1));
	feed_state(f, 0);
	free(json);
	proc(f, 1, 0, CG_HOST, "systemd", "/usr/lib/systemd/systemd", "[\"/sbin/init\"]", "");
	proc(f, 900, 1, CG_HOST, "conmon", "/usr/bin/conmon", "[\"/usr/bin/conmon\"]", "");
	proc(f, 4001, 900, CG_CTR, "sh", "/bin/busybox", "[\"sh\",\"-c\",\"cat /etc/shadow\"]", "");
	ectx_init(&f->c, 0, 0);
	f->c.hostname = "node-1";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ectx_free(&f->c);
	state_free(f->st);
	buf_free(&f->rec);
	free(f);
	return 0;
}

/* The value of field name (arg: its argument, or NULL) on the fed event, as an output shows it. */
static const char *field(struct fixture *f, const char *name, const char *arg)
{
	struct cond_field cf = { .name = (char *)name, .arg = (char *)arg };
	struct fref r;
	char err[256];
	const struct fval *v;
	const char *s;
	size_t len;

	if (fref_resolve(&r, &cf, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	int n = fref_extract(&f->c, &r, &v);
	fval_text(&f->c.arena, &r, v, n, &s, &len);
	fref_free(&r);
	return s;
}

/* Point the context at the fed event. */
static void at(struct fixture *f)
{
	ectx_reset(&f->c, &f->ev, f->st);
}

/* An open of a relative path by sh's child in the container, then its exit from state. */
static void open_in_container(struct fixture *f, int64_t flags, int64_t ret)
{
	begin(f, VG_EVT_OPENAT, 4001, 900, CG_CTR, "sh");
	rec_param_u64(&f->rec, (uint64_t)-100);
	rec_param_path(&f->rec, "../etc/./shadow", "/tmp");
	rec_param_u64(&f->rec, (uint64_t)flags);
	rec_param_u64(&f->rec, 0);
	feed(f, ret);
	at(f);
}

static void test_evt(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDWR | O_CREAT, 3);
	assert_string_equal(field(f, "evt.type", NULL), "openat");
	assert_string_equal(field(f, "evt.dir", NULL), "<");
	assert_string_equal(field(f, "evt.rawres", NULL), "3");
	assert_string_equal(field(f, "evt.res", NULL), "SUCCESS");
	assert_string_equal(field(f, "evt.failed", NULL), "false");
	assert_string_equal(field(f, "evt.category", NULL), "file");
	assert_string_equal(field(f, "evt.hostname", NULL), "node-1");
	assert_string_equal(field(f, "evt.is_open_read", NULL), "true"); /* table-driven: the mode */
	assert_string_equal(field(f, "evt.is_open_write", NULL), "true");
	assert_string_equal(field(f, "evt.is_open_exec", NULL), "false");
	assert_string_equal(field(f, "evt.arg", "name"), "/etc/shadow"); /* Falco's name of the path, resolved */
	assert_string_equal(field(f, "evt.arg", "fd"), "3");
	assert_string_equal(field(f, "evt.buffer", NULL), "<NA>");
	state_done(f->st, &f->ev);

	open_in_container(f, O_WRONLY, -2);
	assert_string_equal(field(f, "evt.rawres", NULL), "-2");
	assert_string_equal(field(f, "evt.res", NULL), "ENOENT");
	assert_string_equal(field(f, "evt.failed", NULL), "true");
	assert_string_equal(field(f, "evt.is_open_read", NULL), "false");
	assert_string_equal(field(f, "evt.is_open_write", NULL), "true");
	state_done(f->st, &f->ev);
}

static void test_proc(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDONLY, 3);
	/* table-driven header members */
	assert_string_equal(field(f, "proc.pid", NULL), "4001");
	assert_string_equal(field(f, "proc.vpid", NULL), "1");
	assert_string_equal(field(f, "proc.sid", NULL), "4001");
	assert_string_equal(field(f, "proc.tty", NULL), "34817");
	assert_string_equal(field(f, "thread.tid", NULL), "4002");
	assert_string_equal(field(f, "thread.vtid", NULL), "2");
	/* the process table */
	assert_string_equal(field(f, "proc.name", NULL), "sh");
	assert_string_equal(field(f, "proc.exe", NULL), "sh");
	assert_string_equal(field(f, "proc.exepath", NULL), "/bin/busybox");
	assert_string_equal(field(f, "proc.args", NULL), "-c cat /etc/shadow");
	assert_string_equal(field(f, "proc.cmdline", NULL), "sh -c cat /etc/shadow");
	assert_string_equal(field(f, "proc.cwd", NULL), "/srv/");
	assert_string_equal(field(f, "proc.ppid", NULL), "900");
	assert_string_equal(field(f, "proc.pname", NULL), "conmon");
	assert_string_equal(field(f, "proc.pexepath", NULL), "/usr/bin/conmon");
	assert_string_equal(field(f, "proc.sname", NULL), "sh");
	assert_string_equal(field(f, "proc.is_vpgid_leader", NULL), "true");
	/* ancestors: one accessor, the member from the row */
	assert_string_equal(field(f, "proc.aname", NULL), "conmon,systemd");
	assert_string_equal(field(f, "proc.aname", "0"), "sh");
	assert_string_equal(field(f, "proc.aname", "2"), "systemd");
	assert_string_equal(field(f, "proc.aname", "3"), "<NA>");
	assert_string_equal(field(f, "proc.apid", NULL), "900,1");
	assert_string_equal(field(f, "proc.aexe", "1"), "/usr/bin/conmon");
	assert_string_equal(field(f, "proc.aexepath", "2"), "/usr/lib/systemd/systemd");
	assert_string_equal(field(f, "proc.acmdline", "1"), "conmon");
	/* capabilities: one accessor, the header member from the row */
	assert_string_equal(field(f, "thread.cap_effective", NULL), "CAP_CHOWN CAP_SYS_ADMIN");
	assert_string_equal(field(f, "thread.cap_permitted", NULL), "CAP_SETUID");
	assert_string_equal(field(f, "proc.exe_ino.ctime", NULL), "<NA>");
	state_done(f->st, &f->ev);

	/* without a process table: header fields still have values, table fields none */
	ectx_reset(&f->c, &f->ev, NULL);
	assert_string_equal(field(f, "proc.pid", NULL), "4001");
	assert_string_equal(field(f, "proc.name", NULL), "sh"); /* the header's comm */
	assert_string_equal(field(f, "proc.ppid", NULL), "900");
	assert_string_equal(field(f, "proc.exepath", NULL), "<NA>");
	assert_string_equal(field(f, "proc.cmdline", NULL), "<NA>");
	assert_string_equal(field(f, "proc.aname", NULL), "<NA>");
	assert_string_equal(field(f, "proc.pname", NULL), "<NA>");
	state_done(f->st, &f->ev);
}

static void test_user(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDONLY, 3);
	assert_string_equal(field(f, "user.uid", NULL), "1000"); /* table-driven: euid */
	assert_string_equal(field(f, "group.gid", NULL), "1001"); /* table-driven: egid */
	assert_string_equal(field(f, "user.loginuid", NULL), "-1");
	assert_string_equal(field(f, "user.loginname", NULL), "<NA>");
	assert_string_equal(field(f, "user.name", NULL), "<NA>"); /* no passwd entry known */
	state_done(f->st, &f->ev);

	begin(f, VG_EVT_OPENAT, 4001, 900, CG_CTR, "sh");
	((struct vg_event_hdr *)f->rec.data)->euid = 0;
	((struct vg_event_hdr *)f->rec.data)->egid = 0;
	rec_param_u64(&f->rec, (uint64_t)-100);
	rec_param_path(&f->rec, "/x", "");
	rec_param_u64(&f->rec, 0);
	rec_param_u64(&f->rec, 0);
	feed(f, 3);
	at(f);
	assert_string_equal(field(f, "user.uid", NULL), "0");
	assert_string_equal(field(f, "user.name", NULL), "root");
	assert_string_equal(field(f, "group.name", NULL), "root");
	state_done(f->st, &f->ev);
}

static void test_fd_file(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDONLY, 3);
	assert_string_equal(field(f, "fd.num", NULL), "3");
	assert_string_equal(field(f, "fd.name", NULL), "/etc/shadow");
	assert_string_equal(field(f, "fd.nameraw", NULL), "../etc/./shadow");
	assert_string_equal(field(f, "fd.type", NULL), "file");
	assert_string_equal(field(f, "fd.typechar", NULL), "f");
	assert_string_equal(field(f, "fd.directory", NULL), "/etc");
	assert_string_equal(field(f, "fd.filename", NULL), "shadow");
	assert_string_equal(field(f, "fd.sip", NULL), "<NA>");
	assert_string_equal(field(f, "fd.sockfamily", NULL), "<NA>");
	assert_string_equal(field(f, "fs.path.name", NULL), "/etc/shadow");
	state_done(f->st, &f->ev);

	open_in_container(f, O_RDONLY | O_DIRECTORY, 4);
	assert_string_equal(field(f, "fd.typechar", NULL), "d");
	assert_string_equal(field(f, "fd.directory", NULL), "/etc/shadow");
	assert_string_equal(field(f, "fd.filename", NULL), "<NA>");
	state_done(f->st, &f->ev);
}

static void test_fd_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(4444) };
	struct vg_tuple t = { .family = AF_INET, .sport = 40000, .dport = 4444 };
	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	inet_pton(AF_INET, "10.88.0.5", t.saddr);
	inet_pton(AF_INET, "192.0.2.10", t.daddr);
	begin(f, VG_EVT_CONNECT, 4001, 900, CG_CTR, "sh");
	rec_param_u64(&f->rec, 5);
	rec_param(&f->rec, &sin, sizeof(sin));
	rec_param(&f->rec, &t, sizeof(t));
	feed(f, 0);
	at(f);
	assert_string_equal(field(f, "fd.num", NULL), "5");
	assert_string_equal(field(f, "fd.type", NULL), "ipv4");
	assert_string_equal(field(f, "fd.typechar", NULL), "4");
	assert_string_equal(field(f, "fd.name", NULL), "10.88.0.5:40000->192.0.2.10:4444");
	assert_string_equal(field(f, "fd.sockfamily", NULL), "ip");
	assert_string_equal(field(f, "fd.connected", NULL), "true");
	/* addresses and ports: one accessor each, the role from the row */
	assert_string_equal(field(f, "fd.cip", NULL), "10.88.0.5");
	assert_string_equal(field(f, "fd.sip", NULL), "192.0.2.10");
	assert_string_equal(field(f, "fd.lip", NULL), "10.88.0.5");
	assert_string_equal(field(f, "fd.rip", NULL), "192.0.2.10");
	assert_string_equal(field(f, "fd.ip", NULL), "10.88.0.5,192.0.2.10");
	assert_string_equal(field(f, "fd.snet", NULL), "192.0.2.10");
	assert_string_equal(field(f, "fd.cport", NULL), "40000");
	assert_string_equal(field(f, "fd.sport", NULL), "4444");
	assert_string_equal(field(f, "fd.lport", NULL), "40000");
	assert_string_equal(field(f, "fd.rport", NULL), "4444");
	assert_string_equal(field(f, "fd.port", NULL), "40000,4444");
	assert_string_equal(field(f, "fd.directory", NULL), "<NA>");
	assert_string_equal(field(f, "fd.sip.name", NULL), "<NA>");
	state_done(f->st, &f->ev);

	/* an accepted connection: the local end is the server */
	begin(f, VG_EVT_ACCEPT4, 4001, 900, CG_CTR, "sh");
	t = (struct vg_tuple){ .family = AF_INET, .sport = 8080, .dport = 51000 };
	inet_pton(AF_INET, "10.88.0.5", t.saddr);
	inet_pton(AF_INET, "192.0.2.77", t.daddr);
	const struct vg_event_info *info = event_table_get(VG_EVT_ACCEPT4);
	for (unsigned int i = 0; i < info->nparams; i++) {
		if (info->params[i].kind == VG_CK_TUPLE)
			rec_param(&f->rec, &t, sizeof(t));
		else if (info->params[i].kind == VG_CK_ARG)
			rec_param_u64(&f->rec, 3);
		else
			rec_param(&f->rec, "", 0);
	}
	feed(f, 6);
	at(f);
	assert_string_equal(field(f, "fd.num", NULL), "6");
	assert_string_equal(field(f, "fd.sip", NULL), "10.88.0.5");
	assert_string_equal(field(f, "fd.cip", NULL), "192.0.2.77");
	assert_string_equal(field(f, "fd.sport", NULL), "8080");
	assert_string_equal(field(f, "fd.cport", NULL), "51000");
	assert_string_equal(field(f, "fd.name", NULL), "192.0.2.77:51000->10.88.0.5:8080");
	state_done(f->st, &f->ev);
}

static void test_container(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDONLY, 3);
	assert_string_equal(field(f, "container.id", NULL), "4f2a9c0d8e7b");
	assert_string_equal(field(f, "container.full_id", NULL), CID);
	assert_string_equal(field(f, "container.name", NULL), "web");
	assert_string_equal(field(f, "container.type", NULL), "podman");
	assert_string_equal(field(f, "container.privileged", NULL), "true");
	/* metadata strings: one accessor, the member from the row */
	assert_string_equal(field(f, "container.image", NULL), "registry:5000/team/app:1.2@sha256:00");
	assert_string_equal(field(f, "container.image.id", NULL), "0123abcd");
	assert_string_equal(field(f, "k8s.ns.name", NULL), "prod");
	assert_string_equal(field(f, "k8s.pod.name", NULL), "web-0");
	assert_string_equal(field(f, "k8s.pod.uid", NULL), "uid-1");
	assert_string_equal(field(f, "k8s.container.name", NULL), "app");
	/* image parts and mounts: one accessor each, the part from the row */
	assert_string_equal(field(f, "container.image.repository", NULL), "registry:5000/team/app");
	assert_string_equal(field(f, "container.image.tag", NULL), "1.2");
	assert_string_equal(field(f, "container.mount.dest", "/var/run/docker.sock"), "/run/docker.sock");
	assert_string_equal(field(f, "container.mount.dest", "/nope*"), "N/A");
	assert_string_equal(field(f, "container.mount.source", "/srv/*"), "/data");
	assert_string_equal(field(f, "container.mount.source", "1"), "/data");
	assert_string_equal(field(f, "container.mounts", NULL),
			    "/var/run/docker.sock:/run/docker.sock:rw,/data:/srv/data:ro");
	assert_string_equal(field(f, "container.start_ts", NULL), "<NA>");
	state_done(f->st, &f->ev);

	/* on the host */
	begin(f, VG_EVT_OPENAT, 900, 1, CG_HOST, "conmon");
	rec_param_u64(&f->rec, (uint64_t)-100);
	rec_param_path(&f->rec, "/run/x", "");
	rec_param_u64(&f->rec, 0);
	rec_param_u64(&f->rec, 0);
	feed(f, 3);
	at(f);
	assert_string_equal(field(f, "container.id", NULL), "host");
	assert_string_equal(field(f, "container.full_id", NULL), "host");
	assert_string_equal(field(f, "container.name", NULL), "host");
	assert_string_equal(field(f, "container.type", NULL), "host");
	assert_string_equal(field(f, "container.image", NULL), "<NA>");
	assert_string_equal(field(f, "container.image.tag", NULL), "<NA>");
	assert_string_equal(field(f, "k8s.ns.name", NULL), "<NA>");
	assert_string_equal(field(f, "container.mount.dest", "/x"), "<NA>");
	state_done(f->st, &f->ev);
}

/* io_uring records (VG_HDR_IO_URING) and the vigil.* fields, with the agent as replay knows it. */
static void test_io_uring_and_vigil(void **state)
{
	struct fixture *f = *state;
	open_in_container(f, O_RDONLY, 3);
	assert_string_equal(field(f, "evt.is_io_uring", NULL), "false");
	assert_string_equal(field(f, "evt.io_uring.op", NULL), "<NA>");
	assert_string_equal(field(f, "vigil.agent.pid", NULL), "<NA>"); /* no agent known */
	assert_string_equal(field(f, "vigil.tamper", NULL), "<NA>");
	state_done(f->st, &f->ev);

	/* the same open made through io_uring: the same type and fields, and the flag */
	begin(f, VG_EVT_OPENAT, 4001, 900, CG_CTR, "sh");
	((struct vg_event_hdr *)f->rec.data)->flags |= VG_HDR_IO_URING;
	rec_param_u64(&f->rec, (uint64_t)-100);
	rec_param_path(&f->rec, "/etc/shadow", "");
	rec_param_u64(&f->rec, O_RDONLY);
	rec_param_u64(&f->rec, 0);
	feed(f, 4);
	at(f);
	assert_string_equal(field(f, "evt.type", NULL), "openat");
	assert_string_equal(field(f, "evt.is_io_uring", NULL), "true");
	assert_string_equal(field(f, "evt.io_uring.op", NULL), "openat");
	assert_string_equal(field(f, "fd.name", NULL), "/etc/shadow");
	assert_string_equal(field(f, "fd.num", NULL), "4");
	state_done(f->st, &f->ev);

	begin(f, VG_EVT_IO_URING_OP, 4001, 900, CG_CTR, "sh");
	((struct vg_event_hdr *)f->rec.data)->flags |= VG_HDR_IO_URING;
	rec_param_u64(&f->rec, 22);
	rec_param(&f->rec, "/etc/shadow", 12);
	feed(f, 100);
	at(f);
	assert_string_equal(field(f, "evt.type", NULL), "io_uring_op");
	assert_string_equal(field(f, "evt.io_uring.op", NULL), "read");
	state_done(f->st, &f->ev);

	/* the agent, as a STATE_AGENT record gives it in replay: a kill of its pid */
	static const char agent[] = "{\"pid\":777,\"pgid\":777,\"pidns\":0,\"mntns\":0,\"pin_dir\":\"/sys/fs/bpf/vigil\","
				    "\"bpffs\":\"/sys/fs/bpf\",\"files\":[],\"bpf_ids\":[]}";
	begin(f, VG_EVT_STATE_AGENT, 777, 1, CG_HOST, "vigil");
	rec_param(&f->rec, agent, sizeof(agent));
	feed_state(f, 0);
	begin(f, VG_EVT_KILL, 4001, 900, CG_CTR, "sh");
	rec_param_u64(&f->rec, 777);
	rec_param_u64(&f->rec, 9);
	feed(f, 0);
	at(f);
	assert_string_equal(field(f, "vigil.agent.pid", NULL), "777");
	assert_string_equal(field(f, "vigil.tamper", NULL), "signal");
	state_done(f->st, &f->ev);
}

/* The class tables make one table: every row found by its name, classes in Falco's order. */
static void test_table(void **unused)
{
	(void)unused;
	static const char *const order[] = { "evt.", "proc.", "thread.", "user.", "group.", "fd.", "fs.", "container.", "k8s.",
					     "flow.", "vigil." };
	size_t n, k = 0;
	const struct fdef *t = field_table(&n);
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(field_find(t[i].name), &t[i]);
		assert_non_null(t[i].get);
		assert_non_null(t[i].desc);
		while (k < sizeof(order) / sizeof(order[0]) && strncmp(t[i].name, order[k], strlen(order[k])))
			k++;
		if (k == sizeof(order) / sizeof(order[0]))
			fail_msg("'%s' is out of its class's place", t[i].name);
	}
	assert_null(field_find("proc.nope"));
}

static void test_resolve_errors(void **unused)
{
	(void)unused;
	static const struct {
		const char *name, *arg, *err;
	} cases[] = {
		{ "proc.nope", NULL, "unknown field 'proc.nope'" },
		{ "proc.name", "1", "field 'proc.name' takes no argument" },
		{ "evt.arg", NULL, "field 'evt.arg' needs an argument, as in evt.arg[...]" },
		{ "proc.aname", "x", "field 'proc.aname' needs a number as its argument, not 'x'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cond_field cf = { .name = (char *)cases[i].name, .arg = (char *)cases[i].arg };
		struct fref r;
		char err[256] = "";
		assert_int_equal(fref_resolve(&r, &cf, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_uring_and_vigil, setup, teardown),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_resolve_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
