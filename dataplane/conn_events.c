#include "conn_events.h"

#include <stdio.h>

struct rte_ring *conn_events_ring_create(uint16_t index, uint32_t size, int socket)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "connev_w%u", index);
	/* One producer (the worker), one consumer (the control lcore). */
	return rte_ring_create_elem(name, sizeof(struct conn_event), size, socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
}

uint32_t conn_events_read(const struct lb_worker *w, struct conn_event *buf, uint32_t n)
{
	if (w->events == NULL)
		return 0;
	return rte_ring_sc_dequeue_burst_elem(w->events, buf, sizeof(buf[0]), n, NULL);
}
