/*
 * Why not rte_pktmbuf_pool_create(): DPDK 22.11's AF_XDP PMD registers the pool's memory as
 * its UMEM from the first object's page over `populated_size x object size` bytes, assuming
 * the objects lie back to back. A default mempool keeps every object within one page when IOVA
 * contiguity is asked for (the default): with 4 KiB pages (EAL --no-huge) each 2,368-byte mbuf
 * takes a page of its own, the pool spans 4,096 x n bytes, and every mbuf beyond the first
 * 58% lies outside the UMEM. The kernel drops such a buffer's transmit or fill descriptor
 * without a word (an "invalid descriptor"), the PMD still counts the frame as sent, and the
 * mbuf never comes back. Frames vanished that way whenever they were built in one of those
 * mbufs: the failover pair's adverts and sync messages from the kernel interface, which the
 * control lcore allocates in bursts (docs/ha.md, "The pair's frames on the exception path").
 *
 * With IOVA as VA an object that is contiguous in virtual memory is contiguous for any device,
 * so the page rule buys nothing and RTE_MEMPOOL_F_NO_IOVA_CONTIG packs the objects. With
 * physical addresses the default layout stays (NICs need it; such pools are on hugepages,
 * where an object skips to the next page only every few hundred objects).
 */
#include "mbuf_pool.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

struct rte_mempool *mbuf_pool_create(const char *name, unsigned int n, unsigned int cache_size,
				     uint16_t data_room, int socket_id)
{
	struct rte_pktmbuf_pool_private priv = {.mbuf_data_room_size = data_room};
	unsigned int flags = rte_eal_iova_mode() == RTE_IOVA_VA ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0;
	struct rte_mempool *mp;
	int rc;

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + data_room, cache_size,
				      sizeof(priv), socket_id, flags);
	if (mp == NULL)
		return NULL;
	rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
	}
	if (rc < 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}
