/*
 * The failover pair (docs/ha.md): heartbeat thread and election, takeover (role in lb_rt,
 * gratuitous ARP / unsolicited NA), the sync socket on the control loop, configuration
 * replication, and what ha.status shows. Everything here but the heartbeat thread runs on the
 * control lcore.
 */
#ifndef DPDK_LB_HA_H
#define DPDK_LB_HA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

/*
 * Sets the pair up from lb_rt.config->ha (nothing when disabled): the role in lb_rt, the sync
 * socket on loop, and starts the heartbeat thread. Call after the boot configuration is
 * published and before the control loop runs; 0, or -1 with err set.
 */
int ha_init(struct ev_loop *loop, char *err, size_t errlen);

/* Stops the heartbeat thread and closes the sockets (the node stops answering for the VIPs). */
void ha_shutdown(void);

/* Control loop, every turn (about every millisecond): the sync side's work. */
void ha_poll(uint64_t now_ns);

/* True when HA is on and this node is not MASTER (local configuration changes are refused). */
bool ha_is_backup(void);

/* ha.status's result (new reference). */
json_t *ha_status_json(void);

/*
 * The -32006 refusal of a BACKUP: fills msg ("this node is BACKUP; the master is node N at
 * ADDR: ...") and returns true when a configuration change must be refused here.
 */
bool ha_refuse_change(char *msg, size_t msglen);

#endif
