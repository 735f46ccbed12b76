/*
 * Metrics listener (metrics_http.h). Each connection is a one-shot http_conn, as the holding
 * page's: read the request head (one buffer per wakeup), write the answer, shut the sending
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

#include "http_conn.h"
#include "http_request.h"
#include "kernel_addr.h"
#include "lb_log.h"
#include "metrics.h"

#define LISTEN_BACKLOG 64
#define SWEEP_PERIOD_MS 100

enum route { ROUTE_METRICS, ROUTE_STATUS, ROUTE_STATUS_MINUTES, ROUTE_COUNT };

struct client {
	struct http_conn conn; /* first: a conn is its client */
	struct client *next, *prev; /* oldest first from `oldest` */
	uint64_t deadline_ns;
	char req[METRICS_HTTP_MAX_REQUEST];
};

static struct ev_loop *loop;
static struct ev_timer sweep_timer, retry_timer;
static int listen_fd = -1;
static struct ev_io listen_io;
static struct lb_addr listen_addr;
static uint16_t listen_port;
static struct client *oldest, *newest;
static struct http_reply *cache[ROUTE_COUNT];
static uint64_t cache_ns[ROUTE_COUNT], cache_cost_ns[ROUTE_COUNT];
static struct metrics_http_counters counters;

static struct http_reply *error_response(const char *status)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	counters.errors++;
	return http_reply_new(status, "text/plain; charset=utf-8", "", body, (size_t)n);
}

/* The page of route, from the cache when it is fresh enough; a new reference or NULL. */
static struct http_reply *page(enum route route)
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
		counters.requests++;
		return http_reply_get(cache[route]);
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
	struct http_reply *r =
		b.failed ? NULL : http_reply_new("200 OK", types[route], "", b.data, b.len);
	text_buf_free(&b);
	if (r == NULL)
		return error_response("500 Internal Server Error");
	counters.requests++;
	http_reply_put(cache[route]);
	cache[route] = r;
	cache_ns[route] = now;
	cache_cost_ns[route] = cost;
	return http_reply_get(r);
}

/* The answer to a complete (or refused) request head. */
static struct http_reply *answer(enum http_req_result parsed, const struct http_req *req)
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

static void client_closed(struct http_conn *conn)
{
	struct client *c = (struct client *)conn;

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

static enum http_conn_step client_request(struct http_conn *conn, const char *buf, size_t len,
					  bool full, struct http_reply **resp)
{
	struct http_req req;
	enum http_req_result parsed = http_request_parse(buf, len, &req);

	(void)conn;
	if (parsed == HTTP_REQ_INCOMPLETE && !full)
		return HTTP_CONN_READ_MORE;
	*resp = answer(parsed, &req);
	bool head = parsed == HTTP_REQ_OK && strcmp(req.method, "HEAD") == 0;
	return head ? HTTP_CONN_SEND_HEAD : HTTP_CONN_SEND;
}

static const struct http_conn_ops client_ops = {
	.request = client_request,
	.closed = client_closed,
	.one_read_per_wakeup = true, /* bounded work per wakeup: the loop comes back for the rest */
};

static void client_accept(int fd)
{
	struct client *c;

	if (counters.clients >= METRICS_HTTP_MAX_CLIENTS) {
		counters.evicted++;
		http_conn_close(&oldest->conn); /* a flood of idle connections cannot lock scrapers out */
	}
	c = malloc(sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->deadline_ns = ev_now_ns() + METRICS_HTTP_DEADLINE_MS * EV_NS_PER_MS;
	if (http_conn_start(&c->conn, loop, fd, c->req, sizeof(c->req), &client_ops) != 0) {
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
		http_conn_close(&oldest->conn);
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
		http_conn_close(&oldest->conn);
	if (listen_fd >= 0) {
		ev_io_stop(loop, &listen_io);
		close(listen_fd);
		listen_fd = -1;
	}
	for (int r = 0; r < ROUTE_COUNT; r++) {
		http_reply_put(cache[r]);
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
