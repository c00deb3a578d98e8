/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console of a single agent (docs/console.md, "A single agent"):
 * `vigil run --console ADDR:PORT` keeps a hub store of its own beside the
 * agent's store and serves the hub's API and console over it, in the agent's
 * process, without NATS.
 *
 * What feeds that store is a forwarder (output/forwarder.h), "console",
 * registered by the CLI and fed by the agent's outbox like any --output: each
 * alert, action and loss record is checked by the hub's own wire contract
 * (hub_msg_parse, as if it came from NATS on vigil.<cluster>.<node>.<kind>)
 * and added by the hub's own ingest (hub_store_add, then commit) before the
 * outbox's cursor moves past it. A thread of the forwarder moves the flow
 * rollups' outbox (table flow_outbox of the agent's store) into the hub
 * store's flows the same way (a row deleted only after the hub store
 * committed it; a row added twice is a no-op by its uuid), and writes a
 * heartbeat every HUB_LOCAL_HEARTBEAT_MS so that the node shows as "ok".
 *
 * Spec (built by the CLI): HUB_STORE_PATH;store=AGENT_STORE;node=N;cluster=C
 */
#ifndef VIGIL_HUB_LOCAL_H
#define VIGIL_HUB_LOCAL_H

#include "output/forwarder.h"

#define HUB_LOCAL_NAME "console"
#define HUB_LOCAL_HEARTBEAT_MS 10000

extern const struct vg_forwarder_ops hub_local_ops;

#endif
