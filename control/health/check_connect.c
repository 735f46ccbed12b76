/*
 * connect checks: a TCP handshake within the timeout, or for UDP a datagram that draws no ICMP
 * port unreachable within the timeout (ldirectord's and keepalived's UDP_CHECK meaning).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"

struct connect_state {
	struct ev_op *op;
	int fd;
	uint8_t probe;
};

static void udp_answered(struct ev_loop *loop, int fd, ssize_t result, void *arg)
{
	struct check_run *run = arg;
	struct connect_state *st = run->impl;

	(void)loop;
	(void)fd;
	close(st->fd);
	free(st);
	if (result == -ECONNREFUSED)
		check_run_finish(run, false, "ICMP port unreachable");
	else if (result < 0 && result != -ETIMEDOUT)
		check_run_finish(run, false, "%s", strerror((int)-result));
	else
		check_run_finish(run, true, result >= 0 ? "answered" : "no ICMP unreachable");
}

static void connected(struct ev_loop *loop, int fd, int err, void *arg)
{
	struct check_run *run = arg;
	struct connect_state *st = run->impl;

	st->op = NULL;
	if (fd < 0) {
		free(st);
		check_run_finish(run, false, "connect: %s", strerror(err));
		return;
	}
	if (run->l4proto != IPPROTO_UDP) {
		close(fd);
		free(st);
		check_run_finish(run, true, "connected");
		return;
	}
	st->fd = fd;
	/* An empty datagram: a closed port answers it with an ICMP port unreachable. */
	if (send(fd, &st->probe, 0, 0) < 0 && errno != ECONNREFUSED) {
		int e = errno;
		close(fd);
		free(st);
		check_run_finish(run, false, "send: %s", strerror(e));
		return;
	}
	st->op = ev_read(loop, fd, &st->probe, 1, run->timeout_ns, udp_answered, run);
	if (st->op == NULL) {
		close(fd);
		free(st);
		check_run_finish(run, false, "out of memory");
	}
}

static int connect_start(struct check_run *run, char *why, size_t whylen)
{
	struct connect_state *st = calloc(1, sizeof(*st));
	int type = run->l4proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (st == NULL)
		return lb_err(why, whylen, "out of memory");
	st->fd = -1;
	run->impl = st;
	st->op = ev_connect(run->loop, type, (const struct sockaddr *)&run->addr, run->addrlen,
			    run->timeout_ns, connected, run);
	if (st->op == NULL) {
		free(st);
		return lb_err(why, whylen, "socket: %s", strerror(errno));
	}
	return 0;
}

static void connect_cancel(struct check_run *run)
{
	struct connect_state *st = run->impl;

	if (st == NULL)
		return;
	if (st->op != NULL)
		ev_op_cancel(run->loop, st->op);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

const struct check_runner check_runner_connect = {
	.name = "connect",
	.start = connect_start,
	.cancel = connect_cancel,
};
