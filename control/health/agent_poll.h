/*
 * One feedback-agent poll in flight: connect to the real's agent port, send what the agent type
 * needs (HAProxy's agent-send string, an HTTP GET), read the answer and parse it with
 * lib/agent_reply.c, all within the agent's timeout on the control event loop.
 */
#ifndef DPDK_LB_AGENT_POLL_H
#define DPDK_LB_AGENT_POLL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "agent_reply.h"
#include "event_loop.h"
#include "health_config.h"

#define AGENT_REPLY_MAX 1024

struct agent_poll;

/* ok: reply holds the parsed answer; line: what the agent said (first line), or the error. */
typedef void (*agent_done_fn)(struct agent_poll *p, bool ok, const struct agent_reply *reply,
			      const char *line);

struct agent_poll {
	struct ev_loop *loop;
	const struct lb_agent_cfg *cfg;
	struct sockaddr_storage addr; /* the real's address, agent port */
	socklen_t addrlen;
	char host[64];                /* Host header of the http type */
	agent_done_fn done;
	void *arg;
	/* internal */
	struct ev_op *op;
	int fd;
	struct ev_timer deadline;
	bool in_flight;
	size_t len;
	char buf[AGENT_REPLY_MAX + 1];
	char req[256];
	size_t req_len;
};

/* Begins a poll; 0, or -1 with why (done is not called then). */
int agent_poll_start(struct agent_poll *p, char *why, size_t whylen);

/* Cancels a poll in flight (no-op otherwise). */
void agent_poll_cancel(struct agent_poll *p);

#endif
