/* Option scanning for subcommands: --name value, --name=value, -x value, and "--". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"

void cli_args_init(struct cli_args *it, int argc, char **argv, const char *command,
		   const char *usage, bool *json)
{
	*it = (struct cli_args){.argc = argc, .argv = argv, .json = json, .command = command,
				.usage = usage};
}

int cli_usage_error(const struct cli_args *it, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", CLI_PROGRAM, it->command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s %s\n", CLI_PROGRAM, it->usage);
	return CLI_EXIT_USAGE;
}

int cli_print_help(const struct cli_args *it)
{
	printf("usage: %s %s\n", CLI_PROGRAM, it->usage);
	return CLI_EXIT_OK;
}

static const struct cli_option *find_long(const struct cli_option *opts, const char *name,
					  size_t len)
{
	for (; opts != NULL && opts->long_name != NULL; opts++)
		if (strlen(opts->long_name) == len && strncmp(opts->long_name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
	for (; opts != NULL && opts->long_name != NULL; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

/* Takes the option's value from "=value" or the next argument. */
static int take_value(struct cli_args *it, const struct cli_option *o, const char *inline_value,
		      const char *spelled, const char **value)
{
	if (!o->has_value) {
		if (inline_value != NULL) {
			cli_usage_error(it, "option '%s' takes no value", spelled);
			return CLI_ARG_ERROR;
		}
		*value = NULL;
		return o->id;
	}
	if (inline_value != NULL) {
		*value = inline_value;
		return o->id;
	}
	if (it->index >= it->argc) {
		cli_usage_error(it, "option '%s' needs a value", spelled);
		return CLI_ARG_ERROR;
	}
	*value = it->argv[it->index++];
	return o->id;
}

int cli_args_next(struct cli_args *it, const struct cli_option *opts, const char **value)
{
	for (;;) {
		if (it->index >= it->argc)
			return CLI_ARG_END;
		const char *arg = it->argv[it->index++];

		/* A lone "-" is an argument (as in most tools), never an option. */
		if (it->options_done || arg[0] != '-' || arg[1] == '\0') {
			*value = arg;
			return CLI_ARG_POSITIONAL;
		}
		if (strcmp(arg, "--") == 0) {
			it->options_done = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return CLI_ARG_HELP;
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
			const struct cli_option *o = find_long(opts, name, len);

			if (o == NULL && len == 4 && strncmp(name, "json", 4) == 0 && eq == NULL) {
				*it->json = true;
				continue;
			}
			if (o == NULL) {
				cli_usage_error(it, "unknown option '%.*s'", (int)(len + 2), arg);
				return CLI_ARG_ERROR;
			}
			return take_value(it, o, eq != NULL ? eq + 1 : NULL, arg, value);
		}
		/* Short options: "-w 5" or "-w5"; no bundling, none of ours would benefit. */
		const struct cli_option *o = find_short(opts, arg[1]);
		if (o == NULL || (arg[2] != '\0' && !o->has_value)) {
			cli_usage_error(it, "unknown option '%s'", arg);
			return CLI_ARG_ERROR;
		}
		char spelled[3] = {'-', arg[1], '\0'};
		return take_value(it, o, arg[2] != '\0' ? arg + 2 : NULL, spelled, value);
	}
}

int cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	/* strtoul accepts " -1" as a huge number: insist on a leading digit. */
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
