#include "frag.h"

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "nat_rewrite.h"
#include "flow_owner.h"
#include "worker_tx.h"

#define FRAG_BUCKET_ENTRIES 16
#define MAX_L2_LEN (RTE_ETHER_HDR_LEN + 4 * PKT_MAX_VLANS)
#define IP_DF 0x4000
#define IP_MF 0x2000
/* Marks a datagram this appliance reassembled (IPv6 may then fragment it again). */
static uint64_t reassembled_flag;
#define LB_MBUF_REASSEMBLED reassembled_flag
/* Marks an IPv6 packet whose outer header this appliance wrote: it may fragment the outer packet. */
static uint64_t outer_flag;
#define LB_MBUF_OUTER_FRAGMENTABLE outer_flag

/* The bit of a dynamic mbuf flag, registered once (the first worker's init, before any runs). */
static int register_flag(uint64_t *flag, const char *name)
{
	if (*flag != 0)
		return 0;
	struct rte_mbuf_dynflag desc = {0};
	snprintf(desc.name, sizeof(desc.name), "%s", name);
	int bit = rte_mbuf_dynflag_register(&desc);
	if (bit < 0)
		return -1;
	*flag = 1ull << bit;
	return 0;
}

int frag_worker_init(struct lb_worker *w, uint32_t datagrams, uint32_t timeout_ms, int socket)
{
	uint64_t cycles = (rte_get_tsc_hz() + 999) / 1000 * timeout_ms;

	if (register_flag(&reassembled_flag, "dpdk_lb_reassembled") != 0 ||
	    register_flag(&outer_flag, "dpdk_lb_outer_fragmentable") != 0)
		return -1;
	uint32_t buckets = (datagrams + FRAG_BUCKET_ENTRIES - 1) / FRAG_BUCKET_ENTRIES;

	w->frag_tbl = rte_ip_frag_table_create(buckets, FRAG_BUCKET_ENTRIES, datagrams, cycles,
					       socket);
	w->frag_death_row = rte_zmalloc_socket("frag_dr", sizeof(struct rte_ip_frag_death_row),
					       RTE_CACHE_LINE_SIZE, socket);
	return w->frag_tbl != NULL && w->frag_death_row != NULL ? 0 : -1;
}

uint16_t frag_owner(const struct pkt_info *info)
{
	uint32_t h;

	if (info->family == AF_INET6) {
		struct lb_addr s = lb_addr_from_v6(info->src6), d = lb_addr_from_v6(info->dst6);
		h = (addr_fold(&s) ^ (addr_fold(&d) * 0x9e3779b1u) ^ info->frag_id6) * 0x85ebca6bu;
	} else {
		h = (info->src_v4 ^ (info->dst_v4 * 0x9e3779b1u) ^
		     ((uint32_t)info->ip_id << 8 | info->proto)) * 0x85ebca6bu;
	}
	return (uint16_t)((h >> 16) % lb_rt.n_workers);
}

/*
 * A fragment kept waiting for the rest, or refused: what the library put on the death row
 * since dead_before (table full, overlap, too many fragments) failed reassembly. NULL.
 */
static struct rte_mbuf *reassembly_pending(struct lb_worker *w, const struct pkt_info *info,
					   uint32_t dead_before)
{
	uint32_t dead = w->frag_death_row->cnt;

	if (dead > dead_before)
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->reassembly_failed,
			       dead - dead_before);
	return NULL;
}

struct rte_mbuf *frag_reassemble(struct lb_worker *w, struct rte_mbuf *m,
				 const struct pkt_info *info, uint64_t now)
{
	struct rte_ip_frag_death_row *dr = w->frag_death_row;
	size_t frame_len = (size_t)info->l3_off + info->l3_len;

	LB_COUNTER_ADD(w->stats->fragments_received, 1);
	/* Ethernet padding after a short fragment would become part of the datagram. */
	if (rte_pktmbuf_pkt_len(m) > frame_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - frame_len));
	m->l2_len = info->l3_off;
	m->l3_len = (uint16_t)(info->l4_off - info->l3_off); /* IPv6: fixed + fragment header */
	struct rte_mbuf *whole;
	uint32_t dead_before = dr->cnt;
	if (info->family == AF_INET6) {
		struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								   info->l3_off);
		whole = rte_ipv6_frag_reassemble_packet(w->frag_tbl, dr, m, now, ip6,
							(struct rte_ipv6_fragment_ext *)(ip6 + 1));
		if (whole == NULL)
			return reassembly_pending(w, info, dead_before);
	} else {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  info->l3_off);
		whole = rte_ipv4_frag_reassemble_packet(w->frag_tbl, dr, m, now, ip);
		if (whole == NULL)
			return reassembly_pending(w, info, dead_before);
		/* The library leaves the header checksum to offloads, which we do not use. */
		struct rte_ipv4_hdr *wip = rte_pktmbuf_mtod_offset(whole, struct rte_ipv4_hdr *,
								   whole->l2_len);
		wip->hdr_checksum = 0;
		wip->hdr_checksum = rte_ipv4_cksum(wip);
	}
	LB_COUNTER_ADD(w->stats->datagrams_reassembled, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, info->family)->reassembled, 1);
	whole->ol_flags |= LB_MBUF_REASSEMBLED;
	/* Most datagrams fit one buffer: make them plain packets every PMD can send. */
	if (!rte_pktmbuf_is_contiguous(whole) &&
	    rte_pktmbuf_pkt_len(whole) <= rte_pktmbuf_data_len(whole) + rte_pktmbuf_tailroom(whole))
		(void)rte_pktmbuf_linearize(whole);
	return whole;
}

bool frag_is_reassembled(const struct rte_mbuf *m)
{
	return (m->ol_flags & LB_MBUF_REASSEMBLED) != 0;
}

void frag_allow_outer(struct rte_mbuf *m)
{
	m->ol_flags |= LB_MBUF_OUTER_FRAGMENTABLE;
}

void frag_expire(struct lb_worker *w, uint64_t now)
{
	struct rte_ip_frag_death_row *dr = w->frag_death_row;
	uint32_t before = dr->cnt;

	/* without this, a datagram whose last fragment never comes would hold its mbufs forever */
	rte_ip_frag_table_del_expired_entries(w->frag_tbl, dr, now);
	for (uint32_t i = before; i < dr->cnt; i++) {
		/* fragments keep their l3 header where frag_reassemble found it (m->l2_len) */
		const uint8_t *ip = rte_pktmbuf_mtod_offset(dr->row[i], const uint8_t *,
							   dr->row[i]->l2_len);
		LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, (ip[0] >> 4) == 6 ? AF_INET6 : AF_INET)
				       ->reassembly_timed_out,
			       1);
	}
}

void frag_free_death_row(struct lb_worker *w)
{
	struct rte_ip_frag_death_row *dr = w->frag_death_row;

	if (dr->cnt == 0)
		return;
	LB_COUNTER_ADD(w->stats->drops[LB_DROP_FRAGMENT], dr->cnt);
	rte_ip_frag_free_death_row(dr, 0);
}

static uint16_t l2_length(const uint8_t *frame)
{
	uint16_t off = 12;
	uint16_t type = (uint16_t)(frame[off] << 8 | frame[off + 1]);

	for (int v = 0; v < PKT_MAX_VLANS && (type == PKT_ETHERTYPE_VLAN || type == PKT_ETHERTYPE_QINQ);
	     v++) {
		off += 4;
		type = (uint16_t)(frame[off] << 8 | frame[off + 1]);
	}
	return (uint16_t)(off + 2);
}

/*
 * One fragment by copy, for port: hdr_len bytes of headers from hdr, then len bytes of m from
 * off. Returns the start of its frame (the caller fills in the header fields, then queues *f),
 * or NULL, counted as a fragment drop, without an mbuf.
 */
static uint8_t *fragment_alloc(struct lb_worker *w, uint16_t port, struct rte_mbuf **f,
			       const uint8_t *hdr, size_t hdr_len, const struct rte_mbuf *m,
			       uint32_t off, uint32_t len)
{
	*f = rte_pktmbuf_alloc(lb_rt.pool);
	uint8_t *out = *f != NULL ? (uint8_t *)rte_pktmbuf_append(*f, (uint16_t)(hdr_len + len))
				  : NULL;
	if (out == NULL) {
		rte_pktmbuf_free(*f);
		LB_COUNTER_ADD(w->stats->drops[LB_DROP_FRAGMENT], 1);
		return NULL;
	}
	memcpy(out, hdr, hdr_len);
	mbuf_copy_out(m, off, len, out + hdr_len);
	(*f)->port = port;
	return out;
}

/* The fragments of m are queued: count them and let m go. */
static uint32_t fragments_done(struct lb_worker *w, struct rte_mbuf *m, uint32_t sent)
{
	LB_COUNTER_ADD(w->stats->fragments_sent, sent);
	rte_pktmbuf_free(m);
	return sent;
}

/*
 * IPv6: a datagram we reassembled, or an encapsulated packet whose outer header we wrote (RFC
 * 2473 7.1), leaves in fragments, each the fixed header (next header 44), a fragment header with
 * a fresh identification, and a multiple of 8 bytes of what followed the fixed header. Other
 * packets that are too big are their sender's to fragment: dropped as too_big.
 */
static uint32_t frag_send6(struct lb_worker *w, uint16_t port, struct rte_mbuf *m, uint16_t l2,
			   uint32_t ip_len)
{
	uint8_t hdr[MAX_L2_LEN + 48]; /* L2, fixed header, fragment header */
	uint16_t mtu = lb_rt.ports[port].mtu;

	if (!(m->ol_flags & (LB_MBUF_REASSEMBLED | LB_MBUF_OUTER_FRAGMENTABLE)) ||
	    rte_pktmbuf_data_len(m) < l2 + 40u) {
		drop(w, m, LB_DROP_TOO_BIG);
		return 0;
	}
	memcpy(hdr, rte_pktmbuf_mtod(m, const uint8_t *), l2 + 40u);
	memset(hdr + l2 + 40, 0, 8); /* the fragment header, filled per fragment */
	uint8_t next = hdr[l2 + 6];
	uint32_t room = rte_pktmbuf_data_room_size(lb_rt.pool) - RTE_PKTMBUF_HEADROOM - l2 - 48;
	uint32_t max_payload = ((uint32_t)(mtu - 48) < room ? (uint32_t)(mtu - 48) : room) & ~7u;
	uint32_t payload = ip_len - 40, sent = 0;
	uint32_t id = rte_cpu_to_be_32(((uint32_t)w->index << 24) | w->frag6_id++);
	for (uint32_t off = 0; off < payload; off += max_payload) {
		uint32_t len = payload - off < max_payload ? payload - off : max_payload;
		struct rte_mbuf *f;
		uint8_t *out = fragment_alloc(w, port, &f, hdr, l2 + 48u, m, l2 + 40 + off, len);
		if (out == NULL)
			break;
		uint8_t *ip = out + l2, *fh = ip + 40;
		nat_store16(ip + 4, rte_cpu_to_be_16((uint16_t)(8 + len)));
		ip[6] = 44;
		fh[0] = next;
		fh[1] = 0;
		nat_store16(fh + 2, rte_cpu_to_be_16((uint16_t)(off | (off + len < payload ? 1 : 0))));
		memcpy(fh + 4, &id, 4);
		tx_enqueue_raw(w, port, f);
		sent++;
	}
	return fragments_done(w, m, sent);
}

uint32_t frag_send(struct lb_worker *w, uint16_t port, struct rte_mbuf *m)
{
	uint8_t hdr[MAX_L2_LEN + 60];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t l2 = l2_length(frame);
	uint32_t ip_len = rte_pktmbuf_pkt_len(m) - l2;
	uint16_t mtu = lb_rt.ports[port].mtu;

	if (ip_len <= mtu) {
		tx_enqueue_raw(w, port, m);
		return 1;
	}
	const uint8_t *ip = frame + l2;
	uint16_t ethertype = (uint16_t)(frame[l2 - 2] << 8 | frame[l2 - 1]);
	if (ethertype == PKT_ETHERTYPE_IPV6)
		return frag_send6(w, port, m, l2, ip_len);
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t frag = rte_be_to_cpu_16(nat_load16(ip + 6));
	if (ethertype != PKT_ETHERTYPE_IPV4 || (frag & IP_DF) ||
	    rte_pktmbuf_data_len(m) < l2 + ihl) {
		drop(w, m, LB_DROP_TOO_BIG);
		return 0;
	}
	memcpy(hdr, frame, l2 + ihl);
	/* Fragment payloads are multiples of 8 bytes; each must fit one mbuf of the pool. */
	uint32_t room = rte_pktmbuf_data_room_size(lb_rt.pool) - RTE_PKTMBUF_HEADROOM - l2 - ihl;
	uint32_t max_payload = ((mtu - ihl) < room ? (mtu - ihl) : room) & ~7u;
	uint32_t payload = ip_len - (uint32_t)ihl;
	uint32_t base = (uint32_t)(frag & 0x1fff) * 8, sent = 0;
	for (uint32_t off = 0; off < payload; off += max_payload) {
		uint32_t len = payload - off < max_payload ? payload - off : max_payload;
		bool last = off + len == payload;
		struct rte_mbuf *f;
		uint8_t *out = fragment_alloc(w, port, &f, hdr, l2 + ihl, m, (uint32_t)(l2 + ihl + off),
					      len);
		if (out == NULL)
			break;
		uint8_t *fip = out + l2;
		uint16_t field = (uint16_t)(((base + off) / 8) | ((!last || (frag & IP_MF)) ? IP_MF : 0));
		nat_store16(fip + 2, rte_cpu_to_be_16((uint16_t)(ihl + len)));
		nat_store16(fip + 6, rte_cpu_to_be_16(field));
		((struct rte_ipv4_hdr *)fip)->hdr_checksum = 0;
		((struct rte_ipv4_hdr *)fip)->hdr_checksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)fip);
		tx_enqueue_raw(w, port, f);
		sent++;
	}
	return fragments_done(w, m, sent);
}
