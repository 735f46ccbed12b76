/*
 * ovf: overflow-connection. The available server with the highest weight whose active
 * connections do not exceed its weight; once it is full the next highest takes over; ties keep
 * the earlier server (IPVS ip_vs_ovf semantics).
 */
#include "sched_util.h"

static int ovf_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint32_t best_weight = 0;
	(void)shared;
	(void)lcore_state;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t weight = dests[i].weight;
		if (!sched_dest_available(&dests[i]) || sched_active(req, i) > weight)
			continue;
		if (weight > best_weight) {
			best = (int)i;
			best_weight = weight;
		}
	}
	return best;
}

const struct sched_ops sched_ovf_ops = {
	.name = "ovf",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = ovf_schedule,
};
