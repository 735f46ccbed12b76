/*
 * dpdk-lb-setup: what a host needs before the daemon's EAL starts, from the configuration's
 * `system` section (docs/config.md, docs/install.md). Every step says what it did; a step that
 * cannot be done stops the helper with a message saying what is missing and how to fix it.
 */
#ifndef DPDK_LB_SETUP_H
#define DPDK_LB_SETUP_H

#include <stdbool.h>

#include "config.h"

struct setup_opts {
	const char *root;    /* prefix of /sys and /proc paths ("" = the host; tests give a tree) */
	const char *devbind; /* the NIC binding tool (dpdk-devbind.py) */
	bool dry_run;        /* say what would be done, change nothing */
};

/* Reserves s->hugepages pages and mounts hugetlbfs when needed; 0, or -1 after saying why. */
int setup_hugepages(const struct lb_system_cfg *s, const struct setup_opts *o);

/* Binds each of s->nics to its driver; 0, or -1 after saying why. */
int setup_nics(const struct lb_system_cfg *s, const struct setup_opts *o);

/* Prints "dpdk-lb-setup: " and the message to stderr; returns -1. */
int setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "dpdk-lb-setup: " and the message to stdout. */
void setup_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
