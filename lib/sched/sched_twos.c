/*
 * twos: power of two choices. Two servers drawn at random in proportion to weight (they may be
 * the same one); the one with the lower (active*256 + inactive) / weight wins, the first draw on
 * a tie (IPVS ip_vs_twos semantics, which weighs connections as wlc does).
 */
#include "sched_util.h"

/* The one 32-bit random value is stretched into two independent 64-bit draws. */
#define TWOS_SEED_FIRST 0x74776f732d6f6e65ull
#define TWOS_SEED_SECOND 0x74776f732d74776full

/* Index of the available dest whose cumulative weight range holds point; -1 when none. */
static int twos_draw(const struct sched_dest *dests, uint32_t n, uint64_t point)
{
	uint64_t cumulative = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!sched_dest_available(&dests[i]))
			continue;
		cumulative += dests[i].weight;
		if (point < cumulative)
			return (int)i;
	}
	return -1;
}

static int twos_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			 uint32_t n, const struct sched_request *req)
{
	uint64_t total_weight = 0;
	(void)shared;
	(void)lcore_state;

	for (uint32_t i = 0; i < n; i++)
		if (sched_dest_available(&dests[i]))
			total_weight += dests[i].weight;
	if (total_weight == 0)
		return -1;

	uint64_t r1 = sched_hash64(&req->random, sizeof(req->random), TWOS_SEED_FIRST);
	uint64_t r2 = sched_hash64(&req->random, sizeof(req->random), TWOS_SEED_SECOND);
	int first = twos_draw(dests, n, r1 % total_weight);
	int second = twos_draw(dests, n, r2 % total_weight);
	uint64_t load1 = sched_overhead(req, (uint32_t)first);
	uint64_t load2 = sched_overhead(req, (uint32_t)second);

	/* load2/w2 < load1/w1 by cross-multiplication */
	if (load2 * dests[first].weight < load1 * dests[second].weight)
		return second;
	return first;
}

const struct sched_ops sched_twos_ops = {
	.name = "twos",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.schedule = twos_schedule,
};
