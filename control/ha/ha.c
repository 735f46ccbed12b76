/* The failover pair's set-up, shared state and what the RPC side asks of it (ha.h). */
#include "ha.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "config_store.h"
#include "event_loop.h"
#include "ha_internal.h"
#include "vlan.h"

struct ha_runtime ha_rt;
struct ha_shared ha_sh = {.lock = PTHREAD_MUTEX_INITIALIZER};
int ha_wake_fd = -1;
uint8_t ha_pending_garp;
uint64_t ha_config_generation;

static struct ev_loop *ha_loop;
static struct ev_io wake_io;
static bool started;

uint64_t ha_now_ns(void)
{
	return ev_now_ns();
}

uint64_t ha_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ha_wake_control(void)
{
	uint64_t one = 1;

	if (write(ha_wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LB_LOG(ERR, "ha: waking the control loop: %s", strerror(errno));
}

const char *ha_sockaddr_format(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	const void *a = sa->ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (sa->ss_family != AF_INET && sa->ss_family != AF_INET6)
		snprintf(buf, len, "-");
	else if (inet_ntop(sa->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static void to_sockaddr(const struct lb_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->v6, 16);
		if (a->v6[0] == 0xff || (a->v6[0] == 0xfe && (a->v6[1] & 0xc0) == 0x80))
			s6->sin6_scope_id = ha_rt.ifindex;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = a->v4;
	}
}

static int join_group(int fd, char *err, size_t errlen)
{
	const struct lb_addr *g = &ha_rt.cfg.group;
	int off = 0, ttl = 1;
	int rc;

	if (g->family == AF_INET) {
		struct ip_mreqn mr = {.imr_multiaddr.s_addr = g->v4, .imr_ifindex = (int)ha_rt.ifindex};
		rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off)) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	} else {
		struct ipv6_mreq mr = {.ipv6mr_interface = ha_rt.ifindex};
		unsigned int ifi = ha_rt.ifindex;
		memcpy(&mr.ipv6mr_multiaddr, g->v6, 16);
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifi, sizeof(ifi)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl));
	}
	if (rc != 0)
		return lb_err(err, errlen, "ha.group: joining on %s: %s", ha_rt.ifname,
			      strerror(errno));
	return 0;
}

int ha_socket_open(uint16_t port, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(ha_rt.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_storage any;
	struct lb_addr unspecified = {.family = (uint8_t)ha_rt.family};

	if (fd < 0)
		return lb_err(err, errlen, "ha: socket: %s", strerror(errno));
	to_sockaddr(&unspecified, port, &any);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ha_rt.ifname,
		       (socklen_t)strlen(ha_rt.ifname)) != 0 ||
	    bind(fd, (struct sockaddr *)&any, ha_rt.dest_len) != 0) {
		lb_err(err, errlen, "ha: UDP port %u on %s: %s", port, ha_rt.ifname, strerror(errno));
		close(fd);
		return -1;
	}
	if (ha_rt.cfg.has_group && join_group(fd, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The heartbeat thread asked for something (a role change, a burst of announcements). */
static void on_wake(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	uint64_t n;

	(void)loop;
	(void)io;
	(void)events;
	if (read(ha_wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	uint8_t garp = __atomic_exchange_n(&ha_pending_garp, 0, __ATOMIC_ACQ_REL);
	if (garp != 0 && __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE) == HA_STATE_MASTER)
		ha_garp_send(garp);
	ha_sync_poll(ha_now_ns());
}

static int runtime_from_config(const struct lb_config *c, char *err, size_t errlen)
{
	const struct lb_ha_cfg *h = &c->ha;

	ha_rt.cfg = *h;
	if (ha_wire_key_set(&ha_rt.key, h->key, h->key_len) != 0)
		return lb_err(err, errlen, "ha.key: %u bytes, not 16-64", h->key_len);
	snprintf(ha_rt.ifname, sizeof(ha_rt.ifname), "%s", c->ports[h->port].kernel_interface);
	ha_rt.ifindex = if_nametoindex(ha_rt.ifname);
	if (ha_rt.ifindex == 0)
		return lb_err(err, errlen, "ha.port: kernel interface %s: %s", ha_rt.ifname,
			      strerror(errno));
	ha_rt.family = h->n_peers ? h->peers[0].family : h->group.family;
	ha_rt.dest_len = ha_rt.family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	ha_rt.n_dest = 0;
	for (uint32_t i = 0; i < h->n_peers; i++, ha_rt.n_dest++) {
		to_sockaddr(&h->peers[i], (uint16_t)h->heartbeat_port, &ha_rt.dest_hb[ha_rt.n_dest]);
		to_sockaddr(&h->peers[i], (uint16_t)h->sync_port, &ha_rt.dest_sync[ha_rt.n_dest]);
	}
	if (h->has_group) {
		to_sockaddr(&h->group, (uint16_t)h->heartbeat_port, &ha_rt.dest_hb[ha_rt.n_dest]);
		to_sockaddr(&h->group, (uint16_t)h->sync_port, &ha_rt.dest_sync[ha_rt.n_dest]);
		ha_rt.n_dest++;
	}
	return 0;
}

int ha_init(struct ev_loop *loop, char *err, size_t errlen)
{
	const struct lb_config *c = lb_rt.config;

	if (!c->ha.enabled)
		return 0;
	if (runtime_from_config(c, err, errlen) != 0)
		return -1;
	lb_rt.ha_port = (uint16_t)c->ha.port;
	lb_rt.ha_has_group = c->ha.has_group;
	lb_rt.ha_group = c->ha.group;
	__atomic_store_n(&lb_rt.ha_state, HA_STATE_INIT, __ATOMIC_RELEASE);
	lb_rt.ha_enabled = true;
	ha_sh.state = HA_STATE_INIT;
	ha_sh.state_since_ns = ha_now_ns();
	ha_sh.ping_ok = true;
	__atomic_store_n(&ha_config_generation, config_store_generation(), __ATOMIC_RELAXED);
	ha_loop = loop;
	ha_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ha_wake_fd < 0 || ev_io_start(loop, &wake_io, ha_wake_fd, EV_READ, on_wake, NULL) != 0) {
		lb_err(err, errlen, "ha: eventfd: %s", strerror(errno));
		goto fail;
	}
	started = true;
	if (ha_sync_init(loop, err, errlen) != 0 || ha_heartbeat_start(err, errlen) != 0)
		goto fail;
	LB_LOG(NOTICE, "ha: node %u, priority %u, adverts every %u ms on %s", c->ha.node_id,
	       c->ha.priority, c->ha.advert_interval_ms, ha_rt.ifname);
	return 0;
fail:
	ha_shutdown();
	return -1;
}

#define FAREWELL_FLUSH_MS 30

/*
 * After the workers stopped: the stopping master's last advert (FAULT) went to the kernel
 * interface; carry what the kernel sends out through worker 0's queue ourselves for a moment
 * (the queue is free now), so the backup hears it and takes over after its skew.
 */
static void flush_farewell(void)
{
	uint64_t hz = rte_get_tsc_hz(), until = rte_rdtsc() + hz * FAREWELL_FLUSH_MS / 1000;
	struct lb_worker *w = lb_rt.n_workers ? lb_rt.workers[0] : NULL;
	void *objs[32];

	while (w != NULL && rte_rdtsc() < until) {
		exception_poll(rte_rdtsc());
		unsigned int n = rte_ring_dequeue_burst(w->from_control, objs, 32, NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = objs[i];
			int port = m->port < lb_rt.n_ports ? m->port
				   : m->port < lb_rt.n_links ? vlan_tx_tag(m, m->port) : -1;
			if (port < 0 || rte_eth_tx_burst(lb_rt.ports[port].port_id, 0, &m, 1) != 1)
				rte_pktmbuf_free(m);
		}
		if (n == 0)
			rte_delay_us_sleep(1000);
	}
}

void ha_shutdown(void)
{
	if (!lb_rt.ha_enabled)
		return;
	bool was_master = __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE) == HA_STATE_MASTER;
	ha_heartbeat_stop();
	if (was_master && __atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED))
		flush_farewell();
	ha_sync_close();
	if (started)
		ev_io_stop(ha_loop, &wake_io);
	started = false;
	if (ha_wake_fd >= 0)
		close(ha_wake_fd);
	ha_wake_fd = -1;
}

bool ha_is_backup(void)
{
	return lb_rt.ha_enabled &&
	       __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE) != HA_STATE_MASTER;
}

bool ha_refuse_change(char *msg, size_t msglen)
{
	char ab[LB_ADDR_STRLEN] = "unknown";
	uint32_t master = 0;

	if (!ha_is_backup())
		return false;
	pthread_mutex_lock(&ha_sh.lock);
	uint8_t state = ha_sh.state;
	for (int i = 0; i < LB_HA_MAX_PEERS; i++) {
		const struct ha_peer_info *p = &ha_sh.peers[i];
		if (p->used && p->node_id == ha_sh.master_id && p->advert.state == HA_STATE_MASTER) {
			master = p->node_id;
			ha_sockaddr_format(&p->from, ab, sizeof(ab));
		}
	}
	pthread_mutex_unlock(&ha_sh.lock);
	if (master != 0)
		snprintf(msg, msglen, "this node is %s; the master is node %u at %s: make changes "
			 "there (or force)", ha_state_name(state), master, ab);
	else
		snprintf(msg, msglen, "this node is %s and knows no master yet: make changes on the "
			 "master (or force)", ha_state_name(state));
	return true;
}

void ha_poll(uint64_t now_ns)
{
	if (lb_rt.ha_enabled)
		ha_sync_poll(now_ns);
}
