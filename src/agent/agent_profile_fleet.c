/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles across the fleet, in the agent (docs/profiles.md, "In a fleet"):
 * with --nats and a store, fleet/profile_sync.c runs beside the agent's
 * learning on the same store. It publishes what the agent wrote there and
 * merges what other nodes learnt (and modes set at a hub) into it, then
 * increments the store's generation, which agent_profile_tick() already polls:
 * the agent reads its profiles again within a second. So the agent's own
 * code is unchanged but for starting and stopping this.
 */
#include "agent/agent_int.h"
#include "common/log.h"
#include "fleet/profile_sync.h"

void agent_profile_fleet_start(struct agent *a)
{
	char err[512];
	if (!a->fleet || !a->cfg.store_path || a->profsync)
		return;
	if (!(a->profsync = profile_sync_start(a->fleet, a->cfg.store_path, err, sizeof(err))))
		vg_warn("profiles: not shared with the fleet: %s", err);
	else
		vg_info("profiles: shared with the fleet (vigil.%s.%s.profile, bucket %s)", fleet_cluster(a->fleet),
			fleet_node(a->fleet), PROFILE_BUCKET);
}

void agent_profile_fleet_stop(struct agent *a)
{
	if (!a->profsync)
		return;
	struct profile_sync_stats st;
	profile_sync_get_stats(a->profsync, &st);
	vg_info("profiles in the fleet: %llu messages published (%llu failures, sent again), %llu items and %llu modes "
		"received, %llu refused",
		(unsigned long long)st.messages, (unsigned long long)st.failures, (unsigned long long)st.merged_items,
		(unsigned long long)st.modes, (unsigned long long)st.refused);
	profile_sync_stop(a->profsync);
	a->profsync = NULL;
}
