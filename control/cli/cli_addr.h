/* Service and real-server addresses as typed on the command line and as shown by ipvsadm. */
#ifndef DPDK_LB_CLI_ADDR_H
#define DPDK_LB_CLI_ADDR_H

#include <arpa/inet.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* "[" + IPv6 + "]:" + 5 digits + NUL, with room to spare. */
#define CLI_ENDPOINT_STRLEN (INET6_ADDRSTRLEN + 10)

struct cli_endpoint {
	int family;                   /* AF_INET or AF_INET6 */
	unsigned char bytes[16];      /* the address, for comparisons independent of spelling */
	char ip[INET6_ADDRSTRLEN];    /* canonical text, as sent to the daemon */
	unsigned port;                /* 0 when has_port is false */
	bool has_port;
};

/* Parses "tcp"/"udp" in any case into lower case; 0 or -1. */
int cli_parse_proto(const char *s, char out[4]);

/*
 * Parses "IPv4[:PORT]", "[IPv6][:PORT]" or a bare IPv6 address (then without port); the port
 * must be 1-65535 and is mandatory when port_required. 0, or -1 with a message in err.
 */
int cli_parse_endpoint(const char *s, bool port_required, struct cli_endpoint *ep, char *err,
		       size_t errlen);

/* The service key object {"vip", "port", "proto"} of the API. */
json_t *cli_service_key_json(const char *proto, const struct cli_endpoint *vip);

/* Writes "ip:port", or "[ip]:port" for IPv6, into buf. */
void cli_format_endpoint(char *buf, size_t len, const char *ip, long long port);

/* True when the daemon's ip text and port name the same endpoint as ep. */
bool cli_endpoint_equals(const struct cli_endpoint *ep, const char *ip, long long port);

#endif
