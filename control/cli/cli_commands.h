/* The subcommands; each gets the arguments after its name and returns the exit code. */
#ifndef DPDK_LB_CLI_COMMANDS_H
#define DPDK_LB_CLI_COMMANDS_H

#include "cli.h"

typedef int (*cli_command_fn)(struct cli_ctx *ctx, int argc, char **argv);

/* list / service list: service.list or stats.get as ipvsadm -Ln [--stats|--rate]. */
int cmd_list(struct cli_ctx *ctx, int argc, char **argv);
/* service add|update|del: service.add, service.update, service.del. */
int cmd_service_add(struct cli_ctx *ctx, int argc, char **argv);
int cmd_service_update(struct cli_ctx *ctx, int argc, char **argv);
int cmd_service_del(struct cli_ctx *ctx, int argc, char **argv);
/* real add|update|del: real.add, real.update, real.del. */
int cmd_real_add(struct cli_ctx *ctx, int argc, char **argv);
int cmd_real_update(struct cli_ctx *ctx, int argc, char **argv);
int cmd_real_del(struct cli_ctx *ctx, int argc, char **argv);
/* real drain|offline|online: real.drain, real.offline, real.online. */
int cmd_real_drain(struct cli_ctx *ctx, int argc, char **argv);
int cmd_real_offline(struct cli_ctx *ctx, int argc, char **argv);
int cmd_real_online(struct cli_ctx *ctx, int argc, char **argv);
/* health: health.status as a table. */
int cmd_health(struct cli_ctx *ctx, int argc, char **argv);
/* stats: stats.get with the dataplane counters. */
int cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
/* conns: conn.list as ipvsadm -Lnc. */
int cmd_conns(struct cli_ctx *ctx, int argc, char **argv);
/* config get|save: config.get, config.save. */
int cmd_config_get(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_save(struct cli_ctx *ctx, int argc, char **argv);
/* info: system.info. */
int cmd_info(struct cli_ctx *ctx, int argc, char **argv);
/* call METHOD [PARAMS]: any method, result printed as JSON. */
int cmd_call(struct cli_ctx *ctx, int argc, char **argv);
/* ha: ha.status, the failover pair. */
int cmd_ha(struct cli_ctx *ctx, int argc, char **argv);

#endif
