/*
 * wrr: IPVS weighted round robin. Weights are walked in steps of their gcd; the current weight
 * cw starts at the maximum, servers with weight >= cw are taken in list order, and at the end of
 * the list cw drops by the gcd, wrapping to the maximum when it reaches 0. 3,2,1 -> A A B A B C.
 */
#include <errno.h>
#include <stdlib.h>

#include "scheduler.h"

struct wrr_shared {
	uint32_t max_weight;
	uint32_t gcd;
};

struct wrr_state {
	int32_t index; /* last index visited; starts at -1 */
	int32_t cw;    /* current weight */
	uint32_t started;
};

static uint32_t gcd_u32(uint32_t a, uint32_t b)
{
	while (b != 0) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int wrr_init(void **shared, const struct sched_dest *dests, uint32_t n,
		    const struct sched_params *params)
{
	struct wrr_shared *sh = calloc(1, sizeof(*sh));
	(void)params;

	if (sh == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (dests[i].weight == 0)
			continue;
		sh->gcd = gcd_u32(dests[i].weight, sh->gcd);
		if (dests[i].weight > sh->max_weight)
			sh->max_weight = dests[i].weight;
	}
	if (sh->gcd == 0)
		sh->gcd = 1;
	/* IPVS starts cw at max - (gcd - 1): same sequence, one fewer empty pass. */
	if (sh->max_weight > 0)
		sh->max_weight -= sh->gcd - 1;
	*shared = sh;
	return 0;
}

static int wrr_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req)
{
	const struct wrr_shared *sh = shared;
	struct wrr_state *st = lcore_state;
	uint32_t avail_max = 0;
	(void)req;

	if (n == 0 || sh == NULL || sh->max_weight == 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (sched_dest_available(&dests[i]) && dests[i].weight > avail_max)
			avail_max = dests[i].weight;
	if (avail_max == 0)
		return -1;
	if (!st->started) {
		st->index = -1;
		st->cw = 0;
		st->started = 1;
	}
	/* Each level at or under avail_max holds a taker: a pick comes within two passes. */
	for (uint64_t budget = 2ull * n + 2; budget > 0; budget--) {
		st->index = (st->index + 1) % (int32_t)n;
		if (st->index == 0) {
			st->cw -= (int32_t)sh->gcd;
			if (st->cw <= 0)
				st->cw = (int32_t)sh->max_weight;
			/*
			 * Levels above every available weight would be walked without a pick (the
			 * heaviest servers are drained or overloaded): jump to the first level that
			 * can pick, which yields the same sequence without O(weight) empty passes.
			 */
			if ((uint32_t)st->cw > avail_max) {
				uint32_t steps = ((uint32_t)st->cw - avail_max + sh->gcd - 1) / sh->gcd;
				st->cw -= (int32_t)(steps * sh->gcd);
				if (st->cw <= 0) /* weights changed without init: any level <= avail_max */
					st->cw = (int32_t)avail_max;
			}
		}
		const struct sched_dest *d = &dests[st->index];
		if (sched_dest_available(d) && d->weight >= (uint32_t)st->cw)
			return st->index;
	}
	return -1;
}

static void wrr_release(void *shared)
{
	free(shared);
}

const struct sched_ops sched_wrr_ops = {
	.name = "wrr",
	.lcore_state_size = sizeof(struct wrr_state),
	.init = wrr_init,
	.schedule = wrr_schedule,
	.release = wrr_release,
};
