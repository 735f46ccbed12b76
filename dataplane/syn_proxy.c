/* The SYN proxy (syn_proxy.h): cookies out, flows made at the ACK, sequence numbers translated. */
#include "syn_proxy.h"

#include <string.h>
#include <sys/random.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>

#include "conn.h"
#include "frag.h"
#include "nat_rewrite.h"
#include "pkt_parse.h"
#include "syn_cookie.h"
#include "worker_tx.h"

#define TCP_HDR_LEN 20
#define TCP_OPT_MSS 2
#define TCP_OPT_MSS_LEN 4
#define TCP_SEQ_OFF 4
#define TCP_ACK_OFF 8
#define TCP_CSUM_OFF 16
/* The window our SYN-ACK and ACK announce: unscaled, as no window scaling is negotiated. */
#define SYN_PROXY_WINDOW 65535
#define ANSWER_TTL 64
/* Without an MSS option a peer may send 536 bytes (IPv4) or 1220 (IPv6), RFC 9293. */
#define DEFAULT_MSS4 536
#define DEFAULT_MSS6 1220

/* Read-only after start: every worker checks cookies any worker made. */
static struct syn_cookie_key secret;

__attribute__((constructor)) static void syn_proxy_secret_init(void)
{
	if (getrandom(&secret, sizeof(secret), GRND_NONBLOCK) != (ssize_t)sizeof(secret)) {
		/* no entropy yet (early boot): still unpredictable enough to differ per start */
		secret.k0 = rte_rdtsc() ^ (uint64_t)(uintptr_t)&secret;
		secret.k1 = rte_rdtsc() * 0x9e3779b97f4a7c15ULL;
	}
}

/* The cookies' minute counter: a cookie is good for one to two minutes. */
static inline uint64_t minute_of(uint64_t now)
{
	return now / (rte_get_tsc_hz() * 60);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return rte_be_to_cpu_32(nat_load32(p));
}

static void cookie_tuple(struct syn_cookie_tuple *t, const struct flow_key *k, uint32_t isn)
{
	t->family = k->family;
	memcpy(t->src, k->src, 16);
	memcpy(t->dst, k->dst, 16);
	t->sport = k->sport;
	t->dport = k->dport;
	t->client_isn = isn;
}

/* The MSS option of a SYN whose TCP header (with options) is doff bytes, or the default. */
static uint16_t syn_mss(const uint8_t *tcp, size_t doff, uint8_t family)
{
	size_t i = TCP_HDR_LEN;

	while (i < doff && tcp[i] != 0) {
		if (tcp[i] == 1) { /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= doff || tcp[i + 1] < 2 || i + tcp[i + 1] > doff)
			break;
		if (tcp[i] == TCP_OPT_MSS && tcp[i + 1] == TCP_OPT_MSS_LEN)
			return (uint16_t)(tcp[i + 2] << 8 | tcp[i + 3]);
		i += tcp[i + 1];
	}
	return family == AF_INET6 ? DEFAULT_MSS6 : DEFAULT_MSS4;
}

/* Makes the (contiguous) frame exactly len bytes; false when it cannot grow that far. */
static bool frame_set_len(struct rte_mbuf *m, uint32_t len)
{
	uint32_t cur = rte_pktmbuf_data_len(m);

	if (cur > len)
		return rte_pktmbuf_trim(m, (uint16_t)(cur - len)) == 0;
	return cur == len || rte_pktmbuf_append(m, (uint16_t)(len - cur)) != NULL;
}

/* The frame goes back to the neighbour it came from, out of the port it came in on. */
static void eth_turn_back(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&lb_rt.ports[m->port].mac, &eth->src_addr);
}

/* Swaps the source and destination addresses of the IP header at ip (adjacent in both). */
static void ip_swap(uint8_t *ip, uint8_t family)
{
	size_t off = family == AF_INET ? NAT_IP_SRC_OFF : NAT_IP6_SRC_OFF;
	size_t n = family == AF_INET ? 4 : 16;
	uint8_t tmp[16];

	memcpy(tmp, ip + off, n);
	memcpy(ip + off, ip + off + n, n);
	memcpy(ip + off + n, tmp, n);
}

/* Sets the lengths of the IP header at ip (hdr_len bytes up to TCP) for tcp_len bytes of TCP;
 * an answer (ttl) starts with a fresh hop limit. IPv4: header checksum from scratch. */
static void ip_set_len(uint8_t *ip, uint8_t family, size_t hdr_len, size_t tcp_len, bool ttl)
{
	if (family == AF_INET6) {
		nat_store16(ip + 4, rte_cpu_to_be_16((uint16_t)(hdr_len - 40 + tcp_len)));
		if (ttl)
			ip[7] = ANSWER_TTL;
		return;
	}
	nat_store16(ip + 2, rte_cpu_to_be_16((uint16_t)(hdr_len + tcp_len)));
	if (ttl)
		ip[8] = ANSWER_TTL;
	ip[NAT_IP_CSUM_OFF] = ip[NAT_IP_CSUM_OFF + 1] = 0;
	uint16_t c = pkt_csum_fold(pkt_csum_partial(ip, (size_t)(ip[0] & 0xf) * 4, 0));
	ip[NAT_IP_CSUM_OFF] = (uint8_t)(c >> 8);
	ip[NAT_IP_CSUM_OFF + 1] = (uint8_t)c;
}

/* Writes a TCP header without payload (ports network order; mss 0: no option); its length. */
static size_t tcp_write(uint8_t *tcp, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
			uint8_t flags, uint16_t window, uint16_t mss)
{
	size_t len = TCP_HDR_LEN + (mss ? TCP_OPT_MSS_LEN : 0);

	nat_store16(tcp, sport);
	nat_store16(tcp + 2, dport);
	nat_store32(tcp + TCP_SEQ_OFF, rte_cpu_to_be_32(seq));
	nat_store32(tcp + TCP_ACK_OFF, rte_cpu_to_be_32(ack));
	tcp[12] = (uint8_t)((len / 4) << 4);
	tcp[13] = flags;
	nat_store16(tcp + 14, rte_cpu_to_be_16(window));
	nat_store32(tcp + TCP_CSUM_OFF, 0); /* checksum and urgent pointer */
	if (mss) {
		tcp[20] = TCP_OPT_MSS;
		tcp[21] = TCP_OPT_MSS_LEN;
		nat_store16(tcp + 22, rte_cpu_to_be_16(mss));
	}
	return len;
}

/*
 * Rewrites the TCP segment of m in place into a header-only one of tcp_len bytes (tcp_write
 * fills it after this) and sets its IP lengths: false when the frame cannot take it.
 */
static bool segment_resize(struct rte_mbuf *m, const struct pkt_info *info, size_t tcp_len)
{
	return rte_pktmbuf_is_contiguous(m) && frame_set_len(m, info->l4_off + (uint32_t)tcp_len);
}

/* Finishes a rewritten segment: IP lengths and both checksums. */
static void segment_seal(struct rte_mbuf *m, const struct pkt_info *info, size_t tcp_len, bool ttl)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = frame + info->l3_off;

	ip_set_len(ip, info->family, (size_t)(info->l4_off - info->l3_off), tcp_len, ttl);
	pkt_set_l4_checksum(ip, info->family, IPPROTO_TCP, frame + info->l4_off, tcp_len,
			    TCP_CSUM_OFF);
}

/* Sets a 32-bit TCP header field (seq or ack) with an incremental checksum update. */
static void tcp_set32(struct rte_mbuf *m, const struct pkt_info *info, size_t off, uint32_t v)
{
	uint8_t *tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, info->l4_off);
	uint32_t old = nat_load32(tcp + off), val = rte_cpu_to_be_32(v);

	nat_store16(tcp + TCP_CSUM_OFF, csum_replace32(nat_load16(tcp + TCP_CSUM_OFF), old, val));
	nat_store32(tcp + off, val);
}

/* The client's SYN: answered in place with a SYN-ACK whose sequence number is the cookie. */
static void answer_syn(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info,
		       const struct flow_key *key, uint64_t now)
{
	const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	uint32_t isn = load_be32(tcp + TCP_SEQ_OFF);
	uint16_t sport = nat_load16(tcp), dport = nat_load16(tcp + 2);
	struct syn_cookie_tuple t;

	if (!rte_pktmbuf_is_contiguous(m) || info->l4_off + doff > rte_pktmbuf_data_len(m)) {
		drop(w, m, LB_DROP_UNSUPPORTED);
		return;
	}
	unsigned int idx = syn_cookie_mss_index(syn_mss(tcp, doff, info->family));
	cookie_tuple(&t, key, isn);
	uint32_t cookie = syn_cookie_make(&secret, &t, minute_of(now), idx);
	if (!segment_resize(m, info, TCP_HDR_LEN + TCP_OPT_MSS_LEN)) {
		drop(w, m, LB_DROP_UNSUPPORTED);
		return;
	}
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	eth_turn_back(m);
	ip_swap(frame + info->l3_off, info->family);
	size_t len = tcp_write(frame + info->l4_off, dport, sport, cookie, isn + 1,
			       PKT_TCP_SYN | PKT_TCP_ACK, SYN_PROXY_WINDOW, syn_cookie_mss(idx));
	segment_seal(m, info, len, true);
	LB_COUNTER_ADD(w->stats->syn_proxy_cookies_sent, 1);
	tx_enqueue(w, m->port, m);
}

/*
 * The cookie a client ACK returns (its ACK number - 1) checked for its tuple, with its sequence
 * number - 1 as the client's ISN: the cookie's MSS index, or -1 when it is not a good one.
 */
static int ack_cookie(const struct rte_mbuf *m, const struct pkt_info *info,
		      const struct flow_key *key, uint64_t now, uint32_t *cookie)
{
	const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
	struct syn_cookie_tuple t;

	*cookie = load_be32(tcp + TCP_ACK_OFF) - 1;
	cookie_tuple(&t, key, load_be32(tcp + TCP_SEQ_OFF) - 1);
	return syn_cookie_check(&secret, &t, minute_of(now), *cookie);
}

/*
 * Rewrites the client's ACK (sequence number ISN + 1) in place into the SYN for the real: the
 * client's ISN and window, the cookie's MSS as its only option. Its payload, if any, goes: the
 * client sends it again once the real acknowledges. False when the frame cannot take it.
 */
static bool ack_rewrite_syn(struct rte_mbuf *m, struct pkt_info *info, unsigned int mss_idx)
{
	const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
	uint32_t isn = load_be32(tcp + TCP_SEQ_OFF) - 1;
	uint16_t sport = nat_load16(tcp), dport = nat_load16(tcp + 2);
	uint16_t window = rte_be_to_cpu_16(nat_load16(tcp + 14));

	if (!segment_resize(m, info, TCP_HDR_LEN + TCP_OPT_MSS_LEN))
		return false;
	size_t len = tcp_write(rte_pktmbuf_mtod_offset(m, uint8_t *, info->l4_off), sport, dport,
			       isn, 0, PKT_TCP_SYN, window, syn_cookie_mss(mss_idx));
	segment_seal(m, info, len, false);
	info->l3_len = (uint16_t)(info->l4_off - info->l3_off + len);
	info->tcp_flags = PKT_TCP_SYN;
	return true;
}

/* The client's ACK with no flow: its cookie checked; a good one makes it the real's SYN. */
static int64_t ack_to_syn(struct lb_worker *w, struct pending *p, const struct flow_key *key,
			  uint64_t now)
{
	uint32_t cookie;
	int idx = ack_cookie(p->m, &p->info, key, now, &cookie);

	if (idx < 0) {
		LB_COUNTER_ADD(w->stats->syn_proxy_bad_cookies, 1);
		drop(w, p->m, LB_DROP_SYN_PROXY_BAD_COOKIE);
		return SYN_PROXY_CONSUMED;
	}
	if (!ack_rewrite_syn(p->m, &p->info, (unsigned int)idx)) {
		drop(w, p->m, LB_DROP_UNSUPPORTED);
		return SYN_PROXY_CONSUMED;
	}
	LB_COUNTER_ADD(w->stats->syn_proxy_valid_acks, 1);
	return cookie;
}

int64_t syn_proxy_no_flow(struct lb_worker *w, struct pending *p, const struct flow_key *key,
			  uint64_t now)
{
	uint8_t flags = p->info.tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST);

	if (flags == PKT_TCP_SYN) {
		answer_syn(w, p->m, &p->info, key, now);
		return SYN_PROXY_CONSUMED;
	}
	if (flags == PKT_TCP_ACK)
		return ack_to_syn(w, p, key, now);
	return SYN_PROXY_PASS;
}

/*
 * The sequence delta lives in the flow's reply entry, which both directions have (only nat and
 * fnat take a SYN proxy): the connection entry's room is fnat's local port.
 */
static inline uint32_t *seq_delta_of(struct lb_worker *w, const struct flow_entry *e)
{
	return &flow_table_entry(w->flows, e->peer)->seq_delta;
}

void syn_proxy_flow_made(struct lb_worker *w, int32_t pos, uint32_t cookie)
{
	struct flow_entry *e = flow_table_entry(w->flows, pos);

	if (unlikely(e->peer == FLOW_NO_PEER))
		return; /* not nat/fnat: the configuration refuses it, the table is kept safe */
	e->flags |= FLOW_F_SYN_PROXY | FLOW_F_SYN_PROXY_WAIT;
	*seq_delta_of(w, e) = cookie;
}

/*
 * A client packet while the real's SYN-ACK is awaited: the SYN made from the ACK passes; a
 * segment that starts right after the client's ISN (the cookie proves it, and that it is this
 * flow's) is the client retransmitting, and becomes the SYN again, in case the first was lost
 * (no neighbour yet, a full queue); anything else is dropped.
 */
static bool waiting_to_real(struct lb_worker *w, struct rte_mbuf *m, struct pkt_info *info,
			    const struct flow_key *key, uint32_t cookie, uint64_t now)
{
	uint32_t returned;
	int idx;

	if (info->tcp_flags & PKT_TCP_SYN)
		return true;
	if ((info->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) == PKT_TCP_ACK &&
	    rte_pktmbuf_is_contiguous(m) && (idx = ack_cookie(m, info, key, now, &returned)) >= 0 &&
	    returned == cookie && ack_rewrite_syn(m, info, (unsigned int)idx)) {
		LB_COUNTER_ADD(w->stats->syn_proxy_syns_resent, 1);
		return true;
	}
	drop(w, m, LB_DROP_SYN_PROXY_HANDSHAKE);
	return false;
}

bool syn_proxy_to_real(struct lb_worker *w, struct rte_mbuf *m, struct pkt_info *info,
		       const struct flow_key *key, int32_t pos, uint64_t now)
{
	const struct flow_entry *e = flow_table_entry(w->flows, pos);
	uint32_t delta = *seq_delta_of(w, e);

	if (e->flags & FLOW_F_SYN_PROXY_WAIT)
		return waiting_to_real(w, m, info, key, delta, now);
	/*
	 * The client's sequence space is the same on both sides, so a SYN of a client reusing its
	 * port goes on as is: the real's challenge ACK (RFC 5961), translated back, makes the
	 * client reset the old connection, and its next SYN opens a new one (a closed flow).
	 */
	if ((info->tcp_flags & PKT_TCP_ACK) && delta != 0) {
		const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
		tcp_set32(m, info, TCP_ACK_OFF, load_be32(tcp + TCP_ACK_OFF) + delta);
	}
	return true;
}

/* The real's SYN-ACK, turned in place into the ACK that completes its handshake. */
static void answer_syn_ack(struct lb_worker *w, struct rte_mbuf *m, const struct pkt_info *info)
{
	const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
	uint32_t seq = load_be32(tcp + TCP_SEQ_OFF), ack = load_be32(tcp + TCP_ACK_OFF);
	uint16_t sport = nat_load16(tcp), dport = nat_load16(tcp + 2);

	if (!segment_resize(m, info, TCP_HDR_LEN)) {
		drop(w, m, LB_DROP_UNSUPPORTED);
		return;
	}
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	eth_turn_back(m);
	ip_swap(frame + info->l3_off, info->family);
	size_t len = tcp_write(frame + info->l4_off, dport, sport, ack, seq + 1, PKT_TCP_ACK,
			       SYN_PROXY_WINDOW, 0);
	segment_seal(m, info, len, true);
	LB_COUNTER_ADD(w->stats->syn_proxy_real_acks, 1);
	tx_enqueue(w, m->port, m);
}

bool syn_proxy_from_real(struct lb_worker *w, const struct lb_snapshot *snap, struct rte_mbuf *m,
			 const struct pkt_info *info, int32_t fpos, uint64_t now)
{
	struct flow_entry *e = flow_table_entry(w->flows, fpos);
	const uint8_t *tcp = rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l4_off);
	uint8_t flags = info->tcp_flags;
	uint32_t *delta = seq_delta_of(w, e);

	if ((flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) == (PKT_TCP_SYN | PKT_TCP_ACK)) {
		/* A retransmitted SYN-ACK (our ACK was lost) is answered again, nothing else. */
		if (e->flags & FLOW_F_SYN_PROXY_WAIT) {
			*delta = load_be32(tcp + TCP_SEQ_OFF) - *delta;
			e->flags &= (uint8_t)~FLOW_F_SYN_PROXY_WAIT;
			conn_touch(w, snap, e, info, LB_TCP_DIR_OUTPUT, now);
			struct pkt_info ack = *info; /* once per connection */
			ack.tcp_flags = PKT_TCP_ACK;
			conn_touch(w, snap, e, &ack, LB_TCP_DIR_INPUT, now);
		}
		answer_syn_ack(w, m, info);
		return false;
	}
	if (e->flags & FLOW_F_SYN_PROXY_WAIT) {
		/* The real refused: the client must see the reset in its window (cookie + 1). */
		if (flags & PKT_TCP_RST) {
			tcp_set32(m, info, TCP_SEQ_OFF, *delta + 1);
			return true;
		}
		drop(w, m, LB_DROP_SYN_PROXY_HANDSHAKE);
		return false;
	}
	if (*delta != 0)
		tcp_set32(m, info, TCP_SEQ_OFF, load_be32(tcp + TCP_SEQ_OFF) - *delta);
	return true;
}
