/*
 * The metrics listener (config metrics.listen): a small HTTP/1.1 server on the control event
 * loop serving /metrics (Prometheus text format, metrics_prom.c) and / (the status page,
 * status_page.c). Every socket is non-blocking; clients are bounded in number, in request size
 * and in time, and each wakeup does bounded work, so that no client, slow or flooding, can
 * hold up RPC, health checks or the rest of the loop.
 */
#ifndef DPDK_LB_METRICS_HTTP_H
#define DPDK_LB_METRICS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event_loop.h"

#define METRICS_HTTP_MAX_CLIENTS 32      /* connections at once; a newcomer evicts the oldest */
#define METRICS_HTTP_MAX_REQUEST 4096    /* request head bytes; more is answered 431 */
#define METRICS_HTTP_DEADLINE_MS 5000    /* from accept to the answer's last byte */
#define METRICS_HTTP_ACCEPTS_PER_WAKEUP 16
#define METRICS_HTTP_CACHE_MS 250        /* a page rendered this recently (or within 10 times
					  * its render time) is served again */
#define METRICS_HTTP_MAX_PAGE (64u << 20) /* a page larger than this is answered 500 */
#define METRICS_HTTP_RETRY_MS 5000       /* a listener that could not bind tries again */

struct metrics_http_counters {
	uint64_t requests;   /* answered 200 */
	uint64_t errors;     /* answered 4xx/5xx */
	uint64_t evicted;    /* closed to make room for a newcomer */
	uint64_t timed_out;  /* closed at their deadline */
	uint64_t renders;    /* pages rendered (the rest came from the cache) */
	uint64_t render_ns;  /* time spent rendering them */
	uint32_t clients;    /* connections open now */
	bool listening;
};

/* Starts listening on cfg's metrics.listen (control_init); failures are logged and retried. */
void metrics_http_init(struct ev_loop *loop, const struct lb_config *cfg);

/* Closes the listener and every connection (control_shutdown). */
void metrics_http_close(void);

/* The listener's own counters (control lcore). */
void metrics_http_counters_get(struct metrics_http_counters *out);

#endif
