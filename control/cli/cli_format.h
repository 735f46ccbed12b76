/* ipvsadm-style tables and other human-readable renderings of RPC results. */
#ifndef DPDK_LB_CLI_FORMAT_H
#define DPDK_LB_CLI_FORMAT_H

#include <jansson.h>
#include <stdbool.h>

/* Prints v as indented JSON followed by a newline. */
void cli_print_json(const json_t *v);

/* `ipvsadm -Ln`: header and one line per service and real of service.list's services. */
void cli_print_service_table(const json_t *services);

/* `ipvsadm -Ln --stats` from stats.get's services; exact disables the K/M/G suffixes. */
void cli_print_stats_table(const json_t *services, bool exact);

/* True when stats.get's services carry rate fields (cps, inpps, ...) for --rate. */
bool cli_stats_have_rates(const json_t *services);

/* `ipvsadm -Ln --rate` from stats.get's services. */
void cli_print_rate_table(const json_t *services, bool exact);

/* stats.get's dataplane object as an indented "name value" list. */
void cli_print_dataplane(const json_t *dataplane);

/* `ipvsadm -Lnc` from conn.list's connections. */
void cli_print_conn_table(const json_t *connections);

/* system.info as "field value" lines. */
void cli_print_system_info(const json_t *info);

/* health.status's services as a table; now: the current unix time, for the ages. */
void cli_print_health_table(const json_t *services, double now);

/* A duration as "45s", "12m05s", "3h02m" or "5d04h" (negative: 0s). */
void cli_format_age(char *buf, size_t len, double seconds);

/* ipvsadm's name of a forwarding method ("dr" -> "Route"); unknown names are returned as is. */
const char *cli_forward_display(const char *forward);

#endif
