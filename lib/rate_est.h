/*
 * The IPVS rate estimator's arithmetic (net/netfilter/ipvs/ip_vs_est.c), without its timer:
 * call lb_rate_est_update every 2 s with the counters then. Each rate is an exponentially
 * weighted moving average of weight 1/4 in fixed point, as the kernel keeps it: connections
 * and packets per second scaled by 2^10, bytes per second scaled by 2^5.
 */
#ifndef DPDK_LB_RATE_EST_H
#define DPDK_LB_RATE_EST_H

#include <stdint.h>

/* The counters an estimator follows, in this order. */
enum lb_rate_counter {
	LB_RATE_CONNS = 0,
	LB_RATE_INPKTS,
	LB_RATE_OUTPKTS,
	LB_RATE_INBYTES,
	LB_RATE_OUTBYTES,
	LB_RATE_COUNT,
};

/* The sampling period the fixed-point scaling assumes. */
#define LB_RATE_EST_PERIOD_S 2

struct lb_rate_est {
	uint64_t last[LB_RATE_COUNT]; /* the counters at the previous sample */
	int64_t avg[LB_RATE_COUNT];   /* the averages, fixed point (see above) */
};

/* Starts e at zero rates with now as the counters' baseline. */
void lb_rate_est_start(struct lb_rate_est *e, const uint64_t now[LB_RATE_COUNT]);

/*
 * Folds one sample taken LB_RATE_EST_PERIOD_S after the previous one. A counter that went
 * backwards (restarted) counts as no growth and becomes the new baseline.
 */
void lb_rate_est_update(struct lb_rate_est *e, const uint64_t now[LB_RATE_COUNT]);

/* The rates per second, unrounded (the fixed-point value divided by its scale). */
void lb_rate_est_read(const struct lb_rate_est *e, double out[LB_RATE_COUNT]);

/* A rate lb_rate_est_read gave for counter c, rounded as ip_vs_read_estimator() rounds it. */
uint64_t lb_rate_est_round_ipvs(double rate, enum lb_rate_counter c);

/* The rates per second rounded to integers exactly as ip_vs_read_estimator() does. */
void lb_rate_est_read_ipvs(const struct lb_rate_est *e, uint64_t out[LB_RATE_COUNT]);

#endif
