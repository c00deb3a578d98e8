/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the state's container_known callback: a live state reading
 * a podman container's metadata from a fixture tree
 * ($VIGIL_SRCDIR/tests/fixtures/containers/podman) tells its listener once,
 * with the typed metadata it now holds (the struct itself, id included),
 * after the STATE_CONTAINER record went to emit; a cgroup that is not a
 * container, or a container whose metadata is not found, tells nothing.
 * This is the path by which egress lists and the file guard learn of a
 * container; it replaced a decoding of the synthetic record that freed an
 * uninitialised struct when the cgroup was unknown.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensor/decode.h"
#include "state/state.h"
#include "test_helpers.h"

#define PODMAN_WEB "5ad505f6c2d4de05faee7fb251e25b27cf04af50103100ef0cc6888c48eeaf99"
#define OTHER_ID "3d3c25cd3a6405cca457d0099c0dc05349fe6af054391327499c7cc3cb5d2af8"

struct listener {
	struct vg_state *st;
	int told, emitted_containers;
	int emitted_before_told; /* STATE_CONTAINER records emitted when the first tell came */
	uint64_t cgroup_id;
	const struct vg_container_meta *m;
	char name[64];
};

static void on_emit(void *ctx, const void *rec, size_t len)
{
	struct listener *l = ctx;
	const struct vg_event_hdr *h = rec;
	assert_true(len >= sizeof(*h));
	if (h->type == VG_EVT_STATE_CONTAINER)
		l->emitted_containers++;
}

static void on_known(void *ctx, uint64_t cgroup_id, const struct vg_container_meta *m)
{
	struct listener *l = ctx;
	if (!l->told++)
		l->emitted_before_told = l->emitted_containers;
	l->cgroup_id = cgroup_id;
	l->m = m;
	snprintf(l->name, sizeof(l->name), "%s", m->name ? m->name : "(null)");
}

static void ingest(struct vg_state *st, uint16_t type, uint32_t pid, uint64_t cgroup_id, const char *body)
{
	struct vg_buf b = { 0 };
	struct vg_event ev;
	char err[160];
	rec_begin(&b, type, pid);
	((struct vg_event_hdr *)b.data)->cgroup_id = cgroup_id;
	if (body)
		rec_param(&b, body, (uint16_t)(strlen(body) + 1));
	rec_finish(&b, 0);
	assert_int_equal(event_decode(b.data, b.len, &ev, err, sizeof(err)), 0);
	if (state_ingest(st, &ev))
		state_done(st, &ev);
	buf_free(&b);
}

/* A live state over the fixture tree; /proc is an empty directory, so nothing is read from this machine. */
static struct vg_state *live_state(struct listener *l, char *procfs, size_t size)
{
	static char root[PATH_MAX];
	const char *src = getenv("VIGIL_SRCDIR");
	snprintf(root, sizeof(root), "%s/tests/fixtures/containers/podman", src && *src ? src : ".");
	snprintf(procfs, size, "/tmp/vigil-test-proc-XXXXXX");
	assert_non_null(mkdtemp(procfs));
	struct vg_state_opts so = {
		.live = true,
		.procfs = procfs,
		.host_root = root,
		.emit = on_emit,
		.container_known = on_known,
		.ctx = l,
	};
	l->st = state_new(&so);
	return l->st;
}

static void test_told_once_with_typed_meta(void **state)
{
	(void)state;
	struct listener l = { 0 };
	char procfs[64];
	struct vg_state *st = live_state(&l, procfs, sizeof(procfs));

	ingest(st, VG_EVT_CGROUP, 0, 900, "/libpod_parent/libpod-" PODMAN_WEB);
	assert_int_equal(l.told, 0); /* looked up at the cgroup's first event, not before */
	ingest(st, VG_EVT_FORK, 4321, 900, NULL);
	assert_int_equal(l.told, 1);
	assert_int_equal(l.emitted_before_told, 1); /* the capture has the record first */
	assert_int_equal(l.cgroup_id, 900);
	/* the state's own struct, not a copy parsed back from JSON */
	const struct vg_cgroup *cg = state_cgroup(st, 900);
	assert_non_null(cg);
	assert_ptr_equal(l.m, &cg->meta);
	assert_string_equal(cg->meta.id, PODMAN_WEB);
	assert_string_equal(l.name, "vigil-web");
	assert_int_equal(cg->meta.runtime, VG_RT_PODMAN);
	assert_true(cg->meta.metadata_found);
	/* known now: later events do not tell again */
	ingest(st, VG_EVT_FORK, 4321, 900, NULL);
	assert_int_equal(l.told, 1);
	state_free(st);
	rmdir(procfs);
}

static void test_not_told_without_metadata(void **state)
{
	(void)state;
	struct listener l = { 0 };
	char procfs[64];
	struct vg_state *st = live_state(&l, procfs, sizeof(procfs));

	/* a host cgroup, a container the runtime has no state for, a cgroup never announced */
	ingest(st, VG_EVT_CGROUP, 0, 901, "/system.slice/sshd.service");
	ingest(st, VG_EVT_FORK, 4321, 901, NULL);
	ingest(st, VG_EVT_CGROUP, 0, 902, "/libpod_parent/libpod-" OTHER_ID);
	ingest(st, VG_EVT_FORK, 4322, 902, NULL);
	ingest(st, VG_EVT_FORK, 4323, 903, NULL);
	assert_int_equal(l.told, 0);
	assert_int_equal(l.emitted_containers, 0);
	state_free(st);
	rmdir(procfs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_told_once_with_typed_meta),
		cmocka_unit_test(test_not_told_without_metadata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
