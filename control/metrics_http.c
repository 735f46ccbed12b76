/*
 * Metrics listener (metrics_http.h). Each connection is a small state machine on one fd
 * watcher, as the holding page's: read the request head, write the answer, shut the sending
 * side and read until the client closes (so unread bytes never turn the close into a reset).
 * Every connection has one deadline from its accept; a sweep closes those past it. Answers are
 * Connection: close, one request per connection. Pages are rendered when asked for and shared,
 * reference-counted, with the requests of the next METRICS_HTTP_CACHE_MS, or of the next ten
 * render times when that is longer: a flood of requests gets rendering at most ~10 % of the
 * loop. A render itself is one synchronous step (docs/performance.md gives its cost).
 */
#include "metrics_http.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_request.h"
#include "kernel_addr.h"
#include "lb_log.h"
#include "metrics.h"

#define LISTEN_BACKLOG 64
#define SWEEP_PERIOD_MS 100

enum route { ROUTE_METRICS, ROUTE_STATUS, ROUTE_STATUS_MINUTES, ROUTE_COUNT };

/* The bytes of one answer, shared by the connections sending it. */
struct response {
	unsigned int refs;
	size_t head_len; /* headers alone: the answer to HEAD */
	size_t len;
	char data[];
};

enum client_state { READING, WRITING, DRAINING };

struct client {
	struct client *next, *prev; /* oldest first from `oldest` */
	int fd;
	struct ev_io io;
	enum client_state state;
	uint64_t deadline_ns;
	struct response *resp;
	size_t sent, to_send, got;
	char req[METRICS_HTTP_MAX_REQUEST];
};

static struct ev_loop *loop;
static struct ev_timer sweep_timer, retry_timer;
static int listen_fd = -1;
static struct ev_io listen_io;
static struct lb_addr listen_addr;
static uint16_t listen_port;
static struct client *oldest, *newest;
static struct response *cache[ROUTE_COUNT];
static uint64_t cache_ns[ROUTE_COUNT], cache_cost_ns[ROUTE_COUNT];
static struct metrics_http_counters counters;

static void response_put(struct response *r)
{
	if (r != NULL && --r->refs == 0)
		free(r);
}

/* A response of status with body (may be NULL); NULL out of memory. */
static struct response *response_new(const char *status, const char *type, const char *body,
				      size_t body_len)
{
	char head[320];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, body_len);
	struct response *r = malloc(sizeof(*r) + (size_t)n + body_len);

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

static struct response *error_response(const char *status)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	counters.errors++;
	return response_new(status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* The page of route, from the cache when it is fresh enough; a new reference or NULL. */
static struct response *page(enum route route)
{
	static const char *const types[ROUTE_COUNT] = {"text/plain; version=0.0.4; charset=utf-8",
						       "text/html; charset=utf-8",
						       "text/html; charset=utf-8"};
	uint64_t now = ev_now_ns();

	/* A page that took long to render is kept longer: rendering gets at most ~10 % of the loop
	 * however fast it is asked for. */
	uint64_t fresh_ns = METRICS_HTTP_CACHE_MS * EV_NS_PER_MS;
	if (fresh_ns < 10 * cache_cost_ns[route])
		fresh_ns = 10 * cache_cost_ns[route];
	if (cache[route] != NULL && now - cache_ns[route] < fresh_ns) {
		cache[route]->refs++;
		counters.requests++;
		return cache[route];
	}
	struct text_buf b;
	text_buf_init(&b, METRICS_HTTP_MAX_PAGE);
	if (route == ROUTE_METRICS)
		metrics_prom_render(&b);
	else
		status_page_render(&b, route == ROUTE_STATUS_MINUTES);
	uint64_t cost = ev_now_ns() - now;
	counters.renders++;
	counters.render_ns += cost;
	struct response *r = b.failed ? NULL : response_new("200 OK", types[route], b.data, b.len);
	text_buf_free(&b);
	if (r == NULL)
		return error_response("500 Internal Server Error");
	counters.requests++;
	response_put(cache[route]);
	cache[route] = r;
	cache_ns[route] = now;
	cache_cost_ns[route] = cost;
	r->refs++;
	return r;
}

/* The answer to a complete (or refused) request head. */
static struct response *answer(enum http_req_result parsed, const struct http_req *req)
{
	if (parsed == HTTP_REQ_BAD)
		return error_response("400 Bad Request");
	if (parsed == HTTP_REQ_TOO_LONG)
		return error_response("414 URI Too Long");
	if (parsed == HTTP_REQ_INCOMPLETE) /* the head filled the buffer without ending */
		return error_response("431 Request Header Fields Too Large");
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return error_response("405 Method Not Allowed");
	if (strcmp(req->path, "/metrics") == 0)
		return page(ROUTE_METRICS);
	if (strcmp(req->path, "/") == 0) /* "?res=60": the per-minute charts */
		return page(strstr(req->query, "res=60") != NULL ? ROUTE_STATUS_MINUTES : ROUTE_STATUS);
	return error_response("404 Not Found");
}

static void client_close(struct client *c)
{
	ev_io_stop(loop, &c->io);
	close(c->fd);
	response_put(c->resp);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		oldest = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		newest = c->prev;
	counters.clients--;
	free(c);
}

/* Sends what the socket takes; when all is sent, shuts the sending side and drains. */
static void client_write(struct client *c)
{
	while (c->sent < c->to_send) {
		ssize_t n = send(c->fd, c->resp->data + c->sent, c->to_send - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(c);
			return; /* the rest when the socket has room: never a busy wait */
		}
		c->sent += (size_t)n;
	}
	(void)shutdown(c->fd, SHUT_WR);
	c->state = DRAINING;
	if (ev_io_set(loop, &c->io, EV_READ) != 0)
		client_close(c);
}

static void client_respond(struct client *c, enum http_req_result parsed, const struct http_req *req)
{
	c->resp = answer(parsed, req);
	if (c->resp == NULL) { /* out of memory even for an error: just close */
		client_close(c);
		return;
	}
	bool head = parsed == HTTP_REQ_OK && strcmp(req->method, "HEAD") == 0;
	c->to_send = head ? c->resp->head_len : c->resp->len;
	c->state = WRITING;
	if (ev_io_set(loop, &c->io, EV_WRITE) != 0) {
		client_close(c);
		return;
	}
	client_write(c);
}

/* Reads what has arrived (one buffer's worth at most per wakeup). */
static void client_read(struct client *c)
{
	char scratch[2048];
	bool draining = c->state == DRAINING;
	char *buf = draining ? scratch : c->req + c->got;
	size_t room = draining ? sizeof(scratch) : sizeof(c->req) - c->got;
	ssize_t n = recv(c->fd, buf, room, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0 || draining) {
		if (n <= 0) /* closed (or failed) before asking, or done after the answer */
			client_close(c);
		return;
	}
	c->got += (size_t)n;
	struct http_req req;
	enum http_req_result parsed = http_request_parse(c->req, c->got, &req);
	if (parsed == HTTP_REQ_INCOMPLETE && c->got < sizeof(c->req))
		return;
	client_respond(c, parsed, &req);
}

static void on_client(struct ev_loop *l, struct ev_io *io, unsigned int events)
{
	struct client *c = io->arg;

	(void)l;
	if (c->state == WRITING) {
		if (events & EV_WRITE)
			client_write(c);
	} else if (events & EV_READ) {
		client_read(c);
	}
}

static void client_accept(int fd)
{
	struct client *c;

	if (counters.clients >= METRICS_HTTP_MAX_CLIENTS) {
		counters.evicted++;
		client_close(oldest); /* a flood of idle connections cannot lock scrapers out */
	}
	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->state = READING;
	c->deadline_ns = ev_now_ns() + METRICS_HTTP_DEADLINE_MS * EV_NS_PER_MS;
	c->resp = NULL;
	c->sent = c->to_send = c->got = 0;
	if (ev_io_start(loop, &c->io, fd, EV_READ, on_client, c) != 0) {
		free(c);
		close(fd);
		return;
	}
	c->next = NULL;
	c->prev = newest;
	if (newest != NULL)
		newest->next = c;
	else
		oldest = c;
	newest = c;
	counters.clients++;
}

static void on_listener(struct ev_loop *l, struct ev_io *io, unsigned int events)
{
	(void)l;
	(void)io;
	(void)events;
	/* Bounded per wakeup: a connection flood waits in the backlog, the loop moves on. */
	for (int i = 0; i < METRICS_HTTP_ACCEPTS_PER_WAKEUP; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		client_accept(fd);
	}
}

/* Closes connections past their deadline (oldest first: the list is in deadline order). */
static void sweep(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	uint64_t now = ev_now_ns();

	(void)l;
	(void)t;
	(void)late_ns;
	while (oldest != NULL && oldest->deadline_ns <= now) {
		counters.timed_out++;
		client_close(oldest);
	}
}

static int open_listener(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (listen_addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(listen_port);
		sin->sin_addr.s_addr = listen_addr.v4;
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(listen_port);
		memcpy(&sin6->sin6_addr, listen_addr.v6, 16);
		len = sizeof(*sin6);
	}
	int fd = socket(listen_addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The exception path's addresses may come up after us: bind to them anyway. */
	(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
	    ev_io_start(loop, &listen_io, fd, EV_READ, on_listener, NULL) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	listen_fd = fd;
	return 0;
}

static bool is_loopback(const struct lb_addr *a)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};

	if (a->family == AF_INET)
		return (ntohl(a->v4) >> 24) == 127;
	return memcmp(a->v6, v6_loopback, 16) == 0;
}

static void try_listen(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	char ap[LB_ADDR_PORT_STRLEN];

	(void)l;
	(void)t;
	(void)late_ns;
	lb_addr_port_format(&listen_addr, listen_port, ap, sizeof(ap));
	/* A fresh network namespace's lo is down, and 127.0.0.1 is not usable until it is up. */
	if (is_loopback(&listen_addr) && kernel_link_up("lo") != 0)
		LB_LOG(WARNING, "metrics: cannot set lo up");
	if (open_listener() != 0) {
		LB_LOG(ERR, "metrics: cannot listen on %s: %s (trying again every %d s)", ap,
		       strerror(errno), METRICS_HTTP_RETRY_MS / 1000);
		return;
	}
	ev_timer_stop(loop, &retry_timer);
	counters.listening = true;
	LB_LOG(NOTICE, "metrics: serving http://%s/metrics and the status page at /", ap);
}

void metrics_http_init(struct ev_loop *l, const struct lb_config *cfg)
{
	ev_timer_init(&sweep_timer, sweep, NULL);
	ev_timer_init(&retry_timer, try_listen, NULL);
	if (!cfg->metrics_enabled)
		return;
	loop = l;
	listen_addr = cfg->metrics_addr;
	listen_port = cfg->metrics_port;
	if (ev_timer_start(loop, &sweep_timer, SWEEP_PERIOD_MS * EV_NS_PER_MS,
			   SWEEP_PERIOD_MS * EV_NS_PER_MS) != 0 ||
	    ev_timer_start(loop, &retry_timer, 0, METRICS_HTTP_RETRY_MS * EV_NS_PER_MS) != 0)
		LB_LOG(ERR, "metrics: out of memory; no listener");
}

void metrics_http_close(void)
{
	if (loop == NULL)
		return;
	while (oldest != NULL)
		client_close(oldest);
	if (listen_fd >= 0) {
		ev_io_stop(loop, &listen_io);
		close(listen_fd);
		listen_fd = -1;
	}
	for (int r = 0; r < ROUTE_COUNT; r++) {
		response_put(cache[r]);
		cache[r] = NULL;
	}
	ev_timer_stop(loop, &sweep_timer);
	ev_timer_stop(loop, &retry_timer);
	counters.listening = false;
	loop = NULL;
}

void metrics_http_counters_get(struct metrics_http_counters *out)
{
	*out = counters;
}
