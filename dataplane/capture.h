/*
 * Packet capture, the dataplane half: a capture session the control lcore publishes, and the
 * hook the workers run on what they receive and what they hand to their TX queues. A worker
 * runs the session's BPF filter on the burst, copies the matching packets (rte_pcapng_copy,
 * from the session's own mempool) and puts the copies on its own ring to the control lcore,
 * which writes them to the pcapng file (control/capture_ctl.c). No lock, syscall or malloc per
 * packet: a copy that finds no mbuf or no room on the ring is counted lost, never waited for.
 */
#ifndef DPDK_LB_CAPTURE_H
#define DPDK_LB_CAPTURE_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "lb_runtime.h"

struct rte_bpf;
struct rte_bpf_prm;

/* Written by one worker each, read by the control lcore. */
struct capture_worker_counters {
	uint64_t matched; /* packets the filter selected */
	uint64_t lost;    /* ... that could not be copied (no mbuf) or queued (ring full) */
} __rte_cache_aligned;

struct capture_session {
	struct rte_bpf *bpf;            /* NULL: every packet matches */
	uint64_t (*jit)(void *);        /* the filter compiled to native code, or NULL */
	struct rte_mempool *pool;       /* the copies */
	struct rte_ring *rings[LB_MAX_WORKERS]; /* worker w -> control (SP/SC) */
	uint32_t snaplen;
	int32_t port;                   /* only this DPDK port; -1 for all */
	/* Wall clock at a TSC reading: packet times are computed from these (see capture.c). */
	uint64_t base_ns, base_tsc, tsc_hz;
	struct capture_worker_counters counters[LB_MAX_WORKERS];
};

/* The published session; NULL when no capture runs. Workers read it once per burst. */
extern struct capture_session *capture_published;

/*
 * Makes a session (rings, mempool, filter loaded from prm, which may be NULL for "everything"
 * and stays the caller's); NULL with rte_errno set. Control lcore only.
 */
struct capture_session *capture_session_create(const struct rte_bpf_prm *prm, uint32_t snaplen,
					       int32_t port);

/* Publishes cs (NULL withdraws the running one). Control lcore only. */
void capture_session_publish(struct capture_session *cs);

/*
 * Frees a session no worker can still see: withdrawn and its RCU grace period over, or the
 * workers stopped. Copies still queued are freed with it. NULL is fine.
 */
void capture_session_free(struct capture_session *cs);

/* Copies the matching packets of pkts[0..n) into the session (out of line: capture is rare). */
void capture_packets(struct capture_session *cs, uint16_t worker, uint16_t port,
		     struct rte_mbuf **pkts, uint16_t n, enum rte_pcapng_direction dir);

/* A worker's hook: costs one load and a predicted branch while no capture runs. */
static inline void capture_burst(uint16_t worker, uint16_t port, struct rte_mbuf **pkts,
				 uint16_t n, enum rte_pcapng_direction dir)
{
	struct capture_session *cs = __atomic_load_n(&capture_published, __ATOMIC_ACQUIRE);

	if (likely(cs == NULL))
		return;
	capture_packets(cs, worker, port, pkts, n, dir);
}

#endif
