#include "inet_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_addr_parse(const char *text, struct lb_addr *out)
{
	struct lb_addr a;

	memset(&a, 0, sizeof(a));
	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, &a.v4) == 1) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, text, a.v6) == 1) {
		a.family = AF_INET6;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

int lb_addr_parse_prefix(const char *text, struct lb_addr *out, uint8_t *prefix_len)
{
	char buf[LB_ADDR_STRLEN + 8];
	const char *slash;
	size_t addr_len;
	long plen;
	char *end;

	if (text == NULL)
		return -1;
	slash = strchr(text, '/');
	addr_len = slash ? (size_t)(slash - text) : strlen(text);
	if (addr_len == 0 || addr_len >= sizeof(buf))
		return -1;
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';
	if (lb_addr_parse(buf, out) != 0)
		return -1;
	if (slash == NULL) {
		*prefix_len = out->family == AF_INET ? 32 : 128;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9') /* strtol would accept "+24" and " 24" */
		return -1;
	plen = strtol(slash + 1, &end, 10);
	if (*end != '\0' || plen < 0 || plen > (out->family == AF_INET ? 32 : 128))
		return -1;
	*prefix_len = (uint8_t)plen;
	return 0;
}

const char *lb_addr_format(const struct lb_addr *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (a->family == AF_INET || a->family == AF_INET6) {
		if (inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 : (const void *)a->v6,
			      buf, (socklen_t)len) != NULL)
			return buf;
	}
	snprintf(buf, len, "?");
	return buf;
}

const char *lb_addr_port_format(const struct lb_addr *a, uint16_t port, char *buf, size_t len)
{
	char ab[LB_ADDR_STRLEN];

	lb_addr_format(a, ab, sizeof(ab));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ab, port);
	else
		snprintf(buf, len, "%s:%u", ab, port);
	return buf;
}

bool lb_addr_equal(const struct lb_addr *a, const struct lb_addr *b)
{
	return lb_addr_compare(a, b) == 0;
}

int lb_addr_compare(const struct lb_addr *a, const struct lb_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == AF_INET)
		return memcmp(&a->v4, &b->v4, 4);
	return memcmp(a->v6, b->v6, 16);
}

bool lb_addr_same_prefix(const struct lb_addr *a, const struct lb_addr *b, uint8_t prefix_len)
{
	const uint8_t *pa, *pb;
	unsigned int full, rem;

	if (a->family != b->family)
		return false;
	pa = a->family == AF_INET ? (const uint8_t *)&a->v4 : a->v6;
	pb = b->family == AF_INET ? (const uint8_t *)&b->v4 : b->v6;
	full = prefix_len / 8;
	rem = prefix_len % 8;
	if (memcmp(pa, pb, full) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((pa[full] ^ pb[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lb_mac_parse(const char *text, uint8_t mac[6])
{
	uint8_t out[6];

	/* Exactly "hh:hh:hh:hh:hh:hh": scanf's %x would also take signs and blanks. */
	if (text == NULL || strlen(text) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hex_value(text[i * 3]), lo = hex_value(text[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, out, 6);
	return 0;
}

const char *lb_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

int lb_addr_port_parse(const char *text, struct lb_addr *out, uint16_t *port)
{
	char host[LB_ADDR_STRLEN];
	const char *colon = strrchr(text, ':');
	bool bracketed = text[0] == '[';
	size_t hlen;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - text);
	if (bracketed) { /* brackets required around IPv6, and only there */
		if (hlen < 3 || text[hlen - 1] != ']')
			return -1;
		text++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (lb_addr_parse(host, out) != 0 || (out->family == AF_INET6) != bracketed)
		return -1;
	const char *d = colon + 1;
	unsigned long v = 0;
	if (*d == '\0' || strlen(d) > 5)
		return -1;
	for (; *d != '\0'; d++) {
		if (*d < '0' || *d > '9')
			return -1;
		v = v * 10 + (unsigned long)(*d - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}
