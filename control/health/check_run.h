/*
 * One health check in flight, run by the runner of its type (check_connect.c, check_ping.c,
 * check_negotiate.c, check_external.c) on the control event loop: non-blocking kernel sockets
 * or a child process, never a thread. The caller fills the request, start() begins it and the
 * runner calls done exactly once (never from inside start), unless cancel() came first.
 */
#ifndef DPDK_LB_CHECK_RUN_H
#define DPDK_LB_CHECK_RUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check_dialogue.h"
#include "config.h"
#include "event_loop.h"
#include "health_config.h"

#define CHECK_RUN_WHY_LEN 160

struct check_run;

/* up: the real passed; why: the reason in words when it did not (or a note when it did). */
typedef void (*check_done_fn)(struct check_run *run, bool up, const char *why);

struct check_run {
	/* request, filled by the caller */
	struct ev_loop *loop;
	const struct lb_check_cfg *cfg;
	const struct check_proto *proto;  /* negotiate: the dialogue */
	const regex_t *receive_re;        /* compiled cfg->receive_regex, or NULL */
	struct sockaddr_storage addr;     /* the real's address and check port */
	socklen_t addrlen;
	uint8_t l4proto;                  /* IPPROTO_TCP / IPPROTO_UDP for connect checks */
	uint64_t timeout_ns;
	char vip[48], rip[48];            /* for external commands and messages */
	uint16_t vport, rport;
	check_done_fn done;
	void *arg;
	/* runner state */
	const struct check_runner *runner;
	void *impl;
};

struct check_runner {
	const char *name;
	/* Begins the check; 0, or -1 with why set (nothing to cancel then). */
	int (*start)(struct check_run *run, char *why, size_t whylen);
	/* Stops a check whose done has not run; frees what start allocated. */
	void (*cancel)(struct check_run *run);
};

extern const struct check_runner check_runner_connect, check_runner_ping,
	check_runner_negotiate, check_runner_external;

/* Starts run with runner; 0, or -1 with why (done is not called then). */
int check_run_start(struct check_run *run, const struct check_runner *runner, char *why,
		    size_t whylen);

/* Cancels run when it is in flight (no-op otherwise). */
void check_run_cancel(struct check_run *run);

/* Finishes run: clears its runner state, then calls done. For runners only. */
void check_run_finish(struct check_run *run, bool up, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Runs COMMAND's words followed by extra (NULL-terminated) as a child process, counted against
 * the cap; 0 with *op set, or -1 with why (no room, or it could not start).
 */
int check_spawn_words(struct ev_loop *loop, const char *command, const char *const *extra,
		      uint64_t timeout_ns, ev_child_fn fn, void *arg, struct ev_op **op, char *why,
		      size_t whylen);

/* External processes running now, and the cap (health.max_processes); check_external.c. */
extern uint32_t check_processes_running, check_processes_max;

#endif
