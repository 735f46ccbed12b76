/* Direct routing: only the destination MAC changes; the IP packet reaches the real untouched. */
#include <rte_ether.h>

#include "neigh.h"
#include "xmit.h"

static int dr_to_real(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info,
		      const struct snap_real *r)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	(void)w;
	(void)info;

	if (!neigh_lookup_mac(lb_rt.neigh, r->neigh_slot, &eth->dst_addr))
		return XMIT_DROP(LB_DROP_NO_NEIGHBOUR);
	rte_ether_addr_copy(&lb_rt.ports[r->port_id].mac, &eth->src_addr);
	return r->port_id;
}

const struct xmit_ops xmit_dr_ops = {
	.name = "dr",
	.to_real = dr_to_real,
};
