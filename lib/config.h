/*
 * The configuration model: what the config file holds, what the RPC methods edit and what the
 * control lcore turns into dataplane snapshots. JSON in and out through jansson; every error
 * names the key path ("services[2].reals[0].weight: ...").
 */
#ifndef DPDK_LB_CONFIG_H
#define DPDK_LB_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocklist.h"
#include "config_bond.h"
#include "config_ha.h"
#include "forward_method.h"
#include "inet_addr.h"
#include "rpc_roles.h"
#include "tcp_state.h"

#define LB_ERR_LEN 256
#define LB_SCHED_NAME_LEN 16
#define LB_SOCKET_PATH_LEN 108
#define LB_MAX_PORT_RANGES 16 /* port ranges of one service group */

#define LB_PROTO_BIT_TCP 0x1
#define LB_PROTO_BIT_UDP 0x2

struct lb_port_range {
	uint16_t lo, hi; /* inclusive */
};

#define LB_MAX_LOCAL_ADDRS 16 /* fnat local addresses of one service */
#define LB_FALLBACK_PAGE_MAX 65536 /* bytes of a local fallback's holding page */

/* How fnat real servers learn the client's address. */
enum lb_client_addr_mode {
	LB_CLIENT_ADDR_NONE = 0,
	LB_CLIENT_ADDR_TOA, /* TCP option 254 (address + port) added to the SYN */
};

struct lb_real_cfg {
	struct lb_addr ip;
	uint16_t port;
	uint8_t forward; /* enum lb_forward */
	uint32_t weight;
	uint32_t u_threshold; /* 0 = none: above it the real takes no new connection */
	uint32_t l_threshold; /* 0 = 3/4 of u_threshold: below it the real takes them again */
	uint8_t admin_state;  /* enum lb_admin_state: the operator's wish (online, drain, offline) */
	json_t *check;        /* this real's check keys over the service's (owned reference), or NULL */
	/*
	 * runtime, never saved: what the dataplane is given, derived at commit from the wish and
	 * the health and agent observations (health.h); never written back into weight
	 */
	uint32_t eff_weight;
	bool eff_out; /* out of scheduling: not a scheduler destination, its templates ignored */
	uint32_t id;  /* runtime: the dataplane's real id, 0 = not yet assigned; never saved */
	uint32_t gen; /* runtime: generation of that id, so flows of a deleted real are told apart */
};

struct lb_service_cfg {
	struct lb_addr vip;
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t forward;
	char scheduler[LB_SCHED_NAME_LEN];
	uint32_t sched_flags;   /* SCHED_FLAG_FALLBACK | SCHED_FLAG_PORT (sh, dh, mh) */
	uint32_t mh_table_size; /* mh: Maglev table size, a prime; 0 = default 65537 */
	bool ops;               /* UDP one-packet scheduling: every datagram scheduled, no flow */
	uint32_t persistent_s;  /* persistence timeout; 0 = no persistence */
	uint8_t netmask_len;    /* persistence granularity: client address prefix length */
	int8_t expire_quiescent_template; /* -1 = the global ipvs.expire_quiescent_template */
	/* service group (port 0): the ports and protocols it matches */
	uint8_t protos;         /* LB_PROTO_BIT_*; 0 = just proto */
	uint8_t n_port_ranges;
	struct lb_port_range port_ranges[LB_MAX_PORT_RANGES];
	uint32_t n_reals;
	struct lb_real_cfg *reals;
	bool has_fallback;
	struct lb_real_cfg fallback; /* "sorry" server: used only while no real can take a connection */
	/*
	 * fallback {"local": true}: the fallback is {VIP, port, LB_FWD_LOCAL} and this is its page, a
	 * JSON string shared by reference between clones (lb_config_clone increfs, lb_service_free
	 * decrefs); NULL = the default page
	 */
	json_t *fallback_page;
	/* fnat: the client side of a connection becomes one of these addresses and a local port */
	uint8_t n_local_addrs;
	struct lb_addr local_addrs[LB_MAX_LOCAL_ADDRS];
	uint8_t client_addr_mode; /* enum lb_client_addr_mode */
	json_t *check; /* normalised health check (owned reference), or NULL: no checking */
	json_t *agent; /* normalised feedback agent (owned reference), or NULL: none */
	uint32_t id; /* runtime: the dataplane's service id, 0 = not yet assigned */
	bool changed; /* runtime: edited in a candidate since it was cloned (lb_config.incremental) */
	bool syn_proxy; /* nat/fnat TCP: SYNs answered with SYN cookies, flows made at the ACK */
};

#define LB_IFNAME_LEN 16 /* IFNAMSIZ: 15 characters and the terminator */

struct lb_port_cfg {
	struct lb_addr address;
	uint8_t prefix_len;
	uint16_t mtu; /* IP MTU of the link: tun tells clients to fit under it minus the outer header */
	bool has_address6;
	struct lb_addr address6; /* optional IPv6 address of a dual-stack port */
	uint8_t prefix_len6;
	/* exception-path interface the kernel sees for this port; "" = none */
	char kernel_interface[LB_IFNAME_LEN];
	struct lb_bond_cfg bond; /* a bonded port (config_bond.h); bond.enabled false: none */
};

#define LB_MAX_VLANS 32 /* 802.1Q VLANs over all ports */

/* An 802.1Q VLAN of a port: a link of its own (addresses, MTU, kernel interface) on the port. */
struct lb_vlan_cfg {
	uint32_t port; /* index in ports[] */
	uint16_t id;   /* VLAN id 1-4094 */
	struct lb_port_cfg link;
};

struct lb_static_neigh_cfg {
	struct lb_addr ip;
	uint8_t mac[6];
};

#define LB_SYSTEM_MAX_NICS 8
#define LB_PCI_ADDR_LEN 16   /* "0000:03:00.0" and its NUL */
#define LB_DRIVER_NAME_LEN 32

/* A NIC the setup helper binds to a DPDK-capable kernel driver before the daemon starts. */
struct lb_system_nic {
	char pci[LB_PCI_ADDR_LEN];
	char driver[LB_DRIVER_NAME_LEN]; /* vfio-pci or uio_pci_generic */
};

/* The `system` section: what dpdk-lb-setup prepares at boot (the daemon itself ignores it). */
struct lb_system_cfg {
	uint32_t hugepages;    /* pages to reserve; 0 = none (e.g. --no-huge or AF_XDP only) */
	uint32_t hugepage_kb;  /* 2048 or 1048576 */
	char hugetlbfs[128];   /* where hugetlbfs is mounted when missing */
	uint32_t n_nics;
	struct lb_system_nic nics[LB_SYSTEM_MAX_NICS];
};

struct lb_config {
	uint32_t eal_argc;
	char **eal_argv;

	char rpc_socket[LB_SOCKET_PATH_LEN];
	uint32_t rpc_max_request_bytes;
	uint32_t rpc_max_clients;
	uint32_t rpc_idle_timeout_s; /* a connection quiet this long is closed */
	struct lb_roles rpc_roles;   /* who may call what (n == 0: root only) */

	uint32_t flow_capacity;    /* IPv4 flow keys per worker */
	uint32_t flow_capacity_v6; /* IPv6 flow keys per worker */
	uint32_t mbufs;
	uint32_t rx_descriptors;
	uint32_t tx_descriptors;
	uint32_t idle_sleep_us;
	uint32_t max_services;
	uint32_t max_reals;
	uint32_t persistence_capacity;
	uint32_t mbuf_data_room;  /* bytes of packet data per mbuf */
	uint32_t frag_datagrams;  /* IPv4 datagrams each worker may be reassembling at once */
	uint32_t frag_timeout_ms; /* a datagram's fragments must all arrive within this */
	uint32_t conn_event_ring; /* connection events per worker ring (a power of 2); 0 = off */
	uint32_t fnat_port_min; /* fnat local ports: split into one slice per worker */
	uint32_t fnat_port_max;
	/* SYN flood: table fill (percent of flow_capacity) from which half-open flows live shorter */
	uint32_t half_open_pressure_percent;
	uint32_t half_open_pressure_timeout_s; /* their lifetime then, at most timeouts.syn_recv */

	bool expire_nodest_conn;        /* packets of a removed real's flows expire the flow */
	bool expire_quiescent_template; /* templates of weight-0 reals are ignored */

	uint32_t neigh_refresh_s;
	uint32_t neigh_timeout_s;
	uint32_t n_static_neigh;
	struct lb_static_neigh_cfg *static_neigh;

	uint32_t n_ports;
	struct lb_port_cfg *ports;
	uint32_t n_vlans; /* ports[].vlans, in port order */
	struct lb_vlan_cfg *vlans;

	/* exception path: frames per second to and from the kernel interfaces, token bucket depth */
	uint32_t exception_rx_pps;
	uint32_t exception_tx_pps;
	uint32_t exception_burst;

	struct lb_timeouts timeouts;

	/* health checks: concurrent external/notify processes; file of admin states ("" = none) */
	uint32_t health_max_processes;
	char health_state_file[LB_SOCKET_PATH_LEN * 2];

	struct lb_system_cfg system;
	/* metrics.listen: the HTTP listener of /metrics and the status page; off when !enabled */
	bool metrics_enabled;
	struct lb_addr metrics_addr;
	uint16_t metrics_port;
	/* blocklist (blocklist.h): client prefixes dropped first thing; capacity = dataplane slots */
	uint32_t blocklist_capacity;
	uint32_t source_slots; /* top-sources sketch slots per worker (rounded up to 2^n); 0 = off */
	uint32_t n_block;
	struct lb_block_entry *block;
	bool block_changed; /* runtime: an incremental candidate's blocklist was edited */
	/* config.backup: where the copies go, how many are kept; config.factory_reset's file */
	char backups_dir[LB_SOCKET_PATH_LEN * 2];
	uint32_t backups_keep;
	char backups_factory_file[LB_SOCKET_PATH_LEN * 2];

	uint32_t n_services;
	struct lb_service_cfg *services;

	struct lb_ha_cfg ha; /* the failover pair (this node's own: never replicated) */

	/*
	 * runtime: this candidate is a copy of the running (valid) configuration whose edits marked
	 * every service they touched `changed` and touched nothing outside services: the validator
	 * then checks the changed services and the global rules only. Never saved.
	 */
	bool incremental;
};

/* Fills c with every default and no services, ports or EAL arguments. */
void lb_config_init_defaults(struct lb_config *c);

/* Parses a whole config document into c (defaults for absent keys); 0, or -1 with err set. */
int lb_config_from_json(const json_t *root, struct lb_config *c, char *err, size_t errlen);

/* Reads and parses a config file; 0, or -1 with err naming the file, line or key path. */
int lb_config_load_file(const char *path, struct lb_config *c, char *err, size_t errlen);

/* Serialises c in the config-file format, every key present; new reference. */
json_t *lb_config_to_json(const struct lb_config *c);

/*
 * Removes the temporary files "<path>.tmp.<pid>" that saves killed half-way left, those whose
 * process is gone (or is this one); returns how many it removed.
 */
int lb_config_remove_stale_tmp(const char *path);

/*
 * Writes c to path atomically (temp file, fsync, rename, fsync dir), first removing stale
 * temporary files of path; bytes written or -1.
 */
long lb_config_save_file(const struct lb_config *c, const char *path, char *err, size_t errlen);

/* Writes a JSON document to path the same atomic way; bytes written or -1 with err. */
long lb_json_save_file(const json_t *root, const char *path, char *err, size_t errlen);

/* Deep copy, runtime ids included; 0 or -1 (out of memory, dst left empty). */
int lb_config_clone(const struct lb_config *src, struct lb_config *dst);

/* Frees everything c owns and leaves it empty. */
void lb_config_free(struct lb_config *c);

/* ---- services and reals (config_service.c) ---- */

/* "dr" ...; NULL for an unknown value. */
const char *lb_forward_name(uint8_t forward);

/* ipvsadm's Forward column: Route, Tunnel, Masq, FullNat. */
const char *lb_forward_display_name(uint8_t forward);

/* "tcp"/"udp" for IPPROTO_TCP/UDP, else "?". */
const char *lb_proto_name(uint8_t proto);

/* Parses a service key {vip, port, proto} from obj; `path` prefixes error messages. */
int lb_service_key_from_json(const json_t *obj, const char *path, struct lb_addr *vip,
			     uint16_t *port, uint8_t *proto, char *err, size_t errlen);

/* Parses a whole service object into svc (defaults applied); "reals" accepted when with_reals. */
int lb_service_from_json(const json_t *obj, const char *path, bool with_reals,
			 struct lb_service_cfg *svc, char *err, size_t errlen);

/* Parses a real server object {ip, port, weight, forward} (+ "service") for svc; defaults applied. */
int lb_real_from_json(const json_t *obj, const char *path, const struct lb_service_cfg *svc,
		      struct lb_real_cfg *real, char *err, size_t errlen);

/* Parses the optional "sched_flags", "mh_table_size", "ops" and "syn_proxy" of obj into svc; 0 or -1 with err. */
int lb_service_sched_options_from_json(const json_t *obj, const char *path,
				       struct lb_service_cfg *svc, char *err, size_t errlen);

/* Parses the optional persistence and group keys of obj into svc; 0 or -1 with err. */
int lb_service_persistence_from_json(const json_t *obj, const char *path,
				     struct lb_service_cfg *svc, char *err, size_t errlen);

/* Parses the optional "forward", "local_addresses" and "client_address" of obj into svc. */
int lb_service_forward_options_from_json(const json_t *obj, const char *path,
					 struct lb_service_cfg *svc, char *err, size_t errlen);

/* True when svc or one of its servers forwards with a method whose flows are steered by client. */
bool lb_service_steers_by_client(const struct lb_service_cfg *svc);

/* Parses the optional "fallback" server of obj into svc (null removes it); 0 or -1 with err. */
int lb_service_fallback_from_json(const json_t *obj, const char *path, struct lb_service_cfg *svc,
				  char *err, size_t errlen);

/* Service as an object (with its reals when with_reals); new reference. */
json_t *lb_service_to_json(const struct lb_service_cfg *svc, bool with_reals);

/* Real as an object; new reference. */
json_t *lb_real_to_json(const struct lb_real_cfg *real);

/* Index of the service with this key in c, or -1. */
int lb_config_find_service(const struct lb_config *c, const struct lb_addr *vip, uint16_t port,
			   uint8_t proto);

/* Iterates r over every real of svc, the fallback server included (const follows svc). */
#define LB_SERVICE_FOREACH_DEST(svc, r)                                                            \
	for (uint32_t _i = 0; _i <= (svc)->n_reals; _i++)                                           \
		for (__typeof__(&(svc)->fallback) r = _i < (svc)->n_reals ? &(svc)->reals[_i]      \
				      : (svc)->has_fallback ? &(svc)->fallback : NULL;             \
		     r != NULL; r = NULL)

/* Index of the real ip:port in svc, or -1. */
int lb_service_find_real(const struct lb_service_cfg *svc, const struct lb_addr *ip,
			 uint16_t port);

/* Appends a copy of svc (taking ownership of svc->reals); 0 or -1 out of memory. */
int lb_config_append_service(struct lb_config *c, struct lb_service_cfg *svc);

/* Removes service idx, freeing its reals. */
void lb_config_remove_service(struct lb_config *c, uint32_t idx);

/* Appends a real to svc; 0 or -1 out of memory. */
int lb_service_append_real(struct lb_service_cfg *svc, const struct lb_real_cfg *real);

/* ---- health keys (config_health.c) ---- */

/* Parses the optional "check" and "agent" of obj into svc (null removes); 0 or -1 with err. */
int lb_service_health_from_json(const json_t *obj, const char *path, struct lb_service_cfg *svc,
				char *err, size_t errlen);

/* Parses the optional "state" and "check" override of a real object; 0 or -1 with err. */
int lb_real_health_from_json(const json_t *obj, const char *path, struct lb_real_cfg *real,
			     char *err, size_t errlen);

/* Adds "check" and "agent" of svc to its object o. */
void lb_service_health_to_json(const struct lb_service_cfg *svc, json_t *o);

/* Adds "state" (and "check" when overridden) of real to its object o. */
void lb_real_health_to_json(const struct lb_real_cfg *real, json_t *o);

/* Drops what real owns (its check reference); the struct itself is the caller's. */
void lb_real_release(struct lb_real_cfg *real);

/* Takes new references to everything svc shares with its copy (after a memberwise copy). */
void lb_service_retain(struct lb_service_cfg *svc);

/* Removes real idx from svc. */
void lb_service_remove_real(struct lb_service_cfg *svc, uint32_t idx);

/* True when svc's fallback is the appliance's holding page ({"local": true}). */
static inline bool lb_service_fallback_is_local(const struct lb_service_cfg *svc)
{
	return svc->has_fallback && svc->fallback.forward == LB_FWD_LOCAL;
}

/* The holding page of a local fallback: its configured page or the default one. */
const char *lb_service_fallback_page(const struct lb_service_cfg *svc, size_t *len);

/* Frees the reals (and holding page) of svc. */
void lb_service_free(struct lb_service_cfg *svc);

/* Parses the backups section into c; 0 or -1 with err naming the key (config_appliance.c). */
int lb_config_parse_backups(const json_t *v, struct lb_config *c, char *err, size_t errlen);

/* The backups section as the config file writes it (new reference). */
json_t *lb_config_backups_to_json(const struct lb_config *c);

/* printf-style error into err (NULL-safe); always returns -1 so callers can `return lb_err(...)`. */
int lb_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Returns 0 when every key of obj is in the NULL-terminated list, else -1 with err naming it. */
int lb_json_check_keys(const json_t *obj, const char *path, const char *const *allowed, char *err,
		       size_t errlen);

/* Reads an optional unsigned integer member within [min, max] into *out; 0 or -1 with err. */
int lb_json_get_uint(const json_t *obj, const char *key, const char *path, uint64_t min,
		     uint64_t max, uint32_t *out, char *err, size_t errlen);

/* Parses the `system` section into c->system; 0, or -1 with err naming the key. */
int lb_config_system_from_json(const json_t *v, struct lb_config *c, char *err, size_t errlen);

/* The `system` section as config.get shows it. */
json_t *lb_config_system_to_json(const struct lb_config *c);

/* ---- ports and VLANs (config.c, config_link.c, config_vlan.c) ---- */

/* A kernel_interface value (absent: dflt, false: none) into name[LB_IFNAME_LEN]; 0 or -1. */
int lb_ifname_from_json(const json_t *v, const char *dflt, const char *path, char *name,
			char *err, size_t errlen);

/* The address, address6 and mtu keys of a port or VLAN object p into pc; 0 or -1 with err. */
int lb_link_from_json(const json_t *p, const char *path, uint16_t default_mtu,
		      struct lb_port_cfg *pc, char *err, size_t errlen);

/* Appends ports[port].vlans (v, NULL = none) to c->vlans; 0 or -1 with err naming the key. */
int lb_config_vlans_from_json(const json_t *v, struct lb_config *c, uint32_t port, char *err,
			      size_t errlen);

/* Adds "vlans" of ports[port] to its object po (nothing when it has none). */
void lb_config_vlans_to_json(const struct lb_config *c, uint32_t port, json_t *po);

/* VLAN rules: ids unique per port, subnets overlapping no other link's, MTU within the port's. */
int lb_config_vlans_validate(const struct lb_config *c, char *err, size_t errlen);

/* True when a VLAN's subnet holds ip. */
bool lb_config_vlan_holds(const struct lb_config *c, const struct lb_addr *ip);

#endif