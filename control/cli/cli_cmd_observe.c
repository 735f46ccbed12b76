/* protocol (stats.protocol, like netstat -s) and ports (stats.ports, like netstat -i). */
#include <stdio.h>
#include <string.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

enum { OPT_XSTATS = 1 };

static unsigned long long u64(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (unsigned long long)json_integer_value(v) : 0;
}

static const json_t *sub(const json_t *o, const char *key)
{
	return json_object_get(o, key);
}

static void print_histogram(const json_t *types)
{
	size_t i;
	const json_t *t;

	json_array_foreach(types, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		printf("        %s (type %lld): %llu\n", name ? name : "?",
		       (long long)json_integer_value(json_object_get(t, "type")), u64(t, "count"));
	}
}

static void print_family(const char *ip, const char *icmp, const char *tcp, const char *udp,
			 const json_t *f)
{
	const json_t *i = sub(f, "ip"), *fr = sub(f, "fragments"), *ic = sub(f, "icmp");

	printf("%s:\n    %llu total packets received\n    %llu forwarded\n"
	       "    %llu delivered to the exception path\n"
	       "    %llu datagrams reassembled\n    %llu fragments dropped: reassembly failed\n"
	       "    %llu fragments dropped after reassembly timeout\n",
	       ip, u64(i, "received"), u64(i, "forwarded"), u64(i, "to_exception"),
	       u64(fr, "reassembled"), u64(fr, "failed"), u64(fr, "timed_out"));
	printf("%s:\n    %llu ICMP messages received\n    ICMP input histogram:\n", icmp,
	       u64(ic, "in"));
	print_histogram(sub(ic, "in_types"));
	printf("    %llu ICMP messages sent\n    ICMP output histogram:\n", u64(ic, "out"));
	print_histogram(sub(ic, "out_types"));
	printf("%s:\n    %llu connections created\n    %llu resets received\n"
	       "    %llu invalid segments dropped (no connection, not a SYN)\n",
	       tcp, u64(sub(f, "tcp"), "new_connections"), u64(sub(f, "tcp"), "resets_received"),
	       u64(sub(f, "tcp"), "invalid_segments"));
	printf("%s:\n    %llu datagrams received\n", udp, u64(sub(f, "udp"), "datagrams_received"));
}

/* The arguments of a command that takes only -h/--json (and opts); -1 to go on, else exit code. */
static int scan(struct cli_args *it, const struct cli_option *opts, bool *xstats)
{
	const char *value;
	int id;

	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (id == CLI_ARG_POSITIONAL)
			return cli_usage_error(it, "unexpected argument '%s'", value);
		if (id == OPT_XSTATS)
			*xstats = true;
	}
	return -1;
}

int cmd_protocol(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	json_t *result;
	bool unused = false;

	cli_args_init(&it, argc, argv, "protocol", "protocol", &ctx->json);
	int rc = scan(&it, none, &unused);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "stats.protocol", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json) {
		cli_print_json(result);
	} else {
		print_family("Ip", "Icmp", "Tcp", "Udp", sub(result, "ipv4"));
		print_family("Ip6", "Icmp6", "Tcp6", "Udp6", sub(result, "ipv6"));
	}
	json_decref(result);
	return CLI_EXIT_OK;
}

static void print_port_line(const json_t *p)
{
	const json_t *link = sub(p, "link");
	char speed[16] = "-";

	if (u64(link, "speed_mbps") > 0)
		snprintf(speed, sizeof(speed), "%llu", u64(link, "speed_mbps"));
	printf("%-12s %-4s %6s %12llu %8llu %8llu %8llu %12llu %8llu %14llu %14llu\n",
	       json_string_value(sub(p, "name")) ? json_string_value(sub(p, "name")) : "?",
	       json_is_true(sub(link, "up")) ? "up" : "down", speed, u64(p, "rx_packets"),
	       u64(p, "rx_errors"), u64(p, "rx_missed"), u64(p, "rx_no_mbuf"), u64(p, "tx_packets"),
	       u64(p, "tx_errors"), u64(p, "rx_bytes"), u64(p, "tx_bytes"));
}

/* A bonded port's members under its line: "  bond MODE: NAME (primary) link up, active; ..." */
static void print_bond_line(const json_t *p)
{
	const json_t *bond = sub(p, "bond"), *m;
	const char *mode = json_string_value(sub(bond, "mode"));
	size_t i;

	if (!json_is_object(bond))
		return;
	printf("  bond %s:", mode ? mode : "?");
	json_array_foreach(sub(bond, "members"), i, m) {
		const char *name = json_string_value(sub(m, "name"));
		printf("%s %s%s link %s%s", i ? ";" : "", name ? name : "?",
		       json_is_true(sub(m, "primary")) ? " (primary)" : "",
		       json_is_true(sub(m, "link_up")) ? "up" : "down",
		       json_is_true(sub(m, "active")) ? ", active" : "");
	}
	printf("\n");
}

int cmd_ports(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{"xstats", 'x', false, OPT_XSTATS},
						 {NULL, 0, false, 0}};
	struct cli_args it;
	json_t *result;
	bool xstats = false;
	size_t i;
	const json_t *p;

	cli_args_init(&it, argc, argv, "ports", "ports [--xstats|-x]", &ctx->json);
	int rc = scan(&it, opts, &xstats);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "stats.ports", xstats ? json_pack("{s:b}", "xstats", 1) : NULL,
			 &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json) {
		cli_print_json(result);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	printf("%-12s %-4s %6s %12s %8s %8s %8s %12s %8s %14s %14s\n", "Iface", "Link", "Mbit/s",
	       "RX-OK", "RX-ERR", "RX-MISS", "RX-NOMBUF", "TX-OK", "TX-ERR", "RX-Bytes", "TX-Bytes");
	json_array_foreach(sub(result, "ports"), i, p) {
		print_port_line(p);
		print_bond_line(p);
	}
	if (xstats) {
		json_array_foreach(sub(result, "ports"), i, p) {
			const char *key;
			const json_t *v;
			printf("\n%s extended statistics:\n",
			       json_string_value(sub(p, "name")) ? json_string_value(sub(p, "name")) : "?");
			json_object_foreach((json_t *)sub(p, "xstats"), key, v)
				printf("  %-40s %llu\n", key,
				       (unsigned long long)json_integer_value(v));
		}
	}
	json_decref(result);
	return CLI_EXIT_OK;
}
