/*
 * Internals of connection sync shared by ha_conn_sync.c (events, batches, installs),
 * ha_conn_sync_map.c (ids <-> keys) and ha_conn_sync_walk.c (refresh and full sync walks).
 * Control lcore only.
 */
#ifndef DPDK_LB_HA_CONN_SYNC_INTERNAL_H
#define DPDK_LB_HA_CONN_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "conn_dump.h"
#include "conn_events.h"
#include "conn_install.h"
#include "ha_conn_sync.h"
#include "persist_table.h"
#include "snapshot.h"

/* What a master connection is, whatever it came from (an event or a table walk). */
struct hcs_conn {
	uint8_t event; /* HA_EV_* */
	uint8_t state;
	uint8_t forward;
	uint8_t worker;
	uint16_t service_id;
	bool has_reply;
	uint32_t real_id;
	uint32_t real_gen;
	uint32_t timeout_s;
	struct flow_key key;
	struct flow_key reply_key;
};

/* The published snapshot's service of id, or NULL. */
const struct snap_service *hcs_service_by_id(const struct lb_snapshot *snap, uint32_t id);

/*
 * MASTER: the record of connection c, naming its service and real by their keys in snap;
 * false when the service or real is no longer there (or is the appliance itself).
 */
bool hcs_record_from_conn(const struct lb_snapshot *snap, const struct hcs_conn *c,
			  struct ha_conn_record *out);

/* MASTER: the record of template t (event REFRESH or CREATED) with timeout from now_s; false
 * when its service or real is gone. */
bool hcs_record_from_template(const struct lb_snapshot *snap, const struct persist_template *t,
			      uint8_t event, uint32_t now_s, struct ha_conn_record *out);

/* BACKUP: the install request of connection record r in snap and the worker it goes to;
 * HA_REFUSE_COUNT when it can be installed, else why not. */
enum ha_conn_refuse hcs_install_from_record(const struct lb_snapshot *snap,
					    const struct ha_conn_record *r,
					    struct conn_install_req *out, uint16_t *worker);

/* BACKUP: stores template record r in the shared persistence table; HA_REFUSE_COUNT or why not. */
enum ha_conn_refuse hcs_template_store(const struct lb_snapshot *snap,
				       const struct ha_conn_record *r, uint32_t now_s);

/* Queues one record for the peer (REFRESH records of a full sync carry HA_WIRE_F_FULL_SYNC). */
void hcs_queue(const struct ha_conn_record *r, bool full_sync, uint64_t now_ns);

/* Sends the partial batch of the full-sync stream, then FULL_SYNC_END with `records`. */
void hcs_full_sync_finish(uint32_t records, uint64_t now_ns);

/* Walks: a refresh walk every period_s, or a full sync (which replaces a running walk). */
void hcs_walk_start(bool full_sync, uint64_t now_ns);
void hcs_walk_poll(uint64_t now_ns, uint32_t max_records);
bool hcs_walk_running(bool *full_sync);
/* Gives up a running walk (role change); a posted dump is abandoned, not freed. */
void hcs_walk_stop(void);

#endif
