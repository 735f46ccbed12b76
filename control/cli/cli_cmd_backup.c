/* config backup|backups|restore|factory-reset: the appliance's configuration backups. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

enum { OPT_LABEL = 1, OPT_YES };

/* Scans options (label, yes) and at most one positional; -1 to go on, else the exit code. */
static int scan(struct cli_args *it, const struct cli_option *opts, const char **pos,
		const char **label, bool *yes)
{
	const char *value;
	int id;

	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (id == CLI_ARG_POSITIONAL) {
			if (pos == NULL || *pos != NULL)
				return cli_usage_error(it, "unexpected argument '%s'", value);
			*pos = value;
		} else if (id == OPT_LABEL) {
			*label = value;
		} else if (id == OPT_YES) {
			*yes = true;
		}
	}
	return -1;
}

static int print_result(const struct cli_ctx *ctx, json_t *result, const char *fmt,
			const char *key)
{
	if (ctx->json)
		cli_print_json(result);
	else
		printf(fmt, json_string_value(json_object_get(result, key)));
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_config_backup(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{"label", 'l', true, OPT_LABEL}, {NULL, 0, false, 0}};
	struct cli_args it;
	const char *label = NULL;
	bool yes = false;
	json_t *result;

	cli_args_init(&it, argc, argv, "config backup", "config backup [--label LABEL]", &ctx->json);
	int rc = scan(&it, opts, NULL, &label, &yes);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "config.backup", label ? json_pack("{s:s}", "label", label) : NULL,
			 &result) != 0)
		return CLI_EXIT_FAILURE;
	return print_result(ctx, result, "backup written: %s\n", "path");
}

int cmd_config_backups(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	const char *label = NULL;
	bool yes = false;
	json_t *result, *b;
	size_t i;

	cli_args_init(&it, argc, argv, "config backups", "config backups", &ctx->json);
	int rc = scan(&it, opts, NULL, &label, &yes);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "config.backups", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json) {
		cli_print_json(result);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	printf("%-24s %-10s %-20s %s   (in %s, %lld kept)\n", "Time (UTC)", "Bytes", "Label", "Name",
	       json_string_value(json_object_get(result, "dir")),
	       (long long)json_integer_value(json_object_get(result, "keep")));
	json_array_foreach(json_object_get(result, "backups"), i, b) {
		time_t t = (time_t)json_real_value(json_object_get(b, "time"));
		struct tm tm;
		char when[32] = "?";
		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-24s %-10lld %-20s %s\n", when,
		       (long long)json_integer_value(json_object_get(b, "bytes")),
		       json_string_value(json_object_get(b, "label")),
		       json_string_value(json_object_get(b, "name")));
	}
	json_decref(result);
	return CLI_EXIT_OK;
}

static int print_replaced(const struct cli_ctx *ctx, json_t *result)
{
	json_t *na = json_object_get(result, "not_applied"), *v;
	size_t i;

	if (ctx->json) {
		cli_print_json(result);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	printf("applied the services of %s (generation %lld); the configuration before is backup %s\n",
	       json_string_value(json_object_get(result, "source")),
	       (long long)json_integer_value(json_object_get(result, "generation")),
	       json_string_value(json_object_get(json_object_get(result, "backup_before"), "name")));
	json_array_foreach(na, i, v)
		printf("not applied until the next start: %s\n", json_string_value(v));
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_config_restore(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	const char *name = NULL, *label = NULL;
	bool yes = false;
	json_t *result;

	cli_args_init(&it, argc, argv, "config restore", "config restore NAME (from config backups)",
		      &ctx->json);
	int rc = scan(&it, opts, &name, &label, &yes);
	if (rc >= 0)
		return rc;
	if (name == NULL)
		return cli_usage_error(&it, "missing NAME");
	if (cli_rpc_call(ctx, "config.restore", json_pack("{s:s}", "name", name), &result) != 0)
		return CLI_EXIT_FAILURE;
	return print_replaced(ctx, result);
}

int cmd_config_factory_reset(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{"yes", 'y', false, OPT_YES}, {NULL, 0, false, 0}};
	struct cli_args it;
	const char *label = NULL;
	bool yes = false;
	char answer[16];
	json_t *result;

	cli_args_init(&it, argc, argv, "config factory-reset", "config factory-reset [--yes]",
		      &ctx->json);
	int rc = scan(&it, opts, NULL, &label, &yes);
	if (rc >= 0)
		return rc;
	if (!yes) {
		fprintf(stderr, "Reset the configuration to the factory default? Every service is "
				"removed (a backup is made first). Type 'yes' to go on: ");
		if (fgets(answer, sizeof(answer), stdin) == NULL || strcmp(answer, "yes\n") != 0) {
			fprintf(stderr, "\n%s: config factory-reset: not reset\n", CLI_PROGRAM);
			return CLI_EXIT_FAILURE;
		}
	}
	if (cli_rpc_call(ctx, "config.factory_reset", json_pack("{s:b}", "confirm", 1), &result) != 0)
		return CLI_EXIT_FAILURE;
	return print_replaced(ctx, result);
}
