/* Per-lcore 64-bit counters: written by one worker, summed by the control lcore. */
#ifndef DPDK_LB_COUNTERS_H
#define DPDK_LB_COUNTERS_H

#include <stdint.h>
#include <sys/socket.h>

#include <rte_common.h>

enum lb_drop_reason {
	LB_DROP_PARSE = 0,
	LB_DROP_NOT_VIP,
	LB_DROP_NO_FLOW,
	LB_DROP_NO_REAL,
	LB_DROP_NO_NEIGHBOUR,
	LB_DROP_FLOW_TABLE_FULL,
	LB_DROP_TX_FULL,
	LB_DROP_UNSUPPORTED,
	LB_DROP_CONTROL_RING_FULL,
	LB_DROP_NO_REPLY_FLOW,     /* from a nat real or to a local address, matching no flow */
	LB_DROP_REPLY_TUPLE_IN_USE, /* nat: the real -> client tuple belongs to another flow */
	LB_DROP_LOCAL_PORTS_EXHAUSTED, /* fnat: no free local port for this real */
	LB_DROP_HANDOFF_RING_FULL, /* the owning worker's hand-off ring was full */
	LB_DROP_TOO_BIG,           /* over the MTU after encapsulation (and DF set: ICMP sent) */
	LB_DROP_ICMP_NO_FLOW,      /* ICMP error quoting no known flow */
	LB_DROP_ICMP_OTHER,        /* ICMP we neither answer nor relay */
	LB_DROP_FRAGMENT,          /* reassembly gave up (timeout, table full, overlap) or no mbuf */
	LB_DROP_HA_BACKUP,         /* VIP traffic reaching a node that is not the pair's master */
	LB_DROP_SYNC_HOP_UNKNOWN,  /* reply of a synced nat/fnat flow before any hop was learned */
	LB_DROP_BLOCKED,           /* the source is in the blocklist (block_table.h) */
	LB_DROP_UNKNOWN_VLAN,      /* tagged with a VLAN id its port has no VLAN of (vlan.h) */
	LB_DROP_VLAN_TAG,          /* no room to tag a frame for its VLAN (shared or no headroom) */
	LB_DROP_SYN_PROXY_BAD_COOKIE, /* syn_proxy: an ACK matching no flow and no valid cookie */
	LB_DROP_SYN_PROXY_HANDSHAKE,  /* syn_proxy: a packet before the real's handshake completed */
	LB_DROP_REASON_COUNT,
};

/* Drop-reason names as stats.get reports them. */
extern const char *const lb_drop_reason_names[LB_DROP_REASON_COUNT];

/*
 * The workers' global counters, defined once: the struct below, stats.get's keys (every one is
 * reported under its name) and the metrics to come are all made from this list.
 */
#define LB_WORKER_COUNTERS(X)                                                                      \
	X(rx_packets)                                                                              \
	X(tx_packets)                                                                              \
	X(arp_replies)                                                                             \
	X(flows_created)                                                                           \
	X(flows_expired)                                                                           \
	X(flows)                 /* currently in the table */                                      \
	X(templates_created)                                                                       \
	X(persistence_full)      /* a template could not be stored: the client may move */         \
	X(handoffs)              /* packets handed to the worker owning their flow */              \
	X(icmp_echo_replies)                                                                       \
	X(nd_advertisements)     /* IPv6 neighbour solicitations for our addresses answered */     \
	X(icmp_errors_relayed)                                                                     \
	X(icmp_frag_needed_sent) /* told a sender to fit under the egress MTU */                   \
	X(toa_added)             /* fnat: client address option added to a SYN */                 \
	X(toa_no_room)           /* fnat: SYN options full, client address not added */           \
	X(fragments_received)                                                                      \
	X(datagrams_reassembled)                                                                   \
	X(fragments_sent)        /* made when a packet left larger than the port MTU */            \
	X(conn_events_lost)      /* connection events dropped: the event ring was full */          \
	X(neighbour_frames)      /* ARP / neighbour advertisements given to the neighbour table */ \
	X(exception_rx)          /* frames handed to a kernel interface (exception.h) */           \
	X(exception_tx)          /* frames the kernel sent, queued on their port */                \
	X(exception_dropped)     /* either way: over the rate limit, or a ring/interface full */   \
	X(half_open_evicted)     /* half-open flows ended to make room for a new one, table full */\
	X(half_open_expired_early) /* half-open flows ended by the shorter lifetime of pressure */ \
	X(flow_pressure)         /* workers whose flow table is over its high-water mark now */   \
	X(flow_pressure_episodes) /* times a worker's flow table went over the mark */           \
	X(half_open_evicted_bucket) /* of those, the oldest of a new key's two full buckets */   \
	X(syn_proxy_cookies_sent) /* syn_proxy: SYNs answered with a SYN-ACK carrying a cookie */ \
	X(syn_proxy_valid_acks)  /* syn_proxy: ACKs whose cookie was good: flow made, SYN sent */ \
	X(syn_proxy_bad_cookies) /* syn_proxy: ACKs matching no flow and no cookie: dropped */    \
	X(syn_proxy_real_acks)   /* syn_proxy: real SYN-ACKs answered with the handshake's ACK */ \
	X(syn_proxy_syns_resent) /* syn_proxy: client retransmissions made the real's SYN again */

/*
 * Per address family (stats.protocol, the dataplane's `netstat -s`): IP packets received from the
 * ports (a reassembled datagram or a packet handed between workers is not counted again),
 * forwarded (to a real or back to a client) and given to the exception path; datagrams
 * reassembled, fragments dropped by reassembly (table full, overlap) and by its timeout; TCP
 * connections created, segments with RST received, segments dropped for matching no
 * connection without being a SYN; UDP datagrams received; ICMP messages in and out by type.
 */
#define LB_PROTOCOL_COUNTERS(X)                                                                    \
	X(received)                                                                                \
	X(forwarded)                                                                               \
	X(to_exception)                                                                            \
	X(reassembled)                                                                             \
	X(reassembly_failed)                                                                       \
	X(reassembly_timed_out)                                                                    \
	X(tcp_new)                                                                                 \
	X(tcp_resets)                                                                              \
	X(tcp_invalid)                                                                             \
	X(udp_datagrams)

enum lb_family_index { LB_FAMILY_IPV4 = 0, LB_FAMILY_IPV6, LB_FAMILY_COUNT };

#define LB_COUNTER_FIELD(name) uint64_t name;
struct lb_protocol_stats {
	LB_PROTOCOL_COUNTERS(LB_COUNTER_FIELD)
	uint64_t icmp_in[256]; /* by ICMP (IPv4) or ICMPv6 type */
	uint64_t icmp_out[256];
};

struct lb_worker_stats {
	LB_WORKER_COUNTERS(LB_COUNTER_FIELD)
	uint64_t drops[LB_DROP_REASON_COUNT];
	struct lb_protocol_stats protocol[LB_FAMILY_COUNT];
} __rte_cache_aligned;
#undef LB_COUNTER_FIELD

/* The protocol counters of worker w for address family af (AF_INET or AF_INET6). */
#define LB_PROTOCOL_STATS(w, af) (&(w)->stats->protocol[(af) == AF_INET6])

_Static_assert(sizeof(struct lb_worker_stats) % sizeof(uint64_t) == 0,
	       "stats_workers() sums lb_worker_stats as an array of uint64_t counters");

/* Traffic of one service or real server on one lcore. active/inactive go up and down. */
struct lb_traffic_counters {
	uint64_t conns;
	uint64_t inpkts;
	uint64_t outpkts;
	uint64_t inbytes;
	uint64_t outbytes;
	uint64_t active;
	uint64_t inactive;
	uint64_t pad;
} __rte_aligned(64);

/*
 * Single-writer counter update: a relaxed load and store, not a locked add, so the fast path pays
 * nothing for it while the control lcore's relaxed loads never see a torn value.
 */
#define LB_COUNTER_ADD(field, value)                                                               \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (value),           \
			 __ATOMIC_RELAXED)
#define LB_COUNTER_READ(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

#endif
