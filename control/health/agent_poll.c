/* Feedback-agent polls (see agent_poll.h). */
#include "agent_poll.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http_response.h"

static void poll_close(struct agent_poll *p)
{
	if (p->op != NULL)
		ev_op_cancel(p->loop, p->op);
	p->op = NULL;
	ev_timer_stop(p->loop, &p->deadline);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->in_flight = false;
}

static void fail(struct agent_poll *p, const char *fmt, const char *detail)
{
	char why[AGENT_WHY_LEN + 64];

	snprintf(why, sizeof(why), fmt, detail);
	poll_close(p);
	p->done(p, false, NULL, why);
}

/* The first line of s (for health.status), at most n bytes. */
static void first_line(const char *s, char *out, size_t n)
{
	size_t k = strcspn(s, "\r\n");

	if (k >= n)
		k = n - 1;
	memcpy(out, s, k);
	out[k] = '\0';
}

/* The body of an http agent's answer: after the headers, or all of it without a status line. */
static int http_body(struct agent_poll *p, const char **body, size_t *len, char *why, size_t wl)
{
	static struct http_response resp;

	if (strncmp(p->buf, "HTTP/", 5) != 0) {
		*body = p->buf;
		*len = p->len;
		return 0;
	}
	http_response_init(&resp, false);
	if (http_response_feed(&resp, (const uint8_t *)p->buf, p->len) == HTTP_PARSE_ERROR ||
	    (http_response_eof(&resp) != HTTP_PARSE_DONE))
		return lb_err(why, wl, "bad HTTP answer: %s", resp.why);
	if (resp.status < 200 || resp.status > 299)
		return lb_err(why, wl, "HTTP status %u", resp.status);
	memcpy(p->buf, resp.body, resp.body_len);
	p->buf[resp.body_len] = '\0';
	p->len = resp.body_len;
	*body = p->buf;
	*len = p->len;
	return 0;
}

static void finish(struct agent_poll *p)
{
	struct agent_reply reply;
	char why[AGENT_WHY_LEN], line[AGENT_WHY_LEN];
	const char *body = p->buf;
	size_t len = p->len;
	int rc;

	p->buf[p->len] = '\0';
	if (p->cfg->type == LB_AGENT_HTTP && http_body(p, &body, &len, why, sizeof(why)) != 0) {
		fail(p, "%s", why);
		return;
	}
	first_line(body, line, sizeof(line));
	if (p->cfg->type == LB_AGENT_HAPROXY)
		rc = agent_reply_parse_haproxy(body, len, &reply, why, sizeof(why));
	else
		rc = agent_reply_parse_lvs(body, len, &reply, why, sizeof(why));
	poll_close(p);
	if (rc != 0) {
		char msg[AGENT_WHY_LEN * 2 + 8];
		snprintf(msg, sizeof(msg), "%s: \"%s\"", why, line);
		p->done(p, false, NULL, msg);
		return;
	}
	p->done(p, true, &reply, line);
}

static void on_read(struct ev_loop *loop, int fd, ssize_t result, void *arg)
{
	struct agent_poll *p = arg;

	p->op = NULL;
	if (result < 0) {
		fail(p, "read: %s", strerror((int)-result));
		return;
	}
	p->len += (size_t)result;
	p->buf[p->len] = '\0';
	/* HAProxy's agent answers one line and may keep the connection: a line is enough. An LVS
	 * agent's integer ends at its newline or at the end of the stream. */
	bool line_done = p->cfg->type != LB_AGENT_HTTP && memchr(p->buf, '\n', p->len) != NULL;
	if (result == 0 || line_done) {
		finish(p);
		return;
	}
	if (p->len >= AGENT_REPLY_MAX) {
		fail(p, "%s", "reply too long");
		return;
	}
	p->op = ev_read(loop, fd, p->buf + p->len, AGENT_REPLY_MAX - p->len, 0, on_read, p);
	if (p->op == NULL)
		fail(p, "%s", "out of memory");
}

static void on_written(struct ev_loop *loop, int fd, ssize_t result, void *arg)
{
	struct agent_poll *p = arg;

	p->op = NULL;
	if (result < 0) {
		fail(p, "send: %s", strerror((int)-result));
		return;
	}
	p->op = ev_read(loop, fd, p->buf, AGENT_REPLY_MAX, 0, on_read, p);
	if (p->op == NULL)
		fail(p, "%s", "out of memory");
}

static void connected(struct ev_loop *loop, int fd, int err, void *arg)
{
	struct agent_poll *p = arg;

	p->op = NULL;
	if (fd < 0) {
		fail(p, "connect: %s", strerror(err));
		return;
	}
	p->fd = fd;
	p->len = 0;
	p->req_len = 0;
	if (p->cfg->type == LB_AGENT_HTTP)
		p->req_len = (size_t)snprintf(p->req, sizeof(p->req),
					      "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: dpdk-lb-agent\r\n\r\n",
					      p->host);
	else if (p->cfg->type == LB_AGENT_HAPROXY && p->cfg->send[0] != '\0')
		p->req_len = (size_t)snprintf(p->req, sizeof(p->req), "%s", p->cfg->send);
	if (p->req_len >= sizeof(p->req))
		p->req_len = sizeof(p->req) - 1;
	if (p->req_len > 0)
		p->op = ev_write(loop, fd, p->req, p->req_len, 0, on_written, p);
	else
		p->op = ev_read(loop, fd, p->buf, AGENT_REPLY_MAX, 0, on_read, p);
	if (p->op == NULL)
		fail(p, "%s", "out of memory");
}

static void timed_out(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct agent_poll *p = t->arg;
	char s[32];

	(void)loop;
	(void)late_ns;
	snprintf(s, sizeof(s), "%.1f", p->cfg->timeout_ms / 1000.0);
	fail(p, "no answer within %s s", s);
}

int agent_poll_start(struct agent_poll *p, char *why, size_t whylen)
{
	p->fd = -1;
	p->op = NULL;
	ev_timer_init(&p->deadline, timed_out, p);
	p->op = ev_connect(p->loop, SOCK_STREAM, (const struct sockaddr *)&p->addr, p->addrlen, 0,
			   connected, p);
	if (p->op == NULL)
		return lb_err(why, whylen, "socket: %s", strerror(errno));
	if (ev_timer_start(p->loop, &p->deadline, (uint64_t)p->cfg->timeout_ms * EV_NS_PER_MS, 0)) {
		ev_op_cancel(p->loop, p->op);
		p->op = NULL;
		return lb_err(why, whylen, "out of memory");
	}
	p->in_flight = true;
	return 0;
}

void agent_poll_cancel(struct agent_poll *p)
{
	if (p->in_flight)
		poll_close(p);
}
