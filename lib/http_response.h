/*
 * An HTTP/1.x response read incrementally from bytes as they arrive: status line, headers,
 * body by Content-Length, chunked transfer coding, or up to the end of the stream. Pure code,
 * bounded, for the http/https health checks and the "http" feedback agent.
 */
#ifndef DPDK_LB_HTTP_RESPONSE_H
#define DPDK_LB_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_MAX 16384 /* body bytes kept for matching; more are read and dropped */
#define HTTP_MAX_HEADERS 128 /* header (and trailer) lines per response */
#define HTTP_MAX_INTERIM 16  /* 1xx interim responses skipped before the final one */

enum http_parse_result {
	HTTP_PARSE_MORE = 0, /* need more bytes */
	HTTP_PARSE_DONE,     /* the whole response was read (body complete) */
	HTTP_PARSE_ERROR,    /* malformed: why says how */
};

struct http_response {
	/* result */
	uint16_t status;      /* 100-599 */
	char reason[64];
	char body[HTTP_BODY_MAX + 1]; /* NUL-terminated, truncated to HTTP_BODY_MAX */
	size_t body_len;      /* bytes kept in body */
	uint64_t body_total;  /* bytes of body seen */
	bool head_only;       /* set by the caller before parsing: a HEAD response has no body */
	/* parser state (internal) */
	uint8_t phase;
	uint64_t content_length; /* UINT64_MAX = not given */
	bool chunked;
	bool transfer_coded;  /* a Transfer-Encoding was given: Content-Length is ignored */
	uint64_t chunk_left;  /* body bytes left in this chunk, or of the Content-Length body */
	uint16_t n_headers;   /* header lines of this response so far */
	uint8_t n_interim;    /* 1xx responses skipped */
	char line[1024];
	size_t line_len;
	char why[96];
};

/* Prepares r for a new response; head_only: the request was HEAD. */
void http_response_init(struct http_response *r, bool head_only);

/*
 * Feeds len bytes; returns DONE once the response is complete (extra bytes are ignored), ERROR
 * with r->why set on malformed input (status line, header line over 1023 bytes, bad chunk size,
 * more than HTTP_MAX_HEADERS header lines or HTTP_MAX_INTERIM 1xx responses). Once DONE or
 * ERROR, every later call returns the same.
 */
enum http_parse_result http_response_feed(struct http_response *r, const uint8_t *data,
					  size_t len);

/* The stream ended: DONE when the response is complete or its body runs to the end, else ERROR. */
enum http_parse_result http_response_eof(struct http_response *r);

#endif
