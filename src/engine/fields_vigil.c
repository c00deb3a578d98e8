/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil.*: acts against the agent itself (state/agent_self.h). Live only: in
 * replay the state knows no agent and these fields have no value, so the
 * rules about tampering never fire on a capture.
 */
#include "engine/fields_internal.h"
#include "state/state.h"

static int f_vigil_agent_pid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!c->st || !c->st->self)
		return 0;
	return put_int(o, c->st->self->pid);
}

/* The path of parameter `name` (resolved when the kernel gave a base), NULL if none. */
static const char *path_of(struct ectx *c, const char *name)
{
	int i = param_index(c->ev, name);
	size_t n;
	if (i < 0 || !c->ev->params[i].data)
		return NULL;
	if (c->ev->params[i].info->kind == VG_CK_PATH)
		return resolved_path(c, i, &n);
	return event_param_str(c->ev, i);
}

static int f_vigil_tamper(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	if (!c->st || !c->st->self)
		return 0;
	const char *path = NULL, *path2 = NULL;
	switch (c->ev->hdr.type) {
	case VG_EVT_RENAME:
	case VG_EVT_RENAMEAT:
	case VG_EVT_RENAMEAT2:
		path = path_of(c, "oldpath");
		/* the first may live in the scratch buffer: keep it before resolving the second */
		path = path ? arena_dup(&c->arena, path, strlen(path)) : NULL;
		path2 = path_of(c, "newpath");
		break;
	case VG_EVT_UMOUNT2:
		path = path_of(c, "target");
		break;
	case VG_EVT_BPF:
		path = path_of(c, "pathname");
		break;
	default:
		path = path_of(c, "path");
		break;
	}
	return put_str(o, agent_self_target(c->st->self, c->ev, path, path2));
}

static const struct fdef defs[] = {
	{ "vigil.agent.pid", FT_INT, FA_NONE, false, f_vigil_agent_pid, "the running agent's pid (live only)" },
	{ "vigil.tamper", FT_STR, FA_NONE, false, f_vigil_tamper,
	  "what of the agent the event acts on: signal, ptrace, memory, binary, rules, config, store, bpf, bpffs (live only)" },
};

const struct field_class fields_vigil = FIELD_CLASS(defs);
