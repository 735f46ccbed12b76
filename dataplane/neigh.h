/*
 * Neighbour table for real servers (ARP). The control lcore owns it: it sends the ARP requests,
 * learns from the replies workers pass up, and ages entries. Workers only read an entry's MAC
 * with one atomic 64-bit load, so there is no lock anywhere.
 */
#ifndef DPDK_LB_NEIGH_H
#define DPDK_LB_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "inet_addr.h"
#include "lookup_table.h"

#define NEIGH_VALID (1ull << 63)

struct neigh_entry {
	uint64_t mac_word; /* NEIGH_VALID | 48-bit MAC; read by workers atomically */
	struct lb_addr ip;
	uint16_t port_id;
	bool in_use;
	bool is_static;
	bool wanted; /* referenced by the running configuration */
	uint64_t last_reply_tsc;
	uint64_t last_request_tsc;
	uint64_t unwanted_since_tsc; /* resolved but unreferenced: kept a while for a comeback */
};

struct neigh_table {
	uint32_t capacity;
	uint32_t free_hint; /* where the search for a free entry starts */
	struct neigh_entry *entries;
	struct lookup_table index; /* address -> entry; rebuilt when entries are released */
};

/* Creates a table of `capacity` entries; NULL on failure. */
struct lb_port;

/* A broadcast ARP request from port (sender sip, its MAC) for tip, in a new mbuf; NULL when
 * the pool is empty. sip == tip makes it a gratuitous ARP. */
struct rte_mbuf *neigh_arp_request(const struct lb_port *port, rte_be32_t sip, rte_be32_t tip);

/*
 * An RFC 4861 neighbour solicitation or advertisement (icmp_type, flags byte) about target from
 * port, src6 -> dst6 (Ethernet dst_mac), carrying port's MAC in a link-layer address option of
 * type lla_option (1 source, 2 target), in a new mbuf; NULL when the pool is empty.
 */
struct rte_mbuf *neigh_nd_message(const struct lb_port *port, const uint8_t dst_mac[6],
				  const uint8_t src6[16], const uint8_t dst6[16], uint8_t icmp_type,
				  uint8_t flags, const uint8_t target[16], uint8_t lla_option);

struct neigh_table *neigh_table_create(uint32_t capacity);

/* Slot of ip (creating it, unresolved, on port_id); -1 when full. Control lcore only. */
int neigh_table_slot(struct neigh_table *t, const struct lb_addr *ip, uint16_t port_id);

/* Sets a permanent entry. Control lcore only. */
int neigh_table_set_static(struct neigh_table *t, const struct lb_addr *ip, uint16_t port_id,
			   const uint8_t mac[6]);

/* Clears every `wanted` mark before a configuration is walked (neigh_table_slot marks again). */
void neigh_table_unmark(struct neigh_table *t);

/*
 * Entries no configuration wants any more (call after the old snapshot is gone): unresolved
 * ones are freed, resolved ones kept for neighbours.timeout in case a real comes back (its first
 * packets then need no ARP round trip), then freed by neigh_table_maintain.
 */
void neigh_table_release_unwanted(struct neigh_table *t);

/*
 * Learns from an ARP frame (or neighbour advertisement) a worker passed up, received on link;
 * an entry on a VLAN learns only from its own VLAN. The mbuf is the caller's.
 */
void neigh_table_learn(struct neigh_table *t, const uint8_t *frame, uint32_t len, uint16_t link,
		       uint64_t now);

/* Sends due ARP requests and ages entries; bounded work, called from the control loop. */
void neigh_table_maintain(struct neigh_table *t, uint64_t now, uint64_t hz, uint32_t refresh_s,
			  uint32_t timeout_s);

/* One neighbour as listings (system.info) show it. */
struct neigh_view {
	struct lb_addr ip;
	uint16_t port_id;
	bool resolved; /* mac is valid */
	uint8_t mac[6];
	const char *state; /* "static", "kept" (no real uses it any more), "resolved", "unresolved" */
};

/* Calls fn for every entry in use, in table order. Control lcore only. */
void neigh_table_foreach(const struct neigh_table *t,
			 void (*fn)(const struct neigh_view *n, void *arg), void *arg);

/* Worker side: copies the MAC of slot into dst; false when unresolved. */
static inline bool neigh_lookup_mac(const struct neigh_table *t, uint32_t slot,
				    struct rte_ether_addr *dst)
{
	uint64_t w = __atomic_load_n(&t->entries[slot].mac_word, __ATOMIC_ACQUIRE);

	if (!(w & NEIGH_VALID))
		return false;
	for (int i = 5; i >= 0; i--) {
		dst->addr_bytes[i] = (uint8_t)w;
		w >>= 8;
	}
	return true;
}

#endif
