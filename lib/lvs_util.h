/* Pieces shared by the LVS importers and exporters (lib/lvs_*.c); not a public interface. */
#ifndef DPDK_LB_LVS_UTIL_H
#define DPDK_LB_LVS_UTIL_H

#include <stdbool.h>

#include "lvs_import.h"

#define LVS_ADDR_LEN 46

/* Appends {"line", "message"} to imp->errors / imp->notes. */
void lvs_error(struct lb_import *imp, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lvs_note(struct lb_import *imp, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Starts an empty import. */
void lvs_import_init(struct lb_import *imp);

/*
 * Parses ADDR, ADDR:PORT or [V6]:PORT (PORT a number or a well-known service name) into a
 * normalised address and *port (-1 when absent); 0, or -1 with why set.
 */
int lvs_parse_hostport(const char *s, char addr[LVS_ADDR_LEN], int *port, char *why,
		       size_t whylen);

/* A decimal in [min, max] with nothing after it; 0 or -1. */
int lvs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* The service group for firewall mark `mark` from fwmarks (new reference), or NULL with why. */
json_t *lvs_fwmark_service(const json_t *fwmarks, unsigned long mark, char *why, size_t whylen);

/* Adds a service and its line to imp; returns its index. */
size_t lvs_add_service(struct lb_import *imp, json_t *svc, unsigned line);

/* Adds a real to service idx and its line. */
void lvs_add_real(struct lb_import *imp, size_t idx, json_t *real, unsigned line);

/* Index of the service with this key in imp (port 0 and mark for groups), or -1. */
long lvs_find_service(const struct lb_import *imp, const char *proto, const char *vip, long port,
		      unsigned long mark);

/* "10.0.0.1:80" or "[2001:db8::1]:80" into buf. */
const char *lvs_format_hostport(const char *addr, long port, char *buf, size_t len);

#endif
