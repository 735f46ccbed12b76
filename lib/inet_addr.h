/* Addresses of either family, as the config, the RPC and the dataplane carry them. */
#ifndef DPDK_LB_INET_ADDR_H
#define DPDK_LB_INET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address in network byte order; unused bytes are zero so keys compare with memcmp. */
struct lb_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 = unset */
	uint8_t reserved[3];
	union {
		uint32_t v4;
		uint8_t v6[16];
	};
};

#define LB_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define LB_ADDR_PORT_STRLEN (LB_ADDR_STRLEN + 8)

/* Parses a dotted IPv4 or textual IPv6 address; returns 0 or -1. */
int lb_addr_parse(const char *text, struct lb_addr *out);

/* Parses "ADDR/PREFIX" (prefix optional: full length); returns 0 or -1. */
int lb_addr_parse_prefix(const char *text, struct lb_addr *out, uint8_t *prefix_len);

/* Formats an address into buf (at least LB_ADDR_STRLEN bytes); returns buf. */
const char *lb_addr_format(const struct lb_addr *a, char *buf, size_t len);

/* Formats "a.b.c.d:port" or "[v6]:port" into buf; returns buf. */
const char *lb_addr_port_format(const struct lb_addr *a, uint16_t port, char *buf, size_t len);

/* True when both addresses are the same family and value. */
bool lb_addr_equal(const struct lb_addr *a, const struct lb_addr *b);

/* Orders addresses (family first, then bytes); a stable key for canonical orders. */
int lb_addr_compare(const struct lb_addr *a, const struct lb_addr *b);

/* True when a and b share the first prefix_len bits (same family required). */
bool lb_addr_same_prefix(const struct lb_addr *a, const struct lb_addr *b, uint8_t prefix_len);

/* Builds an IPv4 lb_addr from a network-order value. */
static inline struct lb_addr lb_addr_from_v4(uint32_t be_addr)
{
	struct lb_addr a = {0};
	a.family = AF_INET;
	a.v4 = be_addr;
	return a;
}

static inline struct lb_addr lb_addr_from_v6(const uint8_t be_addr[16])
{
	struct lb_addr a = {0};
	a.family = AF_INET6;
	for (int i = 0; i < 16; i++)
		a.v6[i] = be_addr[i];
	return a;
}

/* Parses "aa:bb:cc:dd:ee:ff"; returns 0 or -1. */
int lb_mac_parse(const char *text, uint8_t mac[6]);

/* Formats a MAC into buf (at least 18 bytes); returns buf. */
const char *lb_mac_format(const uint8_t mac[6], char *buf, size_t len);

/* Parses "a.b.c.d:PORT" or "[v6]:PORT" (port 1-65535, decimal); returns 0 or -1. */
int lb_addr_port_parse(const char *text, struct lb_addr *out, uint16_t *port);

#endif
