/*
 * fo: weighted failover. The available server with the highest weight; ties keep the earlier
 * server (IPVS ip_vs_fo semantics). Load is not looked at.
 */
#include "scheduler.h"

static int fo_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint32_t best_weight = 0;
	(void)shared;
	(void)lcore_state;
	(void)req;

	for (uint32_t i = 0; i < n; i++) {
		if (sched_dest_available(&dests[i]) && dests[i].weight > best_weight) {
			best = (int)i;
			best_weight = dests[i].weight;
		}
	}
	return best;
}

const struct sched_ops sched_fo_ops = {
	.name = "fo",
	.schedule = fo_schedule,
};
