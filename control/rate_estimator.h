/*
 * Rates per service and per real, estimated the way IPVS does (ip_vs_est.c): every 2 s the
 * counters' growth is folded into an exponentially weighted average of weight 1/4, so a rate
 * follows a step with a time constant of about 8 s. Control lcore only.
 */
#ifndef DPDK_LB_RATE_ESTIMATOR_H
#define DPDK_LB_RATE_ESTIMATOR_H

#include <stdint.h>

/* Per second: new connections, packets and bytes in (client -> real) and out. */
struct lb_rates {
	double cps, inpps, outpps, inbps, outbps;
};

/* Allocates estimators for ids up to max_services and max_reals, all zero; 0 or -1. */
int rate_estimator_init(uint32_t max_services, uint32_t max_reals);

/* Frees them (rate_estimator_* then read zeros). */
void rate_estimator_free(void);

/* Folds one 2 s sample of every configured service's and real's counters (every 2 s). */
void rate_estimator_sample(void);

/* The rates of service service_id / real real_id; zeros for an unknown or unused id. */
void rate_estimator_service(uint32_t service_id, struct lb_rates *out);
void rate_estimator_real(uint32_t real_id, struct lb_rates *out);

/*
 * The whole dataplane's rates: cps from flows created, in/out pps from packets received and
 * sent, in/out bps from the ports' byte counters.
 */
void rate_estimator_global(struct lb_rates *out);

/* Restarts id's estimator at zero from its counters now (call when the id is allocated). */
void rate_estimator_reset_service(uint32_t service_id);
void rate_estimator_reset_real(uint32_t real_id);

#endif
