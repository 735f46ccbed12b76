/* Parsing of PROTO and VIP:PORT / RIP[:PORT] arguments, and ipvsadm's endpoint notation. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli_addr.h"
#include "cli_args.h"

int cli_parse_proto(const char *s, char out[4])
{
	if (strcasecmp(s, "tcp") == 0)
		memcpy(out, "tcp", 4);
	else if (strcasecmp(s, "udp") == 0)
		memcpy(out, "udp", 4);
	else
		return -1;
	return 0;
}

/* Fills ep's address fields from the text of an address without port; 0 or -1. */
static int set_address(struct cli_endpoint *ep, const char *text, size_t len, bool want_v6)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	ep->family = want_v6 ? AF_INET6 : AF_INET;
	if (inet_pton(ep->family, buf, ep->bytes) != 1)
		return -1;
	/* Send the canonical spelling, so the daemon's answers compare equal textually too. */
	return inet_ntop(ep->family, ep->bytes, ep->ip, sizeof(ep->ip)) != NULL ? 0 : -1;
}

int cli_parse_endpoint(const char *s, bool port_required, struct cli_endpoint *ep, char *err,
		       size_t errlen)
{
	const char *port_text = NULL;
	unsigned long port;

	memset(ep, 0, sizeof(*ep));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || set_address(ep, s + 1, (size_t)(close - s - 1), true) != 0) {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT", s);
			return -1;
		}
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT", s);
			return -1;
		}
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Several colons: a bare IPv6 address, which cannot carry a port. */
			if (set_address(ep, s, strlen(s), true) != 0) {
				snprintf(err, errlen,
					 "'%s': not an address (write IPv6 as [addr]:port)", s);
				return -1;
			}
		} else {
			size_t len = colon != NULL ? (size_t)(colon - s) : strlen(s);
			if (set_address(ep, s, len, false) != 0) {
				snprintf(err, errlen, "'%s': not an IPv4 address", s);
				return -1;
			}
			if (colon != NULL)
				port_text = colon + 1;
		}
	}
	if (port_text != NULL) {
		if (cli_parse_ulong(port_text, 0, 65535, &port) != 0) {
			snprintf(err, errlen, "'%s': port must be 0-65535 (0: a service group)", s);
			return -1;
		}
		ep->port = (unsigned)port;
		ep->has_port = true;
	} else if (port_required) {
		snprintf(err, errlen, "'%s': a port is required (ADDRESS:PORT, [IPv6]:PORT)", s);
		return -1;
	}
	return 0;
}

json_t *cli_service_key_json(const char *proto, const struct cli_endpoint *vip)
{
	return json_pack("{s:s, s:i, s:s}", "vip", vip->ip, "port", (int)vip->port, "proto", proto);
}

void cli_format_endpoint(char *buf, size_t len, const char *ip, long long port)
{
	if (strchr(ip, ':') != NULL)
		snprintf(buf, len, "[%s]:%lld", ip, port);
	else
		snprintf(buf, len, "%s:%lld", ip, port);
}

bool cli_endpoint_equals(const struct cli_endpoint *ep, const char *ip, long long port)
{
	unsigned char bytes[16];

	if (!ep->has_port || (long long)ep->port != port)
		return false;
	if (inet_pton(ep->family, ip, bytes) != 1)
		return false;
	return memcmp(bytes, ep->bytes, ep->family == AF_INET ? 4 : 16) == 0;
}
