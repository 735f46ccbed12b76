/*
 * Unit tests for lib/event_loop: timer order and periods, watchers, socket operations with
 * deadlines (TCP, UDP, Unix) and child processes with timeouts. Timing is asserted as order and
 * as "a deadline produces a timeout", never as performance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event_loop.h"

#define MS EV_NS_PER_MS

static struct ev_loop *new_loop(void)
{
	char err[128];
	struct ev_loop *loop = ev_loop_new(err, sizeof(err));

	if (loop == NULL)
		fail_msg("%s", err);
	return loop;
}

/* Runs the loop until *done or a 5 s safety deadline (which fails the test). */
static void run_until(struct ev_loop *loop, const bool *done)
{
	uint64_t deadline = ev_now_ns() + 5000 * MS;

	while (!*done) {
		if (ev_now_ns() > deadline)
			fail_msg("the loop did not get there within 5 s");
		assert_true(ev_loop_run_once(loop, 100) >= 0);
	}
}

/* Timers -------------------------------------------------------------------------------- */

struct fired {
	int order[256];
	int n;
	uint64_t max_late_ns;
};

static struct fired fired;

static void record(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	(void)loop;
	assert_true(fired.n < 256);
	fired.order[fired.n++] = (int)(intptr_t)t->arg;
	if (late_ns > fired.max_late_ns)
		fired.max_late_ns = late_ns;
}

static void test_timers_fire_in_order(void **state)
{
	struct ev_loop *loop = new_loop();
	struct ev_timer t[4];
	uint64_t start = ev_now_ns();
	bool done = false;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	for (int i = 0; i < 4; i++)
		ev_timer_init(&t[i], record, (void *)(intptr_t)(i + 1));
	assert_int_equal(ev_timer_start(loop, &t[0], 30 * MS, 0), 0);
	assert_int_equal(ev_timer_start(loop, &t[1], 10 * MS, 0), 0);
	assert_int_equal(ev_timer_start(loop, &t[2], 20 * MS, 0), 0);
	assert_int_equal(ev_timer_start(loop, &t[3], 15 * MS, 0), 0);
	ev_timer_stop(loop, &t[3]); /* a stopped timer never fires */
	assert_false(ev_timer_active(&t[3]));
	while (!done) {
		assert_true(ev_loop_run_once(loop, 100) >= 0);
		done = fired.n == 3 || ev_now_ns() - start > 5000 * MS;
	}
	assert_int_equal(fired.n, 3);
	assert_int_equal(fired.order[0], 2);
	assert_int_equal(fired.order[1], 3);
	assert_int_equal(fired.order[2], 1);
	/* none fired early: the last one ran at least 30 ms after the start */
	assert_true(ev_now_ns() - start >= 30 * MS);
	for (int i = 0; i < 4; i++)
		assert_false(ev_timer_active(&t[i]));
	ev_loop_free(loop);
}

static int periodic_count;

static void periodic(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	(void)late_ns;
	if (++periodic_count == 5)
		ev_timer_stop(loop, t); /* a callback may stop its own timer */
}

static void test_periodic_timer_and_restart(void **state)
{
	struct ev_loop *loop = new_loop();
	struct ev_timer p, once;
	uint64_t start = ev_now_ns();

	(void)state;
	periodic_count = 0;
	memset(&fired, 0, sizeof(fired));
	ev_timer_init(&p, periodic, NULL);
	ev_timer_init(&once, record, (void *)(intptr_t)7);
	assert_int_equal(ev_timer_start(loop, &p, 0, 2 * MS), 0);
	assert_int_equal(ev_timer_start(loop, &once, 1000 * MS, 0), 0);
	/* re-arming replaces the old due time */
	assert_int_equal(ev_timer_start(loop, &once, 5 * MS, 0), 0);
	while (periodic_count < 5 || fired.n < 1) {
		assert_true(ev_now_ns() - start < 5000 * MS);
		assert_true(ev_loop_run_once(loop, 100) >= 0);
	}
	assert_false(ev_timer_active(&p));
	assert_int_equal(periodic_count, 5);
	assert_int_equal(fired.n, 1);
	assert_true(ev_now_ns() - start < 1000 * MS); /* the re-armed due time, not the first */
	/* the loop measures lateness: a timer due long ago reports it */
	memset(&fired, 0, sizeof(fired));
	assert_int_equal(ev_timer_start(loop, &once, 0, 0), 0);
	usleep(20 * 1000); /* makes the timer late on purpose */
	bool done = false;
	while (!done) {
		assert_true(ev_loop_run_once(loop, 100) >= 0);
		done = fired.n == 1;
	}
	assert_true(fired.max_late_ns >= 20 * MS);
	ev_loop_free(loop);
}

static void test_many_timers_heap_order(void **state)
{
	enum { N = 200 };
	struct ev_loop *loop = new_loop();
	struct ev_timer *t = calloc(N, sizeof(*t));
	int last = -1;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	/* Delays in a scrambled order; every other one is stopped again. */
	for (int i = 0; i < N; i++) {
		int d = (i * 37) % N;
		ev_timer_init(&t[i], record, (void *)(intptr_t)d);
		assert_int_equal(ev_timer_start(loop, &t[i], (uint64_t)d * MS / 2, 0), 0);
	}
	for (int i = 0; i < N; i += 2)
		ev_timer_stop(loop, &t[i]);
	int seen = 0;
	uint64_t deadline = ev_now_ns() + 5000 * MS;
	while (seen < N / 2 && ev_now_ns() < deadline) {
		fired.n = 0;
		assert_true(ev_loop_run_once(loop, 100) >= 0);
		for (int k = 0; k < fired.n; k++) {
			assert_true(fired.order[k] > last);
			assert_int_equal(((fired.order[k] * 173) % N) % 2, 1); /* only odd i */
			last = fired.order[k];
			seen++;
		}
	}
	assert_int_equal(seen, N / 2);
	free(t);
	ev_loop_free(loop);
}

/* Watchers ------------------------------------------------------------------------------ */

struct pair_state {
	struct ev_io a, b;
	int fds[2];
	int reads;
};

static void on_readable(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct pair_state *p = io->arg;
	char c;

	assert_true(events & EV_READ);
	assert_int_equal(read(io->fd, &c, 1), 1);
	p->reads++;
	/* Stopping the other watcher of the same batch must keep it from being dispatched. */
	ev_io_stop(loop, io == &p->a ? &p->b : &p->a);
}

static void test_io_watchers(void **state)
{
	struct ev_loop *loop = new_loop();
	struct pair_state p = {0};
	int other[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fds), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, other), 0);
	assert_int_equal(ev_io_start(loop, &p.a, p.fds[0], EV_READ, on_readable, &p), 0);
	assert_int_equal(ev_io_start(loop, &p.b, other[0], EV_READ, on_readable, &p), 0);
	/* nothing to read: the loop returns after its bound without running anything */
	assert_int_equal(ev_loop_run_once(loop, 10), 0);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	assert_int_equal(write(other[1], "y", 1), 1);
	assert_int_equal(ev_loop_run_once(loop, 1000), 1);
	assert_int_equal(p.reads, 1);
	/* a watcher can change what it waits for */
	struct ev_io *left = p.a.active ? &p.a : &p.b;
	assert_int_equal(ev_io_set(loop, left, EV_WRITE), 0);
	assert_int_equal(ev_io_set(loop, left, 0), 0);
	ev_io_stop(loop, left);
	assert_int_equal(ev_loop_run_once(loop, 10), 0);
	close(p.fds[0]);
	close(p.fds[1]);
	close(other[0]);
	close(other[1]);
	ev_loop_free(loop);
}

/* Sockets ------------------------------------------------------------------------------- */

struct result {
	bool done;
	int fd;
	int err;
	ssize_t n;
};

static void on_connect(struct ev_loop *loop, int fd, int err, void *arg)
{
	struct result *r = arg;

	(void)loop;
	r->done = true;
	r->fd = fd;
	r->err = err;
}

static void on_xfer(struct ev_loop *loop, int fd, ssize_t n, void *arg)
{
	struct result *r = arg;

	(void)loop;
	r->done = true;
	r->fd = fd;
	r->n = n;
}

/* A TCP socket bound to 127.0.0.1 on a free port; listening when backlog >= 0. */
static int tcp_server(int backlog, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void test_tcp_connect_write_read(void **state)
{
	struct ev_loop *loop = new_loop();
	struct sockaddr_in addr;
	int srv = tcp_server(8, &addr);
	struct result c = {0}, w = {0}, r = {0};
	char buf[16] = {0};

	(void)state;
	assert_non_null(ev_connect(loop, SOCK_STREAM, (struct sockaddr *)&addr, sizeof(addr),
				   1000 * MS, on_connect, &c));
	assert_false(c.done); /* never called back from inside the starter */
	run_until(loop, &c.done);
	assert_int_equal(c.err, 0);
	assert_true(c.fd >= 0);
	int peer = accept(srv, NULL, NULL);
	assert_true(peer >= 0);
	assert_non_null(ev_write(loop, c.fd, "hello", 5, 1000 * MS, on_xfer, &w));
	run_until(loop, &w.done);
	assert_int_equal(w.n, 5);
	assert_int_equal(read(peer, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(write(peer, "world", 5), 5);
	assert_non_null(ev_read(loop, c.fd, buf, sizeof(buf), 1000 * MS, on_xfer, &r));
	run_until(loop, &r.done);
	assert_int_equal(r.n, 5);
	assert_memory_equal(buf, "world", 5);
	/* end of stream reads as 0 */
	close(peer);
	memset(&r, 0, sizeof(r));
	assert_non_null(ev_read(loop, c.fd, buf, sizeof(buf), 1000 * MS, on_xfer, &r));
	run_until(loop, &r.done);
	assert_int_equal(r.n, 0);
	close(c.fd);
	close(srv);
	ev_loop_free(loop);
}

static void test_connect_refused(void **state)
{
	struct ev_loop *loop = new_loop();
	struct sockaddr_in addr;
	int bound = tcp_server(-1, &addr); /* bound, not listening: the port stays ours and closed */
	struct result c = {0};

	(void)state;
	assert_non_null(ev_connect(loop, SOCK_STREAM, (struct sockaddr *)&addr, sizeof(addr),
				   1000 * MS, on_connect, &c));
	run_until(loop, &c.done);
	assert_int_equal(c.err, ECONNREFUSED);
	assert_int_equal(c.fd, -1);
	close(bound);
	ev_loop_free(loop);
}

static void test_connect_deadline(void **state)
{
	struct ev_loop *loop = new_loop();
	struct sockaddr_in addr;
	int srv = tcp_server(0, &addr);
	int filler[4];
	struct result c = {0};

	(void)state;
	/* Fill the accept queue (never accepted): the kernel then drops further SYNs, so the next
	 * connect stays pending until its deadline. */
	for (int i = 0; i < 4; i++) {
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)!connect(filler[i], (struct sockaddr *)&addr, sizeof(addr));
	}
	usleep(50 * 1000); /* lets the handshakes that can complete complete */
	uint64_t start = ev_now_ns();
	assert_non_null(ev_connect(loop, SOCK_STREAM, (struct sockaddr *)&addr, sizeof(addr),
				   100 * MS, on_connect, &c));
	run_until(loop, &c.done);
	assert_int_equal(c.err, ETIMEDOUT);
	assert_int_equal(c.fd, -1);
	assert_true(ev_now_ns() - start >= 100 * MS);
	for (int i = 0; i < 4; i++)
		close(filler[i]);
	close(srv);
	ev_loop_free(loop);
}

static void test_read_deadline_and_cancel(void **state)
{
	struct ev_loop *loop = new_loop();
	int fds[2];
	struct result r = {0}, never = {0};
	char buf[4];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	uint64_t start = ev_now_ns();
	assert_non_null(ev_read(loop, fds[0], buf, sizeof(buf), 50 * MS, on_xfer, &r));
	run_until(loop, &r.done);
	assert_int_equal(r.n, -ETIMEDOUT);
	assert_true(ev_now_ns() - start >= 50 * MS);
	/* a cancelled operation never calls back, and its fd can be watched again */
	struct ev_op *op = ev_read(loop, fds[0], buf, sizeof(buf), 10 * MS, on_xfer, &never);
	assert_non_null(op);
	ev_op_cancel(loop, op);
	assert_int_equal(write(fds[1], "z", 1), 1);
	memset(&r, 0, sizeof(r));
	assert_non_null(ev_read(loop, fds[0], buf, sizeof(buf), 1000 * MS, on_xfer, &r));
	run_until(loop, &r.done);
	assert_int_equal(r.n, 1);
	assert_false(never.done);
	close(fds[0]);
	close(fds[1]);
	ev_loop_free(loop);
}

static void test_udp_and_unix(void **state)
{
	struct ev_loop *loop = new_loop();
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(addr);
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct result c = {0}, w = {0}, r = {0};
	char buf[8];

	(void)state;
	assert_int_equal(bind(rx, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&addr, &alen), 0);
	assert_non_null(ev_connect(loop, SOCK_DGRAM, (struct sockaddr *)&addr, sizeof(addr),
				   1000 * MS, on_connect, &c));
	assert_false(c.done);
	run_until(loop, &c.done);
	assert_int_equal(c.err, 0);
	assert_non_null(ev_write(loop, c.fd, "ping", 4, 1000 * MS, on_xfer, &w));
	run_until(loop, &w.done);
	assert_int_equal(w.n, 4);
	assert_non_null(ev_read(loop, rx, buf, sizeof(buf), 1000 * MS, on_xfer, &r));
	run_until(loop, &r.done);
	assert_int_equal(r.n, 4);
	assert_memory_equal(buf, "ping", 4);
	close(c.fd);
	close(rx);

	/* A Unix path nobody listens on fails at once, reported from the loop. */
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/dlb-ev-test-%d.sock", (int)getpid());
	unlink(un.sun_path);
	memset(&c, 0, sizeof(c));
	assert_non_null(ev_connect(loop, SOCK_STREAM, (struct sockaddr *)&un, sizeof(un),
				   1000 * MS, on_connect, &c));
	assert_false(c.done);
	run_until(loop, &c.done);
	assert_int_equal(c.err, ENOENT);
	/* and one that listens accepts */
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	memset(&c, 0, sizeof(c));
	assert_non_null(ev_connect(loop, SOCK_STREAM, (struct sockaddr *)&un, sizeof(un),
				   1000 * MS, on_connect, &c));
	run_until(loop, &c.done);
	assert_int_equal(c.err, 0);
	close(c.fd);
	close(lfd);
	unlink(un.sun_path);
	ev_loop_free(loop);
}

/* Children ------------------------------------------------------------------------------ */

struct child_result {
	bool done;
	pid_t pid;
	int status;
	bool timed_out;
};

static void on_child(struct ev_loop *loop, pid_t pid, int status, bool timed_out, void *arg)
{
	struct child_result *r = arg;

	(void)loop;
	r->done = true;
	r->pid = pid;
	r->status = status;
	r->timed_out = timed_out;
}

static void test_child_exit_status(void **state)
{
	struct ev_loop *loop = new_loop();
	struct child_result r = {0};
	char *const argv[] = {"sh", "-c", "exit 3", NULL};

	(void)state;
	assert_non_null(ev_child_spawn(loop, argv, 5000 * MS, on_child, &r));
	run_until(loop, &r.done);
	assert_true(r.pid > 0);
	assert_false(r.timed_out);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 3);
	/* reaped: nothing is left to wait for */
	assert_int_equal(waitpid(r.pid, NULL, WNOHANG), -1);
	ev_loop_free(loop);
}

static void test_child_killed_at_timeout(void **state)
{
	struct ev_loop *loop = new_loop();
	struct child_result r = {0};
	char *const argv[] = {"sleep", "30", NULL};
	uint64_t start = ev_now_ns();

	(void)state;
	assert_non_null(ev_child_spawn(loop, argv, 100 * MS, on_child, &r));
	run_until(loop, &r.done);
	assert_true(r.timed_out);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGKILL);
	assert_true(ev_now_ns() - start >= 100 * MS);
	assert_true(ev_now_ns() - start < 5000 * MS);
	/* a program that does not exist does not start */
	char *const missing[] = {"/nonexistent/dlb-no-such-program", NULL};
	assert_null(ev_child_spawn(loop, missing, 0, on_child, &r));
	assert_int_equal(errno, ENOENT);
	/* a cancelled child is killed and reaped without a callback */
	struct child_result never = {0};
	struct ev_op *op = ev_child_spawn(loop, argv, 0, on_child, &never);
	assert_non_null(op);
	ev_op_cancel(loop, op);
	assert_int_equal(ev_loop_run_once(loop, 10), 0);
	assert_false(never.done);
	ev_loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order),
		cmocka_unit_test(test_periodic_timer_and_restart),
		cmocka_unit_test(test_many_timers_heap_order),
		cmocka_unit_test(test_io_watchers),
		cmocka_unit_test(test_tcp_connect_write_read),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_deadline),
		cmocka_unit_test(test_read_deadline_and_cancel),
		cmocka_unit_test(test_udp_and_unix),
		cmocka_unit_test(test_child_exit_status),
		cmocka_unit_test(test_child_killed_at_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
