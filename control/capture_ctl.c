/* Capture sessions seen from the control lcore (capture_ctl.h). */
#include "capture_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pcapng.h>

#include "dataplane.h"

/*
 * Copies written per worker and loop turn (every millisecond) while running: up to about a
 * million packets a second per worker reach the file, and a turn never stalls the loop for
 * long; what the workers select beyond that is lost (counted).
 */
#define DRAIN_PER_TURN 1024
#define DRAIN_BURST 64

enum capture_state { CAPTURE_IDLE, CAPTURE_RUNNING, CAPTURE_STOPPING, CAPTURE_STOPPED };
static const char *const state_names[] = {"idle", "running", "stopping", "stopped"};

static struct {
	enum capture_state state;
	struct capture_request req;
	struct capture_session *cs;
	rte_pcapng_t *out;
	uint64_t start_tsc, end_tsc, deadline_tsc; /* deadline 0: none */
	uint64_t rcu_token;                        /* the stop's grace period */
	uint64_t written, over_limit;
	uint64_t matched, lost; /* the session's totals, kept when it is freed */
	const char *stop_reason;
	char error[128]; /* a write that failed: the capture stopped there */
} cap;

/* The filter as DPDK BPF (rte_malloc'd, caller frees); NULL with err set. */
static struct rte_bpf_prm *compile_filter(const char *filter, uint32_t snaplen,
					  struct rpc_error *err)
{
	struct bpf_program prog;
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, (int)snaplen);

	if (pc == NULL) {
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "filter: libpcap: out of memory");
		return NULL;
	}
	if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "filter: not a valid capture filter: %s",
			 pcap_geterr(pc));
		pcap_close(pc);
		return NULL;
	}
	struct rte_bpf_prm *prm = rte_bpf_convert(&prog);
	if (prm == NULL)
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "filter: libpcap compiled it, but DPDK BPF cannot run it: %s",
			 rte_strerror(rte_errno));
	pcap_freecode(&prog);
	pcap_close(pc);
	return prm;
}

/* The pcapng writer on a new file; NULL with err set (the file is not left behind). */
static rte_pcapng_t *open_output(const struct capture_request *req, struct rpc_error *err)
{
	char os[sizeof(((struct utsname *)0)->sysname) * 2 + 2] = "", comment[CAPTURE_FILTER_MAX + 16];
	struct utsname u;
	int fd = open(req->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "file: cannot create %s: %s", req->file,
			 strerror(errno));
		return NULL;
	}
	if (uname(&u) == 0)
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	snprintf(comment, sizeof(comment), "filter: %s", req->filter[0] ? req->filter : "(none)");
	rte_pcapng_t *out = rte_pcapng_fdopen(fd, os, NULL, "dpdk-lb " DPDK_LB_VERSION, comment);
	if (out == NULL) {
		rpc_fail(err, LB_RPC_IO_ERROR, "file: cannot write %s: %s", req->file,
			 rte_strerror(rte_errno));
		close(fd);
		unlink(req->file);
	}
	return out;
}

int capture_ctl_start(const struct capture_request *req, struct rpc_error *err)
{
	struct rte_bpf_prm *prm = NULL;

	if (cap.state == CAPTURE_RUNNING || cap.state == CAPTURE_STOPPING) {
		rpc_fail(err, LB_RPC_EXISTS, "a capture is running already (to %s): capture.stop it first",
			 cap.req.file);
		return -1;
	}
	if (req->filter[0] != '\0' && (prm = compile_filter(req->filter, req->snaplen, err)) == NULL)
		return -1;
	struct capture_session *cs = capture_session_create(prm, req->snaplen, req->port);
	rte_free(prm);
	if (cs == NULL) {
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "capture: cannot set up its rings, mbufs or filter: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	rte_pcapng_t *out = open_output(req, err);
	if (out == NULL) {
		capture_session_free(cs);
		return -1;
	}
	memset(&cap, 0, sizeof(cap));
	cap.req = *req;
	cap.cs = cs;
	cap.out = out;
	cap.start_tsc = rte_rdtsc();
	if (req->duration_s != 0)
		cap.deadline_tsc = cap.start_tsc + (uint64_t)req->duration_s * rte_get_tsc_hz();
	cap.state = CAPTURE_RUNNING;
	capture_session_publish(cs);
	return 0;
}

/* Writes up to max copies of worker w's ring to the file (or discards them past the count). */
static void drain_ring(uint16_t w, unsigned int max)
{
	struct rte_mbuf *pkts[DRAIN_BURST];

	for (unsigned int done = 0; done < max;) {
		unsigned int n = rte_ring_sc_dequeue_burst(cap.cs->rings[w], (void **)pkts, DRAIN_BURST,
							   NULL);
		if (n == 0)
			break;
		done += n;
		unsigned int keep = n;
		if (cap.req.count != 0 && cap.written + keep > cap.req.count)
			keep = (unsigned int)(cap.req.count - cap.written);
		if (cap.error[0] != '\0')
			keep = 0;
		if (keep > 0 && rte_pcapng_write_packets(cap.out, pkts, (uint16_t)keep) < 0) {
			/* the file is in status already */
			snprintf(cap.error, sizeof(cap.error), "writing the file: %s", strerror(errno));
			keep = 0;
		}
		cap.written += keep;
		cap.over_limit += n - keep;
		rte_pktmbuf_free_bulk(pkts, n);
	}
}

static void drain_all(unsigned int max_per_worker)
{
	for (uint16_t w = 0; w < lb_rt.n_workers; w++)
		drain_ring(w, max_per_worker);
}

/* Sums the workers' counters of the session (while it exists). */
static void read_counters(uint64_t *matched, uint64_t *lost)
{
	*matched = cap.matched;
	*lost = cap.lost;
	if (cap.cs == NULL)
		return;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		*matched += LB_COUNTER_READ(cap.cs->counters[w].matched);
		*lost += LB_COUNTER_READ(cap.cs->counters[w].lost);
	}
}

/* The workers no longer see the session: write what is left, close the file, free it all. */
static void finish(void)
{
	drain_all(UINT32_MAX);
	read_counters(&cap.matched, &cap.lost);
	rte_pcapng_close(cap.out); /* closes the file */
	cap.out = NULL;
	capture_session_free(cap.cs);
	cap.cs = NULL;
	cap.end_tsc = rte_rdtsc();
	cap.state = CAPTURE_STOPPED;
	LB_LOG(NOTICE, "capture to %s ended (%s): %lu packets written, %lu lost", cap.req.file,
	       cap.stop_reason, (unsigned long)cap.written, (unsigned long)cap.lost);
}

int capture_ctl_stop(const char *reason)
{
	if (cap.state != CAPTURE_RUNNING)
		return -1;
	capture_session_publish(NULL);
	/* Workers report a quiescent state once per loop: after that none still holds it. */
	cap.rcu_token = rte_rcu_qsbr_start(lb_rt.rcu);
	cap.stop_reason = reason;
	cap.state = CAPTURE_STOPPING;
	return 0;
}

void capture_ctl_poll(uint64_t now_tsc)
{
	switch (cap.state) {
	case CAPTURE_RUNNING:
		drain_all(DRAIN_PER_TURN);
		if (cap.error[0] != '\0')
			capture_ctl_stop("error");
		else if (cap.req.count != 0 && cap.written >= cap.req.count)
			capture_ctl_stop("count");
		else if (cap.deadline_tsc != 0 && now_tsc >= cap.deadline_tsc)
			capture_ctl_stop("duration");
		break;
	case CAPTURE_STOPPING:
		if (rte_rcu_qsbr_check(lb_rt.rcu, cap.rcu_token, false) == 1)
			finish();
		else
			drain_all(DRAIN_PER_TURN);
		break;
	default:
		break;
	}
}

void capture_ctl_shutdown(void)
{
	if (cap.state != CAPTURE_RUNNING && cap.state != CAPTURE_STOPPING)
		return;
	capture_session_publish(NULL);
	if (cap.state == CAPTURE_RUNNING)
		cap.stop_reason = "shutdown";
	finish(); /* the workers have stopped */
}

json_t *capture_ctl_status(void)
{
	uint64_t matched, lost;
	uint64_t end = cap.state == CAPTURE_STOPPED ? cap.end_tsc : rte_rdtsc();
	json_t *o = json_pack("{s:s}", "state", state_names[cap.state]);

	if (cap.state == CAPTURE_IDLE)
		return o;
	read_counters(&matched, &lost);
	json_object_set_new(o, "filter", json_string(cap.req.filter));
	json_object_set_new(o, "port", cap.req.port < 0 ? json_null() : json_integer(cap.req.port));
	json_object_set_new(o, "snaplen", json_integer(cap.req.snaplen));
	json_object_set_new(o, "count", json_integer(cap.req.count));
	json_object_set_new(o, "duration", json_integer(cap.req.duration_s));
	json_object_set_new(o, "file", json_string(cap.req.file));
	json_object_set_new(o, "matched", json_integer((json_int_t)matched));
	json_object_set_new(o, "captured", json_integer((json_int_t)cap.written));
	json_object_set_new(o, "lost", json_integer((json_int_t)lost));
	json_object_set_new(o, "over_limit", json_integer((json_int_t)cap.over_limit));
	json_object_set_new(o, "elapsed_s",
			    json_real((double)(end - cap.start_tsc) / (double)rte_get_tsc_hz()));
	json_object_set_new(o, "stop_reason",
			    cap.stop_reason ? json_string(cap.stop_reason) : json_null());
	json_object_set_new(o, "error", cap.error[0] ? json_string(cap.error) : json_null());
	return o;
}
