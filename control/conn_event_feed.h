/*
 * The control side's reader of the workers' connection-event rings (dataplane/conn_events.h):
 * drains them in bounded batches and hands each record to the subscribers (connection sync,
 * top sources, capture). Runs on the control lcore only.
 */
#ifndef DPDK_LB_CONN_EVENT_FEED_H
#define DPDK_LB_CONN_EVENT_FEED_H

#include <stdint.h>

#include "dataplane.h"

#define CONN_EVENT_FEED_MAX_SUBSCRIBERS 8

/* Called for every event drained; must not block (the control loop waits on it). */
typedef void (*conn_event_fn)(const struct conn_event *ev, void *arg);

/* Adds a subscriber; 0, or -1 when CONN_EVENT_FEED_MAX_SUBSCRIBERS are taken. */
int conn_event_feed_subscribe(conn_event_fn fn, void *arg);

/* Drains at most max_per_worker events from each worker's ring; returns how many it read. */
uint32_t conn_event_feed_poll(uint32_t max_per_worker);

/* Events read so far, by enum conn_event_type (index 0 unused). */
void conn_event_feed_counts(uint64_t counts[4]);

#endif
