/*
 * Counters of one burst, added to the worker's once at the burst's end (before its packets are
 * transmitted, so whoever sees a packet leave sees it counted). Per-packet counter updates are
 * loads and stores on several cache lines; a burst's packets mostly share a family, a service
 * and often a real, so runs of one id are summed in registers and written when the id changes.
 * The figures stay exact.
 */
#ifndef DPDK_LB_BURST_TALLY_H
#define DPDK_LB_BURST_TALLY_H

#include <stdint.h>
#include <string.h>

#include "counters.h"
#include "lb_runtime.h"

/* Packets and bytes of a run of packets counted for one service or real. */
struct tally_run {
	uint32_t id;
	uint32_t pkts; /* 0: the run is empty, id means nothing */
	uint64_t bytes;
};

struct burst_tally {
	uint32_t received[LB_FAMILY_COUNT];  /* stats.protocol[].received */
	uint32_t forwarded[LB_FAMILY_COUNT]; /* stats.protocol[].forwarded */
	struct tally_run svc_in, real_in;    /* client -> real */
	struct tally_run svc_out, real_out;  /* real -> client (nat, fnat) */
};

static inline void burst_tally_init(struct burst_tally *t)
{
	memset(t, 0, sizeof(*t));
}

static inline void tally_run_flush(struct tally_run *r, uint64_t *pkts, uint64_t *bytes)
{
	LB_COUNTER_ADD(*pkts, r->pkts);
	LB_COUNTER_ADD(*bytes, r->bytes);
	r->pkts = 0;
	r->bytes = 0;
}

/* Counts a packet of len bytes in (out: false) or out of id's counters in c[]. */
static inline void tally_run_add(struct tally_run *r, struct lb_traffic_counters *c, bool out,
				 uint32_t id, uint32_t len)
{
	if (r->pkts != 0 && r->id != id) {
		if (out)
			tally_run_flush(r, &c[r->id].outpkts, &c[r->id].outbytes);
		else
			tally_run_flush(r, &c[r->id].inpkts, &c[r->id].inbytes);
	}
	r->id = id;
	r->pkts++;
	r->bytes += len;
}

/* A packet forwarded to real real_id of service svc_id. */
static inline void tally_in(struct lb_worker *w, struct burst_tally *t, uint8_t family,
			    uint32_t svc_id, uint32_t real_id, uint32_t len)
{
	tally_run_add(&t->svc_in, w->service_counters, false, svc_id, len);
	tally_run_add(&t->real_in, w->real_counters, false, real_id, len);
	t->forwarded[family == AF_INET6]++;
}

/* A reply forwarded from real real_id of service svc_id to its client. */
static inline void tally_out(struct lb_worker *w, struct burst_tally *t, uint8_t family,
			     uint32_t svc_id, uint32_t real_id, uint32_t len)
{
	tally_run_add(&t->svc_out, w->service_counters, true, svc_id, len);
	tally_run_add(&t->real_out, w->real_counters, true, real_id, len);
	t->forwarded[family == AF_INET6]++;
}

/* Adds what the burst counted to the worker's counters. */
static inline void burst_tally_flush(struct lb_worker *w, struct burst_tally *t)
{
	struct lb_traffic_counters *sc = w->service_counters, *rc = w->real_counters;

	for (int f = 0; f < LB_FAMILY_COUNT; f++) {
		if (t->received[f] != 0)
			LB_COUNTER_ADD(w->stats->protocol[f].received, t->received[f]);
		if (t->forwarded[f] != 0)
			LB_COUNTER_ADD(w->stats->protocol[f].forwarded, t->forwarded[f]);
	}
	if (t->svc_in.pkts != 0)
		tally_run_flush(&t->svc_in, &sc[t->svc_in.id].inpkts, &sc[t->svc_in.id].inbytes);
	if (t->real_in.pkts != 0)
		tally_run_flush(&t->real_in, &rc[t->real_in.id].inpkts, &rc[t->real_in.id].inbytes);
	if (t->svc_out.pkts != 0)
		tally_run_flush(&t->svc_out, &sc[t->svc_out.id].outpkts, &sc[t->svc_out.id].outbytes);
	if (t->real_out.pkts != 0)
		tally_run_flush(&t->real_out, &rc[t->real_out.id].outpkts,
				&rc[t->real_out.id].outbytes);
	t->received[0] = t->received[1] = t->forwarded[0] = t->forwarded[1] = 0;
}

#endif
