/*
 * The failover pair's peer messages (docs/ha.md, "Wire format"): one versioned, authenticated
 * codec for every message two appliances exchange (adverts, connection batches, configuration
 * chunks, full-sync markers). Pure code: the transport (UDP, unicast or multicast) is elsewhere.
 *
 * A message is a 24-byte header, a body of the header's body length, then an HMAC-SHA256 of
 * header and body under the pair's shared key. Every number is big-endian. ha_wire_decode()
 * checks the whole message (form, the HMAC, every length, count and enum) before it yields
 * anything; ha_wire_encode() writes only what ha_wire_decode() accepts. Replay protection is
 * the receiver's ha_replay_accept() on the sequence number, after a successful decode.
 */
#ifndef DPDK_LB_HA_WIRE_H
#define DPDK_LB_HA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_WIRE_MAGIC 0x444c4248u /* "DLBH" */
#define HA_WIRE_VERSION 1
#define HA_WIRE_HEADER_LEN 24
#define HA_WIRE_HMAC_LEN 32 /* HMAC-SHA256, full length */
/* What senders produce by default: one UDP datagram that crosses a 1500-byte link unfragmented
 * even over IPv6 (40) + UDP (8) with room for a tunnel or VLAN tags on the way. */
#define HA_WIRE_MSG_DEFAULT 1400
/* What a receiver accepts at most: a datagram on a 9000-byte (jumbo) link over IPv6 + UDP. */
#define HA_WIRE_MSG_MAX 8952
#define HA_WIRE_BODY_MAX (HA_WIRE_MSG_MAX - HA_WIRE_HEADER_LEN - HA_WIRE_HMAC_LEN)

#define HA_WIRE_KEY_MIN 16 /* bytes of shared key, at least (128 bits) */
#define HA_WIRE_KEY_MAX 64 /* one SHA-256 block: longer keys would be hashed down anyway */

enum ha_msg_type {
	HA_MSG_ADVERT = 1,
	HA_MSG_CONN_BATCH = 2,
	HA_MSG_CONFIG = 3,
	HA_MSG_FULL_SYNC_REQUEST = 4,
	HA_MSG_FULL_SYNC_END = 5,
};

/* Header flags. */
#define HA_WIRE_F_FULL_SYNC 0x0001 /* CONN_BATCH, CONFIG: part of a full sync (after a request) */
#define HA_WIRE_F_ALL HA_WIRE_F_FULL_SYNC

/* Sequence channels: each sender numbers each channel on its own, so a heartbeat socket and a
 * sync socket may reorder against each other without tripping the replay check. */
enum ha_channel {
	HA_CH_HEARTBEAT = 0, /* ADVERT */
	HA_CH_SYNC = 1,      /* every other type */
	HA_CH_COUNT,
};

/* Node states, as the election has them and adverts carry them. */
enum ha_state {
	HA_STATE_INIT = 0,
	HA_STATE_BACKUP = 1,
	HA_STATE_MASTER = 2,
	HA_STATE_FAULT = 3,
	HA_STATE_COUNT,
};

#define HA_ADVERT_F_PREEMPT 0x01
#define HA_ADVERT_INTERVAL_MIN_MS 10
#define HA_ADVERT_INTERVAL_MAX_MS 40950 /* VRRPv3's largest (4095 centiseconds) */

/* Capabilities a node announces (bits it does not know are kept, not refused). */
#define HA_CAP_CONN_SYNC 0x1
#define HA_CAP_CONFIG_SYNC 0x2

#define HA_ADVERT_BODY_LEN 28

struct ha_advert {
	uint8_t priority; /* 1-255 */
	uint8_t state;    /* enum ha_state */
	uint8_t flags;    /* HA_ADVERT_F_* */
	uint32_t interval_ms;
	uint64_t config_generation;
	uint16_t workers;        /* >= 1: connection ownership needs the same count on both sides */
	uint16_t fnat_port_min;  /* fnat local port range, split into one slice per worker */
	uint16_t fnat_port_max;  /* >= fnat_port_min */
	uint32_t capabilities;   /* HA_CAP_* */
};

/* Connection batch records. */
#define HA_REC_CONN 1    /* a connection */
#define HA_REC_PERSIST 2 /* a persistence template: (service, masked client) -> real */

/* What happened: CREATED, STATE and ENDED as the workers' connection events; REFRESH is a
 * periodic or full-sync re-send of a live record. */
#define HA_EV_CREATED 1
#define HA_EV_STATE 2
#define HA_EV_ENDED 3
#define HA_EV_REFRESH 4

#define HA_REC_F_REPLY 0x01 /* the reply key is set (nat, fnat) */

#define HA_CONN_BATCH_HEAD_LEN 4
#define HA_CONN_RECORD_LEN 108
#define HA_WIRE_MAX_RECORDS ((HA_WIRE_BODY_MAX - HA_CONN_BATCH_HEAD_LEN) / HA_CONN_RECORD_LEN)

/*
 * One record. Families are 4 or 6 (not the OS's AF_ values); an IPv4 address is the first 4 bytes
 * of its 16, the rest zero. Ports are host order here, network order on the wire. A service is
 * named by its key, never by an id: ids are each appliance's own. Its VIP is client_dst.
 */
struct ha_conn_record {
	uint8_t kind;        /* HA_REC_* */
	uint8_t event;       /* HA_EV_* */
	uint8_t state;       /* enum lb_conn_state; 0 for a template */
	uint8_t forward;     /* enum lb_forward */
	uint8_t worker;      /* owning worker; 0 for a template */
	uint8_t flags;       /* HA_REC_F_* */
	uint8_t family;      /* client key and VIP: 4 or 6 */
	uint8_t proto;       /* 6 (TCP) or 17 (UDP) */
	uint8_t real_family; /* real and reply key: 4 or 6 */
	uint8_t svc_proto;   /* the service's protocol (6 or 17) */
	uint16_t svc_port;   /* the service's port; 0 for a service group */
	uint32_t timeout_s;  /* seconds left (0 for ENDED) */
	uint8_t real_addr[16];
	uint16_t real_port;
	uint16_t client_sport, client_dport;
	uint16_t reply_sport, reply_dport;
	uint8_t client_src[16]; /* a template: the masked client address */
	uint8_t client_dst[16]; /* the VIP */
	uint8_t reply_src[16];  /* nat/fnat: the real */
	uint8_t reply_dst[16];  /* nat: the client; fnat: the local address */
};

struct ha_conn_batch {
	uint16_t count;
	struct ha_conn_record rec[HA_WIRE_MAX_RECORDS];
};

#define HA_CONFIG_HEAD_LEN 20
#define HA_CONFIG_TOTAL_MAX (16u << 20) /* a configuration's JSON, at most 16 MiB */

/* A chunk of the JSON configuration of one generation: bytes [offset, offset + len) of total. */
struct ha_config_chunk {
	uint64_t generation;
	uint32_t total_len;
	uint32_t offset;
	uint16_t len;        /* >= 1 */
	const uint8_t *data; /* decode: points into the decoded buffer */
};

#define HA_SYNC_CONNS 0x1
#define HA_SYNC_CONFIG 0x2
#define HA_SYNC_ALL (HA_SYNC_CONNS | HA_SYNC_CONFIG)
#define HA_FULL_SYNC_BODY_LEN 16

/* FULL_SYNC_REQUEST: what the sender wants and the configuration generation it has.
 * FULL_SYNC_END: what was sent, how many records, and the generation they correspond to. */
struct ha_full_sync {
	uint32_t what; /* HA_SYNC_*, not 0 */
	uint32_t records;
	uint64_t generation;
};

struct ha_msg {
	uint8_t type;   /* enum ha_msg_type */
	uint16_t flags; /* HA_WIRE_F_* */
	uint32_t sender_id;
	uint64_t seq;
	union {
		struct ha_advert advert;
		struct ha_conn_batch batch;
		struct ha_config_chunk config;
		struct ha_full_sync full_sync;
	};
};

struct ha_wire_key {
	uint8_t bytes[HA_WIRE_KEY_MAX];
	size_t len;
};

#define HA_WIRE_ERR_LEN 128

/* Sets k from len bytes; 0, or -1 when len is outside [HA_WIRE_KEY_MIN, HA_WIRE_KEY_MAX]. */
int ha_wire_key_set(struct ha_wire_key *k, const void *bytes, size_t len);

/* The sequence channel of message type `type` (enum ha_channel). */
enum ha_channel ha_wire_channel(uint8_t type);

/* Records of a CONN_BATCH that fit in a message of msg_size bytes (HA_WIRE_MSG_DEFAULT...). */
size_t ha_wire_batch_capacity(size_t msg_size);

/*
 * Encodes m, signed with key, into buf of cap bytes; the message length, or -1 when it does not
 * fit or m is not a message ha_wire_decode() would accept (err says which rule, when not NULL).
 */
int ha_wire_encode(uint8_t *buf, size_t cap, const struct ha_wire_key *key,
		   const struct ha_msg *m, char *err, size_t errlen);

/*
 * Decodes the len bytes at buf into *m after checking all of it and its HMAC under key: 0, or -1
 * with err saying why (nothing in *m is to be used then). A CONFIG chunk's data points into buf.
 * The sequence number is not judged here: see ha_replay_accept().
 */
int ha_wire_decode(const uint8_t *buf, size_t len, const struct ha_wire_key *key,
		   struct ha_msg *m, char *err, size_t errlen);

/*
 * Replay protection, per (sender, channel): the highest sequence accepted and a window of the
 * 64 below it (like IPsec's anti-replay window, RFC 4303 3.4.3), so a datagram reordered by
 * less than 64 is still taken once, and any sequence seen before or older than the window is
 * refused.
 */
#define HA_REPLAY_WINDOW 64
#define HA_REPLAY_MAX_SENDERS 8

struct ha_replay_slot {
	bool used;
	uint32_t sender_id;
	uint64_t top[HA_CH_COUNT];    /* highest accepted; 0 = nothing yet */
	uint64_t window[HA_CH_COUNT]; /* bit i: top - i was accepted */
};

struct ha_replay {
	struct ha_replay_slot slot[HA_REPLAY_MAX_SENDERS];
};

/* Forgets every sender. */
void ha_replay_init(struct ha_replay *r);

/*
 * Judges sequence seq of sender on channel (an authenticated message's): true and recorded when
 * it is new, false with *why set when it is a replay, too old, 0, or a new sender when every
 * slot is taken.
 */
bool ha_replay_accept(struct ha_replay *r, uint32_t sender, enum ha_channel channel,
		      uint64_t seq, const char **why);

/* Forgets sender (a peer removed from the configuration, or one known to have restarted). */
void ha_replay_forget(struct ha_replay *r, uint32_t sender);

#endif
