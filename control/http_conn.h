/*
 * One-shot HTTP connections on the control event loop, as the holding page and the metrics
 * listener serve them: one ev_io watcher per connection reads the request head, sends a shared
 * reference-counted response (Connection: close), shuts the sending side and reads until the
 * client closes, so that unread request bytes never turn the close into a reset that would cut
 * the answer short. What a request gets, and the policies around the connections (how many, how
 * long), belong to the user: the connection is embedded in the user's own client struct.
 */
#ifndef DPDK_LB_HTTP_CONN_H
#define DPDK_LB_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"

/* The bytes of one answer, shared by the connections sending it. */
struct http_reply {
	unsigned int refs;
	size_t head_len; /* headers alone: the answer to HEAD */
	size_t len;
	char data[];
};

/*
 * A response "HTTP/1.1 status" with Content-Type type, Content-Length, extra_headers (each
 * ending in CRLF; "" for none), Cache-Control: no-store and Connection: close, then body
 * (body_len bytes; NULL when 0). One reference; NULL out of memory.
 */
struct http_reply *http_reply_new(const char *status, const char *type, const char *extra_headers,
				  const void *body, size_t body_len);

/* Takes one more reference to r; returns r. */
static inline struct http_reply *http_reply_get(struct http_reply *r)
{
	r->refs++;
	return r;
}

/* Drops a reference (NULL-safe); the last one frees r. */
void http_reply_put(struct http_reply *r);

enum http_conn_state { HTTP_CONN_READING, HTTP_CONN_WRITING, HTTP_CONN_DRAINING };

/* What the request bytes read so far call for. */
enum http_conn_step {
	HTTP_CONN_READ_MORE, /* the head is not complete yet */
	HTTP_CONN_SEND,      /* the response, whole */
	HTTP_CONN_SEND_HEAD, /* the response's headers alone (HEAD) */
};

struct http_conn;

struct http_conn_ops {
	/*
	 * Called on the request bytes req[0..len) after each read (full: the buffer is full, and
	 * READ_MORE then closes the connection). For SEND and SEND_HEAD, *resp gets a reference
	 * the connection takes over, or NULL to close it.
	 */
	enum http_conn_step (*request)(struct http_conn *c, const char *req, size_t len, bool full,
				       struct http_reply **resp);
	/* Called once the connection is closed (watcher stopped, fd closed): unlink and free it. */
	void (*closed)(struct http_conn *c);
	/* One recv per wakeup (the loop comes back for the rest) rather than until EAGAIN. */
	bool one_read_per_wakeup;
};

struct http_conn {
	struct ev_loop *loop;
	const struct http_conn_ops *ops;
	int fd;
	struct ev_io io;
	enum http_conn_state state;
	uint64_t last_event_ns; /* ev_now_ns() at the start and at each wakeup */
	struct http_reply *resp;
	size_t sent, to_send;
	char *req; /* the request buffer (the user's, cap bytes) */
	size_t got, cap;
};

/*
 * Starts serving the accepted non-blocking fd into c, reading the request into req (cap bytes).
 * 0, or -1 with errno set: nothing started, the caller still owns fd.
 */
int http_conn_start(struct http_conn *c, struct ev_loop *loop, int fd, char *req, size_t cap,
		    const struct http_conn_ops *ops);

/* Closes c now (stops its watcher, closes its fd, drops its response) and calls ops->closed. */
void http_conn_close(struct http_conn *c);

#endif
