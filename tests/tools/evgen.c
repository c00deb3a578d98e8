/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evgen IN OUT: turn a readable event script into a capture file, so rule
 * tests can say "these events" without a kernel. One item per line:
 *
 *   # comment
 *   container cgroup=42 id=4f2a... name=web image=localhost/app:1 [privileged=1]
 *             [k8s_ns=prod k8s_pod=api-1]
 *   proc pid=100 ppid=1 [cgroup=42] comm=sh exe=/bin/sh args="sh -c x" [cwd=/] [tty=0]
 *        [uid=0] [start_ns=N]
 *   user [cgroup=42] id=1000 name=ann [group=1]      (a name the agent looked up)
 *   TYPE pid=100 [ppid=1] [cgroup=42] comm=cat [ret=0] [uid=0 euid=0 loginuid=-1 tty=0]
 *        [caps=0x...] [dt=1000] PARAM=VALUE...
 *
 * TYPE is an event name from `vigil events`. Parameters are named as in
 * docs/events.md (a.NAME= where NAME is also a header key, as ptrace's pid)
 * and written in order, absent ones empty. Values: integers
 * (0x.. and 0.. allowed), strings, paths (absolute, or relative with
 * PARAM_base=DIR), argv as one quoted string split on spaces, addresses as
 * ip:port, [ip6]:port or unix:/path, tuples as lip:lport->rip:rport (a flow record's
 * direction appended as /out or /in), exe_info
 * as INODE[:upper|:memfd|:deleted], a blob (flow_dns payload) as dns:NAME (a DNS
 * response to an A query for NAME, answered with 192.0.2.1, TTL 60) or hex:BYTES. Timestamps advance by dt ns (default 1000)
 * from 1 s after boot; the capture says the machine booted at 2025-11-28 12:00 UTC.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common/buf.h"
#include "sensor/capture.h"
#include "sensor/event_table.h"
#include "state/container_meta.h"
#include "vigil/event.h"

#define MAXKV 32

struct kv {
	char *k, *v;
};

static struct vg_capture_writer *w;
static uint64_t now = 1000000000ULL;
static int lineno;

static void die(const char *msg, const char *what)
{
	fprintf(stderr, "evgen: line %d: %s%s%s\n", lineno, msg, what ? ": " : "", what ? what : "");
	exit(1);
}

/* Split a line into a word and key=value pairs; values may be "quoted". */
static int split(char *s, char **word, struct kv *kv)
{
	int n = 0;
	while (isspace((unsigned char)*s))
		s++;
	*word = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = 0;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (n == MAXKV)
			die("too many fields", NULL);
		char *eq = strchr(s, '=');
		if (!eq)
			die("expected key=value", s);
		*eq = 0;
		kv[n].k = s;
		s = eq + 1;
		if (*s == '"') {
			char *end = strchr(s + 1, '"');
			if (!end)
				die("unterminated quote", NULL);
			*end = 0;
			kv[n].v = s + 1;
			s = end + 1;
		} else {
			kv[n].v = s;
			while (*s && !isspace((unsigned char)*s))
				s++;
			if (*s)
				*s++ = 0;
		}
		n++;
	}
	return n;
}

static const char *get(struct kv *kv, int n, const char *k)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(kv[i].k, k))
			return kv[i].v;
	return NULL;
}

static long long num(const char *v, long long def)
{
	if (!v)
		return def;
	char *end;
	long long r = strtoll(v, &end, 0);
	if (*end)
		die("not a number", v);
	return r;
}

static void add(struct vg_buf *rec, const void *data, size_t len)
{
	uint16_t l = (uint16_t)len;
	buf_add(rec, &l, sizeof(l));
	buf_add(rec, data, len);
	((struct vg_event_hdr *)rec->data)->nparams++;
}

static void write_rec(struct vg_buf *rec)
{
	((struct vg_event_hdr *)rec->data)->len = rec->len;
	if (capture_writer_add(w, rec->data, rec->len))
		die("cannot write the capture", NULL);
}

static void header(struct vg_buf *rec, int type, struct kv *kv, int n)
{
	struct vg_event_hdr h = { 0 };
	now += (uint64_t)num(get(kv, n, "dt"), 1000);
	h.ts = now;
	h.type = type;
	h.pid = (uint32_t)num(get(kv, n, "pid"), 1);
	h.tid = (uint32_t)num(get(kv, n, "tid"), h.pid);
	h.ppid = (uint32_t)num(get(kv, n, "ppid"), 1);
	h.vpid = (uint32_t)num(get(kv, n, "vpid"), h.pid);
	h.vtid = h.vpid;
	h.sid = (uint32_t)num(get(kv, n, "sid"), h.pid);
	h.cgroup_id = (uint64_t)num(get(kv, n, "cgroup"), 1);
	h.uid = (uint32_t)num(get(kv, n, "uid"), 0);
	h.euid = (uint32_t)num(get(kv, n, "euid"), h.uid);
	h.gid = (uint32_t)num(get(kv, n, "gid"), 0);
	h.egid = (uint32_t)num(get(kv, n, "egid"), h.gid);
	h.loginuid = (uint32_t)num(get(kv, n, "loginuid"), -1);
	h.tty = (uint32_t)num(get(kv, n, "tty"), 0);
	h.cap_eff = h.cap_prm = (uint64_t)num(get(kv, n, "caps"), 0xa80425fb);
	h.retval = num(get(kv, n, "ret"), 0);
	const char *comm = get(kv, n, "comm");
	snprintf(h.comm, sizeof(h.comm), "%s", comm ? comm : "");
	buf_reset(rec);
	buf_add(rec, &h, sizeof(h));
}

static void sockaddr_param(struct vg_buf *rec, const char *v)
{
	if (!strncmp(v, "unix:", 5)) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", v + 5);
		add(rec, &un, offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
		return;
	}
	char ip[64];
	const char *colon = strrchr(v, ':');
	if (!colon)
		die("address needs ip:port", v);
	snprintf(ip, sizeof(ip), "%.*s", (int)(colon - v), v);
	int port = atoi(colon + 1);
	if (ip[0] == '[') {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		ip[strlen(ip) - 1] = 0;
		if (inet_pton(AF_INET6, ip + 1, &s6.sin6_addr) != 1)
			die("bad IPv6 address", ip);
		add(rec, &s6, sizeof(s6));
	} else {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
		if (inet_pton(AF_INET, ip, &s4.sin_addr) != 1)
			die("bad IPv4 address", ip);
		add(rec, &s4, sizeof(s4));
	}
}

static void endpoint(const char *s, size_t len, int *fam, uint8_t *addr, uint16_t *port)
{
	char buf[80];
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	char *colon = strrchr(buf, ':');
	if (!colon)
		die("tuple endpoint needs ip:port", buf);
	*colon = 0;
	*port = (uint16_t)atoi(colon + 1);
	char *ip = buf;
	if (*ip == '[') {
		ip++;
		ip[strlen(ip) - 1] = 0;
	}
	if (inet_pton(AF_INET, ip, addr) == 1)
		*fam = AF_INET;
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		*fam = AF_INET6;
	else
		die("bad address in tuple", ip);
}

static void tuple_param(struct vg_buf *rec, const char *v)
{
	struct vg_tuple t = { 0 };
	if (!strcmp(v, "unix")) {
		t.family = AF_UNIX;
	} else if (strcmp(v, "none")) {
		const char *arrow = strstr(v, "->");
		int f1, f2;
		if (!arrow)
			die("tuple needs lip:lport->rip:rport", v);
		/* a flow record's direction rides in the tuple's pad (include/vigil/flow.h): /out or /in */
		const char *slash = strchr(arrow, '/');
		size_t rlen = slash ? (size_t)(slash - arrow - 2) : strlen(arrow + 2);
		if (slash)
			t.pad = !strcmp(slash, "/out") ? 1 : !strcmp(slash, "/in") ? 2 : 0;
		endpoint(v, arrow - v, &f1, t.saddr, &t.sport);
		endpoint(arrow + 2, rlen, &f2, t.daddr, &t.dport);
		t.family = f1;
	}
	add(rec, &t, sizeof(t));
}

/* A blob: dns:NAME (a DNS response for NAME: A 192.0.2.1, TTL 60), hex:BYTES, else the text. */
static void blob_param(struct vg_buf *rec, const char *v)
{
	struct vg_buf b = { 0 };
	if (!strncmp(v, "dns:", 4)) {
		static const uint8_t hdr[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
		static const uint8_t tail[] = { 0, 1, 0, 1,                       /* QTYPE A, QCLASS IN */
						0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, /* answer: pointer, A, IN, TTL, len */
						192, 0, 2, 1 };
		buf_add(&b, hdr, sizeof(hdr));
		for (const char *l = v + 4; *l;) {
			const char *dot = strchr(l, '.');
			size_t len = dot ? (size_t)(dot - l) : strlen(l);
			if (len == 0 || len > 63)
				die("bad label in dns: name", v);
			uint8_t c = (uint8_t)len;
			buf_add(&b, &c, 1);
			buf_add(&b, l, len);
			l += len + (dot ? 1 : 0);
		}
		buf_add(&b, "", 1);
		buf_add(&b, tail, sizeof(tail));
	} else if (!strncmp(v, "hex:", 4)) {
		for (const char *h = v + 4; h[0] && h[1]; h += 2) {
			char two[3] = { h[0], h[1], 0 };
			uint8_t c = (uint8_t)strtoul(two, NULL, 16);
			buf_add(&b, &c, 1);
		}
	} else {
		buf_add(&b, v, strlen(v));
	}
	add(rec, b.data ? b.data : "", b.len);
	buf_free(&b);
}

static void event_line(int type, struct kv *kv, int n)
{
	const struct vg_event_info *in = event_table_get(type);
	struct vg_buf rec = { 0 };
	char key[80];

	header(&rec, type, kv, n);
	for (unsigned int i = 0; i < in->nparams; i++) {
		const struct vg_param_info *p = &in->params[i];
		snprintf(key, sizeof(key), "a.%s", p->name); /* a.pid= when a name is also a header key */
		const char *v = get(kv, n, key);
		if (!v)
			v = get(kv, n, p->name);
		if (!v) {
			add(&rec, "", 0);
			continue;
		}
		switch (p->kind) {
		case VG_CK_ARG:
		case VG_CK_USER_U64: {
			uint64_t x = (uint64_t)num(v, 0);
			add(&rec, &x, sizeof(x));
			break;
		}
		case VG_CK_PATH:
		case VG_CK_EXE: {
			struct vg_buf b = { 0 };
			snprintf(key, sizeof(key), "%s_base", p->name);
			const char *base = get(kv, n, key);
			buf_add(&b, v, strlen(v) + 1);
			buf_add(&b, base ? base : "", strlen(base ? base : "") + 1);
			add(&rec, b.data, b.len);
			buf_free(&b);
			break;
		}
		case VG_CK_ARGV: {
			char *copy = xstrdup(v);
			for (char *c = copy; *c; c++)
				if (*c == ' ')
					*c = 0;
			add(&rec, copy, strlen(v) + 1);
			free(copy);
			break;
		}
		case VG_CK_SOCKADDR:
			sockaddr_param(&rec, v);
			break;
		case VG_CK_TUPLE:
			tuple_param(&rec, v);
			break;
		case VG_CK_BLOB:
			blob_param(&rec, v);
			break;
		case VG_CK_EXE_INFO: {
			struct vg_exe_info ei = { .ino = (uint64_t)strtoull(v, NULL, 10), .dev = 40 };
			if (strstr(v, ":upper"))
				ei.flags |= VG_EXE_UPPER_LAYER;
			if (strstr(v, ":memfd"))
				ei.flags |= VG_EXE_MEMFD;
			if (strstr(v, ":deleted"))
				ei.flags |= VG_EXE_DELETED;
			add(&rec, &ei, sizeof(ei));
			break;
		}
		default: /* strings */
			add(&rec, v, strlen(v) + 1);
			break;
		}
	}
	write_rec(&rec);
	buf_free(&rec);
}

static void container_line(struct kv *kv, int n)
{
	struct vg_container_meta m = { .runtime = VG_RT_PODMAN, .metadata_found = 1 };
	struct vg_buf rec = { 0 }, path = { 0 };
	const char *id = get(kv, n, "id");
	if (!id || strlen(id) != 64)
		die("container needs id= with 64 hex digits", id);
	snprintf(m.id, sizeof(m.id), "%s", id);
	m.name = (char *)get(kv, n, "name");
	m.image = (char *)get(kv, n, "image");
	m.image_id = (char *)get(kv, n, "image_id");
	m.privileged = (int)num(get(kv, n, "privileged"), 0);
	m.k8s_namespace = (char *)get(kv, n, "k8s_ns");
	m.k8s_pod_name = (char *)get(kv, n, "k8s_pod");

	struct kv hk[2] = { { "cgroup", (char *)get(kv, n, "cgroup") }, { "comm", "" } };
	header(&rec, VG_EVT_CGROUP, hk, hk[0].v ? 2 : 1);
	buf_printf(&path, "/libpod_parent/libpod-%s", id);
	add(&rec, path.data, path.len + 1);
	write_rec(&rec);
	char *json = container_meta_to_json(&m);
	header(&rec, VG_EVT_STATE_CONTAINER, hk, hk[0].v ? 2 : 1);
	add(&rec, json, strlen(json) + 1);
	write_rec(&rec);
	free(json);
	buf_free(&path);
	buf_free(&rec);
}

static void proc_line(struct kv *kv, int n)
{
	struct vg_buf json = { 0 }, rec = { 0 };
	struct vg_json j;
	const char *args = get(kv, n, "args");
	jw_init(&j, &json);
	jw_obj_begin(&j, NULL);
	jw_uint(&j, "pid", (uint64_t)num(get(kv, n, "pid"), 1));
	jw_uint(&j, "ppid", (uint64_t)num(get(kv, n, "ppid"), 0));
	jw_uint(&j, "vpid", (uint64_t)num(get(kv, n, "vpid"), num(get(kv, n, "pid"), 1)));
	jw_uint(&j, "sid", (uint64_t)num(get(kv, n, "sid"), num(get(kv, n, "pid"), 1)));
	jw_uint(&j, "tty", (uint64_t)num(get(kv, n, "tty"), 0));
	jw_uint(&j, "uid", (uint64_t)num(get(kv, n, "uid"), 0));
	jw_uint(&j, "euid", (uint64_t)num(get(kv, n, "uid"), 0));
	jw_uint(&j, "loginuid", (uint32_t)num(get(kv, n, "loginuid"), -1));
	jw_uint(&j, "cgroup_id", (uint64_t)num(get(kv, n, "cgroup"), 1));
	jw_uint(&j, "start_ns", (uint64_t)num(get(kv, n, "start_ns"), 0));
	jw_str(&j, "comm", get(kv, n, "comm") ? get(kv, n, "comm") : "");
	jw_str(&j, "exe", get(kv, n, "exe") ? get(kv, n, "exe") : "");
	jw_str(&j, "cwd", get(kv, n, "cwd") ? get(kv, n, "cwd") : "/");
	jw_arr_begin(&j, "args");
	if (args) {
		char *copy = xstrdup(args), *save, *tok;
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			jw_str(&j, NULL, tok);
		free(copy);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	header(&rec, VG_EVT_STATE_PROC, kv, n);
	add(&rec, json.data, json.len + 1);
	write_rec(&rec);
	buf_free(&json);
	buf_free(&rec);
}

static void user_line(struct kv *kv, int n)
{
	struct vg_buf json = { 0 }, rec = { 0 };
	struct vg_json j;
	jw_init(&j, &json);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "kind", num(get(kv, n, "group"), 0) ? "group" : "user");
	jw_uint(&j, "id", (uint64_t)num(get(kv, n, "id"), 0));
	jw_str(&j, "name", get(kv, n, "name") ? get(kv, n, "name") : "");
	jw_obj_end(&j);
	header(&rec, VG_EVT_STATE_USER, kv, n);
	add(&rec, json.data, json.len + 1);
	write_rec(&rec);
	buf_free(&json);
	buf_free(&rec);
}

int main(int argc, char **argv)
{
	char line[4096];
	struct kv kv[MAXKV];
	char *word;

	if (argc != 3) {
		fputs("usage: evgen SCRIPT CAPTURE\n", stderr);
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	w = capture_writer_open(argv[2], 1764331200ULL * 1000000000ULL, "test-host");
	if (!w)
		return 1;
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		int n = split(s, &word, kv);
		if (!strcmp(word, "container")) {
			container_line(kv, n);
		} else if (!strcmp(word, "proc")) {
			proc_line(kv, n);
		} else if (!strcmp(word, "user")) {
			user_line(kv, n);
		} else {
			int t = event_table_find(word);
			if (t < 0)
				die("unknown event type", word);
			event_line(t, kv, n);
		}
	}
	fclose(in);
	return capture_writer_close(w) == 0 ? 0 : 1;
}
