/*
 * The head of an HTTP/1.x request, as the metrics listener reads it: method, path (query
 * string split off), and whether the head is complete. Pure parsing of bytes, no I/O.
 */
#ifndef DPDK_LB_HTTP_REQUEST_H
#define DPDK_LB_HTTP_REQUEST_H

#include <stddef.h>

#define HTTP_REQ_METHOD_LEN 8
#define HTTP_REQ_PATH_LEN 256
#define HTTP_REQ_QUERY_LEN 256

enum http_req_result {
	HTTP_REQ_INCOMPLETE, /* no blank line yet: read more */
	HTTP_REQ_OK,
	HTTP_REQ_BAD,        /* not an HTTP/1.x request line (answer 400) */
	HTTP_REQ_TOO_LONG,   /* the target is longer than the fields hold (answer 414) */
};

struct http_req {
	char method[HTTP_REQ_METHOD_LEN]; /* "GET", "HEAD" ... as sent */
	char path[HTTP_REQ_PATH_LEN];     /* "/metrics" */
	char query[HTTP_REQ_QUERY_LEN];   /* after '?', without it; "" when none */
};

/*
 * Parses the request in buf[0..len). INCOMPLETE until the head's blank line (CRLF CRLF, or LF
 * LF) has arrived; the request line alone is checked as soon as it is complete, so a bad one
 * is refused without waiting for the rest.
 */
enum http_req_result http_request_parse(const char *buf, size_t len, struct http_req *out);

#endif
