/* ha: ha.status as text (the failover pair as this node sees it). */
#include <stdio.h>

#include <jansson.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static double real(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* "1.2s ago", or "never" for a negative age. */
static const char *ago(char *buf, size_t len, double ms)
{
	if (ms < 0)
		return "never";
	cli_format_age(buf, len, ms / 1000.0);
	return buf;
}

static void print_peers(const json_t *peers)
{
	size_t i;
	const json_t *p;
	char age[32];

	printf("%-10s %-39s %4s %-7s %-12s %10s %s\n", "Peer", "Address", "Prio", "State",
	       "LastAdvert", "ConfigGen", "Pairing");
	json_array_foreach(peers, i, p) {
		const char *refusal = str(p, "refusal");
		printf("%-10lld %-39s %4lld %-7s %-12s %10lld %s\n", (long long)num(p, "node_id"),
		       str(p, "address"), (long long)num(p, "priority"), str(p, "state"),
		       ago(age, sizeof(age), real(p, "last_advert_ms_ago")),
		       (long long)num(p, "config_generation"),
		       json_is_true(json_object_get(p, "paired")) ? "paired" : refusal);
	}
}

static void print_status(const json_t *st)
{
	char since[32], last[32];
	const json_t *hb = json_object_get(st, "heartbeat"), *conns = json_object_get(st, "connections");
	const json_t *sync = json_object_get(st, "sync");

	if (!json_is_true(json_object_get(st, "enabled"))) {
		printf("HA is off: a single appliance, always MASTER\n");
		return;
	}
	printf("Node %lld: %s for %s, priority %lld, adverts every %lld ms, last sent %s\n",
	       (long long)num(st, "node_id"), str(st, "state"),
	       ago(since, sizeof(since), real(st, "state_since_ms_ago")),
	       (long long)num(st, "priority"), (long long)num(st, "advert_interval_ms"),
	       ago(last, sizeof(last), real(st, "last_advert_sent_ms_ago")));
	printf("Master: %lld   Pairing: %s   Ping node: %s\n", (long long)num(st, "master_id"),
	       str(st, "pairing"), json_is_true(json_object_get(st, "ping_node_ok")) ? "ok" : "DOWN");
	printf("Config generation: %lld here, %lld on the peer, master's %lld applied here\n",
	       (long long)num(st, "config_generation"), (long long)num(st, "peer_config_generation"),
	       (long long)num(st, "applied_master_generation"));
	if (conns != NULL)
		printf("Connections: synced %lld, records sent %lld, received %lld, installed %lld, "
		       "sync lag %.1f ms\n", (long long)num(conns, "synced"),
		       (long long)num(conns, "records_sent"), (long long)num(conns, "records_received"),
		       (long long)num(conns, "installed"), real(conns, "lag_ms"));
	printf("Heartbeat: adverts sent %lld, received %lld, refused %lld, replays %lld; "
	       "late p99 %.3f ms, max %.3f ms\n", (long long)num(hb, "adverts_sent"),
	       (long long)num(hb, "adverts_received"), (long long)num(hb, "adverts_refused"),
	       (long long)num(hb, "replays"), real(hb, "advert_late_p99_ms"),
	       real(hb, "advert_late_max_ms"));
	printf("Sync: messages sent %lld, received %lld, refused %lld; full syncs asked %lld, "
	       "answered %lld\n", (long long)num(sync, "messages_sent"),
	       (long long)num(sync, "messages_received"), (long long)num(sync, "messages_refused"),
	       (long long)num(sync, "full_sync_requests_sent"),
	       (long long)num(sync, "full_sync_requests_received"));
	const json_t *peers = json_object_get(st, "peers");
	if (json_array_size(peers) > 0) {
		printf("\n");
		print_peers(peers);
	} else {
		printf("No peer heard yet\n");
	}
}

int cmd_ha(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	const char *value;
	json_t *result;
	int id;

	cli_args_init(&it, argc, argv, "ha", "ha", &ctx->json);
	while ((id = cli_args_next(&it, none, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(&it);
		return cli_usage_error(&it, "unexpected argument '%s'", value);
	}
	if (cli_rpc_call(ctx, "ha.status", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else
		print_status(result);
	json_decref(result);
	return CLI_EXIT_OK;
}
