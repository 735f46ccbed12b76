#include "src_top.h"

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "dataplane.h"

struct slot_sample {
	uint32_t seq;
	uint8_t valid;
	uint64_t pkts, drops, conns;
};

static struct slot_sample *samples; /* [workers][slots] */
static struct src_rate *rates;      /* [workers][slots] */
static uint64_t last_tsc;
static double interval_s;

int src_top_init(void)
{
	size_t n = (size_t)lb_rt.n_workers * src_sketch_slots();

	if (n == 0)
		return 0;
	samples = calloc(n, sizeof(*samples));
	rates = calloc(n, sizeof(*rates));
	return samples != NULL && rates != NULL ? 0 : -1;
}

double src_top_interval(void)
{
	return interval_s;
}

static void sample_slot(const struct lb_worker *w, uint32_t i, struct slot_sample *prev,
			struct src_rate *r, double dt)
{
	struct src_slot now;

	if (!src_sketch_read(w, i, &now))
		return; /* being replaced: keep the last rates, read it next time */
	if (now.family == 0) {
		r->addr.family = 0;
		return;
	}
	/* A slot given to another address since the last sample counts from zero. */
	bool same = prev->valid && prev->seq == now.seq;
	uint64_t dp = now.pkts - (same ? prev->pkts : 0);
	uint64_t dd = now.drops - (same ? prev->drops : 0);
	uint64_t dc = now.conns - (same ? prev->conns : 0);
	memset(&r->addr, 0, sizeof(r->addr));
	r->addr.family = now.family;
	memcpy(now.family == AF_INET ? (uint8_t *)&r->addr.v4 : r->addr.v6, now.addr,
	       now.family == AF_INET ? 4 : 16);
	r->pps = dt > 0 ? (double)dp / dt : 0;
	r->dps = dt > 0 ? (double)dd / dt : 0;
	r->cps = dt > 0 ? (double)dc / dt : 0;
	r->drops = now.drops;
	*prev = (struct slot_sample){now.seq, 1, now.pkts, now.drops, now.conns};
}

void src_top_sample(void)
{
	uint32_t slots = src_sketch_slots();
	uint64_t tsc = rte_rdtsc();
	double dt = last_tsc ? (double)(tsc - last_tsc) / (double)lb_rt.tsc_hz : 0;

	for (uint16_t w = 0; samples != NULL && w < lb_rt.n_workers; w++)
		for (uint32_t i = 0; i < slots; i++) {
			size_t k = (size_t)w * slots + i;
			sample_slot(lb_rt.workers[w], i, &samples[k], &rates[k], dt);
		}
	last_tsc = tsc;
	interval_s = dt;
}

void src_top_foreach(void (*fn)(void *arg, const struct src_rate *r), void *arg)
{
	size_t n = (size_t)lb_rt.n_workers * src_sketch_slots();

	for (size_t k = 0; rates != NULL && k < n; k++)
		if (rates[k].addr.family != 0)
			fn(arg, &rates[k]);
}
