/* rr: the next available server in list order (IPVS ip_vs_rr semantics). */
#include "scheduler.h"

struct rr_state {
	uint32_t last; /* index + 1 of the server chosen last; 0 = none yet */
};

static int rr_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	struct rr_state *st = lcore_state;
	(void)shared;
	(void)req;

	if (n == 0)
		return -1;
	uint32_t start = st->last % n;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (start + k) % n;
		if (sched_dest_available(&dests[i])) {
			st->last = i + 1;
			return (int)i;
		}
	}
	return -1;
}

const struct sched_ops sched_rr_ops = {
	.name = "rr",
	.lcore_state_size = sizeof(struct rr_state),
	.schedule = rr_schedule,
};
