/*
 * What the control side may use of the dataplane: the only dataplane header control/ includes.
 * The control lcore publishes configuration (snapshot.h), reads counters (stats.h, counters.h,
 * the ports' in port_stats.h), keeps the neighbour table the workers read MACs from (neigh.h),
 * lists and forgets persistence templates (persist_table.h), asks workers for connection dumps
 * (conn_dump.h), reads their connection events (conn_events.h) and moves exception-path frames
 * (exception.h). Runtime
 * facts (ports, workers, clock, running configuration) are read from lb_rt (lb_runtime.h);
 * nothing here reads a worker's flow table or rings directly.
 */
#ifndef DPDK_LB_DATAPLANE_H
#define DPDK_LB_DATAPLANE_H

#include "capture.h"
#include "block_table.h"
#include "conn_dump.h"
#include "conn_events.h"
#include "counters.h"
#include "exception.h"
#include "lb_log.h"
#include "lb_runtime.h"
#include "neigh.h"
#include "persist_table.h"
#include "port_stats.h"
#include "snapshot.h"
#include "src_sketch.h"
#include "stats.h"

#endif
