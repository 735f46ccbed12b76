/*
 * wlc: least (active*256 + inactive) / weight, compared by cross-multiplication so no division
 * happens; ties keep the earlier server; weight 0 is never chosen (IPVS ip_vs_wlc semantics).
 */
#include "sched_util.h"

static int wlc_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req)
{
	(void)shared;
	(void)lcore_state;
	return sched_pick_wlc(dests, n, req);
}

const struct sched_ops sched_wlc_ops = {
	.name = "wlc",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = wlc_schedule,
};
