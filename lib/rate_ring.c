#include "rate_ring.h"

#include <string.h>

void rate_ring_clear(struct rate_ring *r)
{
	memset(r, 0, sizeof(*r));
}

static void push_second(struct rate_ring *r, const struct rate_ring_values *v)
{
	r->sec[r->seconds % RATE_HISTORY_SECONDS] = *v;
	r->seconds++;
	for (int i = 0; i < RATE_RING_FIELDS; i++)
		r->acc[i] += v->v[i];
	if (++r->acc_n < 60)
		return;
	struct rate_ring_values *m = &r->min[r->minutes % RATE_HISTORY_MINUTES];
	for (int i = 0; i < RATE_RING_FIELDS; i++)
		m->v[i] = (float)(r->acc[i] / 60.0);
	r->minutes++;
	memset(r->acc, 0, sizeof(r->acc));
	r->acc_n = 0;
}

void rate_ring_push(struct rate_ring *r, const struct rate_ring_values *v, uint64_t n_seconds)
{
	const uint64_t day = (uint64_t)RATE_HISTORY_MINUTES * 60;

	if (n_seconds > day) {
		/* only the last day is kept anyway: keep the minute boundaries where they were */
		uint64_t skip = (n_seconds - day) / 60 * 60;
		r->seconds += skip;
		r->minutes += skip / 60;
		n_seconds -= skip;
	}
	while (n_seconds-- > 0)
		push_second(r, v);
}

static void to_point(const struct rate_ring_values *v, uint64_t t, struct rate_history_point *p)
{
	p->t = t;
	p->conns = v->v[RATE_RING_CONNS];
	p->cps = v->v[RATE_RING_CPS];
	p->inpps = v->v[RATE_RING_INPPS];
	p->outpps = v->v[RATE_RING_OUTPPS];
	p->inbps = v->v[RATE_RING_INBPS];
	p->outbps = v->v[RATE_RING_OUTBPS];
	p->drops = v->v[RATE_RING_DROPS];
}

size_t rate_ring_read(const struct rate_ring *r, unsigned resolution_s, uint64_t newest_t,
		      struct rate_history_point *out, size_t max)
{
	uint64_t have, n;

	if (resolution_s == 1) {
		have = r->seconds < RATE_HISTORY_SECONDS ? r->seconds : RATE_HISTORY_SECONDS;
		n = have < max ? have : max;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t idx = r->seconds - n + i; /* the idx-th second recorded */
			to_point(&r->sec[idx % RATE_HISTORY_SECONDS],
				 newest_t - (r->seconds - 1 - idx), &out[i]);
		}
		return (size_t)n;
	}
	if (resolution_s != 60)
		return 0;
	have = r->minutes < RATE_HISTORY_MINUTES ? r->minutes : RATE_HISTORY_MINUTES;
	n = have < max ? have : max;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t j = r->minutes - n + i; /* its last second is (j + 1) * 60 - 1 */
		to_point(&r->min[j % RATE_HISTORY_MINUTES], newest_t - (r->seconds - (j + 1) * 60),
			 &out[i]);
	}
	return (size_t)n;
}
