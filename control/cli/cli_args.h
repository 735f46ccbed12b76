/* Option scanning for subcommands and strict parsing of numbers. */
#ifndef DPDK_LB_CLI_ARGS_H
#define DPDK_LB_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/* cli_args_next results besides option ids (which are > 0). */
#define CLI_ARG_END 0
#define CLI_ARG_POSITIONAL (-1)
#define CLI_ARG_ERROR (-2)
#define CLI_ARG_HELP (-3)

struct cli_option {
	const char *long_name; /* without "--"; NULL ends a table */
	char short_name;       /* 0 when there is none */
	bool has_value;
	int id; /* > 0 */
};

struct cli_args {
	int argc;
	char **argv;
	int index;
	bool options_done;   /* "--" seen: everything after it is positional */
	bool *json;          /* --json is accepted after the command too */
	const char *command; /* "service add", for messages */
	const char *usage;   /* "service add PROTO VIP:PORT [...]" */
};

/* Starts scanning argv[0..argc) of a subcommand. */
void cli_args_init(struct cli_args *it, int argc, char **argv, const char *command,
		   const char *usage, bool *json);

/*
 * Returns the next option's id with its value in *value (NULL when it takes none), or
 * CLI_ARG_POSITIONAL with the argument in *value, CLI_ARG_HELP for -h/--help, CLI_ARG_END, or
 * CLI_ARG_ERROR after printing the usage error.
 */
int cli_args_next(struct cli_args *it, const struct cli_option *opts, const char **value);

/* Prints "dpdk-lb-cli: COMMAND: message" and the command's usage to stderr; returns 2. */
int cli_usage_error(const struct cli_args *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints the command's usage to stdout; returns 0 (for -h). */
int cli_print_help(const struct cli_args *it);

/* Parses a decimal integer in [min, max] with nothing after it; 0 or -1. */
int cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
