/* The one table of transmit methods: adding one is a new xmit_NAME.c plus a line here. */
#include "xmit.h"

#include <rte_ether.h>

#include "neigh.h"

extern const struct xmit_ops xmit_dr_ops;
extern const struct xmit_ops xmit_tun_ops;
extern const struct xmit_ops xmit_nat_ops;
extern const struct xmit_ops xmit_fnat_ops;
extern const struct xmit_ops xmit_local_ops;

static const struct xmit_ops *const xmit_table[LB_FWD_COUNT] = {
	[LB_FWD_DR] = &xmit_dr_ops,
	[LB_FWD_TUN] = &xmit_tun_ops,
	[LB_FWD_NAT] = &xmit_nat_ops,
	[LB_FWD_FNAT] = &xmit_fnat_ops,
	[LB_FWD_LOCAL] = &xmit_local_ops,
};

const struct xmit_ops *xmit_ops_get(uint8_t forward)
{
	return forward < LB_FWD_COUNT ? xmit_table[forward] : NULL;
}

bool xmit_set_real_mac(struct rte_mbuf *m, const struct snap_real *r)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if (!neigh_lookup_mac(lb_rt.neigh, r->neigh_slot, &eth->dst_addr))
		return false;
	rte_ether_addr_copy(&lb_rt.ports[r->port_id].mac, &eth->src_addr);
	return true;
}

void xmit_icmp_checksum(struct rte_mbuf *m, const struct pkt_info *info)
{
	pkt_set_l4_checksum(rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l3_off), info->family,
			    info->family == AF_INET6 ? PKT_IPPROTO_ICMPV6 : IPPROTO_ICMP,
			    rte_pktmbuf_mtod_offset(m, uint8_t *, info->l4_off),
			    (size_t)info->l3_len - (info->l4_off - info->l3_off), 2);
}
