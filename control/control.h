/* The control lcore: RPC server, neighbour upkeep, load aggregation. Runs on the main lcore. */
#ifndef DPDK_LB_CONTROL_H
#define DPDK_LB_CONTROL_H

#include <stddef.h>

/* Publishes the boot configuration and opens the RPC socket; 0 or -1 with err set. */
int control_init(char *err, size_t errlen);

/* Serves until lb_rt.quit is set. */
void control_run(void);

/* Closes the RPC socket and removes its file. */
void control_shutdown(void);

#endif
