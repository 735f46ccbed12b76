/*
 * http and https negotiate checks (ldirectord's http/https, keepalived's HTTP_GET/SSL_GET): one
 * GET or HEAD with "Connection: close"; up when the whole response arrived, its status is in
 * the accepted ranges (default 200-299) and its body holds the expected substring and matches
 * the expected regex. The body is matched on its first HTTP_BODY_MAX bytes. https is the same
 * dialogue inside TLS, which the checker sets up (SNI = host).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check_dialogue.h"

enum { STEP_READING = 0, STEP_FAILED };

#define HOST_MAX 256
#define QUOTE_MAX 48

/*
 * request as an origin-form target: "" = "/", "index.html" = "/index.html" (ldirectord's
 * relative requests), an absolute "http://..." URL kept; spaces, controls and non-ASCII bytes
 * percent-encoded so that the request line stays one line. False when it does not fit.
 */
static bool request_target(const char *request, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	if (request[0] != '/' && strncasecmp(request, "http://", 7) != 0 &&
	    strncasecmp(request, "https://", 8) != 0)
		out[k++] = '/';
	for (const unsigned char *c = (const unsigned char *)request; *c != '\0'; c++) {
		if (k + 4 > outlen)
			return false;
		if (*c <= 0x20 || *c >= 0x7f) {
			out[k++] = '%';
			out[k++] = hex[*c >> 4];
			out[k++] = hex[*c & 15];
		} else {
			out[k++] = (char)*c;
		}
	}
	out[k] = '\0';
	return true;
}

static void http_start(struct check_dialogue *d)
{
	const struct check_params *p = d->params;
	bool head = strcasecmp(p->method, "HEAD") == 0;
	char target[CHECK_TX_MAX], host[HOST_MAX];
	bool ok;

	http_response_init(&d->http, head);
	if (!request_target(p->request, target, sizeof(target))) {
		d->step = STEP_FAILED;
		check_dialogue_down(d, "request path too long for the check");
		return;
	}
	check_dialogue_uri_host(p->host, host, sizeof(host));
	if (host[0] != '\0')
		ok = check_dialogue_sendf(d,
					  "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: dpdk-lb-check\r\n"
					  "Accept: */*\r\nConnection: close\r\n\r\n",
					  head ? "HEAD" : "GET", target, host);
	else /* no name to give: HTTP/1.0 needs no Host header */
		ok = check_dialogue_sendf(d,
					  "%s %s HTTP/1.0\r\nUser-Agent: dpdk-lb-check\r\n"
					  "Accept: */*\r\nConnection: close\r\n\r\n",
					  head ? "HEAD" : "GET", target);
	if (!ok)
		d->step = STEP_FAILED;
}

/* "200-299,301": the accepted ranges as the operator writes them. */
static void format_ranges(const struct check_params *p, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	if (p->n_status == 0) {
		snprintf(out, outlen, "200-299");
		return;
	}
	for (unsigned i = 0; i < p->n_status && i < CHECK_MAX_STATUS_RANGES && off < outlen; i++) {
		int n = p->status_lo[i] == p->status_hi[i]
				? snprintf(out + off, outlen - off, "%s%u", i ? "," : "",
					   p->status_lo[i])
				: snprintf(out + off, outlen - off, "%s%u-%u", i ? "," : "",
					   p->status_lo[i], p->status_hi[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static bool status_accepted(const struct check_params *p, unsigned status)
{
	if (p->n_status == 0)
		return status >= 200 && status <= 299;
	for (unsigned i = 0; i < p->n_status && i < CHECK_MAX_STATUS_RANGES; i++)
		if (status >= p->status_lo[i] && status <= p->status_hi[i])
			return true;
	return false;
}

/* The response is complete: status, then the body's substring, then its regex. */
static enum check_verdict judge_response(struct check_dialogue *d)
{
	const struct check_params *p = d->params;
	const struct http_response *r = &d->http;
	const char *part = r->body_total > r->body_len ? " (in its first 16384 bytes)" : "";
	char q[QUOTE_MAX];

	if (!status_accepted(p, r->status)) {
		char ranges[64];
		format_ranges(p, ranges, sizeof(ranges));
		return check_dialogue_down(d, "status %u not in %s", r->status, ranges);
	}
	if ((p->receive[0] != '\0' || p->receive_re != NULL) && r->head_only)
		return check_dialogue_down(d, "a HEAD response has no body to match");
	if (p->receive[0] != '\0' &&
	    memmem(r->body, r->body_len, p->receive, strlen(p->receive)) == NULL)
		return check_dialogue_down(
			d, "body does not contain \"%s\"%s",
			check_dialogue_quote((const uint8_t *)p->receive, strlen(p->receive), q,
					     sizeof(q)),
			part);
	if (p->receive_re != NULL) {
		regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)r->body_len};
		if (regexec(p->receive_re, r->body, 1, &m, REG_STARTEND) != 0)
			return check_dialogue_down(d, "body does not match receive_regex%s", part);
	}
	return CHECK_UP;
}

static enum check_verdict judge(struct check_dialogue *d, enum http_parse_result res)
{
	if (res == HTTP_PARSE_MORE)
		return CHECK_MORE;
	if (res == HTTP_PARSE_ERROR)
		return check_dialogue_down(d, "bad HTTP response: %s", d->http.why);
	return judge_response(d);
}

static enum check_verdict http_advance(struct check_dialogue *d)
{
	if (d->step == STEP_FAILED)
		return CHECK_DOWN;
	enum http_parse_result res = http_response_feed(&d->http, d->rx, d->rx_len);
	check_dialogue_consume(d, d->rx_len);
	return judge(d, res);
}

static enum check_verdict http_at_eof(struct check_dialogue *d)
{
	if (d->step == STEP_FAILED)
		return CHECK_DOWN;
	return judge(d, http_response_eof(&d->http));
}

const struct check_proto check_proto_http = {
	.name = "http",
	.default_port = 80,
	.start = http_start,
	.advance = http_advance,
	.at_eof = http_at_eof,
};

const struct check_proto check_proto_https = {
	.name = "https",
	.default_port = 443,
	.tls = true,
	.start = http_start,
	.advance = http_advance,
	.at_eof = http_at_eof,
};
