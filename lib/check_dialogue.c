/* The dialogue driver shared by every protocol, and the table of protocols. */
#include "check_dialogue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One row per protocol file: adding a protocol is a new check_proto_NAME.c and a row here
 * (alphabetical). */
extern const struct check_proto check_proto_dns, check_proto_ftp, check_proto_http,
	check_proto_https, check_proto_imap, check_proto_ldap, check_proto_mysql, check_proto_nntp,
	check_proto_pop3, check_proto_simpletcp, check_proto_sip, check_proto_smtp;

static const struct check_proto *const protos[] = {
	&check_proto_dns,  &check_proto_ftp,  &check_proto_http,      &check_proto_https,
	&check_proto_imap, &check_proto_ldap, &check_proto_mysql,     &check_proto_nntp,
	&check_proto_pop3, &check_proto_simpletcp, &check_proto_sip, &check_proto_smtp,
};

#define N_PROTOS (sizeof(protos) / sizeof(protos[0]))

const struct check_proto *check_proto_find(const char *name)
{
	for (size_t i = 0; i < N_PROTOS; i++)
		if (protos[i] != NULL && strcmp(protos[i]->name, name) == 0)
			return protos[i];
	return NULL;
}

const struct check_proto *check_proto_for_port(uint16_t port)
{
	for (size_t i = 0; i < N_PROTOS; i++)
		if (protos[i] != NULL && protos[i]->default_port == port && port != 0)
			return protos[i];
	return NULL;
}

const char *check_proto_names(void)
{
	static char names[256];

	if (names[0] == '\0') {
		size_t off = 0;
		for (size_t i = 0; i < N_PROTOS; i++)
			if (protos[i] != NULL)
				off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
							off ? ", " : "", protos[i]->name);
	}
	return names;
}

void check_dialogue_begin(struct check_dialogue *d, const struct check_proto *proto,
			  const struct check_params *params)
{
	d->proto = proto;
	d->params = params;
	d->step = 0;
	d->rx_len = 0;
	d->tx_len = 0;
	d->why[0] = '\0';
	memset(d->scratch, 0, sizeof(d->scratch));
	if (proto->start != NULL)
		proto->start(d);
}

enum check_verdict check_dialogue_feed(struct check_dialogue *d, const uint8_t *data, size_t len)
{
	d->tx_len = 0;
	if (d->proto->datagram)
		d->rx_len = 0; /* each datagram stands alone */
	if (len > CHECK_RX_MAX - d->rx_len)
		return check_dialogue_down(d, "answer too long (over %u bytes)", CHECK_RX_MAX);
	memcpy(d->rx + d->rx_len, data, len);
	d->rx_len += len;
	return d->proto->advance(d);
}

enum check_verdict check_dialogue_eof(struct check_dialogue *d)
{
	d->tx_len = 0;
	if (d->proto->at_eof != NULL)
		return d->proto->at_eof(d);
	return check_dialogue_down(d, "connection closed by the server");
}

void check_dialogue_consume(struct check_dialogue *d, size_t n)
{
	if (n >= d->rx_len) {
		d->rx_len = 0;
		return;
	}
	memmove(d->rx, d->rx + n, d->rx_len - n);
	d->rx_len -= n;
}

bool check_dialogue_sendf(struct check_dialogue *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf((char *)d->tx, sizeof(d->tx), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(d->tx)) {
		d->tx_len = 0;
		snprintf(d->why, sizeof(d->why), "request too long for the check");
		return false;
	}
	d->tx_len = (size_t)n;
	return true;
}

enum check_verdict check_dialogue_down(struct check_dialogue *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return CHECK_DOWN;
}

size_t check_dialogue_line(const struct check_dialogue *d)
{
	const uint8_t *nl = memchr(d->rx, '\n', d->rx_len);

	return nl == NULL ? 0 : (size_t)(nl - d->rx) + 1;
}

const char *check_dialogue_quote(const uint8_t *s, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	for (size_t i = 0; i < n && k + 1 < outlen; i++)
		out[k++] = (s[i] < 0x20 || s[i] >= 0x7f) ? '?' : (char)s[i];
	if (outlen > 0)
		out[k] = '\0';
	return out;
}

const char *check_dialogue_uri_host(const char *host, char *out, size_t outlen)
{
	const char *first = strchr(host, ':');
	bool bracket = first != NULL && strchr(first + 1, ':') != NULL && host[0] != '[';
	size_t k = 0;

	if (outlen == 0)
		return out;
	if (bracket && k + 1 < outlen)
		out[k++] = '[';
	for (const char *c = host; *c != '\0' && k + 1 < outlen; c++)
		if ((unsigned char)*c > 0x20 && (unsigned char)*c != 0x7f)
			out[k++] = *c;
	if (bracket && k + 1 < outlen)
		out[k++] = ']';
	out[k] = '\0';
	return out;
}
