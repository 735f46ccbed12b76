/*
 * What the pair's files share (control/ha): the running settings, the state the heartbeat
 * thread publishes for the control lcore (under one mutex: never on a worker's path), and the
 * signals between the two threads.
 */
#ifndef DPDK_LB_HA_INTERNAL_H
#define DPDK_LB_HA_INTERNAL_H

#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config_ha.h"
#include "ha_election.h"
#include "ha_wire.h"

#define HA_REASON_LEN 128

struct ev_loop;

/* One peer as the heartbeat thread last heard it. */
struct ha_peer_info {
	bool used;
	uint32_t node_id;
	struct sockaddr_storage from; /* where its adverts come from */
	struct ha_advert advert;      /* its last advert */
	uint64_t last_advert_ns;      /* monotonic */
	uint64_t adverts;
	bool paired;                  /* same workers and fnat range: sync allowed */
	char refusal[HA_REASON_LEN];  /* why not paired */
};

/* Written by the heartbeat thread under lock; read by the control lcore. */
struct ha_shared {
	pthread_mutex_t lock;
	uint8_t state;
	uint64_t state_since_ns;
	uint64_t last_advert_sent_ns;
	uint32_t master_id; /* BACKUP: the master followed (0 none); MASTER: own id */
	struct ha_peer_info peers[LB_HA_MAX_PEERS];
	uint64_t adverts_sent, adverts_received, adverts_refused, replays, own_id_adverts;
	uint64_t send_errors, transitions;
	bool ping_ok;
	uint64_t late_p99_ns, late_max_ns; /* advert sends behind schedule */
	uint32_t late_samples;
	char last_refusal[HA_REASON_LEN]; /* last advert refused, and why */
};

/* The pair's settings, fixed at start. */
struct ha_runtime {
	struct lb_ha_cfg cfg;
	struct ha_wire_key key;
	char ifname[16];
	unsigned int ifindex;
	int family; /* AF_INET or AF_INET6: of the peers and group */
	uint32_t n_dest;
	struct sockaddr_storage dest_hb[LB_HA_MAX_PEERS + 1];   /* heartbeat destinations */
	struct sockaddr_storage dest_sync[LB_HA_MAX_PEERS + 1]; /* sync destinations */
	socklen_t dest_len;
};

extern struct ha_runtime ha_rt;
extern struct ha_shared ha_sh;

/* Heartbeat thread -> control lcore (the control loop reads them when the eventfd fires). */
extern int ha_wake_fd;                 /* eventfd the control loop watches */
extern uint8_t ha_pending_garp;        /* a burst of this many is due (atomic) */
/* Control lcore -> heartbeat thread. */
extern uint64_t ha_config_generation;  /* atomic: what adverts carry */
/* atomic: a BACKUP may preempt (it has the master's connections, or need not wait for them) */
extern bool ha_preempt_ready;

/* The monotonic clock in nanoseconds (the election's clock). */
uint64_t ha_now_ns(void);

/* The wall clock in microseconds: where a channel's sequence numbers start. */
uint64_t ha_wall_us(void);

/* Wakes the control loop (eventfd). */
void ha_wake_control(void);

/*
 * Opens a UDP socket of ha_rt.family on port, bound to the pair's interface, joined to the
 * group when there is one; the fd or -1 with err.
 */
int ha_socket_open(uint16_t port, char *err, size_t errlen);

/* Starts / stops the heartbeat thread (ha_heartbeat.c); 0 or -1 with err. */
int ha_heartbeat_start(char *err, size_t errlen);
void ha_heartbeat_stop(void);

/* Sends `count` gratuitous ARPs / unsolicited NAs for every VIP and fnat local address. */
void ha_garp_send(uint8_t count);
/* Announcement frames queued and dropped (ring full, no mbuf) so far. */
void ha_garp_counts(uint64_t *sent, uint64_t *dropped);

/* The sync socket on the control loop (ha_sync.c). */
int ha_sync_init(struct ev_loop *loop, char *err, size_t errlen);
void ha_sync_close(void);
/* Control loop, periodically: role changes, full-sync requests, config sends. */
void ha_sync_poll(uint64_t now_ns);
/* Configuration generations for ha.status: the master's last applied here (BACKUP). */
uint64_t ha_sync_applied_generation(void);
json_t *ha_sync_status_json(void);

/* Formats sa as "ADDR" into buf. */
const char *ha_sockaddr_format(const struct sockaddr_storage *sa, char *buf, size_t len);

#endif
