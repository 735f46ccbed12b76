/* Argument helpers shared by the subcommands. */
#include <stdio.h>

#include "cli.h"
#include "cli_cmd_util.h"

int cli_parse_service_args(const struct cli_args *it, const char *proto_text,
			   const char *vip_text, char proto[4], struct cli_endpoint *vip)
{
	char err[160];

	if (cli_parse_proto(proto_text, proto) != 0)
		return cli_usage_error(it, "'%s': PROTO must be tcp or udp", proto_text);
	if (cli_parse_endpoint(vip_text, true, vip, err, sizeof(err)) != 0)
		return cli_usage_error(it, "VIP:PORT %s", err);
	return CLI_EXIT_OK;
}

json_t *cli_service_key_from_args(const struct cli_args *it, const char *proto_text,
				  const char *vip_text, int *exit_code)
{
	char proto[4];
	struct cli_endpoint vip;

	*exit_code = cli_parse_service_args(it, proto_text, vip_text, proto, &vip);
	if (*exit_code != CLI_EXIT_OK)
		return NULL;
	json_t *key = cli_service_key_json(proto, &vip);
	if (key == NULL) {
		fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
		*exit_code = CLI_EXIT_FAILURE;
	}
	return key;
}
