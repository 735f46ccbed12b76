/*
 * Token bucket on a cycle counter, one writer, no division on the hot path: each event costs
 * `cost` cycles of credit and the bucket holds at most `cap` cycles (burst events).
 */
#ifndef DPDK_LB_TOKEN_BUCKET_H
#define DPDK_LB_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct lb_token_bucket {
	uint64_t cost;   /* cycles per event: hz / rate */
	uint64_t cap;    /* most credit held: burst * cost */
	uint64_t credit; /* cycles of credit when last taken */
	uint64_t last;   /* cycle counter when last taken */
};

/* Sets b to rate events per second (>= 1) at hz cycles per second, burst (>= 1) deep, full. */
static inline void lb_token_bucket_init(struct lb_token_bucket *b, uint64_t hz, uint64_t rate,
					uint64_t burst, uint64_t now)
{
	b->cost = hz / (rate ? rate : 1);
	if (b->cost == 0)
		b->cost = 1;
	b->cap = b->cost * (burst ? burst : 1);
	b->credit = b->cap;
	b->last = now;
}

/* Takes one token at cycle `now` (never earlier than the last call): true if there was one. */
static inline bool lb_token_bucket_take(struct lb_token_bucket *b, uint64_t now)
{
	uint64_t credit = b->credit + (now - b->last);

	if (credit > b->cap || credit < b->credit) /* full, or the sum wrapped */
		credit = b->cap;
	b->last = now;
	if (credit < b->cost) {
		b->credit = credit;
		return false;
	}
	b->credit = credit - b->cost;
	return true;
}

#endif
