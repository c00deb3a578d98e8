/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user.* and group.*: the effective user and group of the event's thread,
 * with the names the process's own system gives them.
 */
#include "engine/fields_internal.h"

/* ---- users ---- */

/*
 * A user or group name as the process's own system names it: the agent looks
 * it up live in the passwd/group file the process sees (a container's own) and
 * keeps it in the capture, so replay gives the same name. id 0 is "root" when
 * nothing better is known.
 */
static const char *id_name(struct ectx *c, uint32_t id, bool group)
{
	const struct vg_idname *e = c->cg ? container_table_idname(c->cg, id, group) : NULL;
	if (e && e->name[0])
		return e->name;
	return id == 0 ? "root" : NULL;
}

static int f_user_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, id_name(c, c->ev->hdr.euid, false));
}

static int f_user_loginuid(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint32_t l = c->ev->hdr.loginuid;
	return put_int(o, l == UINT32_MAX ? -1 : (int64_t)l);
}

static int f_user_loginname(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	uint32_t l = c->ev->hdr.loginuid;
	return l == UINT32_MAX ? 0 : put_str(o, id_name(c, l, false));
}

static int f_group_name(struct ectx *c, const struct fref *r, struct fval *o)
{
	(void)r;
	return put_str(o, id_name(c, c->ev->hdr.egid, true));
}

static const struct fdef defs[] = {
	{ "user.uid", FT_INT, FA_NONE, false, field_hdr_u32, "effective user id", NULL, HDR_OFF(euid) },
	{ "user.name", FT_STR, FA_NONE, false, f_user_name, "effective user name" },
	{ "user.loginuid", FT_INT, FA_NONE, false, f_user_loginuid, "audit login uid (-1: none)" },
	{ "user.loginname", FT_STR, FA_NONE, false, f_user_loginname, "audit login user name" },
	{ "group.gid", FT_INT, FA_NONE, false, field_hdr_u32, "effective group id", NULL, HDR_OFF(egid) },
	{ "group.name", FT_STR, FA_NONE, false, f_group_name, "effective group name" },
};

const struct field_class fields_user = FIELD_CLASS(defs);
