#include "http_request.h"

#include <stdbool.h>
#include <string.h>

/* Copies s[0..n) into dst (size cap) with a terminator; false when it does not fit. */
static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/* Parses "METHOD SP TARGET SP HTTP/1.x" (line without its end of line). */
static enum http_req_result parse_request_line(const char *line, size_t n, struct http_req *out)
{
	const char *sp1 = memchr(line, ' ', n);
	if (sp1 == NULL || sp1 == line)
		return HTTP_REQ_BAD;
	size_t mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (line[i] < 'A' || line[i] > 'Z')
			return HTTP_REQ_BAD;
	const char *target = sp1 + 1, *end = line + n;
	const char *sp2 = memchr(target, ' ', (size_t)(end - target));
	if (sp2 == NULL || sp2 == target || target[0] != '/')
		return HTTP_REQ_BAD;
	size_t vlen = (size_t)(end - sp2 - 1);
	if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
		return HTTP_REQ_BAD;
	for (const char *p = target; p < sp2; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return HTTP_REQ_BAD;
	if (!copy_field(out->method, sizeof(out->method), line, mlen))
		return HTTP_REQ_BAD;
	const char *q = memchr(target, '?', (size_t)(sp2 - target));
	const char *pend = q != NULL ? q : sp2;
	if (!copy_field(out->path, sizeof(out->path), target, (size_t)(pend - target)))
		return HTTP_REQ_TOO_LONG;
	out->query[0] = '\0';
	if (q != NULL && !copy_field(out->query, sizeof(out->query), q + 1, (size_t)(sp2 - q - 1)))
		return HTTP_REQ_TOO_LONG;
	return HTTP_REQ_OK;
}

enum http_req_result http_request_parse(const char *buf, size_t len, struct http_req *out)
{
	const char *nl = memchr(buf, '\n', len);
	if (nl == NULL)
		return HTTP_REQ_INCOMPLETE;
	size_t n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	enum http_req_result r = parse_request_line(buf, n, out);
	if (r != HTTP_REQ_OK)
		return r;
	/* The head ends at the first empty line after the request line. */
	for (const char *p = nl; p != NULL && p < buf + len;) {
		const char *next = memchr(p + 1, '\n', (size_t)(buf + len - p - 1));
		if (next == NULL)
			break;
		size_t gap = (size_t)(next - p - 1);
		if (gap == 0 || (gap == 1 && p[1] == '\r'))
			return HTTP_REQ_OK;
		p = next;
	}
	return HTTP_REQ_INCOMPLETE;
}
