/*
 * lc: least connections, the server with the least active*256 + inactive; weight only gates
 * (0 is never chosen), ties keep the earlier server (IPVS ip_vs_lc semantics).
 */
#include "sched_util.h"

static int lc_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint64_t best_overhead = 0;
	(void)shared;
	(void)lcore_state;

	for (uint32_t i = 0; i < n; i++) {
		if (!sched_dest_available(&dests[i]))
			continue;
		uint64_t overhead = sched_overhead(req, i);
		if (best < 0 || overhead < best_overhead) {
			best = (int)i;
			best_overhead = overhead;
		}
	}
	return best;
}

const struct sched_ops sched_lc_ops = {
	.name = "lc",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = lc_schedule,
};
