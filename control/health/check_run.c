/* Starting, cancelling and finishing a check run (see check_run.h). */
#include "check_run.h"

#include <stdarg.h>
#include <stdio.h>

int check_run_start(struct check_run *run, const struct check_runner *runner, char *why,
		    size_t whylen)
{
	run->runner = runner;
	run->impl = NULL;
	if (runner->start(run, why, whylen) != 0) {
		run->runner = NULL;
		return -1;
	}
	return 0;
}

void check_run_cancel(struct check_run *run)
{
	if (run->runner == NULL)
		return;
	run->runner->cancel(run);
	run->runner = NULL;
	run->impl = NULL;
}

void check_run_finish(struct check_run *run, bool up, const char *fmt, ...)
{
	char why[CHECK_RUN_WHY_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	run->runner = NULL;
	run->impl = NULL;
	run->done(run, up, why);
}
