/*
 * Holding page listeners (holding_page.h). Every connection is a one-shot http_conn: read the
 * request (up to its blank line, or HOLDING_PAGE_MAX_REQUEST bytes), write the prepared
 * response, shut the sending side and read until the client closes, so that unread request
 * bytes never turn the close into a reset that would cut the page short.
 */
#include "holding_page.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_conn.h"
#include "kernel_addr.h"
#include "lb_log.h"

#define LISTEN_BACKLOG 128
#define ACCEPTS_PER_WAKEUP 64
#define SWEEP_PERIOD_MS 1000

struct listener {
	struct listener *next;
	struct lb_addr vip;
	uint16_t port;
	int fd;
	struct ev_io io;
	json_t *page; /* a reference to the page answered (NULL: the default page) */
	struct http_reply *resp;
	bool seen;
};

/* A VIP on `lo`; ours when we added it (and so remove it). */
struct lo_addr {
	struct lo_addr *next;
	struct lb_addr vip;
	bool ours;
	bool seen;
};

struct client {
	struct http_conn conn; /* first: a conn is its client */
	struct client *next, *prev;
	struct http_reply *page; /* the listener's page at accept, until the answer takes it */
	char req[HOLDING_PAGE_MAX_REQUEST];
};

static struct ev_loop *loop;
static struct ev_timer sweep_timer;
static struct listener *listeners;
static struct lo_addr *addrs;
static struct client *clients;
static unsigned int n_clients;

static struct http_reply *response_new(const struct lb_service_cfg *svc)
{
	size_t page_len;
	const char *page = lb_service_fallback_page(svc, &page_len);
	char retry_after[32];

	snprintf(retry_after, sizeof(retry_after), "Retry-After: %d\r\n", HOLDING_PAGE_RETRY_AFTER_S);
	return http_reply_new("503 Service Unavailable", "text/html; charset=utf-8", retry_after,
			      page, page_len);
}

static void client_closed(struct http_conn *conn)
{
	struct client *c = (struct client *)conn;

	http_reply_put(c->page);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	n_clients--;
	free(c);
}

/* Whatever was asked, the answer is the page; HEAD gets the headers alone. */
static enum http_conn_step client_request(struct http_conn *conn, const char *req, size_t len,
					  bool full, struct http_reply **resp)
{
	struct client *c = (struct client *)conn;

	if (!full && memmem(req, len, "\r\n\r\n", 4) == NULL)
		return HTTP_CONN_READ_MORE;
	*resp = c->page;
	c->page = NULL;
	return len >= 5 && memcmp(req, "HEAD ", 5) == 0 ? HTTP_CONN_SEND_HEAD : HTTP_CONN_SEND;
}

static const struct http_conn_ops client_ops = {
	.request = client_request,
	.closed = client_closed,
};

static void client_accept(struct listener *ln, int fd)
{
	struct client *c;

	if (n_clients >= HOLDING_PAGE_MAX_CLIENTS || (c = malloc(sizeof(*c))) == NULL) {
		close(fd); /* bounded: the newcomer goes, the ones being answered stay */
		return;
	}
	c->page = http_reply_get(ln->resp);
	if (http_conn_start(&c->conn, loop, fd, c->req, sizeof(c->req), &client_ops) != 0) {
		http_reply_put(c->page);
		free(c);
		close(fd);
		return;
	}
	c->prev = NULL;
	c->next = clients;
	if (clients != NULL)
		clients->prev = c;
	clients = c;
	n_clients++;
}

static void on_listener(struct ev_loop *l, struct ev_io *io, unsigned int events)
{
	struct listener *ln = io->arg;

	(void)l;
	(void)events;
	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		int fd = accept4(ln->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or an aborted connection: nothing to do */
		client_accept(ln, fd);
	}
}

/* Closes connections quiet for HOLDING_PAGE_IDLE_MS. */
static void sweep(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	uint64_t now = ev_now_ns();

	(void)l;
	(void)t;
	(void)late_ns;
	for (struct client *c = clients, *next; c != NULL; c = next) {
		next = c->next;
		if (now - c->conn.last_event_ns > HOLDING_PAGE_IDLE_MS * EV_NS_PER_MS)
			http_conn_close(&c->conn);
	}
}

static int listen_socket(const struct lb_addr *vip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (vip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = vip->v4;
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, vip->v6, 16);
		len = sizeof(*sin6);
	}
	int fd = socket(vip->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static struct listener *listener_open(const struct lb_service_cfg *svc)
{
	char ap[LB_ADDR_PORT_STRLEN];
	struct listener *ln = calloc(1, sizeof(*ln));

	lb_addr_port_format(&svc->vip, svc->port, ap, sizeof(ap));
	if (ln == NULL)
		return NULL;
	ln->vip = svc->vip;
	ln->port = svc->port;
	ln->fd = listen_socket(&svc->vip, svc->port);
	if (ln->fd < 0 || ev_io_start(loop, &ln->io, ln->fd, EV_READ, on_listener, ln) != 0) {
		LB_LOG(ERR, "holding page %s: cannot listen: %s", ap, strerror(errno));
		if (ln->fd >= 0)
			close(ln->fd);
		free(ln);
		return NULL;
	}
	ln->next = listeners;
	listeners = ln;
	LB_LOG(NOTICE, "holding page %s: listening (served while no real takes connections)", ap);
	return ln;
}

/* Answers with svc's page from now on (connections being answered keep theirs). */
static void listener_set_page(struct listener *ln, const struct lb_service_cfg *svc)
{
	if (ln->resp != NULL && ln->page == svc->fallback_page)
		return; /* the same page: clones share it by reference */
	struct http_reply *r = response_new(svc);
	if (r == NULL) {
		LB_LOG(ERR, "holding page: out of memory; the previous page stays");
		return;
	}
	http_reply_put(ln->resp);
	ln->resp = r;
	json_decref(ln->page);
	ln->page = json_incref(svc->fallback_page);
}

static void listener_close(struct listener *ln)
{
	char ap[LB_ADDR_PORT_STRLEN];

	ev_io_stop(loop, &ln->io);
	close(ln->fd);
	http_reply_put(ln->resp);
	json_decref(ln->page);
	LB_LOG(NOTICE, "holding page %s: closed",
	       lb_addr_port_format(&ln->vip, ln->port, ap, sizeof(ap)));
	free(ln);
}

/* Makes sure vip is on `lo`, so that the kernel takes the connections handed to it. */
static void addr_want(const struct lb_addr *vip)
{
	char ab[LB_ADDR_STRLEN];
	struct lo_addr *a;

	for (a = addrs; a != NULL; a = a->next)
		if (lb_addr_equal(&a->vip, vip)) {
			a->seen = true;
			return;
		}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return;
	a->vip = *vip;
	a->seen = true;
	/* A fresh network namespace's lo is down: addresses on it would not be local routes. */
	int rc = kernel_link_up("lo");
	if (rc != 0)
		LB_LOG(ERR, "holding page: cannot set lo up: %s", strerror(-rc));
	rc = kernel_addr_change(true, "lo", vip);
	a->ours = rc == 0;
	if (rc != 0 && rc != -EEXIST)
		LB_LOG(ERR, "holding page: cannot add %s to lo: %s",
		       lb_addr_format(vip, ab, sizeof(ab)), strerror(-rc));
	a->next = addrs;
	addrs = a;
}

static void addr_release(struct lo_addr *a)
{
	char ab[LB_ADDR_STRLEN];
	int rc = a->ours ? kernel_addr_change(false, "lo", &a->vip) : 0;

	if (rc != 0 && rc != -EADDRNOTAVAIL)
		LB_LOG(ERR, "holding page: cannot remove %s from lo: %s",
		       lb_addr_format(&a->vip, ab, sizeof(ab)), strerror(-rc));
	free(a);
}

static struct listener *listener_find(const struct lb_addr *vip, uint16_t port)
{
	for (struct listener *ln = listeners; ln != NULL; ln = ln->next)
		if (ln->port == port && lb_addr_equal(&ln->vip, vip))
			return ln;
	return NULL;
}

void holding_page_sync(const struct lb_config *cfg)
{
	if (loop == NULL)
		return;
	for (struct listener *ln = listeners; ln != NULL; ln = ln->next)
		ln->seen = false;
	for (struct lo_addr *a = addrs; a != NULL; a = a->next)
		a->seen = false;
	for (uint32_t i = 0; cfg != NULL && i < cfg->n_services; i++) {
		const struct lb_service_cfg *svc = &cfg->services[i];
		if (!lb_service_fallback_is_local(svc))
			continue;
		addr_want(&svc->vip);
		struct listener *ln = listener_find(&svc->vip, svc->port);
		if (ln == NULL)
			ln = listener_open(svc);
		if (ln == NULL)
			continue;
		ln->seen = true;
		listener_set_page(ln, svc);
	}
	for (struct listener **pp = &listeners; *pp != NULL;) {
		struct listener *ln = *pp;
		if (ln->seen) {
			pp = &ln->next;
			continue;
		}
		*pp = ln->next;
		listener_close(ln);
	}
	for (struct lo_addr **pp = &addrs; *pp != NULL;) {
		struct lo_addr *a = *pp;
		if (a->seen) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		addr_release(a);
	}
}

void holding_page_init(struct ev_loop *l, const struct lb_config *cfg)
{
	loop = l;
	ev_timer_init(&sweep_timer, sweep, NULL);
	if (ev_timer_start(loop, &sweep_timer, SWEEP_PERIOD_MS * EV_NS_PER_MS,
			   SWEEP_PERIOD_MS * EV_NS_PER_MS) != 0)
		LB_LOG(ERR, "holding page: out of memory (idle connections are not swept)");
	holding_page_sync(cfg);
}

void holding_page_close(void)
{
	if (loop == NULL)
		return;
	while (clients != NULL)
		http_conn_close(&clients->conn);
	holding_page_sync(NULL);
	ev_timer_stop(loop, &sweep_timer);
	loop = NULL;
}
