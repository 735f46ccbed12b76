/* dpdk-lb-cli: global options, then dispatch to the subcommand named on the command line. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_commands.h"

#ifndef DPDK_LB_VERSION
#define DPDK_LB_VERSION "unknown" /* meson defines it; a bare gcc build may not */
#endif

#define DEFAULT_SOCKET "/run/dpdk-lb/dpdk-lb.sock"
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TIMEOUT_S 86400.0

struct command {
	const char *name;
	const char *sub; /* NULL for one-word commands */
	cli_command_fn fn;
};

static const struct command commands[] = {
	{"list", NULL, cmd_list},
	{"service", "list", cmd_list},
	{"service", "add", cmd_service_add},
	{"service", "update", cmd_service_update},
	{"service", "del", cmd_service_del},
	{"real", "add", cmd_real_add},
	{"real", "update", cmd_real_update},
	{"real", "del", cmd_real_del},
	{"real", "drain", cmd_real_drain},
	{"real", "offline", cmd_real_offline},
	{"real", "online", cmd_real_online},
	{"health", NULL, cmd_health},
	{"stats", NULL, cmd_stats},
	{"conns", NULL, cmd_conns},
	{"config", "get", cmd_config_get},
	{"config", "save", cmd_config_save},
	{"info", NULL, cmd_info},
	{"call", NULL, cmd_call},
	{"ha", NULL, cmd_ha},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-s SOCKET] [--json] [--timeout SEC] COMMAND [ARGS...]\n"
		"\n"
		"Controls a running dpdk-lb over its JSON-RPC socket.\n"
		"\n"
		"Options (before COMMAND; --json is also accepted after it):\n"
		"  -s, --socket SOCKET  daemon socket (default $DPDK_LB_SOCKET, else %s)\n"
		"      --json           print the raw JSON result instead of tables\n"
		"      --timeout SEC    give up after SEC seconds (default %d, 0 = never)\n"
		"  -V, --version        print the version\n"
		"  -h, --help           print this help; COMMAND -h prints the command's\n"
		"\n"
		"Commands:\n"
		"  list [--stats|--rate] [--exact] [-n] [PROTO VIP:PORT]\n"
		"                       services and reals, like ipvsadm -Ln (also: service list)\n"
		"  service add PROTO VIP:PORT [--scheduler|-s SCHED] [--forward FWD|-g|-i|-m]\n"
		"  service update PROTO VIP:PORT [--scheduler|-s SCHED] [--forward FWD|-g|-i|-m]\n"
		"  service del PROTO VIP:PORT\n"
		"  real add PROTO VIP:PORT RIP[:PORT] [--weight|-w W] [--forward FWD|-g|-i|-m]\n"
		"  real update PROTO VIP:PORT RIP[:PORT] [--weight|-w W] [--forward FWD|-g|-i|-m]\n"
		"  real del PROTO VIP:PORT RIP[:PORT]\n"
		"  real drain|offline|online PROTO VIP:PORT RIP[:PORT]\n"
		"                       the operator's wish: weight 0, out, or back to the weight\n"
		"  health [PROTO VIP:PORT]\n"
		"                       health checks and agents: state, last check, effective weight\n"
		"  stats [--exact] [PROTO VIP:PORT]\n"
		"                       traffic counters and dataplane counters\n"
		"  conns [--limit N]    connections, like ipvsadm -Lnc\n"
		"  config get           the running configuration (JSON)\n"
		"  config save [PATH]   write it to PATH (default: the daemon's config file)\n"
		"  info                 daemon version, lcores, ports, schedulers\n"
		"  call METHOD [JSON-PARAMS]\n"
		"                       any JSON-RPC method; prints the result as JSON\n"
		"  ha                   the failover pair: role, peers, generations, sync\n"
		"\n"
		"PROTO is tcp or udp; IPv6 addresses are written [addr]:port. -g, -i, -m\n"
		"select forwarding dr, tun, nat as in ipvsadm; --fullnat selects fnat (give the\n"
		"service --laddr local addresses). 'service add --help' lists every option,\n"
		"health checks (--check TYPE, --check-*) and feedback agents (--agent TYPE) too.\n"
		"Exit status: 0 success, 1 RPC or connection failure, 2 usage error.\n",
		CLI_PROGRAM, DEFAULT_SOCKET, DEFAULT_TIMEOUT_MS / 1000);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", CLI_PROGRAM);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", CLI_PROGRAM);
	return CLI_EXIT_USAGE;
}

/* Seconds as a decimal ("2.5") into milliseconds; 0 or -1. */
static int parse_timeout(const char *s, int *ms)
{
	char *end;
	double sec = strtod(s, &end);

	if (end == s || *end != '\0' || !isfinite(sec) || sec < 0 || sec > MAX_TIMEOUT_S)
		return -1;
	/* Round up so that a tiny timeout does not become 0, which means "never". */
	*ms = (int)(sec * 1000 + 0.999);
	return 0;
}

/* Parses the global options; returns -1 to go on with argv[*next], else the exit code. */
static int parse_global(struct cli_ctx *ctx, int argc, char **argv, int *next)
{
	enum { OPT_JSON = 256, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, OPT_JSON},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	/* "+": stop at COMMAND, whose own options (service add -s rr) are not ours. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (optarg[0] == '\0')
				return usage_error("%s: SOCKET is empty", "-s");
			ctx->socket_path = optarg;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &ctx->timeout_ms) != 0)
				return usage_error("'%s': --timeout needs seconds, 0-86400",
						   optarg);
			break;
		case 'V':
			printf("%s %s\n", CLI_PROGRAM, DPDK_LB_VERSION);
			return CLI_EXIT_OK;
		case 'h':
			print_usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt != 0) {
				char spelled[3] = {'-', (char)optopt, '\0'};
				return usage_error("unknown option '%s'", spelled);
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	*next = optind;
	return -1;
}

static int dispatch(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *name = argv[0], *sub = argc > 1 ? argv[1] : NULL;
	bool known_name = false;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		if (strcmp(c->name, name) != 0)
			continue;
		known_name = true;
		if (c->sub == NULL)
			return c->fn(ctx, argc - 1, argv + 1);
		if (sub != NULL && strcmp(c->sub, sub) == 0)
			return c->fn(ctx, argc - 2, argv + 2);
	}
	if (!known_name)
		return usage_error("unknown command '%s'", name);
	/* A two-word command with a missing or wrong second word: list the valid ones. */
	fprintf(stderr, "%s: %s: expected one of:", CLI_PROGRAM, name);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(stderr, " %s", commands[i].sub);
	fprintf(stderr, "\nTry '%s --help'.\n", CLI_PROGRAM);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *env_socket = getenv("DPDK_LB_SOCKET");
	struct cli_ctx ctx = {
		.socket_path = env_socket != NULL && env_socket[0] != '\0' ? env_socket
									   : DEFAULT_SOCKET,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
	};
	int next = 0, rc;

	rc = parse_global(&ctx, argc, argv, &next);
	if (rc >= 0)
		return rc;
	if (next >= argc)
		return usage_error("%s", "missing COMMAND");
	rc = dispatch(&ctx, argc - next, argv + next);
	/* A full disk or closed pipe on stdout must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror(CLI_PROGRAM ": writing output");
		return CLI_EXIT_FAILURE;
	}
	return rc;
}
