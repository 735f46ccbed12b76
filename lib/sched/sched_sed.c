/*
 * sed: shortest expected delay, least (active + 1) / weight compared by cross-multiplication;
 * inactive connections do not count; ties keep the earlier server (IPVS ip_vs_sed semantics).
 */
#include "sched_util.h"

int sched_pick_sed(const struct sched_dest *dests, uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint64_t best_delay = 0, best_weight = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!sched_dest_available(&dests[i]))
			continue;
		uint64_t delay = (uint64_t)sched_active(req, i) + 1;
		uint64_t weight = dests[i].weight;
		if (best < 0 || delay * best_weight < best_delay * weight) {
			best = (int)i;
			best_delay = delay;
			best_weight = weight;
		}
	}
	return best;
}

static int sed_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req)
{
	(void)shared;
	(void)lcore_state;
	return sched_pick_sed(dests, n, req);
}

const struct sched_ops sched_sed_ops = {
	.name = "sed",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = sed_schedule,
};
