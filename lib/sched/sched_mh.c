/*
 * mh: Maglev hashing (NSDI 2016, section 3.4; IPVS ip_vs_mh). A lookup table of prime size M
 * (sched_params.table_size, default 65537) maps a hash of the client address, and of its port with
 * SCHED_FLAG_PORT, to a server. Each server walks its own permutation of the slots,
 * offset = h1(addr, port) mod M, skip = h2(addr, port) mod (M - 1) + 1, and the servers take turns
 * claiming their next free slot until the table is full. Weights: every round each server earns
 * its weight in credit and claims a slot per max-weight of credit, so slot counts follow weight
 * within about one slot; weight 0 servers take no slot.
 *
 * Servers take turns in canonical (addr, port) order, never input order, so every node computes
 * the same table from the same set. When the chosen server is unavailable the connection gets
 * none, unless SCHED_FLAG_FALLBACK is set: then rehashed slots are probed.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched_mh.h"
#include "sched_util.h"

#define MH_SEED_OFFSET 0x6d61676c65762d31ull
#define MH_SEED_SKIP 0x6d61676c65762d32ull
#define MH_SEED_LOOKUP 0x6d61676c65762d33ull

struct mh_shared {
	uint32_t flags;
	uint32_t size;     /* M, prime */
	uint32_t has_dest; /* 0: every slot is SCHED_MH_EMPTY */
	uint32_t slot[];   /* dest index per slot */
};

/* One server's walk through its permutation of the slots. */
struct mh_walker {
	uint32_t dest;   /* index into dests */
	uint32_t pos;    /* next candidate slot: offset + j * skip mod M */
	uint32_t skip;
	uint32_t weight;
	uint64_t credit; /* weight earned and not yet spent on slots */
};

/* Fills slot[0..size) from the dests with a weight; size is prime and >= their count. */
static int mh_populate(uint32_t *slot, uint32_t size, const struct sched_dest *dests, uint32_t n)
{
	/* n + 1: an empty service still gets non-NULL buffers */
	uint32_t *order = malloc(((size_t)n + 1) * sizeof(*order));
	struct mh_walker *walker = malloc(((size_t)n + 1) * sizeof(*walker));
	uint32_t n_walkers = 0, max_weight = 0;
	int rc = -ENOMEM;

	if (order == NULL || walker == NULL || sched_canonical_order(dests, n, order) != 0)
		goto out;
	for (uint32_t r = 0; r < n; r++) {
		const struct sched_dest *d = &dests[order[r]];
		uint8_t key[SCHED_ADDR_KEY_MAX];
		size_t len;

		if (d->weight == 0)
			continue;
		len = sched_addr_key(key, &d->addr, d->port, true);
		walker[n_walkers] = (struct mh_walker){
			.dest = order[r],
			.pos = (uint32_t)(sched_hash64(key, len, MH_SEED_OFFSET) % size),
			.skip = (uint32_t)(sched_hash64(key, len, MH_SEED_SKIP) % (size - 1)) + 1,
			.weight = d->weight,
		};
		if (d->weight > max_weight)
			max_weight = d->weight;
		n_walkers++;
	}
	for (uint32_t s = 0; s < size; s++)
		slot[s] = SCHED_MH_EMPTY;
	uint32_t filled = 0;
	while (n_walkers > 0 && filled < size) {
		for (uint32_t k = 0; k < n_walkers && filled < size; k++) {
			struct mh_walker *w = &walker[k];

			w->credit += w->weight;
			if (w->credit < max_weight)
				continue;
			w->credit -= max_weight;
			/* M prime and 0 < skip < M: the walk visits every slot, so a free one is found. */
			while (slot[w->pos] != SCHED_MH_EMPTY) {
				w->pos += w->skip;
				if (w->pos >= size)
					w->pos -= size;
			}
			slot[w->pos] = w->dest;
			filled++;
		}
	}
	rc = 0;
out:
	free(order);
	free(walker);
	return rc;
}

static int mh_init(void **shared, const struct sched_dest *dests, uint32_t n,
		   const struct sched_params *params)
{
	uint32_t size = params != NULL && params->table_size != 0 ? params->table_size
								   : SCHED_MH_DEFAULT_TABLE_SIZE;
	uint32_t weighted = 0;
	struct mh_shared *mh;

	for (uint32_t i = 0; i < n; i++)
		weighted += dests[i].weight > 0;
	/* Below 3 the skip range M - 1 is degenerate; fewer slots than servers starves some. */
	if (size < 3 || size > SCHED_MH_MAX_TABLE_SIZE || !sched_is_prime(size) || weighted > size)
		return -EINVAL;
	mh = malloc(sizeof(*mh) + (size_t)size * sizeof(mh->slot[0]));
	if (mh == NULL)
		return -ENOMEM;
	mh->flags = params != NULL ? params->flags : 0;
	mh->size = size;
	mh->has_dest = weighted > 0;
	int rc = mh_populate(mh->slot, size, dests, n);
	if (rc != 0) {
		free(mh);
		return rc;
	}
	*shared = mh;
	return 0;
}

static int mh_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
		       uint32_t n, const struct sched_request *req)
{
	const struct mh_shared *mh = shared;
	(void)lcore_state;

	if (mh == NULL || !mh->has_dest || n == 0)
		return -1;
	bool with_port = mh->flags & SCHED_FLAG_PORT;
	uint64_t h = sched_hash_addr(&req->client, req->client_port, with_port, 0, MH_SEED_LOOKUP);
	uint32_t d = mh->slot[h % mh->size];
	if (d < n && sched_dest_available(&dests[d]))
		return (int)d;
	if (!(mh->flags & SCHED_FLAG_FALLBACK))
		return -1;
	/* Rehashing spreads the clients of an unavailable server over the others by weight. */
	for (uint32_t retry = 1; retry <= SCHED_FALLBACK_PROBES; retry++) {
		h = sched_hash_addr(&req->client, req->client_port, with_port, retry, MH_SEED_LOOKUP);
		uint32_t alt = mh->slot[h % mh->size];
		if (alt < n && sched_dest_available(&dests[alt]))
			return (int)alt;
	}
	return sched_first_available_from(dests, n, d + 1 < n ? d + 1 : 0);
}

static void mh_release(void *shared)
{
	free(shared);
}

const uint32_t *sched_mh_table(const void *shared, uint32_t *size)
{
	const struct mh_shared *mh = shared;

	if (mh == NULL)
		return NULL;
	*size = mh->size;
	return mh->slot;
}

const struct sched_ops sched_mh_ops = {
	.name = "mh",
	.init = mh_init,
	.schedule = mh_schedule,
	.release = mh_release,
};
