/*
 * A single-threaded event loop (epoll, pure C, no EAL) for the control lcore: timers, fd
 * watchers, non-blocking socket I/O with deadlines and child processes with timeouts. Nothing
 * here blocks except ev_loop_run_once's wait, which is bounded by the next timer.
 *
 * Timers and watchers are caller-owned structs; operations (ev_connect, ev_read, ev_write,
 * ev_child_spawn) are owned by the loop until their callback has run or they are cancelled.
 * Callbacks run on the loop's thread and may start or stop anything, themselves included.
 */
#ifndef DPDK_LB_EVENT_LOOP_H
#define DPDK_LB_EVENT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define EV_READ 1u
#define EV_WRITE 2u

#define EV_NS_PER_MS 1000000ull

struct ev_loop;
struct ev_timer;
struct ev_io;
struct ev_op;

/* late_ns: how long after its due time the timer ran (the loop's lateness). */
typedef void (*ev_timer_fn)(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns);

/* events: the subset of the watched events that is ready (errors and hang-ups wake both). */
typedef void (*ev_io_fn)(struct ev_loop *loop, struct ev_io *io, unsigned int events);

struct ev_timer {
	ev_timer_fn fn;
	void *arg;
	uint64_t due_ns;    /* CLOCK_MONOTONIC */
	uint64_t period_ns; /* 0: one-shot */
	size_t heap_pos;    /* internal; SIZE_MAX when not armed */
};

struct ev_io {
	ev_io_fn fn;
	void *arg;
	int fd;
	unsigned int events;
	bool active;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ev_now_ns(void);

/* A new loop; NULL with err set. */
struct ev_loop *ev_loop_new(char *err, size_t errlen);

/* Frees the loop (NULL-safe); stop timers and watchers and cancel operations first. */
void ev_loop_free(struct ev_loop *loop);

/*
 * Waits for ready fds or the next timer, at most max_wait_ms (-1: no bound other than the
 * timers), then runs the callbacks of what is ready and of every timer due. Returns the number
 * of callbacks run, or -1 with errno set when waiting failed (EINTR is not a failure).
 */
int ev_loop_run_once(struct ev_loop *loop, int max_wait_ms);

/* Prepares a timer (not armed). */
void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *arg);

/*
 * Arms t to fire after delay_ns, then every period_ns when that is not 0 (a periodic timer
 * that falls behind skips the periods it missed rather than firing in a burst). Re-arms an
 * armed timer. 0, or -1 out of memory.
 */
int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ns,
		   uint64_t period_ns);

/* Disarms t (no-op when it is not armed). */
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);

/* Whether t is armed. */
bool ev_timer_active(const struct ev_timer *t);

/* Watches fd for events (EV_READ | EV_WRITE; one watcher per fd). 0, or -1 with errno set. */
int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, unsigned int events,
		ev_io_fn fn, void *arg);

/* Changes the events an active watcher waits for; 0, or -1 with errno set. */
int ev_io_set(struct ev_loop *loop, struct ev_io *io, unsigned int events);

/* Stops watching (no-op when inactive); call before closing the fd. */
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);

/*
 * Socket operations. Each runs its callback exactly once (never from inside the call that
 * started it) unless cancelled first; a deadline that passes completes it with ETIMEDOUT.
 */

/* fd: the connected non-blocking socket (the callee owns it), or -1 with err the errno. */
typedef void (*ev_connect_fn)(struct ev_loop *loop, int fd, int err, void *arg);

/* result: bytes transferred (0 for a read at end of stream), or -errno. */
typedef void (*ev_xfer_fn)(struct ev_loop *loop, int fd, ssize_t result, void *arg);

/*
 * exited: the child's wait status (see WIFEXITED); timed_out when it ran past its timeout and
 * was killed with SIGKILL.
 */
typedef void (*ev_child_fn)(struct ev_loop *loop, pid_t pid, int status, bool timed_out,
			    void *arg);

/*
 * Connects a new non-blocking socket of type (SOCK_STREAM or SOCK_DGRAM) to addr (AF_INET,
 * AF_INET6 or AF_UNIX) within timeout_ns (0: no deadline). NULL with errno set when it could
 * not be started.
 */
struct ev_op *ev_connect(struct ev_loop *loop, int type, const struct sockaddr *addr,
			 socklen_t addrlen, uint64_t timeout_ns, ev_connect_fn fn, void *arg);

/* Reads once, up to len bytes into buf, when fd (non-blocking) becomes readable. */
struct ev_op *ev_read(struct ev_loop *loop, int fd, void *buf, size_t len, uint64_t timeout_ns,
		      ev_xfer_fn fn, void *arg);

/* Writes all len bytes of buf (kept by the caller until the callback) to non-blocking fd. */
struct ev_op *ev_write(struct ev_loop *loop, int fd, const void *buf, size_t len,
		       uint64_t timeout_ns, ev_xfer_fn fn, void *arg);

/*
 * Runs argv[0] (searched in PATH) with argv, stdin from /dev/null, other fds inherited; killed
 * when it runs longer than timeout_ns (0: no limit). NULL with errno set when it did not start.
 */
struct ev_op *ev_child_spawn(struct ev_loop *loop, char *const argv[], uint64_t timeout_ns,
			     ev_child_fn fn, void *arg);

/*
 * Cancels an operation whose callback has not run: a connecting socket is closed, a child is
 * killed and reaped. The fd of ev_read/ev_write stays open.
 */
void ev_op_cancel(struct ev_loop *loop, struct ev_op *op);

#endif
