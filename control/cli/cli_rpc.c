/* One JSON-RPC request per connection: connect, send one line, read one line, check it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli_rpc.h"

/* The daemon answers each connection's requests in order; one request, so any id will do. */
#define CLI_RPC_ID 1

struct rpc_call {
	const struct cli_ctx *ctx;
	const char *method;
	long long deadline_ms; /* CLOCK_MONOTONIC; 0 = none */
	int fd;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left for poll(): -1 waits forever, 0 means the deadline has passed. */
static int remaining_ms(const struct rpc_call *c)
{
	if (c->deadline_ms == 0)
		return -1;
	long long left = c->deadline_ms - now_ms();
	return left > 0 ? (int)left : 0;
}

static void call_error(const struct rpc_call *c, const char *fmt, const char *detail)
{
	fprintf(stderr, "%s: %s: ", CLI_PROGRAM, c->method);
	fprintf(stderr, fmt, c->ctx->socket_path, detail);
	fputc('\n', stderr);
}

static void timeout_error(const struct rpc_call *c, const char *what)
{
	fprintf(stderr, "%s: %s: %s %s timed out after %g s\n", CLI_PROGRAM, c->method, what,
		c->ctx->socket_path, c->ctx->timeout_ms / 1000.0);
}

static int connect_socket(struct rpc_call *c)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = c->ctx->socket_path;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		call_error(c, "cannot connect to %s: %s", "socket path too long");
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		call_error(c, "cannot connect to %s: %s", strerror(errno));
		return -1;
	}
	/* A Unix connect blocks only while the listen backlog is full; SO_SNDTIMEO bounds that. */
	if (c->ctx->timeout_ms > 0) {
		struct timeval tv = {.tv_sec = c->ctx->timeout_ms / 1000,
				     .tv_usec = (c->ctx->timeout_ms % 1000) * 1000};
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINPROGRESS)
			timeout_error(c, "connecting to");
		else
			call_error(c, "cannot connect to %s: %s (is dpdk-lb running? see -s)",
				   strerror(errno));
		return -1;
	}
	return 0;
}

/* Waits until fd is ready for events; 0, or -1 after printing a timeout or poll error. */
static int wait_ready(const struct rpc_call *c, short events, const char *what)
{
	struct pollfd p = {.fd = c->fd, .events = events};

	for (;;) {
		int n = poll(&p, 1, remaining_ms(c));
		if (n > 0)
			return 0;
		if (n == 0) {
			timeout_error(c, what);
			return -1;
		}
		if (errno != EINTR) {
			call_error(c, "waiting for %s: %s", strerror(errno));
			return -1;
		}
	}
}

/*
 * Sends the request; 0, 1 when the daemon closed the connection first (it may have said why:
 * read its answer), or -1 after printing the error.
 */
static int send_all(const struct rpc_call *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_ready(c, POLLOUT, "sending to") != 0)
				return -1;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return 1;
		call_error(c, "sending to %s: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads up to the first newline; returns the malloc'd NUL-terminated line or NULL. */
static char *read_line(const struct rpc_call *c, size_t *line_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL) {
		call_error(c, "reading from %s: %s", "out of memory");
		return NULL;
	}
	for (;;) {
		if (len == cap - 1) {
			/* Room for the longest accepted line, its newline and a NUL, no more. */
			const size_t max_cap = (size_t)CLI_RPC_MAX_RESPONSE + 2;
			if (cap == max_cap) {
				call_error(c, "reading from %s: %s",
					   "response longer than 64 MiB, refused");
				goto fail;
			}
			size_t new_cap = cap * 2 < max_cap ? cap * 2 : max_cap;
			char *bigger = realloc(buf, new_cap);
			if (bigger == NULL) {
				call_error(c, "reading from %s: %s", "out of memory");
				goto fail;
			}
			buf = bigger;
			cap = new_cap;
		}
		ssize_t n = recv(c->fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n > 0) {
			char *nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
			if (nl != NULL) {
				*nl = '\0';
				*line_len = (size_t)(nl - buf);
				return buf;
			}
			continue;
		}
		if (n == 0) {
			call_error(c, "reading from %s: %s",
				   len == 0 ? "connection closed without a response"
					    : "connection closed in the middle of the response");
			goto fail;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_ready(c, POLLIN, "waiting for the answer from") != 0)
				goto fail;
			continue;
		}
		call_error(c, "reading from %s: %s", strerror(errno));
		goto fail;
	}
fail:
	free(buf);
	return NULL;
}

/* Checks the response envelope; 0 with *result, or 1 after printing the error. */
static int take_result(const struct rpc_call *c, const char *line, size_t len, json_t **result,
		       json_t **error_out)
{
	json_error_t jerr;
	json_t *resp = json_loadb(line, len, 0, &jerr);
	json_t *error, *res, *id;
	int rc = CLI_EXIT_FAILURE;

	if (resp == NULL || !json_is_object(resp)) {
		call_error(c, "invalid response from %s: %s",
			   resp == NULL ? jerr.text : "not a JSON object");
		goto out;
	}
	error = json_object_get(resp, "error");
	res = json_object_get(resp, "result");
	id = json_object_get(resp, "id");
	if (error != NULL && error_out != NULL) {
		*error_out = json_incref(error);
		goto out;
	}
	if (error != NULL) {
		json_t *code = json_object_get(error, "code");
		const char *msg = json_string_value(json_object_get(error, "message"));
		fprintf(stderr, "%s: %s: %s (code %lld)\n", CLI_PROGRAM, c->method,
			msg != NULL ? msg : "error without message",
			json_is_integer(code) ? (long long)json_integer_value(code) : 0LL);
		goto out;
	}
	if (res == NULL) {
		call_error(c, "invalid response from %s: %s", "neither result nor error");
		goto out;
	}
	if (!json_is_integer(id) || json_integer_value(id) != CLI_RPC_ID) {
		call_error(c, "invalid response from %s: %s", "id does not match the request");
		goto out;
	}
	*result = json_incref(res);
	rc = CLI_EXIT_OK;
out:
	json_decref(resp);
	return rc;
}

/* The request as one '\n'-terminated line, malloc'd, length in *len; params stolen; NULL on OOM. */
static char *encode_request(const char *method, json_t *params, size_t *len)
{
	json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id",
				CLI_RPC_ID);
	char *text = NULL;

	if (req == NULL) {
		json_decref(params);
		return NULL;
	}
	/* json_object_set_new releases params even when it fails. */
	if (params == NULL || json_object_set_new(req, "params", params) == 0)
		text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return NULL;
	/* json_dumps never emits a raw newline, so appending one frames the request safely. */
	*len = strlen(text);
	char *framed = realloc(text, *len + 2);
	if (framed == NULL) {
		free(text);
		return NULL;
	}
	memcpy(framed + *len, "\n", 2);
	*len += 1;
	return framed;
}

static int call(const struct cli_ctx *ctx, const char *method, json_t *params, json_t **result,
		json_t **error_out)
{
	struct rpc_call c = {.ctx = ctx, .method = method, .fd = -1};
	char *line = NULL;
	size_t text_len, line_len;
	int rc = CLI_EXIT_FAILURE;
	char *text = encode_request(method, params, &text_len);

	if (text == NULL) {
		fprintf(stderr, "%s: %s: cannot encode the request: out of memory\n", CLI_PROGRAM,
			method);
		return rc;
	}
	/* One deadline for the whole exchange, so --timeout bounds what the user waits. */
	if (ctx->timeout_ms > 0)
		c.deadline_ms = now_ms() + ctx->timeout_ms;
	/* A daemon that refuses the connection answers with an error line and closes, perhaps
	 * before the request is sent: its answer is read and shown either way. */
	if (connect_socket(&c) == 0 && send_all(&c, text, text_len) >= 0) {
		line = read_line(&c, &line_len);
		if (line != NULL)
			rc = take_result(&c, line, line_len, result, error_out);
	}
	if (c.fd >= 0)
		close(c.fd);
	free(line);
	free(text);
	return rc;
}

int cli_rpc_call(const struct cli_ctx *ctx, const char *method, json_t *params, json_t **result)
{
	return call(ctx, method, params, result, NULL);
}

int cli_rpc_call_error(const struct cli_ctx *ctx, const char *method, json_t *params,
		       json_t **result, json_t **error)
{
	*error = NULL;
	return call(ctx, method, params, result, error);
}
