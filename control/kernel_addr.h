/*
 * Host addresses on the kernel's interfaces of the daemon's network namespace, by rtnetlink
 * (no netlink library, no `ip` command). Control lcore; each call is one short request/ack.
 */
#ifndef DPDK_LB_KERNEL_ADDR_H
#define DPDK_LB_KERNEL_ADDR_H

#include <stdbool.h>

#include "inet_addr.h"

/*
 * Adds (add) or removes a's host address (/32 or /128, scope global) on interface ifname.
 * 0; -EEXIST when adding an address the interface has already, -EADDRNOTAVAIL when removing
 * one it does not have; another -errno otherwise.
 */
int kernel_addr_change(bool add, const char *ifname, const struct lb_addr *a);

/* Sets interface ifname up (a fresh namespace's `lo` is down); 0 or -errno. */
int kernel_link_up(const char *ifname);

#endif
