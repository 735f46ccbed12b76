/*
 * Incremental HTTP/1.0 and 1.1 response parser (RFC 9112): lines are collected in r->line (one
 * at a time, bounded), the body is counted and its first HTTP_BODY_MAX bytes kept. Memory is the
 * struct alone, whatever the server sends.
 */
#include "http_response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum phase {
	PH_STATUS = 0,  /* reading the status line */
	PH_HEADERS,     /* reading header lines */
	PH_BODY_LEN,    /* Content-Length body: chunk_left bytes to go */
	PH_BODY_EOF,    /* body runs to the end of the stream */
	PH_CHUNK_SIZE,  /* reading a chunk-size line */
	PH_CHUNK_DATA,  /* chunk_left bytes of chunk data to go */
	PH_CHUNK_END,   /* the CRLF after a chunk's data */
	PH_TRAILERS,    /* trailer lines after the last chunk */
	PH_DONE,
	PH_ERROR,
};

#define CONTENT_LENGTH_UNSET UINT64_MAX
#define CHUNK_SIZE_DIGITS 15 /* hex digits: sizes up to 2^60 */

static enum http_parse_result fail(struct http_response *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum http_parse_result fail(struct http_response *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->phase = PH_ERROR;
	return HTTP_PARSE_ERROR;
}

/* Resets what belongs to one response (a 1xx interim response is followed by another). */
static void start_response(struct http_response *r)
{
	r->status = 0;
	r->reason[0] = '\0';
	r->content_length = CONTENT_LENGTH_UNSET;
	r->chunked = false;
	r->transfer_coded = false;
	r->chunk_left = 0;
	r->n_headers = 0;
	r->phase = PH_STATUS;
}

void http_response_init(struct http_response *r, bool head_only)
{
	r->head_only = head_only;
	r->body[0] = '\0';
	r->body_len = 0;
	r->body_total = 0;
	r->n_interim = 0;
	r->line_len = 0;
	r->why[0] = '\0';
	start_response(r);
}

/* s[0..n) made printable and cut, for error messages. */
static const char *quoted(char *out, size_t outlen, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[k] = '\0';
	return out;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar: the characters of a header name. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/1.x NNN reason": the reason is optional (some servers send "HTTP/1.1 200"). */
static enum http_parse_result parse_status_line(struct http_response *r, const char *s,
						size_t n)
{
	char q[41];

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' ||
	    !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' '))
		return fail(r, "bad status line \"%s\"", quoted(q, sizeof(q), s, n));
	r->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	r->reason[0] = '\0';
	if (r->status < 100 || r->status > 599)
		return fail(r, "status %u out of 100-599", r->status);
	if (n > 13)
		quoted(r->reason, sizeof(r->reason), s + 13, n - 13);
	r->phase = PH_HEADERS;
	return HTTP_PARSE_MORE;
}

/* Content-Length: digits, or a list of equal values ("5, 5", RFC 9110 8.6). */
static enum http_parse_result parse_content_length(struct http_response *r, const char *v,
						   size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t len = 0;
		size_t digits = 0;
		while (i < n && is_digit(v[i])) {
			if (len > (UINT64_MAX - 10) / 10)
				return fail(r, "Content-Length too large");
			len = len * 10 + (uint64_t)(v[i++] - '0');
			digits++;
		}
		while (i < n && is_ows(v[i]))
			i++;
		if (digits == 0 || (i < n && v[i] != ',')) {
			char q[41];
			return fail(r, "bad Content-Length \"%s\"", quoted(q, sizeof(q), v, n));
		}
		if (i < n)
			i++; /* the comma */
		while (i < n && is_ows(v[i]))
			i++;
		if (r->content_length != CONTENT_LENGTH_UNSET && r->content_length != len)
			return fail(r, "conflicting Content-Length values");
		r->content_length = len;
	}
	if (r->content_length == CONTENT_LENGTH_UNSET)
		return fail(r, "bad Content-Length \"\"");
	return HTTP_PARSE_MORE;
}

/* Transfer-Encoding: the body is chunked when the last coding is "chunked" (RFC 9112 6.3). */
static void parse_transfer_encoding(struct http_response *r, const char *v, size_t n)
{
	size_t end = n, start;

	while (end > 0 && (is_ows(v[end - 1]) || v[end - 1] == ','))
		end--;
	start = end;
	while (start > 0 && v[start - 1] != ',' && !is_ows(v[start - 1]))
		start--;
	r->chunked = end - start == 7 && strncasecmp(v + start, "chunked", 7) == 0;
	/* any transfer coding takes precedence over Content-Length; not chunked = up to EOF */
	r->content_length = CONTENT_LENGTH_UNSET;
	r->transfer_coded = true;
}

static enum http_parse_result parse_header(struct http_response *r, const char *s, size_t n)
{
	if (r->n_headers >= HTTP_MAX_HEADERS)
		return fail(r, "more than %u header lines", HTTP_MAX_HEADERS);
	r->n_headers++;
	if (is_ows(s[0]))
		return HTTP_PARSE_MORE; /* obsolete line folding: a continued value, not interpreted */
	size_t name_len = 0;
	while (name_len < n && is_tchar((unsigned char)s[name_len]))
		name_len++;
	if (name_len == 0 || name_len == n || s[name_len] != ':') {
		char q[41];
		return fail(r, "bad header line \"%s\"", quoted(q, sizeof(q), s, n));
	}
	const char *v = s + name_len + 1;
	size_t vn = n - name_len - 1;
	while (vn > 0 && is_ows(v[0]))
		v++, vn--;
	while (vn > 0 && is_ows(v[vn - 1]))
		vn--;
	if (name_len == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
		if (r->transfer_coded)
			return HTTP_PARSE_MORE;
		return parse_content_length(r, v, vn);
	}
	if (name_len == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0)
		parse_transfer_encoding(r, v, vn);
	return HTTP_PARSE_MORE;
}

/* The empty line after the headers: what the body is (RFC 9112 6.3). */
static enum http_parse_result end_of_headers(struct http_response *r)
{
	if (r->status < 200 && r->status != 101) {
		if (++r->n_interim > HTTP_MAX_INTERIM)
			return fail(r, "more than %u interim (1xx) responses", HTTP_MAX_INTERIM);
		start_response(r);
		return HTTP_PARSE_MORE;
	}
	if (r->head_only || r->status == 101 || r->status == 204 || r->status == 304) {
		r->phase = PH_DONE;
	} else if (r->chunked) {
		r->phase = PH_CHUNK_SIZE;
	} else if (r->content_length != CONTENT_LENGTH_UNSET) {
		r->chunk_left = r->content_length;
		r->phase = r->chunk_left == 0 ? PH_DONE : PH_BODY_LEN;
	} else {
		r->phase = PH_BODY_EOF;
	}
	return r->phase == PH_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}

/* "1a;name=value": hex digits, optional whitespace, optional extensions (ignored). */
static enum http_parse_result parse_chunk_size(struct http_response *r, const char *s, size_t n)
{
	uint64_t size = 0;
	size_t i = 0;

	for (; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (is_digit(c))
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (i >= CHUNK_SIZE_DIGITS)
			return fail(r, "chunk size too large");
		size = size * 16 + d;
	}
	size_t digits = i;
	while (i < n && is_ows(s[i]))
		i++;
	if (digits == 0 || (i < n && s[i] != ';')) {
		char q[41];
		return fail(r, "bad chunk size line \"%s\"", quoted(q, sizeof(q), s, n));
	}
	r->chunk_left = size;
	r->phase = size == 0 ? PH_TRAILERS : PH_CHUNK_DATA;
	return HTTP_PARSE_MORE;
}

/* One complete line (without its CRLF or LF) for the phase it belongs to. */
static enum http_parse_result handle_line(struct http_response *r)
{
	const char *s = r->line;
	size_t n = r->line_len;

	r->line_len = 0;
	if (memchr(s, '\0', n) != NULL)
		return fail(r, "NUL byte in the response head");
	switch (r->phase) {
	case PH_STATUS:
		return parse_status_line(r, s, n);
	case PH_HEADERS:
		return n == 0 ? end_of_headers(r) : parse_header(r, s, n);
	case PH_CHUNK_SIZE:
		return parse_chunk_size(r, s, n);
	case PH_CHUNK_END:
		if (n != 0)
			return fail(r, "chunk data longer than its size");
		r->phase = PH_CHUNK_SIZE;
		return HTTP_PARSE_MORE;
	case PH_TRAILERS:
		if (n == 0) {
			r->phase = PH_DONE;
			return HTTP_PARSE_DONE;
		}
		if (r->n_headers >= HTTP_MAX_HEADERS)
			return fail(r, "more than %u header lines", HTTP_MAX_HEADERS);
		r->n_headers++; /* trailer fields are not interpreted */
		return HTTP_PARSE_MORE;
	default:
		return fail(r, "parser in an impossible phase");
	}
}

/*
 * Collects bytes of the current line: 1 when it is complete (in r->line, NUL-terminated, CR
 * removed), 0 when more is needed, -1 when it is longer than r->line holds. *used: bytes of data
 * taken (LF included).
 */
static int take_line_bytes(struct http_response *r, const uint8_t *data, size_t len,
			   size_t *used)
{
	const uint8_t *nl = memchr(data, '\n', len);
	size_t n = nl == NULL ? len : (size_t)(nl - data);

	*used = 0;
	if (n > sizeof(r->line) - 1 - r->line_len)
		return -1;
	memcpy(r->line + r->line_len, data, n);
	r->line_len += n;
	*used = n;
	if (nl == NULL)
		return 0;
	if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
		r->line_len--;
	r->line[r->line_len] = '\0';
	*used = n + 1;
	return 1;
}

static void take_body_bytes(struct http_response *r, const uint8_t *data, size_t n)
{
	size_t keep = HTTP_BODY_MAX - r->body_len;

	if (keep > n)
		keep = n;
	memcpy(r->body + r->body_len, data, keep);
	r->body_len += keep;
	r->body[r->body_len] = '\0';
	r->body_total += n;
}

static bool in_line_phase(uint8_t phase)
{
	return phase == PH_STATUS || phase == PH_HEADERS || phase == PH_CHUNK_SIZE ||
	       phase == PH_CHUNK_END || phase == PH_TRAILERS;
}

enum http_parse_result http_response_feed(struct http_response *r, const uint8_t *data,
					  size_t len)
{
	size_t pos = 0;

	while (r->phase != PH_DONE && r->phase != PH_ERROR) {
		if (in_line_phase(r->phase)) {
			size_t used;
			if (pos == len)
				break;
			int got = take_line_bytes(r, data + pos, len - pos, &used);
			pos += used;
			if (got < 0)
				fail(r, "line longer than %zu bytes", sizeof(r->line) - 1);
			else if (got > 0)
				handle_line(r);
			continue;
		}
		if (r->phase == PH_BODY_EOF) {
			take_body_bytes(r, data + pos, len - pos);
			pos = len;
			break;
		}
		/* PH_BODY_LEN, PH_CHUNK_DATA: up to chunk_left bytes */
		if (r->chunk_left == 0) {
			r->phase = r->phase == PH_BODY_LEN ? PH_DONE : PH_CHUNK_END;
			continue;
		}
		if (pos == len)
			break;
		size_t n = len - pos;
		if (n > r->chunk_left)
			n = (size_t)r->chunk_left;
		take_body_bytes(r, data + pos, n);
		r->chunk_left -= n;
		pos += n;
	}
	if (r->phase == PH_DONE)
		return HTTP_PARSE_DONE;
	return r->phase == PH_ERROR ? HTTP_PARSE_ERROR : HTTP_PARSE_MORE;
}

enum http_parse_result http_response_eof(struct http_response *r)
{
	switch (r->phase) {
	case PH_DONE:
		return HTTP_PARSE_DONE;
	case PH_ERROR:
		return HTTP_PARSE_ERROR;
	case PH_BODY_EOF:
		r->phase = PH_DONE;
		return HTTP_PARSE_DONE;
	case PH_STATUS:
		if (r->line_len == 0 && r->n_interim == 0)
			return fail(r, "connection closed before a response");
		return fail(r, "connection closed in the status line");
	case PH_HEADERS:
		return fail(r, "connection closed in the headers");
	case PH_BODY_LEN:
		return fail(r, "connection closed after %llu of %llu body bytes",
			    (unsigned long long)r->body_total, (unsigned long long)r->content_length);
	default:
		return fail(r, "connection closed in the chunked body");
	}
}
