/* rtnetlink RTM_NEWADDR / RTM_DELADDR and SIOCSIFFLAGS (kernel_addr.h). */
#include "kernel_addr.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct addr_request {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[2 * RTA_SPACE(16)];
};

static void add_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends req and waits (at most 1 s: the kernel answers at once) for its ack; 0 or -errno. */
static int nl_transact(struct nlmsghdr *req)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = 1};
	char buf[512];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int rc = -EIO;

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		goto out;
	}
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned int)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR && nh->nlmsg_seq == req->nlmsg_seq) {
			rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error; /* 0: the ack */
			break;
		}
	}
out:
	close(fd);
	return rc;
}

int kernel_addr_change(bool add, const char *ifname, const struct lb_addr *a)
{
	static uint32_t seq;
	struct addr_request req;
	unsigned int ifindex = if_nametoindex(ifname);
	size_t len = a->family == AF_INET ? 4 : 16;

	if (ifindex == 0)
		return -ENODEV;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.nh.nlmsg_seq = ++seq;
	req.ifa.ifa_family = a->family;
	req.ifa.ifa_prefixlen = (unsigned char)(len * 8);
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = ifindex;
	const void *bytes = a->family == AF_INET ? (const void *)&a->v4 : (const void *)a->v6;
	add_attr(&req.nh, IFA_LOCAL, bytes, len);
	add_attr(&req.nh, IFA_ADDRESS, bytes, len);
	return nl_transact(&req.nh);
}

int kernel_link_up(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		rc = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}
