/*
 * The holding page of local fallbacks ("fallback": {"local": true, "page": ...}). When no real
 * of such a service can take a connection, the dataplane hands the client's packets unchanged
 * to the kernel interface of the port they came in on (dataplane/xmit_local.c). Here, in the
 * daemon's own network namespace, the VIP is on `lo` and a non-blocking listener on VIP:port,
 * on the control event loop, answers every HTTP request with 503 and the page.
 */
#ifndef DPDK_LB_HOLDING_PAGE_H
#define DPDK_LB_HOLDING_PAGE_H

#include "config.h"
#include "event_loop.h"

#define HOLDING_PAGE_MAX_CLIENTS 256     /* connections at once, all listeners together */
#define HOLDING_PAGE_MAX_REQUEST 8192    /* request bytes read before answering anyway */
#define HOLDING_PAGE_IDLE_MS 10000       /* a connection quiet this long is closed */
#define HOLDING_PAGE_RETRY_AFTER_S 30    /* the Retry-After header */

/* Starts serving on loop and syncs with cfg (control_init, once the loop exists). */
void holding_page_init(struct ev_loop *loop, const struct lb_config *cfg);

/*
 * Makes the listeners and `lo` addresses match cfg's local fallbacks: new ones opened, changed
 * pages answered from now on, removed ones closed (their VIP taken off `lo` when we put it
 * there). Failures are logged, never fatal: the service itself is published already. A no-op
 * before holding_page_init.
 */
void holding_page_sync(const struct lb_config *cfg);

/* Closes every listener and connection and removes the addresses it added (control_shutdown). */
void holding_page_close(void);

#endif
