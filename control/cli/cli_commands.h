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
/* conns: conn.list as ipvsadm -Lnc, with its filters (cli_cmd_sources.c). */
int cmd_conns(struct cli_ctx *ctx, int argc, char **argv);
/* config get|save|reload: config.get, config.save, config.reload. */
/* summary: conn.summary, connections by state overall, per service and per real. */
int cmd_summary(struct cli_ctx *ctx, int argc, char **argv);
/* top-sources: conn.top as a table. */
int cmd_top_sources(struct cli_ctx *ctx, int argc, char **argv);
/* block add|del|list: block.add, block.del, block.list; add --from-top N after confirmation. */
int cmd_block(struct cli_ctx *ctx, int argc, char **argv);
/* config get|save: config.get, config.save. */
int cmd_config_get(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_save(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_reload(struct cli_ctx *ctx, int argc, char **argv);
/* info: system.info. */
int cmd_info(struct cli_ctx *ctx, int argc, char **argv);
/* protocol: stats.protocol like netstat -s; ports: stats.ports like netstat -i. */
int cmd_protocol(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ports(struct cli_ctx *ctx, int argc, char **argv);
/* top: a live full-screen view (stats.get, stats.ports, conn.top) refreshed every second. */
int cmd_top(struct cli_ctx *ctx, int argc, char **argv);
/* config backup|backups|restore|factory-reset (cli_cmd_backup.c). */
int cmd_config_backup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_backups(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_restore(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config_factory_reset(struct cli_ctx *ctx, int argc, char **argv);
/* import ipvsadm|ldirectord FILE, export ipvsadm|ldirectord [FILE] (cli_cmd_migrate.c). */
int cmd_import_ipvsadm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import_ldirectord(struct cli_ctx *ctx, int argc, char **argv);
int cmd_export_ipvsadm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_export_ldirectord(struct cli_ctx *ctx, int argc, char **argv);
/* call METHOD [PARAMS]: any method, result printed as JSON. */
int cmd_call(struct cli_ctx *ctx, int argc, char **argv);
/* capture [OPTIONS] [FILTER] | capture stop | capture status: capture.start/stop/status. */
int cmd_capture(struct cli_ctx *ctx, int argc, char **argv);
/* ha: ha.status, the failover pair. */
int cmd_ha(struct cli_ctx *ctx, int argc, char **argv);

#endif
