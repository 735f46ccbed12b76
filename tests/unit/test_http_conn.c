/*
 * Unit tests for control/http_conn (EAL-free): the one-shot connection over a socketpair,
 * driven by a real event loop. The peer end plays the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event_loop.h"
#include "http_conn.h"

#define REQ_CAP 64

struct test_client {
	struct http_conn conn; /* first, as the users have it */
	int closed;            /* ops->closed calls */
	int requests;          /* ops->request calls */
	enum http_conn_step step_at_blank_line; /* what a complete head gets */
	bool no_reply;         /* answer NULL (out of memory) */
	char req[REQ_CAP];
};

static struct http_reply *reply;

static enum http_conn_step on_request(struct http_conn *conn, const char *req, size_t len,
				      bool full, struct http_reply **resp)
{
	struct test_client *c = (struct test_client *)conn;

	c->requests++;
	(void)full; /* READ_MORE on a full buffer: the connection closes */
	if (memmem(req, len, "\r\n\r\n", 4) == NULL)
		return HTTP_CONN_READ_MORE;
	*resp = c->no_reply ? NULL : http_reply_get(reply);
	return c->step_at_blank_line;
}

static void on_closed(struct http_conn *conn)
{
	((struct test_client *)conn)->closed++;
}

static const struct http_conn_ops ops_loop = {.request = on_request, .closed = on_closed};
static const struct http_conn_ops ops_one = {
	.request = on_request, .closed = on_closed, .one_read_per_wakeup = true};

struct fixture {
	struct ev_loop *loop;
	int peer; /* the client's end */
	struct test_client c;
};

static struct fixture *start(const struct http_conn_ops *ops)
{
	char err[128];
	int sv[2];
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = ev_loop_new(err, sizeof(err));
	assert_non_null(f->loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	f->peer = sv[1];
	f->c.step_at_blank_line = HTTP_CONN_SEND;
	assert_int_equal(http_conn_start(&f->c.conn, f->loop, sv[0], f->c.req, REQ_CAP, ops), 0);
	return f;
}

static void finish(struct fixture *f)
{
	if (f->c.closed == 0)
		http_conn_close(&f->c.conn);
	assert_int_equal(f->c.closed, 1);
	close(f->peer);
	ev_loop_free(f->loop);
	free(f);
}

/* Runs the loop until cond holds (or fails after 5 s). */
#define RUN_UNTIL(f, cond)                                                                        \
	do {                                                                                      \
		uint64_t deadline_ = ev_now_ns() + 5000 * EV_NS_PER_MS;                           \
		while (!(cond)) {                                                                 \
			assert_true(ev_now_ns() < deadline_);                                     \
			assert_true(ev_loop_run_once((f)->loop, 100) >= 0);                      \
		}                                                                                 \
	} while (0)

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Everything the peer can read until EOF from the other side's shutdown. */
static size_t read_to_eof(struct fixture *f, char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(f->peer, buf + got, cap - got, MSG_DONTWAIT);
		if (n == 0)
			return got;
		if (n < 0) {
			assert_true(errno == EAGAIN);
			assert_true(ev_loop_run_once(f->loop, 100) >= 0);
			continue;
		}
		got += (size_t)n;
		assert_true(got < cap);
	}
}

static void setup_reply(void)
{
	reply = http_reply_new("200 OK", "text/plain", "X-A: 1\r\n", "body\n", 5);
	assert_non_null(reply);
}

static void test_reply_bytes(void **unused)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 5\r\nX-A: 1\r\nCache-Control: no-store\r\n"
				   "Connection: close\r\n\r\n";
	(void)unused;
	setup_reply();
	assert_int_equal(reply->head_len, strlen(head));
	assert_int_equal(reply->len, strlen(head) + 5);
	assert_memory_equal(reply->data, head, strlen(head));
	assert_memory_equal(reply->data + reply->head_len, "body\n", 5);
	http_reply_put(reply);
}

/* A head split over two sends is answered once complete; the reply is whole, then EOF. */
static void check_answer(const struct http_conn_ops *ops, enum http_conn_step step)
{
	char buf[512];
	setup_reply();
	struct fixture *f = start(ops);

	f->c.step_at_blank_line = step;
	send_str(f->peer, "GET / HTTP/1.1\r\n");
	RUN_UNTIL(f, f->c.requests == 1);
	assert_int_equal(f->c.conn.state, HTTP_CONN_READING);
	send_str(f->peer, "Host: x\r\n\r\n");
	size_t want = step == HTTP_CONN_SEND_HEAD ? reply->head_len : reply->len;
	assert_int_equal(read_to_eof(f, buf, sizeof(buf)), want);
	assert_memory_equal(buf, reply->data, want);
	assert_int_equal(f->c.conn.state, HTTP_CONN_DRAINING);
	/* Bytes after the answer are drained, not left to turn the close into a reset. */
	send_str(f->peer, "trailing junk");
	shutdown(f->peer, SHUT_WR);
	RUN_UNTIL(f, f->c.closed == 1);
	assert_int_equal(f->c.requests, 2);
	finish(f);
	assert_int_equal(reply->refs, 1); /* the connection dropped its reference */
	http_reply_put(reply);
}

static void test_answer_whole(void **unused)
{
	(void)unused;
	check_answer(&ops_loop, HTTP_CONN_SEND);
	check_answer(&ops_one, HTTP_CONN_SEND);
}

static void test_answer_head_only(void **unused)
{
	(void)unused;
	check_answer(&ops_loop, HTTP_CONN_SEND_HEAD);
	check_answer(&ops_one, HTTP_CONN_SEND_HEAD);
}

/* A buffer filled without a complete head, or no reply to send: closed, nothing sent. */
static void check_closed_unanswered(bool no_reply, const char *req)
{
	char buf[64];
	setup_reply();
	struct fixture *f = start(&ops_loop);

	f->c.no_reply = no_reply;
	send_str(f->peer, req);
	RUN_UNTIL(f, f->c.closed == 1);
	assert_int_equal(recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT), 0);
	finish(f);
	assert_int_equal(reply->refs, 1);
	http_reply_put(reply);
}

static void test_full_buffer_closes(void **unused)
{
	char req[REQ_CAP + 1];

	(void)unused;
	memset(req, 'a', REQ_CAP);
	req[REQ_CAP] = '\0';
	check_closed_unanswered(false, req);
}

static void test_no_reply_closes(void **unused)
{
	(void)unused;
	check_closed_unanswered(true, "GET / HTTP/1.1\r\n\r\n");
}

/* The peer going away before asking closes the connection. */
static void test_peer_close_before_request(void **unused)
{
	(void)unused;
	struct fixture *f = start(&ops_one);

	shutdown(f->peer, SHUT_WR);
	RUN_UNTIL(f, f->c.closed == 1);
	assert_int_equal(f->c.requests, 0);
	finish(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_bytes),
		cmocka_unit_test(test_answer_whole),
		cmocka_unit_test(test_answer_head_only),
		cmocka_unit_test(test_full_buffer_closes),
		cmocka_unit_test(test_no_reply_closes),
		cmocka_unit_test(test_peer_close_before_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
