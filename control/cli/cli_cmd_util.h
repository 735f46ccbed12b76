/* Pieces shared by the subcommand implementations. */
#ifndef DPDK_LB_CLI_CMD_UTIL_H
#define DPDK_LB_CLI_CMD_UTIL_H

#include "cli_addr.h"
#include "cli_args.h"

/* Parses the PROTO and VIP:PORT arguments; 0, or the usage-error exit code after printing it. */
int cli_parse_service_args(const struct cli_args *it, const char *proto_text,
			   const char *vip_text, char proto[4], struct cli_endpoint *vip);

/* Parses "tcp 10.0.0.1:80" positionals into a service key object; NULL after a usage error. */
json_t *cli_service_key_from_args(const struct cli_args *it, const char *proto_text,
				  const char *vip_text, int *exit_code);

#endif
