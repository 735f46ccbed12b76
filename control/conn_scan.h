/*
 * A walk over every worker's flow table (and then the persistence templates) for aggregates
 * such as conn.summary and conn.top: the same dumps as conn.list (conn_dump.h), posted one after
 * the other from the control loop, never waiting, each with a deadline. Work per loop turn is
 * bounded by a dump's size; the walk is not a snapshot (see conn.list).
 */
#ifndef DPDK_LB_CONN_SCAN_H
#define DPDK_LB_CONN_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane.h"

struct ev_loop;
struct conn_scan;

struct conn_scan_ops {
	/* one connection (not the reply keys of nat/fnat) */
	void (*entry)(void *arg, const struct conn_dump_entry *e, uint32_t worker);
	/* one live persistence template; NULL: templates are not walked */
	void (*template)(void *arg, const struct persist_template *t);
	/* the end: error NULL when complete, else why it stopped; the scan is freed after it */
	void (*done)(void *arg, const char *error);
};

/* Starts a walk (filter may be NULL); NULL out of memory. */
struct conn_scan *conn_scan_start(struct ev_loop *loop, const struct conn_dump_filter *filter,
				  const struct conn_scan_ops *ops, void *arg);

/* Stops a walk in progress (its done is not called). */
void conn_scan_cancel(struct conn_scan *s);

#endif
