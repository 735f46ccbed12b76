/*
 * sh: source hashing (IPVS ip_vs_sh). A static hash of the client address, and of its port with
 * SCHED_FLAG_PORT, picks a bucket; buckets are shared out in proportion to weight. When the
 * hashed server is unavailable the connection gets none, unless SCHED_FLAG_FALLBACK is set:
 * then other buckets are probed. The table does not depend on the order servers are listed in.
 * A weight-0 server keeps its buckets (those of weight 1, as in IPVS): only its own clients are
 * refused or rehashed, every other client stays on its server.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched_util.h"

#define SH_SEED 0x73682d6275636b65ull

struct sh_shared {
	uint32_t flags;
	struct sched_bucket_table *table;
};

static int sh_init(void **shared, const struct sched_dest *dests, uint32_t n,
		   const struct sched_params *params)
{
	struct sh_shared *sh = calloc(1, sizeof(*sh));

	if (sh == NULL)
		return -ENOMEM;
	sh->flags = params != NULL ? params->flags : 0;
	int rc = sched_bucket_table_build(&sh->table, dests, n);
	if (rc != 0) {
		free(sh);
		return rc;
	}
	*shared = sh;
	return 0;
}

static int sh_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	const struct sh_shared *sh = shared;
	(void)lcore_state;

	if (sh == NULL)
		return -1;
	return sched_bucket_table_pick(sh->table, dests, n, &req->client, req->client_port,
				       sh->flags & SCHED_FLAG_PORT, sh->flags & SCHED_FLAG_FALLBACK,
				       SH_SEED);
}

static void sh_release(void *shared)
{
	struct sh_shared *sh = shared;

	if (sh == NULL)
		return;
	free(sh->table);
	free(sh);
}

const struct sched_ops sched_sh_ops = {
	.name = "sh",
	.init = sh_init,
	.schedule = sh_schedule,
	.release = sh_release,
};
