/*
 * Packet capture, the control half: compiles the filter (libpcap), starts a capture session
 * (dataplane/capture.h), writes the workers' copies to a pcapng file (rte_pcapng) from the
 * control loop, and ends the capture on capture.stop, its count or its duration. One capture
 * at a time. Control lcore only.
 */
#ifndef DPDK_LB_CAPTURE_CTL_H
#define DPDK_LB_CAPTURE_CTL_H

#include <limits.h>
#include <stdint.h>

#include <jansson.h>

#include "rpc_methods.h"

#define CAPTURE_FILTER_MAX 1024
#define CAPTURE_SNAPLEN_DEFAULT 65535u

struct capture_request {
	char filter[CAPTURE_FILTER_MAX]; /* libpcap syntax; "" captures everything */
	int32_t port;                    /* DPDK port, -1 for all */
	uint32_t snaplen;                /* bytes kept of each packet */
	uint32_t count;                  /* stop after this many packets written; 0: no limit */
	uint32_t duration_s;             /* stop after this long; 0: no limit */
	char file[PATH_MAX];             /* absolute path, created (never overwritten) */
};

/*
 * Starts a capture; 0, or -1 with err set: -32602 naming the field (a filter libpcap or DPDK
 * BPF refuses, a file that cannot be created), -32002 when a capture runs already, -32603 when
 * memory for the session is lacking.
 */
int capture_ctl_start(const struct capture_request *req, struct rpc_error *err);

/* Asks the running capture to end ("stopping" until the workers let go); 0, or -1 if none. */
int capture_ctl_stop(const char *reason);

/* capture.status's object: state, request, counters (new reference). */
json_t *capture_ctl_status(void);

/* Writes queued copies, enforces count and duration, completes a stop; every loop turn. */
void capture_ctl_poll(uint64_t now_tsc);

/* Ends any capture at shutdown, after the workers stopped: the file is written out whole. */
void capture_ctl_shutdown(void);

#endif
