/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "respond/isolate.h"
#include "respond/respond.h"
#include "respond/undo.h"
#include "state/container_table.h"

void undo_init(struct undo *u, enum undo_kind kind)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->outcome = UNDO_NOT_FOUND;
}

void undo_note(struct undo *u, const char *action, const char *outcome, const char *cgroup, const char *container_id,
	       const char *container_name, const char *rule)
{
	const char *wanted = action_name(u->kind == UNDO_THAW ? ACTION_FREEZE : ACTION_ISOLATE);
	if (!action || strcmp(action, wanted) || !outcome || strcmp(outcome, action_outcome_name(OUTCOME_DONE)) ||
	    !cgroup || !cgroup[0])
		return;
	snprintf(u->cgroup, sizeof(u->cgroup), "%s", cgroup);
	snprintf(u->id, sizeof(u->id), "%s", container_id ? container_id : "");
	snprintf(u->name, sizeof(u->name), "%s", container_name ? container_name : "");
	snprintf(u->rule, sizeof(u->rule), "%s", rule ? rule : "");
	u->found = true;
}

const char *undo_outcome_name(enum undo_outcome o)
{
	static const char *const names[] = { "ok", "failed", "not_found", "not_isolated", "not_frozen", "gone" };
	return (unsigned)o < sizeof(names) / sizeof(*names) ? names[o] : "?";
}

/* Whether the cgroup's cgroup.freeze says 1: 1, 0, or -1 (errno) when it cannot be read. */
static int frozen(const char *dir)
{
	char path[4300], v[4] = "";
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, v, sizeof(v) - 1);
	int e = errno;
	close(fd);
	if (n <= 0) {
		errno = n < 0 ? e : EIO;
		return -1;
	}
	return v[0] == '1';
}

enum undo_outcome undo_run(struct undo *u, const char *actor)
{
	const char *who = actor && actor[0] ? actor : "vigil respond";
	const char *what = u->kind == UNDO_THAW ? "freeze" : "isolation";
	char err[512] = "", dir[4200];
	struct stat st;

	if (!u->found) {
		u->outcome = UNDO_NOT_FOUND;
		snprintf(u->detail, sizeof(u->detail), "no %s of that container is recorded",
			 u->kind == UNDO_THAW ? "freeze" : "isolate");
		return u->outcome;
	}
	snprintf(u->target, sizeof(u->target), "container %.12s", u->id);
	const char *root = cgroup2_mount();
	if (!root[0]) {
		u->outcome = UNDO_FAILED;
		snprintf(u->detail, sizeof(u->detail), "no cgroup v2 hierarchy is mounted");
		return u->outcome;
	}
	if (strstr(u->cgroup, "..") || u->cgroup[0] != '/') {
		u->outcome = UNDO_FAILED;
		snprintf(u->detail, sizeof(u->detail), "refusing cgroup path '%.400s'", u->cgroup);
		return u->outcome;
	}
	snprintf(dir, sizeof(dir), "%s%s", root, u->cgroup);
	if (stat(dir, &st)) {
		u->outcome = errno == ENOENT ? UNDO_GONE : UNDO_FAILED;
		snprintf(u->detail, sizeof(u->detail), "cgroup %.400s is %s", u->cgroup,
			 errno == ENOENT ? "gone (the container exited)" : strerror(errno));
		return u->outcome;
	}
	u->cgroup_id = (uint64_t)st.st_ino;
	int rc;
	if (u->kind == UNDO_THAW) {
		int f = frozen(dir);
		if (f == 0) {
			u->outcome = UNDO_NOT_FROZEN;
			snprintf(u->detail, sizeof(u->detail), "cgroup %.400s is not frozen", u->cgroup);
			return u->outcome;
		}
		rc = respond_cgroup_freeze(u->cgroup, false, err, sizeof(err));
	} else {
		/* the cgroup id is the inode of its directory */
		rc = isolate_release((uint64_t)st.st_ino, err, sizeof(err));
		if (rc && errno == ENOENT) {
			u->outcome = UNDO_NOT_ISOLATED;
			snprintf(u->detail, sizeof(u->detail), "%s", err);
			return u->outcome;
		}
	}
	if (rc) {
		u->outcome = UNDO_FAILED;
		snprintf(u->detail, sizeof(u->detail), "%s", err);
	} else {
		u->outcome = UNDO_OK;
		snprintf(u->detail, sizeof(u->detail), "%s of %.200s lifted by %.200s",
			 what, u->name[0] ? u->name : u->id, who);
	}
	return u->outcome;
}

void undo_record(const struct undo *u, struct undo_row *row)
{
	/* a refusal (not isolated, not frozen, gone) is recorded as a skip: nothing was done */
	enum action_outcome o = u->outcome == UNDO_OK ? OUTCOME_DONE
				: u->outcome == UNDO_FAILED ? OUTCOME_FAILED
							   : OUTCOME_SKIPPED;
	*row = (struct undo_row){
		.rule = u->rule,
		.action = action_name(u->kind == UNDO_THAW ? ACTION_THAW : ACTION_RELEASE),
		.target = u->target,
		.container_id = u->id,
		.container_name = u->name[0] ? u->name : NULL,
		.cgroup = u->cgroup,
		.outcome = action_outcome_name(o),
		.detail = u->detail,
		.path = "userspace",
	};
}
