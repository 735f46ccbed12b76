/* The daemon's one mbuf pool, laid out so that an AF_XDP port can use every mbuf in it. */
#ifndef DPDK_LB_MBUF_POOL_H
#define DPDK_LB_MBUF_POOL_H

#include <stdint.h>

#include <rte_mempool.h>

/*
 * rte_pktmbuf_pool_create() with the objects packed back to back when IOVA is VA; the pool or
 * NULL with rte_errno set. data_room includes the headroom.
 */
struct rte_mempool *mbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
				     uint16_t data_room, int socket_id);

#endif
