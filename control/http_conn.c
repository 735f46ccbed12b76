/*
 * One-shot HTTP connections (http_conn.h): READING -> WRITING -> DRAINING on one watcher. Every
 * call that may close the connection is the last thing its caller does with it: ops->closed
 * frees it.
 */
#include "http_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_reply *http_reply_new(const char *status, const char *type, const char *extra_headers,
				  const void *body, size_t body_len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "%s"
			 "Cache-Control: no-store\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, body_len, extra_headers);

	if (n < 0 || (size_t)n >= sizeof(head))
		return NULL;
	struct http_reply *r = malloc(sizeof(*r) + (size_t)n + body_len);
	if (r == NULL)
		return NULL;
	r->refs = 1;
	r->head_len = (size_t)n;
	r->len = (size_t)n + body_len;
	memcpy(r->data, head, (size_t)n);
	if (body_len > 0)
		memcpy(r->data + n, body, body_len);
	return r;
}

void http_reply_put(struct http_reply *r)
{
	if (r != NULL && --r->refs == 0)
		free(r);
}

void http_conn_close(struct http_conn *c)
{
	ev_io_stop(c->loop, &c->io);
	close(c->fd);
	http_reply_put(c->resp);
	c->resp = NULL;
	c->ops->closed(c);
}

/* Sends what the socket takes; when all is sent, shuts the sending side and drains. */
static void conn_write(struct http_conn *c)
{
	while (c->sent < c->to_send) {
		ssize_t n = send(c->fd, c->resp->data + c->sent, c->to_send - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				http_conn_close(c);
			return; /* the rest when the socket has room: never a busy wait */
		}
		c->sent += (size_t)n;
	}
	(void)shutdown(c->fd, SHUT_WR);
	c->state = HTTP_CONN_DRAINING;
	if (ev_io_set(c->loop, &c->io, EV_READ) != 0)
		http_conn_close(c);
}

/*
 * Asks the user what the request read so far calls for and starts sending it. True when c waits
 * for more bytes; false when it is answering, or closed and gone.
 */
static bool conn_wants_more(struct http_conn *c)
{
	struct http_reply *resp = NULL;
	bool full = c->got == c->cap;
	enum http_conn_step step = c->ops->request(c, c->req, c->got, full, &resp);

	if (step == HTTP_CONN_READ_MORE && !full)
		return true;
	if (step == HTTP_CONN_READ_MORE || resp == NULL) { /* out of memory even for an error */
		http_conn_close(c);
		return false;
	}
	c->resp = resp;
	c->to_send = step == HTTP_CONN_SEND_HEAD ? resp->head_len : resp->len;
	c->state = HTTP_CONN_WRITING;
	if (ev_io_set(c->loop, &c->io, EV_WRITE) != 0)
		http_conn_close(c);
	else
		conn_write(c);
	return false;
}

static void conn_read(struct http_conn *c)
{
	char scratch[2048];

	do {
		bool draining = c->state == HTTP_CONN_DRAINING;
		char *buf = draining ? scratch : c->req + c->got;
		size_t room = draining ? sizeof(scratch) : c->cap - c->got;
		ssize_t n = recv(c->fd, buf, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* closed (or failed) before asking, or done after the answer */
			http_conn_close(c);
			return;
		}
		if (draining)
			continue;
		c->got += (size_t)n;
		if (!conn_wants_more(c))
			return;
	} while (!c->ops->one_read_per_wakeup);
}

static void on_conn(struct ev_loop *l, struct ev_io *io, unsigned int events)
{
	struct http_conn *c = io->arg;

	(void)l;
	c->last_event_ns = ev_now_ns();
	if (c->state == HTTP_CONN_WRITING) {
		if (events & EV_WRITE)
			conn_write(c);
	} else if (events & EV_READ) {
		conn_read(c);
	}
}

int http_conn_start(struct http_conn *c, struct ev_loop *loop, int fd, char *req, size_t cap,
		    const struct http_conn_ops *ops)
{
	c->loop = loop;
	c->ops = ops;
	c->fd = fd;
	c->state = HTTP_CONN_READING;
	c->last_event_ns = ev_now_ns();
	c->resp = NULL;
	c->sent = c->to_send = c->got = 0;
	c->req = req;
	c->cap = cap;
	return ev_io_start(loop, &c->io, fd, EV_READ, on_conn, c);
}
