/* health (health.status as a table) and real drain|offline|online (the operator's wish). */
#include <stdio.h>
#include <sys/time.h>

#include "cli_cmd_util.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

/* Collects min-max positionals (no options); -1 to go on, else the exit code. */
static int positionals(struct cli_args *it, const char **pos, int min, int max, int *n)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	const char *value;
	int id;

	*n = 0;
	while ((id = cli_args_next(it, none, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (*n == max)
			return cli_usage_error(it, "unexpected argument '%s'", value);
		pos[(*n)++] = value;
	}
	if (*n < min)
		return cli_usage_error(it, "missing arguments");
	return -1;
}

int cmd_health(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	const char *pos[2];
	json_t *params = NULL, *result;
	struct timeval tv;
	int n, rc;

	cli_args_init(&it, argc, argv, "health", "health [PROTO VIP:PORT]", &ctx->json);
	if ((rc = positionals(&it, pos, 0, 2, &n)) >= 0)
		return rc;
	if (n == 1)
		return cli_usage_error(&it, "give both PROTO and VIP:PORT, or neither");
	if (n == 2) {
		json_t *key = cli_service_key_from_args(&it, pos[0], pos[1], &rc);
		if (key == NULL)
			return rc;
		params = json_pack("{s:o}", "service", key);
	}
	if (cli_rpc_call(ctx, "health.status", params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json) {
		cli_print_json(result);
	} else {
		gettimeofday(&tv, NULL);
		cli_print_health_table(json_object_get(result, "services"),
				       (double)tv.tv_sec + tv.tv_usec / 1e6);
	}
	json_decref(result);
	return CLI_EXIT_OK;
}

/* real drain|offline|online PROTO VIP:PORT RIP[:PORT]: quiet, like the other changes. */
static int real_admin(struct cli_ctx *ctx, int argc, char **argv, const char *command,
		      const char *usage, const char *method)
{
	struct cli_args it;
	struct cli_endpoint rip;
	const char *pos[3];
	char err[160];
	json_t *result;
	int n, rc;

	cli_args_init(&it, argc, argv, command, usage, &ctx->json);
	if ((rc = positionals(&it, pos, 3, 3, &n)) >= 0)
		return rc;
	if (cli_parse_endpoint(pos[2], false, &rip, err, sizeof(err)) != 0)
		return cli_usage_error(&it, "RIP[:PORT] %s", err);
	json_t *key = cli_service_key_from_args(&it, pos[0], pos[1], &rc);
	if (key == NULL)
		return rc;
	json_t *params = json_pack("{s:o, s:s}", "service", key, "ip", rip.ip);
	if (params == NULL) {
		fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
		return CLI_EXIT_FAILURE;
	}
	if (rip.has_port)
		json_object_set_new(params, "port", json_integer(rip.port));
	if (cli_rpc_call(ctx, method, params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_real_drain(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_admin(ctx, argc, argv, "real drain", "real drain PROTO VIP:PORT RIP[:PORT]",
			  "real.drain");
}

int cmd_real_offline(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_admin(ctx, argc, argv, "real offline", "real offline PROTO VIP:PORT RIP[:PORT]",
			  "real.offline");
}

int cmd_real_online(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_admin(ctx, argc, argv, "real online", "real online PROTO VIP:PORT RIP[:PORT]",
			  "real.online");
}
