/*
 * The IPVS estimator's arithmetic alone: lb_rate_est_update (5 counters) over as many
 * estimators as the daemon keeps at its default limits (1,024 services + 8,192 reals), the
 * control lcore's work every 2 s besides summing the workers' counters. Prints figures only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rate_est.h"

#define ESTIMATORS (1024 + 8192)
#define ROUNDS 200

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
	struct lb_rate_est *e = calloc(ESTIMATORS, sizeof(*e));
	uint64_t (*c)[LB_RATE_COUNT] = calloc(ESTIMATORS, sizeof(*c));
	double best = 1e30, sink = 0;

	if (e == NULL || c == NULL)
		return 1;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < ESTIMATORS; i++)
			for (int k = 0; k < LB_RATE_COUNT; k++)
				c[i][k] += (uint64_t)(i + k + r) * 977;
		double t0 = now_ns();
		for (int i = 0; i < ESTIMATORS; i++)
			lb_rate_est_update(&e[i], c[i]);
		double t = now_ns() - t0;
		if (t < best)
			best = t;
		sink += (double)e[r % ESTIMATORS].avg[0];
	}
	printf("rate_est_update: %d estimators: best %.1f us per sample, %.1f ns per estimator "
	       "(checksum %g)\n",
	       ESTIMATORS, best / 1e3, best / ESTIMATORS, sink);
	free(e);
	free(c);
	return 0;
}
