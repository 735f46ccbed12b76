/* Named scheduler.h, not sched.h: lib/sched is on the include path and must not shadow <sched.h>. */
/*
 * Scheduler ops table: one scheduler per file (sched_rr.c, sched_wrr.c ...), all listed in
 * sched_registry.c. Schedulers are pure code with IPVS semantics and no EAL.
 *
 * Life cycle, matching the snapshot model of the daemon:
 *  - init() runs on the control lcore whenever a service's real servers or weights change. It
 *    builds the scheduler's immutable shared data (gcd for wrr, a Maglev ring ...) which every
 *    worker then reads without locks.
 *  - each worker lcore owns a zeroed block of lcore_state_size bytes per service (rr position,
 *    wrr current weight): mutable, but touched by its lcore only.
 *  - schedule() runs on a worker for each new connection and returns the index of the chosen
 *    destination, or -1 when no destination may take a new connection.
 *  - release() frees what init() built.
 */
#ifndef DPDK_LB_SCHED_H
#define DPDK_LB_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "inet_addr.h"

/* dest flags */
#define SCHED_DEST_OVERLOADED 0x1u /* over its connection threshold: takes no new connection */

/* One real server as a scheduler sees it. Weight 0 is quiescent: never chosen for new flows. */
struct sched_dest {
	uint32_t weight;
	uint32_t flags;
	struct lb_addr addr; /* stable identity for hashing schedulers (canonical order) */
	uint16_t port;
};

/* Connection counts of one destination, summed over all worker lcores. */
struct sched_load {
	uint32_t active;
	uint32_t inactive;
};

/* What is known about the new connection being scheduled. */
struct sched_request {
	struct lb_addr client;
	struct lb_addr vip;
	uint16_t client_port; /* host order */
	uint16_t vip_port;    /* host order */
	uint8_t proto;
	/* Filled only when the scheduler's ops have SCHED_OPS_NEEDS_LOAD: load[i] for dests[i]. */
	const struct sched_load *load;
	/* Uniform random 32-bit values for randomised schedulers (twos). */
	uint32_t random;
	/* Monotonic seconds for schedulers that age their state (lblcr); 0 = no clock, no aging. */
	uint32_t now_s;
};

/* service scheduler flags (IPVS -b flags) */
#define SCHED_FLAG_FALLBACK 0x1u /* sh/mh: pick another server when the hashed one is unavailable */
#define SCHED_FLAG_PORT 0x2u     /* sh/mh: hash the source port too */

/* Service-level parameters given to init(). */
struct sched_params {
	uint32_t flags;
	uint32_t table_size; /* mh: Maglev table size (prime); 0 = default */
};

#define SCHED_MH_DEFAULT_TABLE_SIZE 65537u /* Maglev paper and Katran; must be prime */
#define SCHED_MH_MAX_TABLE_SIZE 16777213u  /* largest prime below 2^24: caps the table memory */

/* ops flags */
#define SCHED_OPS_NEEDS_LOAD 0x1u /* schedule() reads req->load */

struct sched_ops {
	const char *name;
	uint32_t ops_flags;
	size_t lcore_state_size;
	/* Builds immutable shared data into *shared (may stay NULL); returns 0 or -errno. */
	int (*init)(void **shared, const struct sched_dest *dests, uint32_t n,
		    const struct sched_params *params);
	/* Chooses a destination index for a new connection, or -1 when none is available. */
	int (*schedule)(const void *shared, void *lcore_state, const struct sched_dest *dests,
			uint32_t n, const struct sched_request *req);
	/* Frees what init() built (NULL-safe). */
	void (*release)(void *shared);
};

/* Finds a scheduler by name; NULL when there is none. */
const struct sched_ops *sched_find(const char *name);

/* Comma-separated list of all scheduler names, for error messages and system.info. */
const char *sched_names(void);

/* True when the destination may take a new connection (weight > 0 and not overloaded). */
static inline int sched_dest_available(const struct sched_dest *d)
{
	return d->weight > 0 && !(d->flags & SCHED_DEST_OVERLOADED);
}

#endif
