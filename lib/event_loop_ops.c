/*
 * Operations with deadlines on top of the loop's timers and watchers: connect, read, write,
 * child processes. Each is one allocation holding a watcher and a deadline timer; the timer
 * also defers a completion known at start, so a callback never runs inside its starter.
 */
#include "event_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum ev_op_kind { OP_CONNECT, OP_READ, OP_WRITE, OP_CHILD };

struct ev_op {
	enum ev_op_kind kind;
	struct ev_io io;
	struct ev_timer timer;
	int fd; /* the socket, or the child's pidfd */
	union {
		ev_connect_fn connect;
		ev_xfer_fn xfer;
		ev_child_fn child;
	} fn;
	void *arg;
	char *buf; /* read or write */
	size_t len, done;
	int result_err; /* a completion decided before the callback can run (errno, 0 = ok) */
	bool finished;  /* result_err is final: the timer delivers it */
	pid_t pid;
	bool killed;
};

static void op_free(struct ev_loop *loop, struct ev_op *op)
{
	ev_io_stop(loop, &op->io);
	ev_timer_stop(loop, &op->timer);
	free(op);
}

static void op_on_timer(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns);
static void op_on_io(struct ev_loop *loop, struct ev_io *io, unsigned int events);

static struct ev_op *op_new(struct ev_loop *loop, enum ev_op_kind kind, int fd,
			    uint64_t timeout_ns, void *arg)
{
	struct ev_op *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	op->kind = kind;
	op->fd = fd;
	op->arg = arg;
	op->pid = -1;
	ev_timer_init(&op->timer, op_on_timer, op);
	if (timeout_ns > 0 && ev_timer_start(loop, &op->timer, timeout_ns, 0) != 0) {
		free(op);
		errno = ENOMEM;
		return NULL;
	}
	return op;
}

/* Completes op with err from the next loop turn (never inside the call that started it). */
static int op_finish_soon(struct ev_loop *loop, struct ev_op *op, int err)
{
	op->finished = true;
	op->result_err = err;
	ev_io_stop(loop, &op->io);
	return ev_timer_start(loop, &op->timer, 0, 0);
}

/* Runs the callback for an operation that ended with err (0 = success) and frees it. */
static void op_complete(struct ev_loop *loop, struct ev_op *op, int err)
{
	ev_io_stop(loop, &op->io);
	ev_timer_stop(loop, &op->timer);
	switch (op->kind) {
	case OP_CONNECT:
		if (err != 0) {
			close(op->fd);
			op->fd = -1;
		}
		op->fn.connect(loop, op->fd, err, op->arg);
		break;
	case OP_READ:
	case OP_WRITE:
		op->fn.xfer(loop, op->fd, err ? -(ssize_t)err : (ssize_t)op->done, op->arg);
		break;
	case OP_CHILD:
		break; /* child_reap reports its own */
	}
	free(op);
}

/* Connect ------------------------------------------------------------------------------- */

struct ev_op *ev_connect(struct ev_loop *loop, int type, const struct sockaddr *addr,
			 socklen_t addrlen, uint64_t timeout_ns, ev_connect_fn fn, void *arg)
{
	int fd = socket(addr->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct ev_op *op;

	if (fd < 0)
		return NULL;
	op = op_new(loop, OP_CONNECT, fd, timeout_ns, arg);
	if (op == NULL) {
		close(fd);
		return NULL;
	}
	op->fn.connect = fn;
	int rc = connect(fd, addr, addrlen);
	int err = rc == 0 ? 0 : errno;
	if (rc != 0 && (err == EINPROGRESS || err == EAGAIN)) {
		/* A stream socket finishes connecting when it becomes writable. */
		if (ev_io_start(loop, &op->io, fd, EV_WRITE, op_on_io, op) == 0)
			return op;
		err = errno;
	}
	if (op_finish_soon(loop, op, err) != 0) {
		op_free(loop, op);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	return op;
}

static void connect_ready(struct ev_loop *loop, struct ev_op *op)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	op_complete(loop, op, err);
}

/* Read and write ------------------------------------------------------------------------ */

static struct ev_op *xfer_start(struct ev_loop *loop, enum ev_op_kind kind, int fd, void *buf,
				size_t len, uint64_t timeout_ns, ev_xfer_fn fn, void *arg)
{
	struct ev_op *op = op_new(loop, kind, fd, timeout_ns, arg);

	if (op == NULL)
		return NULL;
	op->fn.xfer = fn;
	op->buf = buf;
	op->len = len;
	if (ev_io_start(loop, &op->io, fd, kind == OP_READ ? EV_READ : EV_WRITE, op_on_io, op) !=
	    0) {
		int err = errno;
		op_free(loop, op);
		errno = err;
		return NULL;
	}
	return op;
}

struct ev_op *ev_read(struct ev_loop *loop, int fd, void *buf, size_t len, uint64_t timeout_ns,
		      ev_xfer_fn fn, void *arg)
{
	return xfer_start(loop, OP_READ, fd, buf, len, timeout_ns, fn, arg);
}

struct ev_op *ev_write(struct ev_loop *loop, int fd, const void *buf, size_t len,
		       uint64_t timeout_ns, ev_xfer_fn fn, void *arg)
{
	/* The buffer is only read from; the cast keeps one operation struct for both. */
	return xfer_start(loop, OP_WRITE, fd, (void *)(uintptr_t)buf, len, timeout_ns, fn, arg);
}

static void read_ready(struct ev_loop *loop, struct ev_op *op)
{
	ssize_t n = read(op->fd, op->buf, op->len);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n >= 0)
		op->done = (size_t)n;
	op_complete(loop, op, n < 0 ? errno : 0);
}

static void write_ready(struct ev_loop *loop, struct ev_op *op)
{
	while (op->done < op->len) {
		ssize_t n = send(op->fd, op->buf + op->done, op->len - op->done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK) /* a pipe or a file */
			n = write(op->fd, op->buf + op->done, op->len - op->done);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0) {
			op_complete(loop, op, errno);
			return;
		}
		op->done += (size_t)n;
	}
	op_complete(loop, op, 0);
}

/* Children ------------------------------------------------------------------------------ */

static void child_reap(struct ev_loop *loop, struct ev_op *op)
{
	int status = 0;

	if (waitpid(op->pid, &status, WNOHANG) == 0)
		return; /* not yet: the pidfd stays readable until it has exited */
	ev_io_stop(loop, &op->io);
	ev_timer_stop(loop, &op->timer);
	close(op->fd);
	op->fn.child(loop, op->pid, status, op->killed, op->arg);
	free(op);
}

struct ev_op *ev_child_spawn(struct ev_loop *loop, char *const argv[], uint64_t timeout_ns,
			     ev_child_fn fn, void *arg)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return NULL;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return NULL;
	}
	int pidfd = pidfd_open(pid, 0);
	struct ev_op *op = pidfd < 0 ? NULL : op_new(loop, OP_CHILD, pidfd, timeout_ns, arg);
	if (op != NULL) {
		op->pid = pid;
		op->fn.child = fn;
		if (ev_io_start(loop, &op->io, pidfd, EV_READ, op_on_io, op) == 0)
			return op;
		op_free(loop, op);
	}
	int err = errno;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (pidfd >= 0)
		close(pidfd);
	errno = err;
	return NULL;
}

/* Dispatch ------------------------------------------------------------------------------ */

static void op_on_io(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct ev_op *op = io->arg;

	(void)events;
	switch (op->kind) {
	case OP_CONNECT:
		connect_ready(loop, op);
		break;
	case OP_READ:
		read_ready(loop, op);
		break;
	case OP_WRITE:
		write_ready(loop, op);
		break;
	case OP_CHILD:
		child_reap(loop, op);
		break;
	}
}

static void op_on_timer(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct ev_op *op = t->arg;

	(void)late_ns;
	if (op->finished) {
		op_complete(loop, op, op->result_err);
	} else if (op->kind == OP_CHILD) {
		/* Killed now, reported once the kernel says it has exited. */
		op->killed = true;
		pidfd_send_signal(op->fd, SIGKILL, NULL, 0);
	} else {
		op_complete(loop, op, ETIMEDOUT);
	}
}

void ev_op_cancel(struct ev_loop *loop, struct ev_op *op)
{
	ev_io_stop(loop, &op->io);
	ev_timer_stop(loop, &op->timer);
	if (op->kind == OP_CONNECT) {
		close(op->fd);
	} else if (op->kind == OP_CHILD) {
		pidfd_send_signal(op->fd, SIGKILL, NULL, 0);
		waitpid(op->pid, NULL, 0);
		close(op->fd);
	}
	free(op);
}
