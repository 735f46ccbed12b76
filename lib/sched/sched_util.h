/*
 * Helpers shared by the scheduler files: load access, the weighted least-connection pick that
 * wlc, lblc and lblcr share, the hash used by dh/sh/mh, the canonical (addr, port) order and the
 * weighted bucket table behind dh and sh. Internal to lib/sched.
 */
#ifndef DPDK_LB_SCHED_UTIL_H
#define DPDK_LB_SCHED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler.h"

/* Active connections of dests[i]; 0 when the caller passed no load. */
static inline uint32_t sched_active(const struct sched_request *req, uint32_t i)
{
	return req->load != NULL ? req->load[i].active : 0;
}

/* IPVS connection overhead of dests[i]: one active connection weighs as much as 256 inactive. */
static inline uint64_t sched_overhead(const struct sched_request *req, uint32_t i)
{
	if (req->load == NULL)
		return 0;
	return (uint64_t)req->load[i].active * 256 + req->load[i].inactive;
}

/* Weighted least-connection choice among available dests, earlier wins ties; -1 when none. */
int sched_pick_wlc(const struct sched_dest *dests, uint32_t n, const struct sched_request *req);

/* Least (active + 1) / weight among available dests, earlier wins ties (sed; nq's fallback). */
int sched_pick_sed(const struct sched_dest *dests, uint32_t n, const struct sched_request *req);

/*
 * lblc/lblcr overload test: dests[i] has more active connections than its weight while some
 * available dest is under half of its own weight (IPVS is_overloaded).
 */
bool sched_lblc_overloaded(const struct sched_dest *dests, uint32_t n,
			   const struct sched_request *req, uint32_t i);

/* Well-mixed 64-bit hash of len bytes; byte-order independent so every node agrees. */
uint64_t sched_hash64(const void *data, size_t len, uint64_t seed);

#define SCHED_ADDR_KEY_MAX 19 /* family + 16 address bytes + 2 port bytes */

/* Writes the hash key of (addr[, port]) into key (SCHED_ADDR_KEY_MAX bytes); returns its length. */
size_t sched_addr_key(uint8_t *key, const struct lb_addr *addr, uint16_t port, bool with_port);

/* Hash of an address (and port when with_port) mixed with a retry number, for fallback probes. */
uint64_t sched_hash_addr(const struct lb_addr *addr, uint16_t port, bool with_port, uint32_t retry,
			 uint64_t seed);

/* Fills order[0..n) with dest indexes sorted by (addr, port, input index); returns 0 or -ENOMEM. */
int sched_canonical_order(const struct sched_dest *dests, uint32_t n, uint32_t *order);

/* True when v is prime (trial division: init-time only). */
bool sched_is_prime(uint32_t v);

/*
 * Bucket table of dh and sh: 2^k buckets shared out in proportion to weight (largest remainder),
 * a weight-0 dest counting as weight 1 so that quiescing a server moves no other server's clients;
 * each dest's buckets contiguous, dests laid out in canonical order so the input order of the
 * same set never changes the table.
 */
struct sched_bucket_table {
	uint32_t mask;      /* bucket count - 1; the count is a power of two */
	uint32_t n_buckets; /* 0 when there is no dest: every lookup fails */
	uint32_t dest[];    /* dest index per bucket */
};

/* Builds the bucket table for dests; returns 0, -ENOMEM. */
int sched_bucket_table_build(struct sched_bucket_table **out, const struct sched_dest *dests,
			     uint32_t n);

/*
 * Picks the dest for hash value h: the owner of its bucket when available; otherwise -1, or with
 * fallback a probe of rehashed buckets then the next available dest in index order.
 */
int sched_bucket_table_pick(const struct sched_bucket_table *t, const struct sched_dest *dests,
			    uint32_t n, const struct lb_addr *addr, uint16_t port, bool with_port,
			    bool fallback, uint64_t seed);

/* Probes tried by fallback before the linear scan: bounded work per new connection. */
#define SCHED_FALLBACK_PROBES 16u

/* First available dest at or after start (wrapping); -1 when none. */
int sched_first_available_from(const struct sched_dest *dests, uint32_t n, uint32_t start);

#endif
