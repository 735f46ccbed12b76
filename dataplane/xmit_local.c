/*
 * Local fallback: the appliance itself takes the connection (the holding page). The packet goes
 * unchanged (client -> VIP:port) to the kernel interface of the port it came in on, where
 * control/holding_page.c listens on VIP:port; the kernel's answers leave through that port.
 */
#include <rte_cycles.h>

#include "exception.h"
#include "xmit.h"

static int local_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	(void)x;
	/* within the exception path's rate limit; without a kernel interface: no real */
	exception_to_kernel(w, m, rte_rdtsc(), LB_DROP_NO_REAL);
	return XMIT_CONSUMED;
}

const struct xmit_ops xmit_local_ops = {
	.name = "local",
	.to_real = local_to_real,
};
