/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkcapture FILE: write a small, deterministic capture file made from code
 * (no data from this machine): a container's cgroup and metadata, two
 * processes, then an exec, an open, a connect and an exit inside the
 * container, and a host open. Fixture for replay tests and fuzz seeds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"
#include "sensor/capture.h"
#include "state/container_meta.h"
#include "vigil/event.h"

#define CID "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19"
#define CGROUP_CTR 4242
#define CGROUP_HOST 1

static struct vg_capture_writer *w;
static struct vg_buf rec;
static uint64_t now = 1000000000ULL;

static void begin(uint16_t type, uint32_t pid, uint32_t ppid, uint64_t cgroup, const char *comm)
{
	struct vg_event_hdr h = { 0 };

	h.ts = now += 1000;
	h.type = type;
	h.pid = h.tid = pid;
	h.ppid = ppid;
	h.vpid = h.vtid = cgroup == CGROUP_CTR ? pid - 4000 : pid;
	h.cgroup_id = cgroup;
	h.loginuid = UINT32_MAX;
	h.pidns = cgroup == CGROUP_CTR ? 4026532300u : 4026531836u;
	h.mntns = cgroup == CGROUP_CTR ? 4026532298u : 4026531840u;
	h.netns = cgroup == CGROUP_CTR ? 4026532210u : 4026531833u;
	h.cap_eff = h.cap_prm = 0xa80425fbULL;
	snprintf(h.comm, sizeof(h.comm), "%s", comm);
	buf_reset(&rec);
	buf_add(&rec, &h, sizeof(h));
}

static void param(const void *data, size_t len)
{
	uint16_t l = len;
	buf_add(&rec, &l, sizeof(l));
	buf_add(&rec, data, len);
	((struct vg_event_hdr *)rec.data)->nparams++;
}

static void param_u64(uint64_t v)
{
	param(&v, sizeof(v));
}

static void param_str2(const char *a, const char *b) /* "a\0b\0" */
{
	struct vg_buf p = { 0 };
	buf_add(&p, a, strlen(a) + 1);
	buf_add(&p, b, strlen(b) + 1);
	param(p.data, p.len);
	buf_free(&p);
}

static void end(int64_t retval)
{
	struct vg_event_hdr *h = (struct vg_event_hdr *)rec.data;
	h->retval = retval;
	h->len = rec.len;
	if (capture_writer_add(w, rec.data, rec.len) != 0)
		exit(1);
}

static void state_proc(uint32_t pid, uint32_t ppid, uint64_t cgroup, const char *comm, const char *exe,
		       const char *args_json)
{
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"pid\":%u,\"ppid\":%u,\"sid\":%u,\"comm\":\"%s\",\"exe\":\"%s\",\"cwd\":\"/\","
		 "\"cgroup_id\":%llu,\"loginuid\":4294967295,\"args\":%s}",
		 pid, ppid, pid, comm, exe, (unsigned long long)cgroup, args_json);
	begin(VG_EVT_STATE_PROC, pid, ppid, cgroup, comm);
	param(json, strlen(json) + 1);
	end(0);
}

int main(int argc, char **argv)
{
	struct vg_container_meta meta = { .id = CID, .runtime = VG_RT_PODMAN, .privileged = 0, .metadata_found = 1 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(4444) };
	char *json;

	if (argc != 2) {
		fputs("usage: mkcapture FILE\n", stderr);
		return 2;
	}
	w = capture_writer_open(argv[1], 1764331200ULL * 1000000000ULL, "fixture-host");
	if (!w)
		return 1;

	begin(VG_EVT_CGROUP, 1, 0, CGROUP_HOST, "systemd");
	param("/", 2);
	end(0);
	begin(VG_EVT_CGROUP, 4001, 900, CGROUP_CTR, "sh");
	param("/libpod_parent/libpod-" CID, strlen("/libpod_parent/libpod-" CID) + 1);
	end(0);
	meta.name = "web";
	meta.image = "localhost/app:1";
	meta.image_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	json = container_meta_to_json(&meta);
	begin(VG_EVT_STATE_CONTAINER, 0, 0, CGROUP_CTR, "");
	param(json, strlen(json) + 1);
	end(0);
	free(json);
	state_proc(1, 0, CGROUP_HOST, "systemd", "/usr/lib/systemd/systemd", "[\"/sbin/init\"]");
	state_proc(900, 1, CGROUP_HOST, "conmon", "/usr/bin/conmon", "[\"/usr/bin/conmon\"]");
	state_proc(4001, 900, CGROUP_CTR, "sh", "/bin/busybox", "[\"sh\",\"-c\",\"cat /etc/shadow\"]");

	/* the child of sh forks, execs cat, reads /etc/shadow, connects out, exits */
	begin(VG_EVT_CLONE, 4002, 4001, CGROUP_CTR, "sh");
	param_u64(0x1200011);
	end(0);
	begin(VG_EVT_EXECVE, 4002, 4001, CGROUP_CTR, "cat");
	param_str2("/bin/cat", "");
	param("cat\0/etc/shadow", 16);
	param("/tmp", 5);
	struct vg_exe_info ei = { .ino = 1234, .dev = 40, .flags = VG_EXE_UPPER_LAYER };
	param(&ei, sizeof(ei));
	end(0);
	begin(VG_EVT_OPENAT, 4002, 4001, CGROUP_CTR, "cat");
	param_u64((uint64_t)-100);
	param_str2("../etc/shadow", "/tmp");
	param_u64(0);
	param_u64(0);
	end(3);
	begin(VG_EVT_CONNECT, 4002, 4001, CGROUP_CTR, "cat");
	param_u64(4);
	inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
	param(&sin, sizeof(sin));
	struct vg_tuple t = { .family = AF_INET, .sport = 40000, .dport = 4444 };
	inet_pton(AF_INET, "10.88.0.5", t.saddr);
	inet_pton(AF_INET, "192.0.2.10", t.daddr);
	param(&t, sizeof(t));
	end(0);
	begin(VG_EVT_PROCEXIT, 4002, 4001, CGROUP_CTR, "cat");
	end(0);
	/* a host process */
	begin(VG_EVT_OPENAT, 900, 1, CGROUP_HOST, "conmon");
	param_u64((uint64_t)-100);
	param_str2("/run/ctr.pid", "");
	param_u64(0101);
	param_u64(0644);
	end(-2);

	buf_free(&rec);
	return capture_writer_close(w) == 0 ? 0 : 1;
}
