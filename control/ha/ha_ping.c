/* The ping node (ha_ping.h): raw ICMP/ICMPv6 echo on the pair's interface. */
#include "ha_ping.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ha_internal.h"

#define PING_PERIOD_NS 1000000000ull
#define PING_MISSES 3 /* unanswered echoes in a row before the node counts as unreachable */

static int fd = -1;
static uint16_t ident;
static uint16_t seq_sent;
static uint64_t next_ns = UINT64_MAX;
static uint32_t misses;
static bool answered; /* the last echo got its answer */
static bool reachable = true;

int ha_ping_open(char *err, size_t errlen)
{
	const struct lb_ha_cfg *c = &ha_rt.cfg;
	bool v6 = c->ping_node.family == AF_INET6;

	if (!c->has_ping_node)
		return 0;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ha_rt.ifname,
				 (socklen_t)strlen(ha_rt.ifname)) != 0) {
		snprintf(err, errlen, "ha.ping_node: ICMP socket on %s: %s", ha_rt.ifname,
			 strerror(errno));
		ha_ping_close();
		return -1;
	}
	ident = (uint16_t)(getpid() ^ 0x4c42);
	answered = true;
	next_ns = 0;
	return 0;
}

void ha_ping_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	next_ns = UINT64_MAX;
}

int ha_ping_fd(void)
{
	return fd;
}

uint64_t ha_ping_next_ns(void)
{
	return next_ns;
}

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void send_echo(void)
{
	const struct lb_addr *a = &ha_rt.cfg.ping_node;
	uint8_t pkt[16] = {0};
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	seq_sent++;
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->v6, 16);
		len = sizeof(*s6);
		pkt[0] = ICMP6_ECHO_REQUEST; /* the kernel fills the ICMPv6 checksum */
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = a->v4;
		len = sizeof(*s4);
		pkt[0] = ICMP_ECHO;
	}
	pkt[4] = (uint8_t)(ident >> 8);
	pkt[5] = (uint8_t)ident;
	pkt[6] = (uint8_t)(seq_sent >> 8);
	pkt[7] = (uint8_t)seq_sent;
	if (a->family == AF_INET) {
		uint16_t c = csum16(pkt, sizeof(pkt));
		pkt[2] = (uint8_t)(c >> 8);
		pkt[3] = (uint8_t)c;
	}
	(void)sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, len);
}

/* Whether buf is the answer to our last echo (IPv4 raw sockets include the IP header). */
static bool is_our_answer(const uint8_t *buf, ssize_t n)
{
	bool v6 = ha_rt.cfg.ping_node.family == AF_INET6;
	size_t off = v6 ? 0 : (size_t)(buf[0] & 0x0f) * 4;

	if (n < 0 || (size_t)n < off + 8)
		return false;
	const uint8_t *icmp = buf + off;
	return icmp[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) &&
	       (uint16_t)(icmp[4] << 8 | icmp[5]) == ident &&
	       (uint16_t)(icmp[6] << 8 | icmp[7]) == seq_sent;
}

int ha_ping_poll(uint64_t now, bool readable)
{
	int changed = -1;

	if (fd < 0)
		return -1;
	while (readable) {
		uint8_t buf[256];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		if (is_our_answer(buf, n)) {
			answered = true;
			misses = 0;
			if (!reachable) {
				reachable = true;
				changed = 1;
			}
		}
	}
	if (now < next_ns)
		return changed;
	if (!answered && ++misses >= PING_MISSES && reachable) {
		reachable = false;
		changed = 0;
	}
	answered = false;
	send_echo();
	next_ns = now + PING_PERIOD_NS;
	return changed;
}
