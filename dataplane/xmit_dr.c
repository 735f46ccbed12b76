/* Direct routing: only the destination MAC changes; the IP packet reaches the real untouched. */
#include "xmit.h"

static int dr_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct xmit_ctx *x)
{
	(void)w;
	if (!xmit_set_real_mac(m, x->r))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	return x->r->port_id;
}

const struct xmit_ops xmit_dr_ops = {
	.name = "dr",
	.to_real = dr_to_real,
};
