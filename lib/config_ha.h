/*
 * The `ha` section of the configuration (docs/config.md, docs/ha.md): the failover pair's
 * election, heartbeat and sync settings. Local to each node: never replicated to the peer.
 */
#ifndef DPDK_LB_CONFIG_HA_H
#define DPDK_LB_CONFIG_HA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inet_addr.h"

#define LB_HA_MAX_PEERS 8
#define LB_HA_KEY_MAX 64     /* bytes (HA_WIRE_KEY_MAX) */
#define LB_HA_KEY_MIN 16     /* bytes (HA_WIRE_KEY_MIN) */
#define LB_HA_PATH_LEN 256

struct lb_ha_cfg {
	bool enabled;
	uint32_t node_id; /* unique in the pair, not 0 */
	uint32_t priority;
	uint32_t advert_interval_ms;
	bool preempt;
	uint32_t preempt_delay_ms;
	uint8_t key[LB_HA_KEY_MAX]; /* from `key` (hex) or read from `key_file` */
	uint32_t key_len;           /* 0 = none */
	char key_file[LB_HA_PATH_LEN]; /* "" = the key is inline */
	uint32_t port; /* index of the DPDK port whose kernel interface carries the pair's traffic */
	uint32_t n_peers;
	struct lb_addr peers[LB_HA_MAX_PEERS]; /* unicast peers */
	bool has_group;
	struct lb_addr group; /* multicast group (224.0.0.0/4 or ff00::/8) */
	uint32_t heartbeat_port;
	uint32_t sync_port;
	bool has_ping_node;
	struct lb_addr ping_node;
	uint32_t garp_count;     /* gratuitous ARPs / unsolicited NAs per address and burst */
	uint32_t garp_repeat_ms; /* the second burst after this long; 0 = none */
	bool conn_sync;          /* stream connections to the backup */
	uint32_t sync_period_s;  /* a live connection is re-sent this often (0 = never) */
};

struct lb_port_cfg;

/* Fills h with the defaults (disabled). */
void lb_ha_cfg_default(struct lb_ha_cfg *h);

/* Parses the `ha` object v into h (defaults for absent keys); 0, or -1 with err naming the key. */
int lb_ha_cfg_from_json(const json_t *v, struct lb_ha_cfg *h, char *err, size_t errlen);

/*
 * The rules that need the rest of the configuration, for an enabled pair: node_id and a key
 * present, `port` names a port with a kernel interface, peers or a group of that port's family.
 * 0, or -1 with err naming the key.
 */
int lb_ha_cfg_check(const struct lb_ha_cfg *h, const struct lb_port_cfg *ports, uint32_t n_ports,
		    char *err, size_t errlen);

/* h as the config file's `ha` object, every key present; new reference. */
json_t *lb_ha_cfg_to_json(const struct lb_ha_cfg *h);

/* Parses hex digits (an even number, 2 x [min, max] of them) into out; bytes, or -1. */
int lb_hex_decode(const char *hex, uint8_t *out, size_t min, size_t max);

/* True when a is a multicast address of its family. */
bool lb_addr_is_multicast(const struct lb_addr *a);

#endif
