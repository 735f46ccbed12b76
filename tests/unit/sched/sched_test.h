/* Small helpers shared by the scheduler unit tests: build dests, run init/schedule/release. */
#ifndef DPDK_LB_SCHED_TEST_H
#define DPDK_LB_SCHED_TEST_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "scheduler.h"

#define MAX_TEST_DESTS 2048

/* One service under test: its scheduler, shared data, one lcore's state, dests and load. */
struct sched_fixture {
	const struct sched_ops *ops;
	void *shared;
	void *state;
	uint32_t n;
	struct sched_dest dest[MAX_TEST_DESTS];
	struct sched_load load[MAX_TEST_DESTS];
	struct sched_request req;
};

/* A zeroed fixture on the heap (it is too big for the stack); fixture_fini frees it. */
static inline struct sched_fixture *fixture_new(void)
{
	struct sched_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	return f;
}

/* IPv4 address 10.x.y.z from a host-order 24-bit index, distinct per i. */
static inline struct lb_addr test_addr(uint32_t i)
{
	return lb_addr_from_v4(htonl(0x0a000000u | (i & 0xffffffu)));
}

/* Fills dest[i] as 10.0.0.(i+1):80 with the given weights (n of them). */
static inline void fixture_dests(struct sched_fixture *f, uint32_t n, const uint32_t *weights)
{
	f->n = n;
	for (uint32_t i = 0; i < n; i++) {
		memset(&f->dest[i], 0, sizeof(f->dest[i]));
		f->dest[i].addr = test_addr(i + 1);
		f->dest[i].port = 80;
		f->dest[i].weight = weights[i];
	}
}

/* Looks the scheduler up, runs init with params (NULL = defaults), allocates zeroed lcore state. */
static inline int fixture_init(struct sched_fixture *f, const char *name,
			       const struct sched_params *params)
{
	struct sched_params defaults = {0};

	f->ops = sched_find(name);
	assert_non_null(f->ops);
	assert_string_equal(f->ops->name, name);
	f->shared = NULL;
	f->state = calloc(1, f->ops->lcore_state_size + 8);
	assert_non_null(f->state);
	memset(&f->req, 0, sizeof(f->req));
	f->req.client = lb_addr_from_v4(htonl(0xc0000201u)); /* 192.0.2.1 */
	f->req.vip = lb_addr_from_v4(htonl(0xc6336401u));    /* 198.51.100.1 */
	f->req.client_port = 40000;
	f->req.vip_port = 80;
	f->req.proto = 6;
	if (f->ops->ops_flags & SCHED_OPS_NEEDS_LOAD)
		f->req.load = f->load;
	if (f->ops->init == NULL)
		return 0;
	return f->ops->init(&f->shared, f->dest, f->n, params != NULL ? params : &defaults);
}

/* Releases what fixture_init built, and the fixture. */
static inline void fixture_fini(struct sched_fixture *f)
{
	if (f->ops != NULL && f->ops->release != NULL)
		f->ops->release(f->shared);
	free(f->state);
	free(f);
}

/* Re-runs init (after dests or weights changed), as the control lcore does. */
static inline int fixture_reinit(struct sched_fixture *f, const struct sched_params *params)
{
	struct sched_params defaults = {0};

	if (f->ops->release != NULL)
		f->ops->release(f->shared);
	f->shared = NULL;
	memset(f->state, 0, f->ops->lcore_state_size + 8);
	if (f->ops->init == NULL)
		return 0;
	return f->ops->init(&f->shared, f->dest, f->n, params != NULL ? params : &defaults);
}

/* Schedules one new connection with the fixture's current request and load. */
static inline int fixture_pick(struct sched_fixture *f)
{
	return f->ops->schedule(f->shared, f->state, f->dest, f->n, &f->req);
}

/* Sets active/inactive counts of dest i. */
static inline void fixture_load(struct sched_fixture *f, uint32_t i, uint32_t active,
				uint32_t inactive)
{
	f->load[i].active = active;
	f->load[i].inactive = inactive;
}

/* Asserts the next picks are exactly the given sequence of dest indexes. */
static inline void assert_sequence(struct sched_fixture *f, const int *expect, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		int got = fixture_pick(f);
		if (got != expect[k])
			fail_msg("pick %zu: expected %d, got %d", k, expect[k], got);
	}
}

#endif
