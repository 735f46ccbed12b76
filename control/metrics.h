/*
 * What the metrics listener serves, rendered on the control lcore from the running
 * configuration and the counters: /metrics (metrics_prom.c) and the status page
 * (status_page.c). And the same counters for DPDK telemetry (metrics_telemetry.c).
 */
#ifndef DPDK_LB_METRICS_H
#define DPDK_LB_METRICS_H

#include <stdbool.h>

#include "event_loop.h"
#include "text_buf.h"

#define METRICS_PREFIX "dpdk_lb_"

/* Appends the Prometheus text exposition (format 0.0.4) of every series to b. */
void metrics_prom_render(struct text_buf *b);

/*
 * Appends the status page (HTML with inline SVG charts) to b: the per-minute history of the
 * last day when per_minute, else the per-second history of the last 15 minutes.
 */
void status_page_render(struct text_buf *b, bool per_minute);

/*
 * Registers the /dpdk_lb/... telemetry commands and starts refreshing what they read, every
 * second on loop (the telemetry thread never touches the control side's objects). 0 or -1.
 */
int metrics_telemetry_init(struct ev_loop *loop);

/* Stops the refresh; the commands then answer with the last values (control_shutdown). */
void metrics_telemetry_close(void);

#endif
