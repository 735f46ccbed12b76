/*
 * sip negotiate check (ldirectord's sip): one OPTIONS request in a UDP datagram; up on any
 * final response ("SIP/2.0 NNN", 200-699: the server parsed the request and answered), 1xx
 * provisional responses keep waiting. The request carries every header RFC 3261 8.1.1 requires
 * (Via, Max-Forwards, From with a tag, To, Call-ID, CSeq) plus Contact and Content-Length, so
 * that kamailio's sanity_check("17895", "7") of its default configuration accepts it and its
 * "OPTIONS to myself without a user" rule answers 200 Keepalive. The Via carries ";rport"
 * (RFC 3581): the server answers to the address and port the datagram came from.
 *
 * The Request-URI is "sip:HOST" (host = the real's address unless configured; "ip:port" when the
 * server listens on another port than 5060 and checks that the URI names itself).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check_dialogue.h"

#define HOST_MAX 128
#define QUOTE_MAX 48
#define CALL_ID_MAX 160

static void call_id(const struct check_params *p, char *out, size_t outlen)
{
	char local[HOST_MAX];

	check_dialogue_uri_host(p->local_addr, local, sizeof(local));
	snprintf(out, outlen, "dpdk-lb-check-%u@%s", p->id, local[0] ? local : "dpdk-lb");
}

static void sip_start(struct check_dialogue *d)
{
	const struct check_params *p = d->params;
	char host[HOST_MAX], local[HOST_MAX], cid[CALL_ID_MAX];

	check_dialogue_uri_host(p->host[0] ? p->host : p->local_addr, host, sizeof(host));
	if (host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	check_dialogue_uri_host(p->local_addr, local, sizeof(local));
	if (local[0] == '\0')
		snprintf(local, sizeof(local), "0.0.0.0"); /* rport: the answer goes to the source */
	call_id(p, cid, sizeof(cid));
	check_dialogue_sendf(d,
			     "OPTIONS sip:%s SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-dpdk-lb-%u;rport\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:dpdk-lb-check@%s>;tag=%u\r\n"
			     "To: <sip:%s>\r\n"
			     "Call-ID: %s\r\n"
			     "CSeq: 1 OPTIONS\r\n"
			     "Contact: <sip:dpdk-lb-check@%s:%u>\r\n"
			     "Accept: application/sdp\r\n"
			     "User-Agent: dpdk-lb-check\r\n"
			     "Content-Length: 0\r\n\r\n",
			     host, local, p->local_port, p->id, local, p->id, host, cid, local,
			     p->local_port);
}

/*
 * The Call-ID header's value in the datagram (full "Call-ID:" or compact "i:" form), trimmed;
 * false when there is none.
 */
static bool find_call_id(const struct check_dialogue *d, const char **val, size_t *len)
{
	const char *s = (const char *)d->rx, *end = s + d->rx_len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - s), name = 0;
		if (n >= 8 && strncasecmp(s, "Call-ID:", 8) == 0)
			name = 8;
		else if (n >= 2 && strncasecmp(s, "i:", 2) == 0)
			name = 2;
		if (name != 0) {
			const char *v = s + name;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*val = v;
			*len = (size_t)(ve - v);
			return true;
		}
		if (n == 0 || (n == 1 && s[0] == '\r'))
			break; /* the end of the headers */
		s = eol + 1;
	}
	return false;
}

static enum check_verdict sip_advance(struct check_dialogue *d)
{
	const uint8_t *r = d->rx;
	char q[QUOTE_MAX], cid[CALL_ID_MAX];
	const char *v;
	size_t vlen;

	if (d->rx_len < 11 || strncasecmp((const char *)r, "SIP/2.0 ", 8) != 0 || r[8] < '1' ||
	    r[8] > '6' || r[9] < '0' || r[9] > '9' || r[10] < '0' || r[10] > '9' ||
	    (d->rx_len > 11 && r[11] != ' ' && r[11] != '\r' && r[11] != '\n')) {
		size_t line = check_dialogue_line(d);
		return check_dialogue_down(d, "not a SIP response: \"%s\"",
					   check_dialogue_quote(r, line ? line : d->rx_len, q,
								sizeof(q)));
	}
	call_id(d->params, cid, sizeof(cid));
	if (find_call_id(d, &v, &vlen) && (vlen != strlen(cid) || memcmp(v, cid, vlen) != 0))
		return CHECK_MORE; /* an answer to another (earlier) check */
	if (r[8] == '1')
		return CHECK_MORE; /* provisional (100 Trying): the final answer follows */
	return CHECK_UP;
}

const struct check_proto check_proto_sip = {
	.name = "sip",
	.default_port = 5060,
	.datagram = true,
	.start = sip_start,
	.advance = sip_advance,
};
