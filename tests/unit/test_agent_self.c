/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's description (src/state/agent_self.c): what of the agent an
 * event acts on (vigil.tamper), from a description as replay reads it (no
 * live lookups, so the answers are the record's alone), its JSON round trip,
 * and records that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <cmocka.h>
#include "sensor/decode.h"
#include "state/agent_self.h"
#include "test_helpers.h"

#define AGENT 4242
#define PIDNS 4026531836u
#define MNTNS 4026531832u

static const char self_json[] =
	"{\"pid\":4242,\"pgid\":4200,\"pidns\":4026531836,\"mntns\":4026531832,"
	"\"pin_dir\":\"/sys/fs/bpf/vigil\",\"bpffs\":\"/sys/fs/bpf\","
	"\"files\":[{\"kind\":\"rules\",\"path\":\"/etc/vigil/rules.yaml\"},"
	"{\"kind\":\"binary\",\"path\":\"/usr/local/bin/vigil\"},{\"kind\":\"store\",\"path\":\"/var/lib/vigil/vigil.db\"}],"
	"\"bpf_ids\":[8589934599,4294967301,12884901890]}";

static struct vg_agent_self *self_new(void)
{
	struct vg_agent_self *s = agent_self_from_json(self_json, sizeof(self_json));
	assert_non_null(s);
	return s;
}

/* Decode b's record (owned by b) into ev. */
static void decode(struct vg_buf *b, struct vg_event *ev, uint32_t pidns, uint32_t mntns)
{
	char err[128];
	((struct vg_event_hdr *)b->data)->pidns = pidns;
	((struct vg_event_hdr *)b->data)->mntns = mntns;
	assert_int_equal(event_decode(b->data, b->len, ev, err, sizeof(err)), 0);
}

static const char *signal_target(struct vg_agent_self *s, uint16_t type, int64_t a0, int64_t a1, int64_t a2,
				 uint32_t pidns)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	rec_begin(&b, type, 99);
	rec_param_u64(&b, (uint64_t)a0);
	rec_param_u64(&b, (uint64_t)a1);
	if (type == VG_EVT_TGKILL || type == VG_EVT_PIDFD_SEND_SIGNAL)
		rec_param_u64(&b, (uint64_t)a2);
	rec_finish(&b, 0);
	decode(&b, &ev, pidns, MNTNS);
	const char *t = agent_self_target(s, &ev, NULL, NULL);
	buf_free(&b);
	return t;
}

static void test_signals(void **state)
{
	(void)state;
	struct vg_agent_self *s = self_new();
	assert_string_equal(signal_target(s, VG_EVT_KILL, AGENT, 9, 0, PIDNS), "signal");
	assert_string_equal(signal_target(s, VG_EVT_KILL, -1, 15, 0, PIDNS), "signal");    /* everyone */
	assert_string_equal(signal_target(s, VG_EVT_KILL, -4200, 9, 0, PIDNS), "signal");  /* its group */
	assert_null(signal_target(s, VG_EVT_KILL, AGENT, 0, 0, PIDNS));                     /* a probe */
	assert_null(signal_target(s, VG_EVT_KILL, AGENT + 1, 9, 0, PIDNS));                 /* another */
	assert_null(signal_target(s, VG_EVT_KILL, AGENT, 9, 0, PIDNS + 1)); /* another pid namespace's 4242 */
	assert_string_equal(signal_target(s, VG_EVT_TKILL, AGENT, 9, 0, PIDNS), "signal");
	assert_string_equal(signal_target(s, VG_EVT_TGKILL, AGENT, AGENT, 9, PIDNS), "signal");
	/* pidfd_send_signal: the pid is the host's, whatever the caller's namespace */
	assert_string_equal(signal_target(s, VG_EVT_PIDFD_SEND_SIGNAL, 3, AGENT, 9, PIDNS + 1), "signal");
	assert_null(signal_target(s, VG_EVT_PIDFD_SEND_SIGNAL, 3, 0, 9, PIDNS));
	assert_string_equal(signal_target(s, VG_EVT_PTRACE, 16, AGENT, 0, PIDNS), "ptrace");
	assert_null(signal_target(s, VG_EVT_PTRACE, 0, AGENT, 0, PIDNS)); /* PTRACE_TRACEME names no one */
	agent_self_free(s);
}

static const char *file_target(struct vg_agent_self *s, uint16_t type, const char *path, uint64_t flags)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	rec_begin(&b, type, 99);
	if (type == VG_EVT_OPENAT) {
		rec_param_u64(&b, (uint64_t)-100);
		rec_param_path(&b, path, "");
		rec_param_u64(&b, flags);
		rec_param_u64(&b, 0);
	} else {
		rec_param_u64(&b, (uint64_t)-100);
		rec_param_path(&b, path, "");
		rec_param_u64(&b, 0);
	}
	rec_finish(&b, 3);
	decode(&b, &ev, PIDNS, MNTNS);
	const char *t = agent_self_target(s, &ev, path, NULL);
	buf_free(&b);
	return t;
}

static void test_files(void **state)
{
	(void)state;
	struct vg_agent_self *s = self_new();
	assert_string_equal(file_target(s, VG_EVT_OPENAT, "/etc/vigil/rules.yaml", O_WRONLY | O_APPEND), "rules");
	assert_string_equal(file_target(s, VG_EVT_OPENAT, "/var/lib/vigil/vigil.db", O_RDWR), "store");
	assert_null(file_target(s, VG_EVT_OPENAT, "/etc/vigil/rules.yaml", O_RDONLY)); /* reading is not tampering */
	assert_null(file_target(s, VG_EVT_OPENAT, "/tmp/rules.yaml", O_WRONLY));      /* same name elsewhere */
	assert_string_equal(file_target(s, VG_EVT_UNLINKAT, "/usr/local/bin/vigil", 0), "binary");
	assert_string_equal(file_target(s, VG_EVT_UNLINKAT, "/sys/fs/bpf/vigil/isolated", 0), "bpf");
	assert_string_equal(file_target(s, VG_EVT_OPENAT, "/proc/4242/mem", O_RDONLY), "memory");
	assert_string_equal(file_target(s, VG_EVT_OPENAT, "/proc/4242/task/4243/mem", O_RDONLY), "memory");
	assert_null(file_target(s, VG_EVT_OPENAT, "/proc/4242/maps", O_RDONLY));
	assert_null(file_target(s, VG_EVT_OPENAT, "/proc/42421/mem", O_RDONLY));
	agent_self_free(s);
}

static const char *bpf_target(struct vg_agent_self *s, uint64_t cmd, uint64_t attr, const char *path)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	rec_begin(&b, VG_EVT_BPF, 99);
	rec_param_u64(&b, cmd);
	rec_param_u64(&b, attr);
	rec_param(&b, path, (uint16_t)(strlen(path) + 1));
	rec_finish(&b, 3);
	decode(&b, &ev, PIDNS, MNTNS);
	const char *t = agent_self_target(s, &ev, path, NULL);
	buf_free(&b);
	return t;
}

static void test_bpf(void **state)
{
	(void)state;
	struct vg_agent_self *s = self_new();
	/* ids: map 7 (2 << 32 | 7), prog 5 (1 << 32 | 5), link 2 (3 << 32 | 2) */
	assert_string_equal(bpf_target(s, 14, 7, ""), "bpf");
	assert_string_equal(bpf_target(s, 14, 0xdead00000007ull, ""), "bpf"); /* next_id is not the id */
	assert_null(bpf_target(s, 14, 5, ""));                                  /* 5 is a prog id, not a map's */
	assert_string_equal(bpf_target(s, 13, 5, ""), "bpf");
	assert_string_equal(bpf_target(s, 30, 2, ""), "bpf");
	assert_string_equal(bpf_target(s, 7, 0x7fff0000, "/sys/fs/bpf/vigil/egress_policy"), "bpf");
	assert_null(bpf_target(s, 7, 0x7fff0000, "/sys/fs/bpf/other"));
	assert_null(bpf_target(s, 5, 0, "")); /* a program load is not about the agent */

	struct vg_buf b = { 0 };
	struct vg_event ev;
	rec_begin(&b, VG_EVT_UMOUNT2, 99);
	rec_param_path(&b, "/sys/fs", "");
	rec_param_u64(&b, 2);
	rec_finish(&b, 0);
	decode(&b, &ev, PIDNS, MNTNS);
	assert_string_equal(agent_self_target(s, &ev, "/sys/fs", NULL), "bpffs");
	assert_null(agent_self_target(s, &ev, "/mnt", NULL));
	decode(&b, &ev, PIDNS, MNTNS + 1); /* another mount namespace's /sys/fs */
	assert_null(agent_self_target(s, &ev, "/sys/fs", NULL));
	buf_free(&b);
	agent_self_free(s);
}

static void test_json(void **state)
{
	(void)state;
	struct vg_agent_self *s = self_new();
	char *text = agent_self_to_json(s);
	struct vg_agent_self *t = agent_self_from_json(text, strlen(text) + 1);
	assert_non_null(t);
	assert_int_equal(t->pid, AGENT);
	assert_int_equal(t->pgid, 4200);
	assert_int_equal(t->nfiles, 3);
	assert_string_equal(t->files[1].path, "/usr/local/bin/vigil");
	assert_string_equal(t->files[1].base, "vigil");
	assert_int_equal(t->nbpf_ids, 3);
	assert_string_equal(t->pin_dir, "/sys/fs/bpf/vigil");
	assert_false(t->live);
	free(text);
	agent_self_free(t);
	agent_self_free(s);
	static const char *const bad[] = {
		"", "[]", "{\"pid\":1}", "{\"pid\":-1,\"pgid\":1,\"pidns\":1,\"mntns\":1,\"pin_dir\":\"\",\"bpffs\":\"\",\"files\":[],\"bpf_ids\":[]}",
		"{\"pid\":1,\"pgid\":1,\"pidns\":1,\"mntns\":1,\"pin_dir\":\"\",\"bpffs\":\"\",\"files\":[{\"kind\":\"evil\",\"path\":\"/x\"}],\"bpf_ids\":[]}",
		"{\"pid\":1,\"pgid\":1,\"pidns\":1,\"mntns\":1,\"pin_dir\":\"\",\"bpffs\":\"\",\"files\":[{\"kind\":\"rules\",\"path\":\"relative\"}],\"bpf_ids\":[]}",
		"{\"pid\":1,\"pgid\":1,\"pidns\":1,\"mntns\":1,\"pin_dir\":\"\",\"bpffs\":\"\",\"files\":[],\"bpf_ids\":[\"x\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(agent_self_from_json(bad[i], strlen(bad[i])));
	/* a length that cuts the text: never read past it */
	assert_null(agent_self_from_json(self_json, 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_bpf),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
