/* The loop itself: epoll for fds, a binary heap of timers ordered by due time. */
#include "event_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_MAX_EVENTS 64

struct ev_loop {
	int epfd;
	struct ev_timer **heap; /* min-heap on due_ns */
	size_t n_timers, cap_timers;
	/* The batch being dispatched: a watcher stopped meanwhile is removed from it. */
	struct epoll_event events[EV_MAX_EVENTS];
	int n_events;
	bool no_pwait2; /* the kernel lacks epoll_pwait2: wait in milliseconds */
};

uint64_t ev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ev_loop *ev_loop_new(char *err, size_t errlen)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL) {
		snprintf(err, errlen, "event loop: out of memory");
		return NULL;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		snprintf(err, errlen, "event loop: epoll_create1: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	for (size_t i = 0; i < loop->n_timers; i++)
		loop->heap[i]->heap_pos = SIZE_MAX;
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

/* Heap ---------------------------------------------------------------------------------- */

static void heap_place(struct ev_loop *loop, size_t pos, struct ev_timer *t)
{
	loop->heap[pos] = t;
	t->heap_pos = pos;
}

static void heap_up(struct ev_loop *loop, size_t pos)
{
	struct ev_timer *t = loop->heap[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (loop->heap[parent]->due_ns <= t->due_ns)
			break;
		heap_place(loop, pos, loop->heap[parent]);
		pos = parent;
	}
	heap_place(loop, pos, t);
}

static void heap_down(struct ev_loop *loop, size_t pos)
{
	struct ev_timer *t = loop->heap[pos];

	for (;;) {
		size_t child = 2 * pos + 1;
		if (child >= loop->n_timers)
			break;
		if (child + 1 < loop->n_timers &&
		    loop->heap[child + 1]->due_ns < loop->heap[child]->due_ns)
			child++;
		if (t->due_ns <= loop->heap[child]->due_ns)
			break;
		heap_place(loop, pos, loop->heap[child]);
		pos = child;
	}
	heap_place(loop, pos, t);
}

static void heap_remove(struct ev_loop *loop, struct ev_timer *t)
{
	size_t pos = t->heap_pos;
	struct ev_timer *last = loop->heap[--loop->n_timers];

	t->heap_pos = SIZE_MAX;
	if (last == t)
		return;
	heap_place(loop, pos, last);
	heap_down(loop, pos);
	heap_up(loop, last->heap_pos);
}

/* Timers -------------------------------------------------------------------------------- */

void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	t->heap_pos = SIZE_MAX;
}

bool ev_timer_active(const struct ev_timer *t)
{
	return t->heap_pos != SIZE_MAX;
}

int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ns,
		   uint64_t period_ns)
{
	if (ev_timer_active(t))
		heap_remove(loop, t);
	if (loop->n_timers == loop->cap_timers) {
		size_t cap = loop->cap_timers ? loop->cap_timers * 2 : 16;
		struct ev_timer **heap = realloc(loop->heap, cap * sizeof(*heap));
		if (heap == NULL)
			return -1;
		loop->heap = heap;
		loop->cap_timers = cap;
	}
	t->due_ns = ev_now_ns() + delay_ns;
	t->period_ns = period_ns;
	heap_place(loop, loop->n_timers++, t);
	heap_up(loop, t->heap_pos);
	return 0;
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	if (ev_timer_active(t))
		heap_remove(loop, t);
}

/* Runs the timers due at now; a timer re-armed for now or earlier waits for the next turn. */
static int run_timers(struct ev_loop *loop, uint64_t now)
{
	int ran = 0;
	size_t budget = loop->n_timers;

	while (loop->n_timers > 0 && budget-- > 0) {
		struct ev_timer *t = loop->heap[0];
		if (t->due_ns > now)
			break;
		uint64_t due = t->due_ns;
		if (t->period_ns == 0) {
			heap_remove(loop, t);
		} else {
			t->due_ns += t->period_ns;
			if (t->due_ns <= now) /* fell behind: skip the missed periods */
				t->due_ns = now + t->period_ns - (now - due) % t->period_ns;
			heap_down(loop, 0);
		}
		t->fn(loop, t, now - due);
		ran++;
	}
	return ran;
}

/* Watchers ------------------------------------------------------------------------------ */

static uint32_t epoll_events(unsigned int events)
{
	return (events & EV_READ ? EPOLLIN : 0) | (events & EV_WRITE ? EPOLLOUT : 0);
}

int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, unsigned int events,
		ev_io_fn fn, void *arg)
{
	struct epoll_event ev = {.events = epoll_events(events), .data.ptr = io};

	io->fn = fn;
	io->arg = arg;
	io->fd = fd;
	io->events = events;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	io->active = true;
	return 0;
}

int ev_io_set(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	struct epoll_event ev = {.events = epoll_events(events), .data.ptr = io};

	if (io->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) != 0)
		return -1;
	io->events = events;
	return 0;
}

void ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
	if (!io->active)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->active = false;
	for (int i = 0; i < loop->n_events; i++)
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
}

/* The loop ------------------------------------------------------------------------------ */

/* Nanoseconds to wait: until the first timer, capped by max_wait_ms; -1 = forever. */
static int64_t wait_ns(const struct ev_loop *loop, int max_wait_ms, uint64_t now)
{
	int64_t wait = max_wait_ms < 0 ? -1 : (int64_t)max_wait_ms * (int64_t)EV_NS_PER_MS;

	if (loop->n_timers > 0) {
		uint64_t due = loop->heap[0]->due_ns;
		int64_t until = due > now ? (int64_t)(due - now) : 0;
		if (wait < 0 || until < wait)
			wait = until;
	}
	return wait;
}

static int wait_events(struct ev_loop *loop, int64_t wait)
{
	if (!loop->no_pwait2) {
		struct timespec ts = {.tv_sec = wait / 1000000000, .tv_nsec = wait % 1000000000};
		int n = epoll_pwait2(loop->epfd, loop->events, EV_MAX_EVENTS, wait < 0 ? NULL : &ts,
				     NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		loop->no_pwait2 = true;
	}
	/* Rounded up: waking early would only spin. */
	int ms = wait < 0 ? -1 : (int)((wait + (int64_t)EV_NS_PER_MS - 1) / (int64_t)EV_NS_PER_MS);
	return epoll_wait(loop->epfd, loop->events, EV_MAX_EVENTS, ms);
}

int ev_loop_run_once(struct ev_loop *loop, int max_wait_ms)
{
	int ran = 0;
	int n = wait_events(loop, wait_ns(loop, max_wait_ms, ev_now_ns()));

	if (n < 0 && errno != EINTR)
		return -1;
	loop->n_events = n > 0 ? n : 0;
	for (int i = 0; i < loop->n_events; i++) {
		struct ev_io *io = loop->events[i].data.ptr;
		uint32_t e = loop->events[i].events;
		if (io == NULL)
			continue; /* stopped by an earlier callback of this batch */
		unsigned int ready = (e & EPOLLIN ? EV_READ : 0) | (e & EPOLLOUT ? EV_WRITE : 0);
		if (e & (EPOLLERR | EPOLLHUP))
			ready |= io->events; /* the read or write that follows reports the error */
		ready &= io->events;
		if (ready == 0)
			continue;
		io->fn(loop, io, ready);
		ran++;
	}
	loop->n_events = 0;
	return ran + run_timers(loop, ev_now_ns());
}
