#include "ha_conn_record.h"

#include <stdio.h>
#include <string.h>

bool ha_pair_compatible(uint16_t workers, uint16_t port_min, uint16_t port_max,
			const struct ha_advert *peer, char *why, size_t whylen)
{
	if (peer->workers != workers) {
		snprintf(why, whylen, "workers %u here, %u on peer: connection ownership differs",
			 workers, peer->workers);
		return false;
	}
	if (peer->fnat_port_min != port_min || peer->fnat_port_max != port_max) {
		snprintf(why, whylen,
			 "fnat local ports %u-%u here, %u-%u on peer: port slices differ", port_min,
			 port_max, peer->fnat_port_min, peer->fnat_port_max);
		return false;
	}
	if (whylen > 0)
		why[0] = '\0';
	return true;
}

void ha_batcher_init(struct ha_batcher *b, size_t msg_size, uint16_t flags)
{
	size_t cap = ha_wire_batch_capacity(msg_size);

	memset(&b->msg, 0, sizeof(b->msg));
	b->msg.type = HA_MSG_CONN_BATCH;
	b->msg.flags = flags;
	b->capacity = (uint16_t)(cap < 1 ? 1 : cap > HA_WIRE_MAX_RECORDS ? HA_WIRE_MAX_RECORDS : cap);
	b->first_ns = 0;
}

bool ha_batcher_add(struct ha_batcher *b, const struct ha_conn_record *r, uint64_t now_ns)
{
	if (b->msg.batch.count == 0)
		b->first_ns = now_ns;
	b->msg.batch.rec[b->msg.batch.count++] = *r;
	return b->msg.batch.count >= b->capacity;
}

bool ha_batcher_due(const struct ha_batcher *b, uint64_t now_ns, uint64_t max_wait_ns)
{
	return b->msg.batch.count > 0 && now_ns - b->first_ns >= max_wait_ns;
}

void ha_batcher_reset(struct ha_batcher *b)
{
	b->msg.batch.count = 0;
	b->first_ns = 0;
}

int ha_fnat_port_owner(uint16_t workers, uint16_t port_min, uint16_t port_max, uint16_t port)
{
	if (workers == 0 || port < port_min || port > port_max)
		return -1;
	return (port - port_min) % workers;
}
