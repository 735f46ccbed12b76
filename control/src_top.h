/*
 * Rates per source address from the workers' source sketches (src_sketch.h): sampled once a
 * second by the control loop, kept per (worker, slot) in fixed memory, read by conn.top.
 */
#ifndef DPDK_LB_SRC_TOP_H
#define DPDK_LB_SRC_TOP_H

#include <stdint.h>

#include "inet_addr.h"

struct src_rate {
	struct lb_addr addr; /* family 0: the slot holds no address */
	double pps;          /* packets a second over the last sampling interval */
	double dps;          /* drops a second */
	double cps;          /* new connections a second */
	uint64_t drops;      /* drops since the address took its slot */
};

/* Allocates the samples for every worker's slots; 0 or -1 out of memory. */
int src_top_init(void);

/* Takes a sample of every slot (the 1 s timer of the control loop). */
void src_top_sample(void);

/* Calls fn for every slot holding an address, with its last rates. */
void src_top_foreach(void (*fn)(void *arg, const struct src_rate *r), void *arg);

/* Seconds covered by the last sample (0 before the second one). */
double src_top_interval(void);

#endif
