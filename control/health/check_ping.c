/*
 * ping checks: one ICMP (ICMPv6) echo request from a raw socket connected to the real, so the
 * kernel hands it only that real's ICMP; up on an echo reply with our identifier and sequence
 * within the timeout.
 */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"

struct ping_state {
	int fd;
	struct ev_io io;
	struct ev_timer deadline;
	uint16_t ident, seq;
	uint64_t t0;
};

static uint16_t icmp_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void ping_close(struct check_run *run, struct ping_state *st)
{
	ev_io_stop(run->loop, &st->io);
	ev_timer_stop(run->loop, &st->deadline);
	close(st->fd);
	free(st);
}

/* Whether buf (what the raw socket gave: IPv4 with its header, ICMPv6 without) is our reply. */
static bool is_our_reply(const struct check_run *run, const struct ping_state *st,
			 const uint8_t *buf, size_t n)
{
	size_t off = 0;

	if (run->addr.ss_family == AF_INET) {
		if (n < sizeof(struct ip))
			return false;
		off = (size_t)(buf[0] & 0x0f) * 4;
		if (n < off + 8 || buf[off] != ICMP_ECHOREPLY)
			return false;
	} else if (n < 8 || buf[0] != ICMP6_ECHO_REPLY) {
		return false;
	}
	uint16_t id, seq;
	memcpy(&id, buf + off + 4, 2);
	memcpy(&seq, buf + off + 6, 2);
	return ntohs(id) == st->ident && ntohs(seq) == st->seq;
}

static void ping_readable(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct check_run *run = io->arg;
	struct ping_state *st = run->impl;
	uint8_t buf[1500];

	(void)loop;
	(void)events;
	for (int i = 0; i < 16; i++) { /* other ICMP from the real is read and ignored */
		ssize_t n = recv(st->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			int e = errno;
			ping_close(run, st);
			check_run_finish(run, false, "ping: %s", strerror(e));
			return;
		}
		if (is_our_reply(run, st, buf, (size_t)n)) {
			ping_close(run, st);
			check_run_finish(run, true, "echo reply");
			return;
		}
	}
}

static void ping_timeout(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct check_run *run = t->arg;

	(void)loop;
	(void)late_ns;
	ping_close(run, run->impl);
	check_run_finish(run, false, "no echo reply within %.1f s", run->timeout_ns / 1e9);
}

static int ping_start(struct check_run *run, char *why, size_t whylen)
{
	static uint16_t next_seq;
	bool v6 = run->addr.ss_family == AF_INET6;
	struct ping_state *st = calloc(1, sizeof(*st));
	uint8_t pkt[16] = {0};

	if (st == NULL)
		return lb_err(why, whylen, "out of memory");
	st->fd = socket(run->addr.ss_family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (st->fd < 0) {
		free(st);
		return lb_err(why, whylen, "raw socket: %s", strerror(errno));
	}
	/* Port 0 in the address: a raw socket takes the protocol, not a port. */
	struct sockaddr_storage to = run->addr;
	if (v6)
		((struct sockaddr_in6 *)&to)->sin6_port = 0;
	else
		((struct sockaddr_in *)&to)->sin_port = 0;
	if (connect(st->fd, (const struct sockaddr *)&to, run->addrlen) != 0)
		goto fail;
	st->ident = (uint16_t)(getpid() ^ (uintptr_t)st);
	st->seq = ++next_seq;
	pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	uint16_t id = htons(st->ident), seq = htons(st->seq);
	memcpy(pkt + 4, &id, 2);
	memcpy(pkt + 6, &seq, 2);
	memcpy(pkt + 8, "dpdk-lb!", 8);
	if (!v6) { /* the kernel computes ICMPv6 checksums of raw sockets itself */
		uint16_t ck = icmp_checksum(pkt, sizeof(pkt));
		memcpy(pkt + 2, &ck, 2);
	}
	if (send(st->fd, pkt, sizeof(pkt), 0) < 0)
		goto fail;
	run->impl = st;
	ev_timer_init(&st->deadline, ping_timeout, run);
	if (ev_io_start(run->loop, &st->io, st->fd, EV_READ, ping_readable, run) != 0 ||
	    ev_timer_start(run->loop, &st->deadline, run->timeout_ns, 0) != 0) {
		ev_io_stop(run->loop, &st->io);
		goto fail;
	}
	return 0;
fail:;
	int e = errno;
	close(st->fd);
	free(st);
	run->impl = NULL;
	return lb_err(why, whylen, "ping: %s", strerror(e));
}

static void ping_cancel(struct check_run *run)
{
	if (run->impl != NULL)
		ping_close(run, run->impl);
}

const struct check_runner check_runner_ping = {
	.name = "ping",
	.start = ping_start,
	.cancel = ping_cancel,
};
