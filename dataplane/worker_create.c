/* A worker's state: its flow table, rings and counters, made before the lcores start. */
#include <stdio.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "conn_events.h"
#include "flow_table.h"
#include "frag.h"
#include "half_open.h"
#include "icmp.h"
#include "worker.h"

struct lb_worker *worker_create(uint16_t index, unsigned int lcore_id, uint32_t cap4, uint32_t cap6)
{
	char name[RTE_RING_NAMESIZE];
	int socket = (int)rte_lcore_to_socket_id(lcore_id);
	struct lb_worker *w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);

	if (w == NULL)
		return NULL;
	w->index = index;
	w->lcore_id = lcore_id;
	snprintf(name, sizeof(name), "flows_w%u", index);
	/* Measured from the heap, so buckets, the wheel and the half-open ring all count. */
	struct rte_malloc_socket_stats before, after;
	rte_malloc_get_socket_stats(socket, &before);
	w->flows = flow_table_create(name, cap4, cap6, socket, lb_rt.tsc_hz / FLOW_WHEEL_TICKS_PER_S,
				     rte_rdtsc());
	if (w->flows == NULL || half_open_init(w, lb_rt.config, socket) != 0)
		return NULL;
	rte_malloc_get_socket_stats(socket, &after);
	lb_rt.flow_table_bytes += after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	/* What the IPv4 flows cost: their buckets, their share of the wheel, the half-open ring. */
	lb_rt.flow_v4_bytes += flow_table_ipv4_bytes(w->flows) + half_open_bytes(w);
	snprintf(name, sizeof(name), "to_ctl_w%u", index);
	w->to_control = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "from_ctl_w%u", index);
	w->from_control = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "req_w%u", index);
	w->requests = rte_ring_create(name, 16, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	/* Any worker may hand a packet over: multi-producer, consumed by this worker alone. */
	snprintf(name, sizeof(name), "handoff_w%u", index);
	w->handoff = rte_ring_create(name, 4096, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "icmpwalk_w%u", index);
	w->icmp_walk = rte_ring_create_elem(name, sizeof(struct icmp_walk_item), 256, socket,
					    RING_F_SC_DEQ);
	if (lb_rt.config->conn_event_ring != 0) {
		w->events = conn_events_ring_create(index, lb_rt.config->conn_event_ring, socket);
		if (w->events == NULL)
			return NULL;
	}
	w->stats = rte_zmalloc_socket("wstats", sizeof(*w->stats), RTE_CACHE_LINE_SIZE, socket);
	w->real_counters = rte_zmalloc_socket("real_ctr", sizeof(struct lb_traffic_counters) *
							      (lb_rt.max_reals + 1),
					      RTE_CACHE_LINE_SIZE, socket);
	w->service_counters = rte_zmalloc_socket("svc_ctr", sizeof(struct lb_traffic_counters) *
								(lb_rt.max_services + 1),
						 RTE_CACHE_LINE_SIZE, socket);
	if (frag_worker_init(w, lb_rt.frag_datagrams, lb_rt.frag_timeout_ms, socket) != 0)
		return NULL;
	if (w->flows == NULL || w->to_control == NULL || w->from_control == NULL ||
	    w->requests == NULL || w->handoff == NULL || w->icmp_walk == NULL || w->stats == NULL || w->real_counters == NULL ||
	    w->service_counters == NULL)
		return NULL; /* the process exits on this error; EAL frees the memory */
	return w;
}
