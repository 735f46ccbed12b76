#include "rpc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>


#include "dataplane.h"
#include "config.h"
#include "event_loop.h"
#include "jsonrpc.h"
#include "line_buffer.h"
#include "rpc_async.h"
#include "rpc_methods.h"

/* A full server evicts only a connection that has been quiet at least this long, so that a
 * client that just connected gets the chance to send its request. */
#define RPC_EVICT_QUIET_MS 500
/* How often connections are checked against rpc.idle_timeout_s. */
#define RPC_SWEEP_PERIOD_MS 100

struct rpc_server;

struct rpc_client {
	struct rpc_server *server;
	struct ev_io watch;
	int fd; /* -1 = slot unused */
	bool close_after_write;
	uint64_t last_active_ms; /* accepted, a whole request read, or answer bytes sent */
	/* The line being answered while one of its calls waits for an asynchronous method. */
	struct jsonrpc_message msg;
	size_t next_call;
	json_t *answers; /* a batch's answers so far */
	struct rpc_pending *pending;
	struct line_buffer in;
	char *out;
	size_t out_len, out_off;
};

struct rpc_pending {
	struct rpc_client *client;
	json_t *id; /* NULL for a notification */
	char method[64];
	rpc_cancel_fn cancel;
	void *cancel_ctx;
};

struct rpc_server {
	struct ev_loop *loop;
	struct ev_io listen_watch;
	struct ev_timer sweep;
	int listen_fd;
	char path[LB_SOCKET_PATH_LEN];
	uint32_t max_clients;
	uint32_t max_request;
	uint64_t idle_timeout_ms;
	struct rpc_client *clients;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int make_parent_dir(const char *path)
{
	char dir[LB_SOCKET_PATH_LEN];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void accept_clients(struct ev_loop *loop, struct ev_io *io, unsigned int events);
static void close_idle_clients(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns);

/* Binds and listens at path, replacing a stale socket file; 0 or -1 with err set. */
static int listen_at(struct rpc_server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (make_parent_dir(path) != 0)
		return lb_err(err, errlen, "rpc.socket: cannot create the directory of %s: %s", path,
			      strerror(errno));
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return lb_err(err, errlen, "rpc.socket: socket: %s", strerror(errno));
	/* A socket file left by a crashed daemon is stale only if nobody answers on it. */
	if (connect(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
		return lb_err(err, errlen, "rpc.socket: %s is in use by another running daemon",
			      path);
	}
	unlink(path);
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    chmod(path, 0660) != 0 || listen(s->listen_fd, 64) != 0) {
		lb_err(err, errlen, "rpc.socket: %s: %s", path, strerror(errno));
		close(s->listen_fd);
		s->listen_fd = -1;
		return -1;
	}
	return 0;
}

struct rpc_server *rpc_server_open(struct ev_loop *loop, const char *path, uint32_t max_clients,
				   uint32_t max_request, uint32_t idle_timeout_s, char *err,
				   size_t errlen)
{
	struct rpc_server *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->clients = calloc(max_clients, sizeof(*s->clients))) == NULL) {
		lb_err(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < max_clients; i++) {
		s->clients[i].fd = -1;
		s->clients[i].server = s;
	}
	s->loop = loop;
	s->listen_fd = -1;
	s->max_clients = max_clients;
	s->max_request = max_request;
	s->idle_timeout_ms = (uint64_t)idle_timeout_s * 1000;
	snprintf(s->path, sizeof(s->path), "%s", path);
	ev_timer_init(&s->sweep, close_idle_clients, s);
	if (listen_at(s, path, err, errlen) != 0)
		goto fail;
	if (ev_io_start(loop, &s->listen_watch, s->listen_fd, EV_READ, accept_clients, s) != 0 ||
	    ev_timer_start(loop, &s->sweep, RPC_SWEEP_PERIOD_MS * EV_NS_PER_MS,
			   RPC_SWEEP_PERIOD_MS * EV_NS_PER_MS) != 0) {
		lb_err(err, errlen, "rpc.socket: cannot watch %s: %s", path, strerror(errno));
		rpc_server_close(s);
		return NULL;
	}
	return s;
fail:
	free(s->clients);
	free(s);
	return NULL;
}

static void pending_free(struct rpc_pending *p)
{
	json_decref(p->id);
	free(p);
}

static void client_close(struct rpc_client *c)
{
	if (c->pending != NULL) {
		if (c->pending->cancel != NULL)
			c->pending->cancel(c->pending->cancel_ctx);
		pending_free(c->pending);
		c->pending = NULL;
	}
	jsonrpc_message_free(&c->msg);
	json_decref(c->answers);
	c->answers = NULL;
	ev_io_stop(c->server->loop, &c->watch);
	close(c->fd);
	c->fd = -1;
	line_buffer_free(&c->in);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->close_after_write = false;
}

static void client_queue(struct rpc_client *c, json_t *msg)
{
	size_t len;
	char *line = jsonrpc_encode_line(msg, &len);

	json_decref(msg);
	if (line == NULL)
		return;
	char *n = realloc(c->out, c->out_len + len);
	if (n == NULL) {
		free(line);
		return;
	}
	memcpy(n + c->out_len, line, len);
	c->out = n;
	c->out_len += len;
	free(line);
}

static void log_failure(const char *method, const struct rpc_error *err)
{
	if (err->code != JSONRPC_INVALID_PARAMS && err->code != LB_RPC_NOT_FOUND &&
	    err->code != LB_RPC_EXISTS)
		LB_LOG(WARNING, "rpc %s failed: %s", method, err->message);
}

/* The response to a call with this id (NULL: a notification, no response). */
static json_t *response(json_t *id, json_t *result, const struct rpc_error *err)
{
	if (id == NULL) {
		json_decref(result);
		return NULL;
	}
	if (result != NULL)
		return jsonrpc_result(id, result);
	return jsonrpc_error(id, err->code ? err->code : JSONRPC_INTERNAL_ERROR, err->message);
}

/* Starts an asynchronous method for c: true when it will answer later. */
static bool start_async(struct rpc_client *c, const struct rpc_async_method *am,
			struct jsonrpc_request *req, struct rpc_error *err)
{
	struct rpc_pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return false;
	}
	p->client = c;
	p->id = req->id ? json_incref(req->id) : NULL;
	snprintf(p->method, sizeof(p->method), "%s", req->method);
	c->pending = p;
	if (am->start(req->params, p, err) == 0)
		return true;
	c->pending = NULL;
	pending_free(p);
	return false;
}

/*
 * Runs call i of m for c; *resp is its response (NULL for a notification). Returns false when
 * the call answers later (c->pending set).
 */
static bool run_call(struct rpc_client *c, const struct jsonrpc_message *m, size_t i,
		     json_t **resp)
{
	struct jsonrpc_request req;
	struct rpc_error err = {0};
	json_t *id = NULL, *result = NULL;
	char msg[LB_ERR_LEN];

	*resp = NULL;
	int code = jsonrpc_message_request(m, i, &req, &id, msg, sizeof(msg));
	if (code != 0) {
		*resp = jsonrpc_error(id, code, msg);
		json_decref(id);
		return true;
	}
	json_decref(id);
	const struct rpc_async_method *am = rpc_async_method_find(req.method);
	const struct rpc_method *method = am ? NULL : rpc_method_find(req.method);
	if (am == NULL && method == NULL) {
		snprintf(msg, sizeof(msg), "method not found: %s", req.method);
		if (req.id != NULL)
			*resp = jsonrpc_error(req.id, JSONRPC_METHOD_NOT_FOUND, msg);
		jsonrpc_request_free(&req);
		return true;
	}
	if (am != NULL && start_async(c, am, &req, &err)) {
		jsonrpc_request_free(&req);
		return false;
	}
	if (method != NULL && !rpc_change_refused(req.method, req.params, &err))
		result = method->handler(req.params, &err);
	if (result == NULL)
		log_failure(req.method, &err);
	*resp = response(req.id, result, &err);
	jsonrpc_request_free(&req);
	return true;
}

/* Files a call's response: into the batch's answers, or straight out. */
static void add_response(struct rpc_client *c, json_t *resp)
{
	if (resp == NULL)
		return;
	if (c->msg.batch)
		json_array_append_new(c->answers, resp);
	else
		client_queue(c, resp);
}

/*
 * Runs the calls of c->msg from c->next_call on. A batch is answered with one array of the
 * answers to its calls (none for notifications; no line at all when every call was a
 * notification). Returns false when a call answers later; the message is kept until then.
 */
static bool run_message(struct rpc_client *c)
{
	while (c->next_call < jsonrpc_message_calls(&c->msg)) {
		json_t *resp;
		if (!run_call(c, &c->msg, c->next_call, &resp))
			return false;
		add_response(c, resp);
		c->next_call++;
	}
	if (c->answers != NULL && json_array_size(c->answers) > 0)
		client_queue(c, c->answers);
	else
		json_decref(c->answers);
	c->answers = NULL;
	jsonrpc_message_free(&c->msg);
	return true;
}

static void queue_too_long(struct rpc_client *c)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "invalid request: longer than rpc.max_request_bytes (%u bytes)",
		 c->server->max_request);
	client_queue(c, jsonrpc_error(NULL, JSONRPC_INVALID_REQUEST, msg));
	c->close_after_write = true;
}

/*
 * Answers the complete lines c has buffered, until one waits for an asynchronous method.
 * Returns false when a line was too long: the connection is then only closed.
 */
static bool client_process(struct rpc_client *c)
{
	char msg[LB_ERR_LEN];

	while (c->pending == NULL) {
		if (c->msg.root != NULL && !run_message(c))
			return true;
		char *line;
		size_t len;
		int r = line_buffer_next(&c->in, &line, &len);
		if (r == 0)
			return true;
		if (r < 0) {
			queue_too_long(c);
			return false;
		}
		c->last_active_ms = now_ms();
		if (len == 0)
			continue; /* blank lines are keep-alives */
		int code = jsonrpc_parse_message(line, len, JSONRPC_MAX_BATCH, &c->msg, msg,
						 sizeof(msg));
		if (code != 0) {
			client_queue(c, jsonrpc_error(NULL, code, msg));
			continue;
		}
		c->next_call = 0;
		c->answers = c->msg.batch ? json_array() : NULL;
	}
	return true;
}

static void client_read(struct rpc_client *c)
{
	while (c->pending == NULL) {
		size_t room;
		char *dst = line_buffer_write_ptr(&c->in, &room);
		if (dst == NULL) {
			queue_too_long(c);
			return;
		}
		ssize_t n = read(c->fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* Peer closed: answer what it sent, then close once the answers are out. */
			c->close_after_write = true;
			break;
		}
		line_buffer_commit(&c->in, (size_t)n);
		if (!client_process(c))
			return;
	}
}

static void client_write(struct rpc_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
		c->last_active_ms = now_ms();
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->close_after_write && c->pending == NULL)
		client_close(c);
}

/* Sends a one-line error with a null id without waiting; a best effort before a close. */
static void send_notice(int fd, int code, const char *message)
{
	json_t *msg = jsonrpc_error(NULL, code, message);
	size_t len;
	char *line = jsonrpc_encode_line(msg, &len);

	json_decref(msg);
	if (line != NULL)
		(void)!send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(line);
}

/*
 * A free slot for a new connection. When every slot is taken, the connection quiet the longest
 * (for at least RPC_EVICT_QUIET_MS, and not waiting for an answer) is told why and closed, so
 * that idle or stuck clients can never lock an operator out; NULL when every connection is busy.
 */
static struct rpc_client *take_slot(struct rpc_server *s, uint64_t now)
{
	struct rpc_client *quietest = NULL;
	char msg[160];

	for (uint32_t i = 0; i < s->max_clients; i++) {
		struct rpc_client *c = &s->clients[i];
		if (c->fd < 0)
			return c;
		if (c->pending == NULL &&
		    (quietest == NULL || c->last_active_ms < quietest->last_active_ms))
			quietest = c;
	}
	if (quietest == NULL || now - quietest->last_active_ms < RPC_EVICT_QUIET_MS)
		return NULL;
	snprintf(msg, sizeof(msg),
		 "connection closed: all rpc.max_clients (%u) connections were in use and this one "
		 "was quiet the longest",
		 s->max_clients);
	send_notice(quietest->fd, LB_RPC_CAPACITY, msg);
	LB_LOG(INFO, "rpc: %u connections open; closed the one quiet for %" PRIu64 " ms",
	       s->max_clients, now - quietest->last_active_ms);
	client_close(quietest);
	return quietest;
}

static void client_ready(struct ev_loop *loop, struct ev_io *io, unsigned int events);

/*
 * Waits for requests unless the connection is closing, and for room while answers wait; not at
 * all while a call is pending (a hang-up would wake the loop over and over until the answer).
 */
static void client_watch(struct rpc_client *c)
{
	struct ev_loop *loop = c->server->loop;
	unsigned int ev = c->close_after_write ? 0 : EV_READ;

	if (c->pending != NULL) {
		ev_io_stop(loop, &c->watch);
		return;
	}
	if (c->out_len > c->out_off)
		ev |= EV_WRITE;
	int rc = c->watch.active ? ev_io_set(loop, &c->watch, ev)
				 : ev_io_start(loop, &c->watch, c->fd, ev, client_ready, c);
	if (rc != 0)
		client_close(c);
}

static void client_ready(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct rpc_client *c = io->arg;

	(void)loop;
	if (events & EV_READ)
		client_read(c);
	if (c->fd >= 0 && (c->out_len > c->out_off || c->close_after_write))
		client_write(c);
	if (c->fd >= 0)
		client_watch(c);
}

static void accept_clients(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct rpc_server *s = io->arg;
	char msg[160];

	(void)events;
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		uint64_t now = now_ms();
		struct rpc_client *slot = take_slot(s, now);
		if (slot == NULL) {
			snprintf(msg, sizeof(msg),
				 "too many clients: all rpc.max_clients (%u) connections were active "
				 "in the last %u ms; try again",
				 s->max_clients, RPC_EVICT_QUIET_MS);
			send_notice(fd, LB_RPC_CAPACITY, msg);
			close(fd);
			continue;
		}
		if (line_buffer_init(&slot->in, s->max_request) != 0) {
			send_notice(fd, JSONRPC_INTERNAL_ERROR, "out of memory");
			close(fd);
			continue;
		}
		if (ev_io_start(loop, &slot->watch, fd, EV_READ, client_ready, slot) != 0) {
			send_notice(fd, JSONRPC_INTERNAL_ERROR, "cannot watch the connection");
			line_buffer_free(&slot->in);
			close(fd);
			continue;
		}
		slot->fd = fd;
		slot->last_active_ms = now;
	}
}

/* Closes connections quiet for rpc.idle_timeout_s (stuck readers and writers included). */
static void close_idle_clients(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct rpc_server *s = t->arg;
	uint64_t now = now_ms();

	(void)loop;
	(void)late_ns;
	for (uint32_t i = 0; i < s->max_clients; i++) {
		struct rpc_client *c = &s->clients[i];
		if (c->fd >= 0 && c->pending == NULL && now - c->last_active_ms >= s->idle_timeout_ms)
			client_close(c);
	}
}

const struct rpc_async_method *rpc_async_method_find(const char *name)
{
	for (const struct rpc_async_method *m = rpc_conn_async_methods; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

struct ev_loop *rpc_pending_loop(const struct rpc_pending *p)
{
	return p->client->server->loop;
}

void rpc_pending_set_cancel(struct rpc_pending *p, rpc_cancel_fn cancel, void *ctx)
{
	p->cancel = cancel;
	p->cancel_ctx = ctx;
}

void rpc_pending_done(struct rpc_pending *p, json_t *result, const struct rpc_error *err)
{
	struct rpc_client *c = p->client;

	if (result == NULL)
		log_failure(p->method, err);
	json_t *resp = response(p->id, result, err);
	c->pending = NULL;
	pending_free(p);
	add_response(c, resp);
	c->next_call++;
	c->last_active_ms = now_ms();
	if (client_process(c) && c->pending == NULL && !c->close_after_write)
		client_read(c); /* what arrived meanwhile, and the peer's close */
	if (c->fd >= 0 && (c->out_len > c->out_off || c->close_after_write))
		client_write(c);
	if (c->fd >= 0)
		client_watch(c);
}

void rpc_server_close(struct rpc_server *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->max_clients; i++)
		if (s->clients[i].fd >= 0)
			client_close(&s->clients[i]);
	ev_timer_stop(s->loop, &s->sweep);
	if (s->listen_fd >= 0) {
		ev_io_stop(s->loop, &s->listen_watch);
		close(s->listen_fd);
		unlink(s->path);
	}
	free(s->clients);
	free(s);
}
