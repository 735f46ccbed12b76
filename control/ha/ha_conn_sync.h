/*
 * Connection sync of the failover pair (docs/ha.md, "Connection sync"). On the MASTER it turns
 * the workers' connection events (control/conn_event_feed.h) into CONN_BATCH records that name
 * services and reals by their keys, batches them into messages and hands each to the
 * transport's send function; it also re-sends live connections and persistence templates
 * periodically (the IPVS sync daemon's refresh period) and streams every one on a full-sync
 * request. On the BACKUP it maps received records to its own service and real ids and installs
 * them on the owning worker (dataplane/conn_install.h). Runs on the control lcore only; the
 * transport (sockets, sequence numbers, signing) is the caller's.
 */
#ifndef DPDK_LB_HA_CONN_SYNC_H
#define DPDK_LB_HA_CONN_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_wire.h"

/* Sends one message (type, flags and body set; the transport sets sender, seq and signs it).
 * Returns 0 when sent, -1 when it was dropped (counted as a send failure here). */
typedef int (*ha_send_fn)(struct ha_msg *m, void *arg);

/* Why a received record was not installed (index of ha_conn_sync_stats.refused). */
enum ha_conn_refuse {
	HA_REFUSE_NOT_BACKUP = 0, /* this node is not BACKUP (or the pair is refused) */
	HA_REFUSE_NO_SERVICE,     /* no service with the record's (VIP, port, protocol) */
	HA_REFUSE_NO_REAL,        /* the service has no real with the record's address and port */
	HA_REFUSE_WORKER,         /* the record's worker is not one of ours */
	HA_REFUSE_FORWARD,        /* the real's forwarding method here differs from the record's */
	HA_REFUSE_FNAT_PORT,      /* the fnat local address or port is not one this worker owns */
	HA_REFUSE_RING_FULL,      /* the worker's install ring had no room */
	HA_REFUSE_TABLE_FULL,     /* the worker's flow (or persistence) table had no room */
	HA_REFUSE_BAD_RECORD,     /* not installable here (a template of a service not persistent
				   * here, a connection of a one-packet service) */
	HA_REFUSE_REPLY_IN_USE,   /* the nat/fnat reply key belongs to another live connection */
	HA_REFUSE_COUNT,
};

/* Names of enum ha_conn_refuse, for ha.status ("no_service", ...). */
extern const char *const ha_conn_refuse_names[HA_REFUSE_COUNT];

struct ha_conn_sync_stats {
	/* MASTER side */
	uint64_t records_sent;      /* records handed to the transport, all kinds and events */
	uint64_t batches_sent;      /* CONN_BATCH messages handed to the transport */
	uint64_t send_failures;     /* messages the send function refused (their records lost) */
	uint64_t refresh_records;   /* of records_sent: periodic re-sends (event REFRESH) */
	uint64_t full_syncs_sent;   /* full syncs streamed to completion (END sent) */
	uint64_t events_unmapped;   /* events whose service or real was gone before sending */
	uint64_t events_lost;       /* events the workers could not queue (ring full) */
	/* BACKUP side */
	uint64_t records_received;
	uint64_t batches_received;
	uint64_t posted;            /* connection records queued to a worker's install ring */
	uint64_t installed;         /* of which: new connections in a worker's table */
	uint64_t updated;           /* of which: existing connections refreshed or replaced */
	uint64_t removed;           /* of which: ENDED records that ended a connection */
	uint64_t templates_stored;  /* persistence templates stored or refreshed */
	uint64_t hops_learned;      /* installed nat/fnat connections whose client hop is known */
	uint64_t refused[HA_REFUSE_COUNT];
	uint64_t full_syncs_received; /* FULL_SYNC_END seen */
	/* both */
	uint64_t lag_ns;            /* MASTER: age of the oldest record of the last batch sent */
	uint64_t last_batch_ns;     /* when the last batch was sent or received (monotonic ns) */
	uint64_t synced;            /* BACKUP: records applied (installed + updated + removed +
				     * templates_stored) */
	uint8_t role;               /* enum ha_state as last set */
	bool paired;                /* false while the pair is refused */
	bool full_sync_running;     /* MASTER: a full sync is being streamed */
};

/*
 * Tunables (docs/config.md, ha.sync_period_s). Every event is sent as it comes (no IPVS-like
 * packet threshold: workers do not count packets per connection); the period re-sends every live
 * connection and template, which heals records a lost datagram took.
 */
struct ha_conn_sync_params {
	uint32_t period_s;     /* re-send every live connection and template this often; 0 = never */
	uint32_t flush_ms;     /* a partial batch waits at most this long; 0 keeps the default (5) */
	uint32_t msg_size;     /* message size cap in bytes; 0 keeps HA_WIRE_MSG_DEFAULT */
};

#define HA_CONN_SYNC_PERIOD_S_DEFAULT 30
#define HA_CONN_SYNC_FLUSH_MS_DEFAULT 5

/*
 * Subscribes to the connection-event feed and sets up install rings; send carries messages to the
 * peer(s). 0, or -1 with err saying why. Call once, after the workers exist, before the control
 * loop runs. The role starts INIT (neither sends nor installs).
 */
int ha_conn_sync_init(ha_send_fn send, void *arg, char *err, size_t errlen);

/* Replaces the tunables (see struct ha_conn_sync_params for what 0 means). */
void ha_conn_sync_set_params(const struct ha_conn_sync_params *p);

/* MASTER sends, BACKUP installs, other states do neither (enum ha_state). */
void ha_conn_sync_set_role(uint8_t state);

/* Turns sending and installing off (false) while the pair is refused (see pair check below). */
void ha_conn_sync_set_paired(bool paired);

/* Control loop, about every millisecond (control.c's ring drain calls it already; more calls
 * are harmless): flushes batches due, advances refresh walks and a running full sync. now_ns is
 * not used: connection sync reads one clock (the TSC's) itself. */
void ha_conn_sync_poll(uint64_t now_ns);

/* BACKUP: installs the records of an authenticated CONN_BATCH (other types are ignored). */
void ha_conn_sync_on_batch(const struct ha_msg *m);

/* BACKUP: a FULL_SYNC_END of the connections part was received (counted; nothing else yet). */
void ha_conn_sync_on_full_sync_end(const struct ha_msg *m);

/* MASTER: the peer asked (FULL_SYNC_REQUEST with HA_SYNC_CONNS): stream every live connection
 * and template, flagged HA_WIRE_F_FULL_SYNC, then FULL_SYNC_END with the record count. A full
 * sync already running is restarted. */
void ha_conn_sync_full_start(void);

/* Copies the counters. */
void ha_conn_sync_stats(struct ha_conn_sync_stats *out);

/*
 * Pair check: connection ownership needs the same worker count and fnat port range on both
 * sides. true when the peer's advert matches ours; false with why ("workers 2 here, 1 on
 * peer") otherwise. The comparison itself is ha_pair_compatible() (lib/ha_conn_record.h).
 */
bool ha_conn_sync_pair_check(const struct ha_advert *peer, char *why, size_t whylen);

/*
 * Test hooks (the RPC ha.sync.test_*, daemons started with DPDK_LB_TEST_HOOKS=1): starts
 * connection sync if nothing did (messages then go nowhere) and sets the role; every message
 * sent from then on is also kept (up to 256) for ha_conn_sync_test_take. 0 or -1 with err.
 */
int ha_conn_sync_test_start(uint8_t role, char *err, size_t errlen);

/* The messages kept since the last call (valid until the next poll); how many. */
size_t ha_conn_sync_test_take(const struct ha_msg **msgs);

#endif
