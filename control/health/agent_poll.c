/* Feedback-agent polls (see agent_poll.h). */
#include "agent_poll.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

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

static void finish(struct agent_poll *p)
{
	struct agent_reply reply;
	char why[AGENT_WHY_LEN], line[AGENT_WHY_LEN];
	int rc;

	p->buf[p->len] = '\0';
	first_line(p->buf, line, sizeof(line));
	if (p->cfg->type == LB_AGENT_HTTP)
		rc = agent_reply_parse_http(p->buf, p->len, &reply, why, sizeof(why));
	else if (p->cfg->type == LB_AGENT_HAPROXY)
		rc = agent_reply_parse_haproxy(p->buf, p->len, &reply, why, sizeof(why));
	else
		rc = agent_reply_parse_lvs(p->buf, p->len, &reply, why, sizeof(why));
	poll_close(p);
	if (rc != 0) {
		char msg[AGENT_WHY_LEN * 2 + 8];
		snprintf(msg, sizeof(msg), "%s: \"%s\"", why, line);
		p->done(p, false, NULL, msg);
		return;
	}
	/* For http the line worth showing is the body's (the integer), not the status line. */
	if (p->cfg->type == LB_AGENT_HTTP) {
		const char *body = strstr(p->buf, "\r\n\r\n");
		first_line(body != NULL ? body + 4 : p->buf, line, sizeof(line));
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
