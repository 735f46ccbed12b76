/*
 * nq: never queue. The first available server with no active connection, else sed's least
 * (active + 1) / weight (IPVS ip_vs_nq semantics).
 */
#include "sched_util.h"

static int nq_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	(void)shared;
	(void)lcore_state;

	for (uint32_t i = 0; i < n; i++)
		if (sched_dest_available(&dests[i]) && sched_active(req, i) == 0)
			return (int)i;
	return sched_pick_sed(dests, n, req);
}

const struct sched_ops sched_nq_ops = {
	.name = "nq",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = nq_schedule,
};
