/*
 * The failover pair's election (docs/ha.md, "Election"): VRRP-like rules (RFC 5798) as a pure
 * state machine. It reads no clock and sends nothing: every input carries its time (nanoseconds
 * of one monotonic clock), and every call fills a struct ha_actions that says what the caller
 * must do now (send an advert, send gratuitous ARP/NA, take or release the VIPs) and when to
 * call ha_election_tick() next.
 *
 * States (enum ha_state in ha_wire.h): INIT until started; BACKUP follows a master's adverts and
 * takes over when they stop for the master-down interval (3 adverts plus the priority skew);
 * MASTER sends adverts and owns the VIPs; FAULT (its ping node is unreachable) owns nothing.
 * Ranking: higher priority wins, equal priority the higher node id.
 */
#ifndef DPDK_LB_HA_ELECTION_H
#define DPDK_LB_HA_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha_wire.h"

#define HA_GARP_COUNT_DEFAULT 5
#define HA_GARP_REPEAT_MS_DEFAULT 5000
#define HA_ADVERT_INTERVAL_DEFAULT_MS 1000

struct ha_election_config {
	uint32_t node_id;            /* unique in the pair, not 0 */
	uint8_t priority;            /* 1-255 */
	uint32_t advert_interval_ms; /* HA_ADVERT_INTERVAL_MIN_MS-HA_ADVERT_INTERVAL_MAX_MS */
	bool preempt;                /* take mastership from a lower-ranked master */
	uint32_t preempt_delay_ms;   /* ... after seeing it for this long */
	uint8_t garp_count;          /* gratuitous ARPs / unsolicited NAs per burst, 1-255 */
	uint32_t garp_repeat_ms;     /* the second burst this long after taking over; 0 = none */
};

/* A peer's advert, as ha_wire_decode() read it. */
struct ha_peer_advert {
	uint32_t node_id;
	uint8_t priority;
	uint8_t state; /* enum ha_state */
	uint32_t interval_ms;
};

/* What the caller must do after a call. */
struct ha_actions {
	uint8_t old_state, new_state;
	bool send_advert;     /* send an advert (with the new state) now */
	uint8_t garp_burst;   /* send this many gratuitous ARPs / unsolicited NAs per VIP now */
	bool take_vips;       /* start answering for the VIPs and fnat local addresses */
	bool release_vips;    /* stop answering for them and forwarding their traffic, at once */
	uint64_t next_wake_ns; /* call ha_election_tick() at this time (UINT64_MAX: no timer) */
};

struct ha_election {
	struct ha_election_config cfg;
	uint8_t state;
	bool ping_ok;             /* the ping node answers (true until told otherwise) */
	uint64_t state_since_ns;
	uint64_t down_at_ns;      /* BACKUP: take over at this time unless an advert comes */
	uint64_t preempt_at_ns;   /* BACKUP: a lower-ranked master was seen: take over then; 0 none */
	uint64_t next_advert_ns;  /* MASTER */
	uint64_t garp_repeat_ns;  /* MASTER: the second burst is due then; 0 none */
	uint32_t master_id;       /* BACKUP: the master followed; 0 none */
	uint32_t master_interval_ms;
	uint64_t last_advert_ns;  /* the last master advert seen */
	uint64_t own_id_adverts;  /* adverts carrying this node's own id: looped back or misconfigured */
	/*
	 * Set by the caller before each call: a due preemption waits while this is true (the
	 * backup has not yet received the master's connections, so taking over would break them).
	 * A master that stops advertising is still taken over from at once.
	 */
	bool preempt_hold;
};

/* Fills c with the defaults (priority 100, 1 s, preempt on without delay, 5 + 5 after 5 s). */
void ha_election_config_default(struct ha_election_config *c, uint32_t node_id);

/* Sets e up in INIT from c; 0, or -1 with err naming the field and its range. */
int ha_election_init(struct ha_election *e, const struct ha_election_config *c, char *err,
		     size_t errlen);

/* Starts the election at now: BACKUP waiting for a master (FAULT if the ping node is down). */
void ha_election_start(struct ha_election *e, uint64_t now, struct ha_actions *a);

/* A peer's authenticated, fresh advert received at now. */
void ha_election_advert(struct ha_election *e, const struct ha_peer_advert *p, uint64_t now,
			struct ha_actions *a);

/* The timer: call at a->next_wake_ns (or later; lateness only delays what was due). */
void ha_election_tick(struct ha_election *e, uint64_t now, struct ha_actions *a);

/* The ping node answered (reachable) or stopped answering, at now. */
void ha_election_ping(struct ha_election *e, bool reachable, uint64_t now, struct ha_actions *a);

/* A new local priority (1-255; other values are ignored), e.g. from the operator, at now. */
void ha_election_set_priority(struct ha_election *e, uint8_t priority, uint64_t now,
			      struct ha_actions *a);

/* Preempt on or off, with its delay, at now. */
void ha_election_set_preempt(struct ha_election *e, bool on, uint32_t delay_ms, uint64_t now,
			     struct ha_actions *a);

/* The skew of priority at interval_ms: (256 - priority) * interval / 256, in nanoseconds. */
uint64_t ha_skew_ns(uint8_t priority, uint32_t interval_ms);

/* The master-down interval: 3 * interval + the skew, in nanoseconds. */
uint64_t ha_master_down_ns(uint8_t priority, uint32_t interval_ms);

/* "INIT", "BACKUP", "MASTER", "FAULT" or "?". */
const char *ha_state_name(uint8_t state);

#endif
