/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet/command.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const char *const outcome_names[FLEET_CMD_OUTCOME__N] = {
	[FLEET_CMD_OK] = "ok",
	[FLEET_CMD_FAILED] = "failed",
	[FLEET_CMD_NOT_FOUND] = "not_found",
	[FLEET_CMD_NOT_ISOLATED] = "not_isolated",
	[FLEET_CMD_NOT_FROZEN] = "not_frozen",
	[FLEET_CMD_GONE] = "gone",
	[FLEET_CMD_INVALID] = "invalid",
	[FLEET_CMD_STALE] = "stale",
	[FLEET_CMD_REPLAYED] = "replayed",
	[FLEET_CMD_BUSY] = "busy",
};

const char *fleet_cmd_outcome_name(enum fleet_cmd_outcome o)
{
	return (unsigned)o < FLEET_CMD_OUTCOME__N ? outcome_names[o] : "?";
}

int fleet_cmd_outcome_parse(const char *s)
{
	for (int i = 0; s && i < FLEET_CMD_OUTCOME__N; i++)
		if (!strcmp(s, outcome_names[i]))
			return i;
	return -1;
}

const char *fleet_cmd_kind_name(enum fleet_cmd_kind k)
{
	return k == FLEET_CMD_THAW ? "thaw" : k == FLEET_CMD_EVIDENCE ? "evidence" : "release";
}

int fleet_cmd_kind_parse(const char *s)
{
	if (s && !strcmp(s, "release"))
		return FLEET_CMD_RELEASE;
	if (s && !strcmp(s, "thaw"))
		return FLEET_CMD_THAW;
	if (s && !strcmp(s, "evidence"))
		return FLEET_CMD_EVIDENCE;
	return -1;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 to max of [A-Za-z0-9_.-], a letter or digit first: a name, never a path or a pattern */
static bool plain_name(const char *s, size_t max)
{
	size_t n = 0;
	if (!s || !alnum(s[0]))
		return false;
	for (; s[n]; n++)
		if (!alnum(s[n]) && s[n] != '_' && s[n] != '.' && s[n] != '-')
			return false;
	return n <= max;
}

bool fleet_cmd_container_valid(const char *s)
{
	return plain_name(s, FLEET_CMD_CONTAINER_MAX);
}

bool fleet_cmd_bundle_valid(const char *s)
{
	return plain_name(s, FLEET_CMD_BUNDLE_MAX);
}

bool fleet_cmd_actor_valid(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return false;
	return n <= FLEET_CMD_ACTOR_MAX;
}

static bool id_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!alnum(s[n]) && s[n] != '_' && s[n] != '-')
			return false;
	return n >= 16 && n <= FLEET_CMD_ID_MAX;
}

/* The object in data: NULL with err when it is not one JSON object (or has a NUL or a key twice). */
static json_t *load_object(const void *data, size_t len, const char *what, char *err, size_t errlen)
{
	json_error_t je;
	if (len > FLEET_CMD_MAX) {
		snprintf(err, errlen, "%s of %zu bytes: at most %d", what, len, FLEET_CMD_MAX);
		return NULL;
	}
	if (memchr(data, 0, len)) {
		snprintf(err, errlen, "%s holds a NUL byte", what);
		return NULL;
	}
	json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "%s is not one JSON object%s%.200s", what, o ? "" : ": ", o ? "" : je.text);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A string member copied into out (cap bytes with its NUL): -1 when absent, not a string or too long. */
static int get_str(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v) || json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int fleet_cmd_decode(const void *data, size_t len, struct fleet_cmd *c, char *err, size_t errlen)
{
	static const char *const known[] = { "id",	  "time_ns",   "cluster", "node",
					      "command", "container", "bundle",  "actor" };
	char kind[16];
	int rc = -1;
	memset(c, 0, sizeof(*c));
	json_t *o = load_object(data, len, "command", err, errlen);
	if (!o)
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
			ok |= !strcmp(k, known[i]);
		if (!ok) {
			snprintf(err, errlen, "unknown field '%.64s'", k);
			goto out;
		}
	}
	if (get_str(o, "id", c->id, sizeof(c->id)) || !id_valid(c->id)) {
		snprintf(err, errlen, "id must be 16 to %d of A-Z a-z 0-9 - _", FLEET_CMD_ID_MAX);
		goto out;
	}
	v = json_object_get(o, "time_ns");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, errlen, "time_ns must be a positive integer (ns since the epoch)");
		goto out;
	}
	c->time_ns = json_integer_value(v);
	if (get_str(o, "cluster", c->cluster, sizeof(c->cluster)) || !fleet_name_valid(c->cluster) ||
	    get_str(o, "node", c->node, sizeof(c->node)) || !fleet_name_valid(c->node)) {
		snprintf(err, errlen, "cluster and node must be 1 to %d of A-Z a-z 0-9 - _", FLEET_NAME_MAX);
		goto out;
	}
	int kd = get_str(o, "command", kind, sizeof(kind)) ? -1 : fleet_cmd_kind_parse(kind);
	if (kd < 0) {
		snprintf(err, errlen, "command must be release, thaw or evidence");
		goto out;
	}
	c->kind = (enum fleet_cmd_kind)kd;
	if (c->kind == FLEET_CMD_EVIDENCE) {
		if (json_object_get(o, "container") || get_str(o, "bundle", c->bundle, sizeof(c->bundle)) ||
		    !fleet_cmd_bundle_valid(c->bundle)) {
			snprintf(err, errlen, "evidence takes a bundle (and no container): a directory name of 1 to %d "
					      "of A-Z a-z 0-9 _ . - (a letter or digit first)", FLEET_CMD_BUNDLE_MAX);
			goto out;
		}
	} else if (json_object_get(o, "bundle")) {
		snprintf(err, errlen, "bundle belongs to evidence only");
		goto out;
	} else if (get_str(o, "container", c->container, sizeof(c->container)) ||
		   !fleet_cmd_container_valid(c->container)) {
		snprintf(err, errlen, "container must be an id prefix or a name: 1 to %d of A-Z a-z 0-9 _ . - "
				      "(a letter or digit first)", FLEET_CMD_CONTAINER_MAX);
		goto out;
	}
	if (json_object_get(o, "actor") &&
	    (get_str(o, "actor", c->actor, sizeof(c->actor)) || !fleet_cmd_actor_valid(c->actor))) {
		snprintf(err, errlen, "actor must be at most %d printable ASCII characters", FLEET_CMD_ACTOR_MAX);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void fleet_cmd_encode(const struct fleet_cmd *c, struct vg_buf *out)
{
	struct vg_json j;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "id", c->id);
	jw_int(&j, "time_ns", c->time_ns);
	jw_str(&j, "cluster", c->cluster);
	jw_str(&j, "node", c->node);
	jw_str(&j, "command", fleet_cmd_kind_name(c->kind));
	if (c->kind == FLEET_CMD_EVIDENCE)
		jw_str(&j, "bundle", c->bundle);
	else
		jw_str(&j, "container", c->container);
	jw_str(&j, "actor", c->actor);
	jw_obj_end(&j);
}

int fleet_cmd_new_id(char id[FLEET_CMD_ID_MAX + 1])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

void fleet_cmd_reply_encode(enum fleet_cmd_outcome o, const char *detail, struct vg_buf *out)
{
	struct vg_json j;
	size_t dl = detail ? strnlen(detail, FLEET_CMD_DETAIL_MAX) : 0;
	/* never cut a UTF-8 sequence in two */
	while (dl && dl == FLEET_CMD_DETAIL_MAX && ((unsigned char)detail[dl] & 0xc0) == 0x80)
		dl--;
	jw_init(&j, out);
	jw_obj_begin(&j, NULL);
	jw_str(&j, "outcome", fleet_cmd_outcome_name(o));
	jw_strn(&j, "detail", detail ? detail : "", dl);
	jw_obj_end(&j);
}

int fleet_cmd_reply_decode(const void *data, size_t len, enum fleet_cmd_outcome *o, char *detail, size_t dlen,
			   char *err, size_t errlen)
{
	char name[32], d[FLEET_CMD_DETAIL_MAX + 1];
	int rc = -1;
	json_t *obj = load_object(data, len, "reply", err, errlen);
	if (!obj)
		return -1;
	int oc = get_str(obj, "outcome", name, sizeof(name)) ? -1 : fleet_cmd_outcome_parse(name);
	if (json_object_size(obj) != 2 || oc < 0 || get_str(obj, "detail", d, sizeof(d))) {
		snprintf(err, errlen, "a reply is exactly a known outcome and a detail of at most %d bytes",
			 FLEET_CMD_DETAIL_MAX);
		goto out;
	}
	*o = (enum fleet_cmd_outcome)oc;
	snprintf(detail, dlen, "%s", d);
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

enum fleet_cmd_outcome fleet_cmd_guard_check(struct fleet_cmd_guard *g, const struct fleet_cmd *c, int64_t now_ns)
{
	const int64_t window = (int64_t)FLEET_CMD_MAX_AGE_S * 1000000000LL;
	if (c->time_ns < now_ns - window || c->time_ns > now_ns + window)
		return FLEET_CMD_STALE;
	/* forget ids whose commands would now be refused by their time anyway */
	size_t k = 0;
	for (size_t i = 0; i < g->n; i++)
		if (g->seen[i].time_ns >= now_ns - window)
			g->seen[k++] = g->seen[i];
	g->n = k;
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->seen[i].id, c->id))
			return FLEET_CMD_REPLAYED;
	if (g->n == FLEET_CMD_SEEN_MAX)
		return FLEET_CMD_BUSY;
	snprintf(g->seen[g->n].id, sizeof(g->seen[g->n].id), "%s", c->id);
	g->seen[g->n++].time_ns = c->time_ns;
	return FLEET_CMD_OK;
}
