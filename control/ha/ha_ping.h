/*
 * The pair's optional ping node (ha.ping_node): an ICMP echo every second from the heartbeat
 * thread; three unanswered in a row make the node unreachable (the election goes FAULT), one
 * answer makes it reachable again. Heartbeat thread only.
 */
#ifndef DPDK_LB_HA_PING_H
#define DPDK_LB_HA_PING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens the ICMP socket when a ping node is configured; 0, or -1 with err. */
int ha_ping_open(char *err, size_t errlen);

/* Closes it. */
void ha_ping_close(void);

/* Its fd (-1 without a ping node). */
int ha_ping_fd(void);

/* When ha_ping_poll() next has something to do (UINT64_MAX without a ping node). */
uint64_t ha_ping_next_ns(void);

/*
 * Reads answers (readable), sends the echo when due and judges: 1 when the node just became
 * reachable, 0 when it just became unreachable, -1 when nothing changed.
 */
int ha_ping_poll(uint64_t now, bool readable);

#endif
