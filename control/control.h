/* The control lcore: RPC server, neighbour upkeep, load aggregation. Runs on the main lcore. */
#ifndef DPDK_LB_CONTROL_H
#define DPDK_LB_CONTROL_H

#include <stddef.h>
#include <stdint.h>

/* How late the control loop ran a periodic probe timer, over its last ~100 s. */
struct control_lateness {
	uint32_t period_ms; /* the probe's period */
	uint32_t samples;
	uint64_t p99_ns, max_ns;
};

/*
 * Publishes the boot configuration, opens the RPC socket and sets up the control event loop
 * (RPC, worker rings, load board, neighbours, id reclaim); 0 or -1 with err set.
 */
int control_init(char *err, size_t errlen);

/* What the last and the longest run of the rate estimator (every 2 s) and history (every 1 s)
 * took on the control lcore. */
struct control_rates_cost {
	uint64_t estimator_last_ns, estimator_max_ns;
	uint64_t history_last_ns, history_max_ns;
};

/* The rate estimator's and history's cost so far (control lcore only). */
void control_rates_cost(struct control_rates_cost *out);

/* The control loop's lateness so far (control lcore only). */
void control_loop_lateness(struct control_lateness *out);

/* Runs the event loop until lb_rt.quit is set. */
void control_run(void);

/* Closes the RPC socket, removes its file and frees the loop. */
void control_shutdown(void);

#endif
