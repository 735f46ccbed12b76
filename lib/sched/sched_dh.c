/*
 * dh: destination hashing. A static hash of the destination address (the VIP the client asked
 * for) picks a bucket; buckets are shared out in proportion to weight. An unavailable server
 * means no server, as in IPVS ip_vs_dh; SCHED_FLAG_FALLBACK, an extension here, rehashes instead.
 * IPVS gives each server one bucket in list order whatever its weight; here shares follow weight
 * and the table does not depend on the order servers are listed in. A weight-0 server keeps the
 * buckets of weight 1, so quiescing it moves no destination of another server.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched_util.h"

#define DH_SEED 0x64682d6275636b65ull

struct dh_shared {
	uint32_t flags;
	struct sched_bucket_table *table;
};

static int dh_init(void **shared, const struct sched_dest *dests, uint32_t n,
		   const struct sched_params *params)
{
	struct dh_shared *dh = calloc(1, sizeof(*dh));

	if (dh == NULL)
		return -ENOMEM;
	dh->flags = params != NULL ? params->flags : 0;
	int rc = sched_bucket_table_build(&dh->table, dests, n);
	if (rc != 0) {
		free(dh);
		return rc;
	}
	*shared = dh;
	return 0;
}

static int dh_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	const struct dh_shared *dh = shared;
	(void)lcore_state;

	if (dh == NULL)
		return -1;
	return sched_bucket_table_pick(dh->table, dests, n, &req->vip, 0, false,
				       dh->flags & SCHED_FLAG_FALLBACK, DH_SEED);
}

static void dh_release(void *shared)
{
	struct dh_shared *dh = shared;

	if (dh == NULL)
		return;
	free(dh->table);
	free(dh);
}

const struct sched_ops sched_dh_ops = {
	.name = "dh",
	.init = dh_init,
	.schedule = dh_schedule,
	.release = dh_release,
};
