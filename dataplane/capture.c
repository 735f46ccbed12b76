/* Capture sessions and the workers' copying into them (capture.h). */
#include "capture.h"

#include <stdio.h>
#include <time.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

/*
 * Sized for bursts, not for a slow disk: the control lcore drains every millisecond, so 1024
 * copies per worker hold about 1 ms of a busy worker's traffic; what does not fit is lost.
 */
#define CAPTURE_RING_SIZE 1024
#define CAPTURE_POOL_SIZE 8191
#define CAPTURE_POOL_CACHE 64

struct capture_session *capture_published;

/*
 * Copies as large as a received packet can be in one segment (dataplane.mbuf_data_room), or
 * the snap length when smaller; a longer (chained) packet is copied into several.
 */
static uint32_t copy_size(uint32_t snaplen)
{
	uint32_t room = lb_rt.config->mbuf_data_room;

	return rte_pcapng_mbuf_size(snaplen < room ? snaplen : room);
}

struct capture_session *capture_session_create(const struct rte_bpf_prm *prm, uint32_t snaplen,
					       int32_t port)
{
	int socket = (int)rte_socket_id();
	struct capture_session *cs = rte_zmalloc("capture", sizeof(*cs), RTE_CACHE_LINE_SIZE);
	char name[RTE_RING_NAMESIZE];

	if (cs == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	cs->snaplen = snaplen;
	cs->port = port;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cs->base_tsc = rte_rdtsc();
	cs->base_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	cs->tsc_hz = rte_get_tsc_hz();
	uint32_t size = copy_size(snaplen);
	if (size > UINT16_MAX) {
		rte_errno = EINVAL;
		goto fail;
	}
	cs->pool = rte_pktmbuf_pool_create("lb_capture", CAPTURE_POOL_SIZE, CAPTURE_POOL_CACHE, 0,
					   (uint16_t)size, socket);
	if (cs->pool == NULL)
		goto fail;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		snprintf(name, sizeof(name), "capture_w%u", w);
		cs->rings[w] = rte_ring_create(name, CAPTURE_RING_SIZE, socket,
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (cs->rings[w] == NULL)
			goto fail;
	}
	if (prm != NULL) {
		cs->bpf = rte_bpf_load(prm);
		if (cs->bpf == NULL)
			goto fail;
		struct rte_bpf_jit jit;
		if (rte_bpf_get_jit(cs->bpf, &jit) == 0 && jit.func != NULL)
			cs->jit = jit.func;
	}
	return cs;
fail:;
	int saved = rte_errno;
	capture_session_free(cs);
	rte_errno = saved;
	return NULL;
}

void capture_session_publish(struct capture_session *cs)
{
	__atomic_store_n(&capture_published, cs, __ATOMIC_RELEASE);
}

void capture_session_free(struct capture_session *cs)
{
	void *obj;

	if (cs == NULL)
		return;
	for (uint16_t w = 0; w < LB_MAX_WORKERS; w++) {
		if (cs->rings[w] == NULL)
			continue;
		while (rte_ring_sc_dequeue(cs->rings[w], &obj) == 0)
			rte_pktmbuf_free(obj);
		rte_ring_free(cs->rings[w]);
	}
	rte_mempool_free(cs->pool);
	if (cs->bpf != NULL)
		rte_bpf_destroy(cs->bpf);
	rte_free(cs);
}

/*
 * Nanoseconds since the epoch at TSC reading tsc. DPDK 22.11's rte_pcapng_copy converts TSC
 * itself from a base taken in a constructor, before EAL knows the TSC frequency, and its
 * delta * 10^9 wraps after seconds: its times are wrong, so the copies get these instead.
 */
static inline uint64_t wall_ns(const struct capture_session *cs, uint64_t tsc)
{
	uint64_t delta = tsc - cs->base_tsc;

	return cs->base_ns + delta / cs->tsc_hz * 1000000000u +
	       delta % cs->tsc_hz * 1000000000u / cs->tsc_hz;
}

/* The start of the pcapng enhanced packet block rte_pcapng_copy puts in front of the data. */
struct epb_head {
	uint32_t block_type, block_length, interface_id, timestamp_hi, timestamp_lo;
};

/* The filter's verdicts for pkts[0..n): non-zero keeps the packet. */
static void run_filter(const struct capture_session *cs, struct rte_mbuf **pkts, uint16_t n,
		       uint64_t *keep)
{
	if (cs->bpf == NULL) {
		for (uint16_t i = 0; i < n; i++)
			keep[i] = 1;
	} else if (cs->jit != NULL) {
		for (uint16_t i = 0; i < n; i++)
			keep[i] = cs->jit(pkts[i]);
	} else {
		rte_bpf_exec_burst(cs->bpf, (void **)pkts, keep, n);
	}
}

void capture_packets(struct capture_session *cs, uint16_t worker, uint16_t port,
		     struct rte_mbuf **pkts, uint16_t n, enum rte_pcapng_direction dir)
{
	struct capture_worker_counters *c = &cs->counters[worker];
	struct rte_mbuf *copies[LB_BURST];
	uint64_t keep[LB_BURST];

	if (cs->port >= 0 && cs->port != port)
		return;
	uint64_t now = rte_rdtsc(), ns = wall_ns(cs, now);
	struct rte_ring *ring = cs->rings[worker];
	/* TX batches hold up to two bursts: filter in bursts. */
	for (uint16_t off = 0; off < n; off += LB_BURST) {
		uint16_t len = (uint16_t)RTE_MIN(n - off, LB_BURST), k = 0;
		/* Only this worker enqueues: the room seen now is there until it enqueues. */
		unsigned int room = rte_ring_free_count(ring);
		run_filter(cs, pkts + off, len, keep);
		for (uint16_t i = 0; i < len; i++) {
			if (keep[i] == 0)
				continue;
			LB_COUNTER_ADD(c->matched, 1);
			if (k == room) { /* no copy made for a full ring: capture costs little then */
				LB_COUNTER_ADD(c->lost, 1);
				continue;
			}
			struct rte_mbuf *copy = rte_pcapng_copy(port, worker, pkts[off + i], cs->pool,
								cs->snaplen, now, dir);
			if (copy == NULL) {
				LB_COUNTER_ADD(c->lost, 1);
				continue;
			}
			struct epb_head *epb = rte_pktmbuf_mtod(copy, struct epb_head *);
			epb->timestamp_hi = (uint32_t)(ns >> 32);
			epb->timestamp_lo = (uint32_t)ns;
			copies[k++] = copy;
		}
		if (k == 0)
			continue;
		unsigned int queued = rte_ring_sp_enqueue_burst(ring, (void **)copies, k, NULL);
		if (unlikely(queued < k)) { /* k <= room: never, unless the ring gets a producer */
			LB_COUNTER_ADD(c->lost, k - queued);
			rte_pktmbuf_free_bulk(copies + queued, k - queued);
		}
	}
}
