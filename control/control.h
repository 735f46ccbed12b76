/* The control lcore: RPC server, neighbour upkeep, load aggregation. Runs on the main lcore. */
#ifndef DPDK_LB_CONTROL_H
#define DPDK_LB_CONTROL_H

#include <stddef.h>

/*
 * Publishes the boot configuration, opens the RPC socket and sets up the control event loop
 * (RPC, worker rings, load board, neighbours, id reclaim); 0 or -1 with err set.
 */
int control_init(char *err, size_t errlen);

/* Runs the event loop until lb_rt.quit is set. */
void control_run(void);

/* Closes the RPC socket, removes its file and frees the loop. */
void control_shutdown(void);

#endif
