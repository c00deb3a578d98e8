/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response commands from a hub (docs/fleet.md, "Response commands"): with
 * --nats, `vigil run` answers requests on vigil.<cluster>.<node>.cmd over its
 * fleet connection. A command is checked (fleet/command.h: strict JSON, for
 * this node, not stale, not seen before), carried out by the same code as
 * `vigil respond release|thaw` (respond/undo.h) on the same store, recorded
 * there as an action (so it reaches the hubs through the outbox), and
 * answered {"outcome", "detail"}.
 *
 * The library's delivery thread of the subscription runs the callback, one
 * message at a time: the replay guard and the store connection are its own.
 * What the responder must forget (an undone isolation or freeze may be done
 * again by the next alert) is handed to the agent's loop (agent_commands_tick).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "common/log.h"
#include "fleet/command.h"
#include "fleet/nats_conn.h"
#include "output/alert_store.h"
#include "respond/bundle.h"
#include "respond/respond.h"
#include "respond/undo.h"

#include <openssl/evp.h>

struct agent_commands {
	struct agent *a;
	natsSubscription *sub;
	struct alert_store *store; /* a connection of its own on the agent's store */
	struct fleet_cmd_guard guard;
	char subject[256];
	/* one command at a time: the NATS callback and the console's API threads (agent_command) */
	pthread_mutex_t run_mu;
	/* undone targets for the responder to forget, taken by the loop (under mu) */
	pthread_mutex_t mu;
	struct {
		uint64_t cgroup_id;
		enum action_kind action;
	} forget[64];
	size_t nforget;
};

static int64_t wall_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void note_action(void *ctx, const struct alert_store_action *a)
{
	undo_note(ctx, a->action, a->outcome, a->cgroup, a->container_id, a->container_name, a->rule);
}

static enum fleet_cmd_outcome from_undo(enum undo_outcome o)
{
	switch (o) {
	case UNDO_OK: return FLEET_CMD_OK;
	case UNDO_NOT_FOUND: return FLEET_CMD_NOT_FOUND;
	case UNDO_NOT_ISOLATED: return FLEET_CMD_NOT_ISOLATED;
	case UNDO_NOT_FROZEN: return FLEET_CMD_NOT_FROZEN;
	case UNDO_GONE: return FLEET_CMD_GONE;
	default: return FLEET_CMD_FAILED;
	}
}

/* Carry a checked command out and record it: the outcome, detail in buf. */
static enum fleet_cmd_outcome run(struct agent_commands *ac, const struct fleet_cmd *c, const char *who, char *detail,
				  size_t dlen)
{
	struct undo u;
	char actor[FLEET_CMD_ACTOR_MAX + 64];
	undo_init(&u, c->kind == FLEET_CMD_THAW ? UNDO_THAW : UNDO_RELEASE);
	if (alert_store_query_actions(ac->store, c->container, note_action, &u) < 0) {
		snprintf(detail, dlen, "cannot read the store: %s", alert_store_error(ac->store));
		return FLEET_CMD_FAILED;
	}
	if (c->actor[0])
		snprintf(actor, sizeof(actor), "%s (%s)", who, c->actor);
	else
		snprintf(actor, sizeof(actor), "%s", who);
	enum undo_outcome o = undo_run(&u, actor);
	snprintf(detail, dlen, "%s", u.detail);
	if (!u.found)
		return from_undo(o); /* nothing recorded: there is no container to name */
	/* the command's id in the record ties it to the hub's log of commands */
	char rec_detail[sizeof(u.detail) + FLEET_CMD_ID_MAX + 16];
	snprintf(rec_detail, sizeof(rec_detail), "%s (command %s)", u.detail, c->id);
	struct undo_row row;
	undo_record(&u, &row);
	struct alert_store_action act = {
		.time_ns = wall_ns(), .rule = row.rule, .action = row.action, .target = row.target,
		.container_id = row.container_id, .container_name = row.container_name, .cgroup = row.cgroup,
		.outcome = row.outcome, .detail = rec_detail, .path = row.path,
	};
	if (u.cgroup_id && (o == UNDO_OK || o == UNDO_NOT_ISOLATED || o == UNDO_NOT_FROZEN)) {
		/* undone (now or by someone else): the next alert on it acts again */
		pthread_mutex_lock(&ac->mu);
		if (ac->nforget < sizeof(ac->forget) / sizeof(*ac->forget)) {
			ac->forget[ac->nforget].cgroup_id = u.cgroup_id;
			ac->forget[ac->nforget++].action = c->kind == FLEET_CMD_THAW ? ACTION_FREEZE : ACTION_ISOLATE;
		}
		pthread_mutex_unlock(&ac->mu);
	}
	if (alert_store_add_action(ac->store, &act) || alert_store_commit(ac->store))
		vg_err("command %s: %s done but not recorded: %s", c->id, fleet_cmd_kind_name(c->kind),
		       alert_store_error(ac->store));
	return from_undo(o);
}

/*
 * An evidence command: the bundle packed as tar, then the reply (headers:
 * parts, size, sha256) and the parts on the reply subject (fleet/command.h).
 * Returns false when the bundle cannot be sent (outcome and detail set): the
 * caller then answers as for any command.
 */
static bool send_evidence(struct agent_commands *ac, natsConnection *nc, const char *reply, const struct fleet_cmd *c,
			  enum fleet_cmd_outcome *o, char *detail, size_t dlen)
{
	struct vg_buf tar = { 0 }, b = { 0 };
	char err[512], hex[2 * EVP_MAX_MD_SIZE + 1] = "", num[32];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	natsMsg *m = NULL;
	natsStatus s;
	if (bundle_pack(ac->a->cfg.evidence_dir, c->bundle, FLEET_EVIDENCE_MAX, &tar, err, sizeof(err))) {
		*o = errno == ENOENT ? FLEET_CMD_NOT_FOUND : FLEET_CMD_FAILED;
		snprintf(detail, dlen, "%s", err);
		buf_free(&tar);
		return false;
	}
	EVP_Digest(tar.data, tar.len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	size_t parts = (tar.len + FLEET_EVIDENCE_PART - 1) / FLEET_EVIDENCE_PART;
	*o = FLEET_CMD_OK;
	snprintf(detail, dlen, "bundle %s: %zu bytes as tar in %zu parts", c->bundle, tar.len, parts);
	fleet_cmd_reply_encode(*o, detail, &b);
	s = natsMsg_Create(&m, reply, NULL, b.data, (int)b.len);
	snprintf(num, sizeof(num), "%zu", parts);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Parts", num);
	snprintf(num, sizeof(num), "%zu", tar.len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Size", num);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Vigil-Sha256", hex);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(nc, m);
	natsMsg_Destroy(m);
	for (size_t i = 0; s == NATS_OK && i < parts; i++) {
		size_t off = i * FLEET_EVIDENCE_PART, len = tar.len - off < FLEET_EVIDENCE_PART ? tar.len - off
												 : FLEET_EVIDENCE_PART;
		m = NULL;
		s = natsMsg_Create(&m, reply, NULL, tar.data + off, (int)len);
		snprintf(num, sizeof(num), "%zu", i);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Vigil-Part", num);
		if (s == NATS_OK)
			s = natsConnection_PublishMsg(nc, m);
		natsMsg_Destroy(m);
	}
	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(nc, 10000);
	if (s != NATS_OK)
		vg_warn("command %s: evidence %s: cannot send: %s", c->id, c->bundle,
			fleet_status_text(s, err, sizeof(err)));
	buf_free(&tar);
	buf_free(&b);
	return true;
}

static void on_command(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	struct agent_commands *ac = closure;
	struct fleet_cmd c;
	char err[512], detail[FLEET_CMD_DETAIL_MAX + 1] = "";
	enum fleet_cmd_outcome o;
	(void)sub;
	const char *reply = natsMsg_GetReply(msg);
	if (!reply || !reply[0]) {
		/* nobody would learn what came of it: a command is a request */
		vg_warn("command on %s without a reply subject: ignored", ac->subject);
		natsMsg_Destroy(msg);
		return;
	}
	if (fleet_cmd_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &c, err, sizeof(err))) {
		o = FLEET_CMD_INVALID;
		snprintf(detail, sizeof(detail), "%s", err);
	} else if (strcmp(c.node, fleet_node(ac->a->fleet)) || strcmp(c.cluster, fleet_cluster(ac->a->fleet))) {
		o = FLEET_CMD_INVALID;
		snprintf(detail, sizeof(detail), "the command is for %s/%s, this is %s/%s", c.cluster, c.node,
			 fleet_cluster(ac->a->fleet), fleet_node(ac->a->fleet));
	} else if ((o = fleet_cmd_guard_check(&ac->guard, &c, wall_ns())) != FLEET_CMD_OK) {
		snprintf(detail, sizeof(detail), "%s",
			 o == FLEET_CMD_STALE	 ? "the command's time is more than 60 s from this node's clock"
			 : o == FLEET_CMD_REPLAYED ? "a command with this id was carried out already"
						   : "too many commands within 60 s");
	} else if (c.kind == FLEET_CMD_EVIDENCE) {
		bool sent = send_evidence(ac, nc, reply, &c, &o, detail, sizeof(detail));
		vg_info("command %s%s%s: evidence %s: %s: %s", c.id, c.actor[0] ? " by " : "", c.actor, c.bundle,
			fleet_cmd_outcome_name(o), detail);
		if (sent) {
			natsMsg_Destroy(msg);
			return;
		}
	} else {
		pthread_mutex_lock(&ac->run_mu);
		o = run(ac, &c, "the hub", detail, sizeof(detail));
		pthread_mutex_unlock(&ac->run_mu);
	}
	if (o == FLEET_CMD_INVALID)
		vg_warn("refused a command on %s: %s", ac->subject, detail);
	else if (c.kind != FLEET_CMD_EVIDENCE)
		vg_info("command %s%s%s: %s %s: %s: %s", c.id, c.actor[0] ? " by " : "", c.actor,
			fleet_cmd_kind_name(c.kind), c.container, fleet_cmd_outcome_name(o), detail);
	struct vg_buf b = { 0 };
	fleet_cmd_reply_encode(o, detail, &b);
	natsStatus s = natsConnection_Publish(nc, reply, b.data, (int)b.len);
	if (s != NATS_OK)
		vg_warn("cannot answer a command on %s: %s", ac->subject, fleet_status_text(s, err, sizeof(err)));
	buf_free(&b);
	natsMsg_Destroy(msg);
}

int agent_commands_start(struct agent *a)
{
	char err[512];
	if (a->cfg.mode != AGENT_RUN || (!a->fleet && !a->cfg.console) || !a->cfg.store_path || a->commands)
		return 0;
	struct agent_commands *ac = xcalloc(1, sizeof(*ac));
	ac->a = a;
	pthread_mutex_init(&ac->mu, NULL);
	pthread_mutex_init(&ac->run_mu, NULL);
	if (a->fleet && fleet_subject(ac->subject, sizeof(ac->subject), fleet_cluster(a->fleet), fleet_node(a->fleet),
			  FLEET_CMD_KIND)) {
		vg_err("commands: subject too long");
		free(ac);
		return -1;
	}
	if (!(ac->store = alert_store_open(a->cfg.store_path, false, err, sizeof(err)))) {
		vg_err("commands: %s", err);
		free(ac);
		return -1;
	}
	/* a recorded undo goes to the hubs at once, as the agent's own actions do */
	alert_store_on_commit(ac->store, agent_fleet_committed, a);
	if (!a->fleet) {
		/* run --console without --nats: commands come from the console alone (agent_command) */
		__atomic_store_n(&a->commands, ac, __ATOMIC_RELEASE);
		return 0;
	}
	natsStatus s = natsConnection_Subscribe(&ac->sub, fleet_nc(a->fleet), ac->subject, on_command, ac);
	if (s != NATS_OK) {
		vg_err("commands: cannot subscribe to %s: %s", ac->subject, fleet_status_text(s, err, sizeof(err)));
		alert_store_close(ac->store);
		free(ac);
		return -1;
	}
	a->commands = ac;
	vg_info("nats: answering response commands on %s", ac->subject);
	return 0;
}

void agent_commands_stop(struct agent *a)
{
	struct agent_commands *ac = a->commands;
	if (!ac)
		return;
	/* no callback runs after the drain completes: then ac can go */
	if (ac->sub) {
		if (natsSubscription_Drain(ac->sub) == NATS_OK)
			natsSubscription_WaitForDrainCompletion(ac->sub, 5000);
		else
			natsSubscription_Unsubscribe(ac->sub);
		natsSubscription_Destroy(ac->sub);
	}
	/* a console command in progress finishes first; later ones find no commands */
	pthread_mutex_lock(&ac->run_mu);
	__atomic_store_n(&a->commands, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ac->run_mu);
	alert_store_close(ac->store);
	pthread_mutex_destroy(&ac->run_mu);
	pthread_mutex_destroy(&ac->mu);
	free(ac);
}

void agent_commands_tick(struct agent *a)
{
	struct agent_commands *ac = a->commands;
	if (!ac || !__atomic_load_n(&ac->nforget, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&ac->mu);
	for (size_t i = 0; i < ac->nforget; i++)
		responder_forget(a->responder, ac->forget[i].cgroup_id, ac->forget[i].action);
	ac->nforget = 0;
	pthread_mutex_unlock(&ac->mu);
}

int agent_command(struct agent *a, const struct fleet_cmd *c, const char *who, char *detail, size_t dlen)
{
	struct agent_commands *ac = __atomic_load_n(&a->commands, __ATOMIC_ACQUIRE);
	if (!ac || !a->cfg.console) {
		snprintf(detail, dlen, "this agent takes no commands now (stopping, or no store)");
		return FLEET_CMD_FAILED;
	}
	if (!fleet_cmd_container_valid(c->container)) {
		snprintf(detail, dlen, "not a container id prefix or name");
		return FLEET_CMD_INVALID;
	}
	pthread_mutex_lock(&ac->run_mu);
	enum fleet_cmd_outcome o;
	if (!__atomic_load_n(&a->commands, __ATOMIC_ACQUIRE)) {
		snprintf(detail, dlen, "the agent is stopping");
		o = FLEET_CMD_FAILED;
	} else {
		o = run(ac, c, who, detail, dlen);
	}
	pthread_mutex_unlock(&ac->run_mu);
	vg_info("command %s%s%s: %s %s: %s: %s", c->id, c->actor[0] ? " by " : "", c->actor,
		fleet_cmd_kind_name(c->kind), c->container, fleet_cmd_outcome_name(o), detail);
	return (int)o;
}
