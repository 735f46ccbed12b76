/*
 * Exception path (exception.h). Who touches what, so that every queue keeps one writer:
 * - workers: enqueue kernel-bound frames on their own SP/SC `to_kernel` ring; never touch a tap;
 * - control lcore: the taps' only user (RX and TX queue 0), and the only producer of worker 0's
 *   `from_control` ring, on which kernel frames reach worker 0's TX queue of their port.
 * The interface is set up with ioctls once at start (address, netmask, IPv6 address) and one
 * /proc write per interface (IPv6 on, no duplicate address detection): no netlink library, no
 * `ip` command.
 */
#include "exception.h"
#include "neigh.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "lb_log.h"
#include "pkt_parse.h"
#include "vlan.h"

#define KERNEL_RING_SIZE 1024
#define KERNEL_DESCRIPTORS 512
#define TAP_RX_BURSTS_PER_POLL 8 /* at most 8 x LB_BURST frames from each kernel per turn */
#define TO_KERNEL_PER_POLL 256   /* ... and to it from each worker */

/* Control lcore only: the kernel's side, and neighbour frames on their way to it. */
static struct lb_token_bucket tx_bucket;
static struct lb_token_bucket neighbour_bucket;

/* linux/ipv6.h's struct in6_ifreq, which cannot be included next to netinet/in.h */
struct lb_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

/* /proc/sys/net/<ip>/conf/<ifname>/<knob> = value; ip is "ipv4" or "ipv6". */
static int write_proc(const char *ip, const char *ifname, const char *knob, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", ip, ifname, knob);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int set_ipv4(const char *ifname, const struct lb_addr *a, uint8_t prefix, char *err,
		    size_t errlen)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return lb_err(err, errlen, "%s: socket: %s", ifname, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a->v4;
	int rc = ioctl(fd, SIOCSIFADDR, &ifr);
	if (rc == 0) {
		sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
		rc = ioctl(fd, SIOCSIFNETMASK, &ifr);
	}
	int saved = errno;
	close(fd);
	if (rc != 0)
		return lb_err(err, errlen, "%s: setting its IPv4 address: %s", ifname, strerror(saved));
	/*
	 * The kernel's ARP requests must come from this address: the dataplane passes the kernel
	 * the replies addressed to the port's address only, not those to a VIP the kernel answers
	 * from (the holding page, control/holding_page.c).
	 */
	if (write_proc("ipv4", ifname, "arp_announce", "2") != 0)
		return lb_err(err, errlen, "%s: cannot set arp_announce (/proc/sys/net/ipv4/conf/%s): %s",
			      ifname, ifname, strerror(errno));
	return 0;
}

static int set_ipv6(const char *ifname, const struct lb_addr *a, uint8_t prefix, char *err,
		    size_t errlen)
{
	struct lb_in6_ifreq req;

	/* The dataplane owns and defends the address: the kernel must not probe for it. */
	if (write_proc("ipv6", ifname, "disable_ipv6", "0") != 0 ||
	    write_proc("ipv6", ifname, "accept_dad", "0") != 0)
		return lb_err(err, errlen, "%s: cannot enable IPv6 (/proc/sys/net/ipv6/conf/%s): %s",
			      ifname, ifname, strerror(errno));
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lb_err(err, errlen, "%s: IPv6 socket: %s", ifname, strerror(errno));
	memset(&req, 0, sizeof(req));
	memcpy(&req.addr, a->v6, 16);
	req.prefixlen = prefix;
	req.ifindex = (int)if_nametoindex(ifname);
	int rc = ioctl(fd, SIOCSIFADDR, &req);
	int saved = errno;
	close(fd);
	if (rc != 0)
		return lb_err(err, errlen, "%s: setting its IPv6 address: %s", ifname, strerror(saved));
	return 0;
}

static int set_address(const char *ifname, const struct lb_addr *a, uint8_t prefix, char *err,
		       size_t errlen)
{
	return a->family == AF_INET ? set_ipv4(ifname, a, prefix, err, errlen)
				    : set_ipv6(ifname, a, prefix, err, errlen);
}

/* The config key path of link: "ports[0]", or "ports[0].vlans (VLAN 10)" (static buffer). */
static const char *link_path(uint16_t link)
{
	static char path[48];
	const struct lb_port *l = &lb_rt.ports[link];

	if (link < lb_rt.n_ports)
		snprintf(path, sizeof(path), "ports[%u]", link);
	else
		snprintf(path, sizeof(path), "ports[%u].vlans (VLAN %u)", l->phys, l->vlan_id);
	return path;
}

/* A net_tap port named after the DPDK port, started, with one queue pair. */
static int tap_create(uint16_t port, const char *ifname, char *err, size_t errlen)
{
	struct lb_port *p = &lb_rt.ports[port];
	const uint8_t *mac = p->mac.addr_bytes;
	char name[32], devargs[160];
	struct rte_eth_conf conf;
	uint16_t id;

	snprintf(name, sizeof(name), "net_tap_dlb%u", port);
	snprintf(devargs, sizeof(devargs), "%s,iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", name,
		 ifname, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	int rc = rte_dev_probe(devargs);
	if (rc != 0 || rte_eth_dev_get_port_by_name(name, &id) != 0)
		return lb_err(err, errlen, "%s.kernel_interface: cannot create \"%s\" (net_tap: "
			      "%s); an interface of that name may exist already", link_path(port),
			      ifname, rte_strerror(rc ? -rc : ENODEV));
	p->kernel_port_id = id;
	p->has_kernel_if = true;
	memset(&conf, 0, sizeof(conf));
	int socket = rte_eth_dev_socket_id(id);
	if ((rc = rte_eth_dev_configure(id, 1, 1, &conf)) != 0 ||
	    (rc = rte_eth_rx_queue_setup(id, 0, KERNEL_DESCRIPTORS, socket, NULL, lb_rt.pool)) != 0 ||
	    (rc = rte_eth_tx_queue_setup(id, 0, KERNEL_DESCRIPTORS, socket, NULL)) != 0 ||
	    (rc = rte_eth_dev_set_mtu(id, p->mtu)) != 0 || (rc = rte_eth_dev_start(id)) != 0)
		return lb_err(err, errlen, "%s.kernel_interface \"%s\": %s", link_path(port), ifname,
			      rte_strerror(-rc));
	return 0;
}

int exception_init(const struct lb_config *cfg, char *err, size_t errlen)
{
	uint64_t hz = rte_get_tsc_hz(), now = rte_rdtsc();
	uint32_t nw = lb_rt.n_workers ? lb_rt.n_workers : 1;

	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		struct lb_worker *wk = lb_rt.workers[w];
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "to_kernel_w%u", w);
		wk->to_kernel = rte_ring_create(name, KERNEL_RING_SIZE, rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (wk->to_kernel == NULL)
			return lb_err(err, errlen, "exception path: ring %s: %s", name,
				      rte_strerror(rte_errno));
		/* each worker polices its share: no shared state on the fast path */
		uint32_t rate = cfg->exception_rx_pps / nw, burst = cfg->exception_burst / nw;
		lb_token_bucket_init(&wk->exception_rx, hz, rate ? rate : 1, burst ? burst : 1, now);
	}
	lb_token_bucket_init(&tx_bucket, hz, cfg->exception_tx_pps, cfg->exception_burst, now);
	lb_token_bucket_init(&neighbour_bucket, hz, cfg->exception_rx_pps, cfg->exception_burst, now);
	for (uint16_t port = 0; port < lb_rt.n_links; port++) { /* ports, then VLANs */
		const struct lb_port_cfg *pc = vlan_link_cfg(cfg, port);
		const struct lb_port *p = &lb_rt.ports[port];
		if (pc == NULL || pc->kernel_interface[0] == '\0')
			continue;
		if (tap_create(port, pc->kernel_interface, err, errlen) != 0 ||
		    (p->has_address &&
		     set_address(pc->kernel_interface, &p->address, p->prefix_len, err, errlen)) ||
		    (p->has_address6 &&
		     set_address(pc->kernel_interface, &p->address6, p->prefix_len6, err, errlen)))
			return -1;
		LB_LOG(NOTICE, "port %u: kernel interface %s (exception path)", port,
		       pc->kernel_interface);
	}
	return 0;
}

void exception_close(void)
{
	for (uint16_t p = 0; p < lb_rt.n_links; p++) {
		if (!lb_rt.ports[p].has_kernel_if)
			continue;
		rte_eth_dev_stop(lb_rt.ports[p].kernel_port_id);
		rte_eth_dev_close(lb_rt.ports[p].kernel_port_id);
		lb_rt.ports[p].has_kernel_if = false;
	}
}

/* AF_INET6 for an IPv6 frame, else AF_INET (ARP and other frames count as IPv4). */
static int frame_family(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t off = 12, len = rte_pktmbuf_data_len(m);

	while (off + 2 <= len && ((f[off] << 8 | f[off + 1]) == 0x8100 ||
				  (f[off] << 8 | f[off + 1]) == 0x88A8))
		off += 4; /* past a VLAN tag */
	return off + 2 <= len && (f[off] << 8 | f[off + 1]) == 0x86DD ? AF_INET6 : AF_INET;
}

void exception_to_kernel(struct lb_worker *w, struct rte_mbuf *m, uint64_t now,
			 enum lb_drop_reason none)
{
	if (!lb_rt.ports[m->port].has_kernel_if) {
		LB_COUNTER_ADD(w->stats->drops[none], 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (!lb_token_bucket_take(&w->exception_rx, now) || rte_ring_sp_enqueue(w->to_kernel, m) != 0) {
		LB_COUNTER_ADD(w->stats->exception_dropped, 1);
		rte_pktmbuf_free(m);
		return;
	}
	LB_COUNTER_ADD(w->stats->exception_rx, 1);
	LB_COUNTER_ADD(LB_PROTOCOL_STATS(w, frame_family(m))->to_exception, 1);
}

/* Writes m to its port's kernel interface; false (m freed) when the interface refused it. */
static bool tap_write(struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(lb_rt.ports[m->port].kernel_port_id, 0, &m, 1) == 1)
		return true;
	rte_pktmbuf_free(m);
	return false;
}

void exception_neighbour_frame(struct rte_mbuf *m, uint64_t now)
{
	struct pkt_info info;
	struct lb_addr to = {0};
	bool for_kernel = false;

	if (m->port < lb_rt.n_links && lb_rt.ports[m->port].has_kernel_if) {
		switch (pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				  &info)) {
		case PKT_PARSE_ARP:
			/* replies to the kernel's requests; requests for us are answered by workers */
			to = lb_addr_from_v4(info.arp.tpa);
			for_kernel = info.arp.op != PKT_ARP_REQUEST;
			break;
		case PKT_PARSE_IPV6:
			to = pkt_dst_addr(&info);
			for_kernel = true;
			break;
		default:
			break;
		}
		for_kernel = for_kernel && exception_is_port_address(m->port, &to);
	}
	/* counted once already, as neighbour_frames: the kernel's copy is a courtesy */
	if (!for_kernel || !lb_token_bucket_take(&neighbour_bucket, now))
		rte_pktmbuf_free(m);
	else
		(void)tap_write(m);
}

static void to_kernel(uint64_t now)
{
	struct lb_worker_stats *cs = &lb_rt.control_stats;
	void *objs[LB_BURST];

	(void)now;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		struct rte_ring *r = lb_rt.workers[w]->to_kernel;
		for (unsigned int done = 0; r != NULL && done < TO_KERNEL_PER_POLL;) {
			unsigned int n = rte_ring_sc_dequeue_burst(r, objs, LB_BURST, NULL);
			if (n == 0)
				break;
			done += n;
			for (unsigned int i = 0; i < n; i++)
				if (!tap_write(objs[i]))
					LB_COUNTER_ADD(cs->exception_dropped, 1);
		}
	}
}

static void from_kernel(uint64_t now)
{
	struct lb_worker_stats *cs = &lb_rt.control_stats;
	struct rte_mbuf *pkts[LB_BURST];

	if (lb_rt.n_workers == 0)
		return;
	for (uint16_t port = 0; port < lb_rt.n_links; port++) {
		if (!lb_rt.ports[port].has_kernel_if)
			continue;
		for (int b = 0; b < TAP_RX_BURSTS_PER_POLL; b++) {
			uint16_t n = rte_eth_rx_burst(lb_rt.ports[port].kernel_port_id, 0, pkts, LB_BURST);
			for (uint16_t i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];
				m->port = port; /* worker 0 transmits it on the DPDK port */
				if (!lb_token_bucket_take(&tx_bucket, now) ||
				    rte_ring_sp_enqueue(lb_rt.workers[0]->from_control, m) != 0) {
					rte_pktmbuf_free(m);
					LB_COUNTER_ADD(cs->exception_dropped, 1);
					continue;
				}
				LB_COUNTER_ADD(cs->exception_tx, 1);
			}
			if (n < LB_BURST)
				break;
		}
	}
}

void exception_poll(uint64_t now)
{
	to_kernel(now);
	from_kernel(now);
}

void exception_neighbour_poll(uint64_t now)
{
	void *objs[32];

	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		unsigned int n = rte_ring_dequeue_burst(lb_rt.workers[w]->to_control, objs, 32, NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = objs[i];
			neigh_table_learn(lb_rt.neigh, rte_pktmbuf_mtod(m, const uint8_t *),
					  rte_pktmbuf_data_len(m), m->port, now);
			exception_neighbour_frame(m, now);
		}
	}
}
