/*
 * external checks: the check's command run as COMMAND VIP VPORT RIP RPORT (ldirectord's
 * checkcommand, keepalived's MISC_CHECK), without a shell, stdin from /dev/null, killed at the
 * timeout. Exit status 0 is up, anything else down. At most health.max_processes run at once
 * (notify commands included): a check that finds no room is not run this time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check_run.h"

#define MAX_ARGS 32

uint32_t check_processes_running, check_processes_max = 32;

static void exited(struct ev_loop *loop, pid_t pid, int status, bool timed_out, void *arg)
{
	struct check_run *run = arg;

	(void)loop;
	(void)pid;
	check_processes_running--;
	run->impl = NULL;
	if (timed_out)
		check_run_finish(run, false, "command killed after %.1f s", run->timeout_ns / 1e9);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		check_run_finish(run, true, "exit status 0");
	else if (WIFEXITED(status))
		check_run_finish(run, false, "command exit status %d", WEXITSTATUS(status));
	else
		check_run_finish(run, false, "command killed by signal %d",
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int check_spawn_words(struct ev_loop *loop, const char *command, const char *const *extra,
		      uint64_t timeout_ns, ev_child_fn fn, void *arg, struct ev_op **op, char *why,
		      size_t whylen)
{
	char buf[LB_CHECK_STR * 2];
	char *argv[MAX_ARGS + 1];
	int argc = 0;

	if (check_processes_running >= check_processes_max)
		return lb_err(why, whylen, "not run: %u processes already running (health.max_processes)",
			      check_processes_running);
	snprintf(buf, sizeof(buf), "%s", command);
	for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w != NULL && argc < MAX_ARGS - 8;
	     w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (argc == 0)
		return lb_err(why, whylen, "empty command");
	for (int i = 0; extra != NULL && extra[i] != NULL && argc < MAX_ARGS; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
	*op = ev_child_spawn(loop, argv, timeout_ns, fn, arg);
	if (*op == NULL)
		return lb_err(why, whylen, "cannot run %s: %s", argv[0], strerror(errno));
	check_processes_running++;
	return 0;
}

static int external_start(struct check_run *run, char *why, size_t whylen)
{
	char vport[8], rport[8];
	struct ev_op *op;

	snprintf(vport, sizeof(vport), "%u", run->vport);
	snprintf(rport, sizeof(rport), "%u", run->rport);
	const char *extra[] = {run->vip, vport, run->rip, rport, NULL};
	if (check_spawn_words(run->loop, run->cfg->command, extra, run->timeout_ns, exited, run, &op,
			      why, whylen) != 0)
		return -1;
	run->impl = op;
	return 0;
}

static void external_cancel(struct check_run *run)
{
	if (run->impl == NULL)
		return;
	ev_op_cancel(run->loop, run->impl);
	check_processes_running--;
}

const struct check_runner check_runner_external = {
	.name = "external",
	.start = external_start,
	.cancel = external_cancel,
};
