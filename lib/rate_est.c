#include "rate_est.h"

#include <string.h>

/*
 * ip_vs_est.c: the growth over 2 s shifted left by 9 is the rate per second scaled by 2^10
 * (connections, packets); bytes are shifted by 4 only (scaled by 2^5), which kept 32-bit
 * kernels from overflowing and is kept here so the figures match ipvsadm's to the unit.
 */
static const unsigned sample_shift[LB_RATE_COUNT] = {9, 9, 9, 4, 4};
static const unsigned scale_shift[LB_RATE_COUNT] = {10, 10, 10, 5, 5};

void lb_rate_est_start(struct lb_rate_est *e, const uint64_t now[LB_RATE_COUNT])
{
	memcpy(e->last, now, sizeof(e->last));
	memset(e->avg, 0, sizeof(e->avg));
}

/* avg += (rate - avg) / 4, with the kernel's arithmetic shift (floor) for the division. */
static int64_t ewma_step(int64_t avg, int64_t rate)
{
	int64_t diff = rate - avg;

	/* floor division by 4 without right-shifting a negative number */
	return avg + (diff >= 0 ? diff / 4 : -((-diff + 3) / 4));
}

void lb_rate_est_update(struct lb_rate_est *e, const uint64_t now[LB_RATE_COUNT])
{
	for (int i = 0; i < LB_RATE_COUNT; i++) {
		uint64_t growth = now[i] >= e->last[i] ? now[i] - e->last[i] : 0;
		/* 2^63 >> 9: a growth this large in 2 s is no real counter; clamp, never overflow */
		if (growth > (UINT64_C(1) << 53))
			growth = UINT64_C(1) << 53;
		e->last[i] = now[i];
		e->avg[i] = ewma_step(e->avg[i], (int64_t)(growth << sample_shift[i]));
	}
}

void lb_rate_est_read(const struct lb_rate_est *e, double out[LB_RATE_COUNT])
{
	for (int i = 0; i < LB_RATE_COUNT; i++)
		out[i] = (double)e->avg[i] / (double)(UINT64_C(1) << scale_shift[i]);
}

void lb_rate_est_read_ipvs(const struct lb_rate_est *e, uint64_t out[LB_RATE_COUNT])
{
	for (int i = 0; i < LB_RATE_COUNT; i++) {
		int64_t half = (INT64_C(1) << (scale_shift[i] - 1)) - 1; /* 0x1FF, 0xF */
		int64_t v = e->avg[i] < 0 ? 0 : e->avg[i];
		out[i] = (uint64_t)(v + half) >> scale_shift[i];
	}
}

uint64_t lb_rate_est_round_ipvs(double rate, enum lb_rate_counter c)
{
	unsigned s = scale_shift[c];
	double fixed = rate * (double)(UINT64_C(1) << s);

	if (!(fixed > 0)) /* negative or NaN */
		return 0;
	if (fixed >= 9.2e18)
		return UINT64_MAX >> s;
	return ((uint64_t)fixed + (UINT64_C(1) << (s - 1)) - 1) >> s;
}
