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

/* The control loop's lateness so far (control lcore only). */
void control_loop_lateness(struct control_lateness *out);

/* Runs the event loop until lb_rt.quit is set. */
void control_run(void);

/* Closes the RPC socket, removes its file and frees the loop. */
void control_shutdown(void);

#endif
