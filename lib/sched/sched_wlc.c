/*
 * wlc: least (active*256 + inactive) / weight, compared by cross-multiplication so no division
 * happens; ties keep the earlier server; weight 0 is never chosen (IPVS ip_vs_wlc semantics).
 */
#include "scheduler.h"

static int wlc_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint64_t best_overhead = 0, best_weight = 0;
	(void)shared;
	(void)lcore_state;

	for (uint32_t i = 0; i < n; i++) {
		if (!sched_dest_available(&dests[i]))
			continue;
		uint64_t overhead = (uint64_t)req->load[i].active * 256 + req->load[i].inactive;
		uint64_t weight = dests[i].weight;
		/* overhead/weight < best_overhead/best_weight */
		if (best < 0 || overhead * best_weight < best_overhead * weight) {
			best = (int)i;
			best_overhead = overhead;
			best_weight = weight;
		}
	}
	return best;
}

const struct sched_ops sched_wlc_ops = {
	.name = "wlc",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = wlc_schedule,
};
