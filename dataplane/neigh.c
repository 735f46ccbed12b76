#include "neigh.h"

#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "lb_log.h"
#include "lb_runtime.h"
#include "pkt_parse.h"

#define NEIGH_RETRY_S 1 /* unresolved or expiring entries are asked again this often */

struct neigh_table *neigh_table_create(uint32_t capacity)
{
	struct neigh_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->entries = calloc(capacity, sizeof(*t->entries));
	if (t->entries == NULL) {
		free(t);
		return NULL;
	}
	t->capacity = capacity;
	if (lookup_table_init(&t->index, capacity, 20) != 0) {
		free(t->entries);
		free(t);
		return NULL;
	}
	return t;
}

/* The index key of an address: family and 16 address bytes, 20 bytes in all. */
static void index_key(uint8_t key[20], const struct lb_addr *ip)
{
	memset(key, 0, 20);
	key[0] = ip->family;
	memcpy(key + 4, ip->family == AF_INET ? (const void *)&ip->v4 : ip->v6,
	       ip->family == AF_INET ? 4 : 16);
}

static int find_slot(const struct neigh_table *t, const struct lb_addr *ip)
{
	uint8_t key[20];

	index_key(key, ip);
	return (int)lookup_table_find(&t->index, key);
}

static void rebuild_index(struct neigh_table *t)
{
	uint8_t key[20];

	lookup_table_free(&t->index);
	if (lookup_table_init(&t->index, t->capacity, 20) != 0)
		return; /* lookups then miss: replies are ignored until the next rebuild */
	for (uint32_t i = 0; i < t->capacity; i++)
		if (t->entries[i].in_use) {
			index_key(key, &t->entries[i].ip);
			(void)lookup_table_insert(&t->index, key, i);
		}
}

int neigh_table_slot(struct neigh_table *t, const struct lb_addr *ip, uint16_t port_id)
{
	int slot = find_slot(t, ip);

	if (slot >= 0) {
		struct neigh_entry *e = &t->entries[slot];
		if (e->unwanted_since_tsc != 0) {
			/* back within the timeout: trust the MAC, refresh it on the usual schedule */
			e->last_reply_tsc = rte_rdtsc();
			e->unwanted_since_tsc = 0;
		}
		e->wanted = true;
		return slot;
	}
	for (uint32_t k = 0; k < t->capacity; k++) {
		uint32_t i = (t->free_hint + k) % t->capacity;
		struct neigh_entry *e = &t->entries[i];
		uint8_t key[20];
		if (e->in_use)
			continue;
		memset(e, 0, sizeof(*e));
		e->ip = *ip;
		e->port_id = port_id;
		e->in_use = true;
		e->wanted = true;
		t->free_hint = i + 1;
		index_key(key, ip);
		(void)lookup_table_insert(&t->index, key, i);
		return (int)i;
	}
	return -1;
}

static uint64_t mac_to_word(const uint8_t mac[6])
{
	uint64_t w = 0;
	for (int i = 0; i < 6; i++)
		w = (w << 8) | mac[i];
	return w | NEIGH_VALID;
}

int neigh_table_set_static(struct neigh_table *t, const struct lb_addr *ip, uint16_t port_id,
			   const uint8_t mac[6])
{
	int slot = neigh_table_slot(t, ip, port_id);

	if (slot < 0)
		return -1;
	t->entries[slot].is_static = true;
	__atomic_store_n(&t->entries[slot].mac_word, mac_to_word(mac), __ATOMIC_RELEASE);
	return slot;
}

void neigh_table_unmark(struct neigh_table *t)
{
	for (uint32_t i = 0; i < t->capacity; i++)
		if (!t->entries[i].is_static)
			t->entries[i].wanted = false;
}

void neigh_table_release_unwanted(struct neigh_table *t)
{
	bool released = false;

	uint64_t now = rte_rdtsc();

	for (uint32_t i = 0; i < t->capacity; i++) {
		struct neigh_entry *e = &t->entries[i];
		if (!e->in_use || e->wanted || e->is_static)
			continue;
		if (e->mac_word & NEIGH_VALID) {
			if (e->unwanted_since_tsc == 0)
				e->unwanted_since_tsc = now;
			continue;
		}
		memset(e, 0, sizeof(*e));
		released = true;
	}
	if (released)
		rebuild_index(t);
}

void neigh_table_learn(struct neigh_table *t, const uint8_t *frame, uint32_t len, uint16_t link,
		       uint64_t now)
{
	struct pkt_info info;
	struct lb_addr ip;
	int slot;

	const uint8_t *mac;
	switch (pkt_parse(frame, len, &info)) {
	case PKT_PARSE_ARP:
		ip = lb_addr_from_v4(info.arp.spa);
		mac = info.arp.sha;
		break;
	case PKT_PARSE_IPV6:
		/* a neighbour advertisement naming its link-layer address */
		if (info.proto != PKT_IPPROTO_ICMPV6 || info.icmp_type != PKT_ICMP6_NA ||
		    !info.has_lladdr)
			return;
		ip = lb_addr_from_v6(info.nd_target);
		mac = info.nd_lladdr;
		break;
	default:
		return;
	}
	slot = find_slot(t, &ip);
	if (slot < 0 || t->entries[slot].is_static)
		return;
	/* A neighbour on a VLAN answers on that VLAN: another VLAN's host cannot claim it. */
	uint16_t own = t->entries[slot].port_id;
	if (own != link && (own >= lb_rt.n_ports || link >= lb_rt.n_ports))
		return;
	uint64_t word = mac_to_word(mac);
	if (t->entries[slot].mac_word != word) {
		char ab[LB_ADDR_STRLEN], mb[18];
		LB_LOG(INFO, "neighbour %s is at %s", lb_addr_format(&ip, ab, sizeof(ab)),
		       lb_mac_format(mac, mb, sizeof(mb)));
	}
	__atomic_store_n(&t->entries[slot].mac_word, word, __ATOMIC_RELEASE);
	t->entries[slot].last_reply_tsc = now;
}

struct rte_mbuf *neigh_arp_request(const struct lb_port *port, rte_be32_t sip, rte_be32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lb_rt.pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&port->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = sip;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = tip;
	return m;
}

static void send_arp_request(const struct neigh_entry *e)
{
	const struct lb_port *port = &lb_rt.ports[e->port_id];
	struct rte_mbuf *m;

	if (!port->has_address || port->address.family != AF_INET || lb_rt.n_workers == 0)
		return;
	m = neigh_arp_request(port, port->address.v4, e->ip.v4);
	if (m == NULL)
		return;
	m->port = e->port_id; /* the worker transmits on this port */
	if (rte_ring_enqueue(lb_rt.workers[0]->from_control, m) != 0)
		rte_pktmbuf_free(m);
}

struct rte_mbuf *neigh_nd_message(const struct lb_port *port, const uint8_t dst_mac[6],
				  const uint8_t src6[16], const uint8_t dst6[16], uint8_t icmp_type,
				  uint8_t flags, const uint8_t target[16], uint8_t lla_option)
{
	const size_t icmp_len = 32; /* header, target, one link-layer address option */
	struct rte_mbuf *m = rte_pktmbuf_alloc(lb_rt.pool);
	uint8_t *f = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 40 + icmp_len)) : NULL;

	if (f == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(f, 0, 14 + 40 + icmp_len);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, &port->mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14, *icmp = ip + 40;
	ip[0] = 0x60;
	ip[5] = (uint8_t)icmp_len;
	ip[6] = PKT_IPPROTO_ICMPV6;
	ip[7] = 255; /* required for neighbour discovery */
	memcpy(ip + 8, src6, 16);
	memcpy(ip + 24, dst6, 16);
	icmp[0] = icmp_type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = lla_option;
	icmp[25] = 1; /* in units of 8 bytes */
	memcpy(icmp + 26, &port->mac, 6);
	pkt_set_l4_checksum(ip, AF_INET6, PKT_IPPROTO_ICMPV6, icmp, icmp_len, 2);
	return m;
}

/* RFC 4861 neighbour solicitation to the target's solicited-node multicast address. */
static void send_neighbour_solicitation(const struct neigh_entry *e)
{
	const struct lb_port *port = &lb_rt.ports[e->port_id];
	const uint8_t *t6 = e->ip.v6;
	const uint8_t mc[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t6[13], t6[14], t6[15]};
	const uint8_t mac[6] = {0x33, 0x33, 0xff, t6[13], t6[14], t6[15]};

	if (!port->has_address6 || lb_rt.n_workers == 0)
		return;
	struct rte_mbuf *m = neigh_nd_message(port, mac, port->address6.v6, mc, PKT_ICMP6_NS, 0,
					      t6, 1 /* source link-layer address */);
	if (m == NULL)
		return;
	m->port = e->port_id;
	if (rte_ring_enqueue(lb_rt.workers[0]->from_control, m) != 0)
		rte_pktmbuf_free(m);
}

void neigh_table_maintain(struct neigh_table *t, uint64_t now, uint64_t hz, uint32_t refresh_s,
			  uint32_t timeout_s)
{
	bool released = false;

	for (uint32_t i = 0; i < t->capacity; i++) {
		struct neigh_entry *e = &t->entries[i];
		if (!e->in_use || e->is_static)
			continue;
		if (!e->wanted) {
			/* kept for a comeback only: no refreshing, gone after the timeout */
			if (now - e->unwanted_since_tsc > (uint64_t)timeout_s * hz) {
				memset(e, 0, sizeof(*e));
				released = true;
			}
			continue;
		}
		bool resolved = e->mac_word & NEIGH_VALID;
		uint64_t age = now - e->last_reply_tsc;
		if (resolved && age > (uint64_t)timeout_s * hz) {
			/* Forget it: better to drop than to send to a MAC that may be gone. */
			__atomic_store_n(&e->mac_word, 0, __ATOMIC_RELEASE);
			resolved = false;
			char ab[LB_ADDR_STRLEN];
			LB_LOG(WARNING, "neighbour %s stopped answering ARP/ND; packets to it are dropped",
			       lb_addr_format(&e->ip, ab, sizeof(ab)));
		}
		bool due = !resolved || age > (uint64_t)refresh_s * hz;
		if (due && now - e->last_request_tsc >= NEIGH_RETRY_S * hz) {
			e->last_request_tsc = now;
			if (e->ip.family == AF_INET)
				send_arp_request(e);
			else
				send_neighbour_solicitation(e);
		}
	}
	if (released)
		rebuild_index(t);
}

void neigh_table_foreach(const struct neigh_table *t,
			 void (*fn)(const struct neigh_view *n, void *arg), void *arg)
{
	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct neigh_entry *e = &t->entries[i];
		struct neigh_view n = {.ip = e->ip, .port_id = e->port_id};
		if (!e->in_use)
			continue;
		uint64_t w = __atomic_load_n(&e->mac_word, __ATOMIC_ACQUIRE);
		n.resolved = (w & NEIGH_VALID) != 0;
		for (int k = 5; k >= 0; k--) {
			n.mac[k] = (uint8_t)w;
			w >>= 8;
		}
		n.state = e->is_static ? "static" : !e->wanted ? "kept" : n.resolved ? "resolved"
									    : "unresolved";
		fn(&n, arg);
	}
}
