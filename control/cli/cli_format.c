/* Renders RPC results the way ipvsadm prints the kernel's tables, so habits carry over. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli_addr.h"
#include "cli_format.h"
#include "forward_method.h"

#define STATS_FIELDS 5

static const char *const stats_keys[STATS_FIELDS] = {"conns", "inpkts", "outpkts", "inbytes",
						     "outbytes"};
static const char *const rate_keys[STATS_FIELDS] = {"cps", "inpps", "outpps", "inbps", "outbps"};

void cli_print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	putchar('\n');
}

static const char *get_str(const json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : fallback;
}

/* Counters are unsigned 64-bit in the daemon; a missing field reads as 0. */
static unsigned long long get_u64(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (unsigned long long)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) > 0)
		return (unsigned long long)json_real_value(v);
	return 0;
}

static long long get_int(const json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

const char *cli_forward_display(const char *forward)
{
	int f = lb_forward_method_find(forward);

	if (f >= 0)
		return lb_forward_method_get((uint8_t)f)->display_name;
	return strcmp(forward, "local") == 0 ? "Local" : forward;
}

/* "TCP  10.0.0.100:80": upper-case protocol, two spaces, endpoint, as ipvsadm does. */
static void service_name(char *buf, size_t len, const json_t *svc)
{
	char proto[8], endpoint[CLI_ENDPOINT_STRLEN];
	const char *p = get_str(svc, "proto", "?");
	size_t i;

	for (i = 0; p[i] != '\0' && i < sizeof(proto) - 1; i++)
		proto[i] = (char)toupper((unsigned char)p[i]);
	proto[i] = '\0';
	cli_format_endpoint(endpoint, sizeof(endpoint), get_str(svc, "vip", "?"),
			    get_int(svc, "port"));
	snprintf(buf, len, "%s  %s", proto, endpoint);
}

static void real_name(char *buf, size_t len, const json_t *real)
{
	cli_format_endpoint(buf, len, get_str(real, "ip", "?"), get_int(real, "port"));
}

/* ipvsadm's "persistent 300 mask 255.255.255.0", and a group's ports. */
static void print_persistence(const json_t *svc)
{
	long long timeout = get_int(svc, "persistent"), len = get_int(svc, "netmask");
	const json_t *ports = json_object_get(svc, "ports"), *p;
	size_t k;

	if (timeout > 0) {
		if (strchr(get_str(svc, "vip", ""), ':') == NULL && len >= 0 && len <= 32) {
			unsigned long m = len ? 0xffffffffUL << (32 - len) & 0xffffffffUL : 0;
			printf(" persistent %lld mask %lu.%lu.%lu.%lu", timeout, m >> 24, (m >> 16) & 255,
			       (m >> 8) & 255, m & 255);
		} else {
			printf(" persistent %lld mask %lld", timeout, len);
		}
	}
	json_array_foreach(ports, k, p) {
		if (json_is_integer(p))
			printf("%s%lld", k ? "," : " ports ", (long long)json_integer_value(p));
		else
			printf("%s%s", k ? "," : " ports ", json_string_value(p));
	}
}

/* Whether the daemon reports effective weights and health in service.list (it did not always). */
static bool have_health_columns(const json_t *services)
{
	size_t i, j;
	const json_t *svc, *real;

	json_array_foreach(services, i, svc)
		json_array_foreach(json_object_get(svc, "reals"), j, real)
			if (json_object_get(real, "effective_weight") != NULL ||
			    json_object_get(real, "health") != NULL)
				return true;
	return false;
}

/* "up", "down/drain", "up/offline": the health observed, then the operator's wish if not online. */
static void real_state(char *buf, size_t len, const json_t *real)
{
	const char *admin = get_str(real, "state", "online");

	if (strcmp(admin, "online") == 0)
		snprintf(buf, len, "%s", get_str(real, "health", "-"));
	else
		snprintf(buf, len, "%s/%s", get_str(real, "health", "-"), admin);
}

static void print_real_line(const json_t *real, bool health)
{
	char rname[CLI_ENDPOINT_STRLEN], eff[24], state[48];

	real_name(rname, sizeof(rname), real);
	/* ipvsadm pads the last column too; we do not, to avoid trailing blanks. */
	printf("  -> %-28s %-7s %-6lld %-10llu ", rname,
	       cli_forward_display(get_str(real, "forward", "?")), get_int(real, "weight"),
	       get_u64(real, "active"));
	if (!health) {
		printf("%llu\n", get_u64(real, "inactive"));
		return;
	}
	if (json_is_integer(json_object_get(real, "effective_weight")))
		snprintf(eff, sizeof(eff), "%lld", get_int(real, "effective_weight"));
	else
		snprintf(eff, sizeof(eff), "-");
	if (json_is_false(json_object_get(real, "in_service")))
		snprintf(eff, sizeof(eff), "out");
	real_state(state, sizeof(state), real);
	printf("%-9llu %-9s %s\n", get_u64(real, "inactive"), eff, state);
}

static void print_fallback_line(const json_t *fb, bool health)
{
	char rname[CLI_ENDPOINT_STRLEN];
	bool local = json_is_true(json_object_get(fb, "local"));

	/* a local fallback is the appliance's holding page on the VIP itself */
	if (local)
		snprintf(rname, sizeof(rname), "holding page");
	else
		real_name(rname, sizeof(rname), fb);
	printf("  -> %-28s %-7s %-6s %-10llu ", rname,
	       local ? "Local" : cli_forward_display(get_str(fb, "forward", "?")), "-",
	       get_u64(fb, "active"));
	if (health)
		printf("%-9llu %-9s %s\n", get_u64(fb, "inactive"), "-", "-");
	else
		printf("%llu\n", get_u64(fb, "inactive"));
}

void cli_print_service_table(const json_t *services)
{
	size_t i, j;
	const json_t *svc, *real;
	bool health = have_health_columns(services);

	printf("Prot LocalAddress:Port Scheduler Flags\n"
	       "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn%s\n",
	       health ? " EffWeight State" : "");
	json_array_foreach(services, i, svc) {
		char name[CLI_ENDPOINT_STRLEN + 16];
		service_name(name, sizeof(name), svc);
		const char *sched = get_str(svc, "scheduler", "?");
		printf("%s %s", name, sched);
		/* Flags as ipvsadm prints them: sh-fallback,sh-port */
		const json_t *flag;
		size_t k;
		json_array_foreach(json_object_get(svc, "sched_flags"), k, flag)
			printf("%s%s-%s", k ? "," : " ", sched, json_string_value(flag));
		print_persistence(svc);
		putchar('\n');
		json_array_foreach(json_object_get(svc, "reals"), j, real)
			print_real_line(real, health);
		/* The sorry server, as keepalived's sorry_server: used only when no real can take. */
		real = json_object_get(svc, "fallback");
		if (json_is_object(real))
			print_fallback_line(real, health);
	}
}

/* ipvsadm's print_largenum: 9 columns, K/M/G/T by powers of 1000 past 100 million. */
static void print_largenum(unsigned long long n, bool exact)
{
	if (exact) {
		int len = snprintf(NULL, 0, "%llu", n);
		printf("%*llu", len <= 8 ? 9 : len + 1, n);
	} else if (n < 100000000ULL) {
		printf("%9llu", n);
	} else if (n < 1000000000ULL) {
		printf("%8lluK", n / 1000);
	} else if (n < 100000000000ULL) {
		printf("%8lluM", n / 1000000);
	} else if (n < 100000000000000ULL) {
		printf("%8lluG", n / 1000000000ULL);
	} else {
		printf("%8lluT", n / 1000000000000ULL);
	}
}

static void print_counters(const json_t *obj, const char *const keys[STATS_FIELDS], bool exact)
{
	for (int k = 0; k < STATS_FIELDS; k++)
		print_largenum(get_u64(obj, keys[k]), exact);
	putchar('\n');
}

static void print_counter_table(const json_t *services, const char *const keys[STATS_FIELDS],
				const char *const titles[STATS_FIELDS], bool exact)
{
	size_t i, j;
	const json_t *svc, *real;

	printf("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
	       titles[0], titles[1], titles[2], titles[3], titles[4]);
	json_array_foreach(services, i, svc) {
		char name[CLI_ENDPOINT_STRLEN + 16];
		service_name(name, sizeof(name), svc);
		printf("%-33s", name);
		print_counters(svc, keys, exact);
		json_array_foreach(json_object_get(svc, "reals"), j, real) {
			char rname[CLI_ENDPOINT_STRLEN];
			real_name(rname, sizeof(rname), real);
			printf("  -> %-28s", rname);
			print_counters(real, keys, exact);
		}
	}
}

void cli_print_stats_table(const json_t *services, bool exact)
{
	static const char *const titles[STATS_FIELDS] = {"Conns", "InPkts", "OutPkts", "InBytes",
							 "OutBytes"};
	print_counter_table(services, stats_keys, titles, exact);
}

bool cli_stats_have_rates(const json_t *services)
{
	size_t i;
	const json_t *svc;

	json_array_foreach(services, i, svc)
		for (int k = 0; k < STATS_FIELDS; k++)
			if (json_object_get(svc, rate_keys[k]) == NULL)
				return false;
	return true;
}

void cli_print_rate_table(const json_t *services, bool exact)
{
	static const char *const titles[STATS_FIELDS] = {"CPS", "InPPS", "OutPPS", "InBPS",
							 "OutBPS"};
	print_counter_table(services, rate_keys, titles, exact);
}

static void print_scalar(const json_t *v)
{
	if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		fputs(json_string_value(v), stdout);
	else
		json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
}

void cli_print_dataplane(const json_t *dataplane)
{
	const char *key, *sub_key;
	const json_t *v, *sub;

	/* Generic on purpose: counters the daemon adds later show up without a CLI change. */
	printf("Dataplane\n");
	json_object_foreach((json_t *)dataplane, key, v) {
		if (json_is_object(v)) {
			printf("  %s\n", key);
			json_object_foreach((json_t *)v, sub_key, sub) {
				printf("    %-20s ", sub_key);
				print_scalar(sub);
				putchar('\n');
			}
			continue;
		}
		printf("  %-22s ", key);
		print_scalar(v);
		putchar('\n');
	}
}

void cli_print_conn_table(const json_t *connections)
{
	size_t i, src_w = 18, virt_w = 18;
	const json_t *c;

	/* ipvsadm's columns are 18 wide; widen them for IPv6 so the table stays aligned. */
	json_array_foreach(connections, i, c) {
		size_t s = strlen(get_str(c, "client", "")), v = strlen(get_str(c, "virtual", ""));
		src_w = s > src_w ? s : src_w;
		virt_w = v > virt_w ? v : virt_w;
	}
	printf("IPVS connection entries\n");
	printf("pro expire %-11s %-*s %-*s %s\n", "state", (int)src_w, "source", (int)virt_w,
	       "virtual", "destination");
	json_array_foreach(connections, i, c) {
		char proto[8];
		const char *p = get_str(c, "proto", "?");
		long long expires = get_int(c, "expires");
		size_t k;

		for (k = 0; p[k] != '\0' && k < sizeof(proto) - 1; k++)
			proto[k] = (char)toupper((unsigned char)p[k]);
		proto[k] = '\0';
		printf("%-3s %02lld:%02lld  %-11s %-*s %-*s %s\n", proto, expires / 60,
		       expires % 60, get_str(c, "state", "?"), (int)src_w,
		       get_str(c, "client", "?"), (int)virt_w, get_str(c, "virtual", "?"),
		       get_str(c, "real", "-"));
	}
}

static void print_workers(const json_t *workers)
{
	size_t i, j;
	const json_t *w, *q;

	printf("%-20s %zu\n", "workers", json_array_size(workers));
	json_array_foreach(workers, i, w) {
		printf("  lcore %-13lld", get_int(w, "lcore"));
		json_array_foreach(json_object_get(w, "queues"), j, q)
			printf(" port %lld queue %lld%s", get_int(q, "port"), get_int(q, "queue"),
			       j + 1 < json_array_size(json_object_get(w, "queues")) ? "," : "");
		putchar('\n');
	}
}

static void print_ports(const json_t *ports)
{
	size_t i;
	const json_t *p;

	printf("%-20s %zu\n", "ports", json_array_size(ports));
	json_array_foreach(ports, i, p) {
		const char *address = get_str(p, "address", "");
		printf("  port %-14lld %s mac %s address %s rx_queues %lld tx_queues %lld\n",
		       get_int(p, "port"), get_str(p, "name", "?"), get_str(p, "mac", "?"),
		       address[0] != '\0' ? address : "-", get_int(p, "rx_queues"),
		       get_int(p, "tx_queues"));
		size_t k;
		const json_t *v;
		json_array_foreach(json_object_get(p, "vlans"), k, v) {
			const char *a6 = get_str(v, "address6", "");
			printf("    vlan %-13lld address %s%s%s mtu %lld\n", get_int(v, "id"),
			       get_str(v, "address", "-"), a6[0] ? " address6 " : "", a6,
			       get_int(v, "mtu"));
		}
	}
}

void cli_print_system_info(const json_t *info)
{
	long long uptime = get_int(info, "uptime");
	size_t i;
	const json_t *s;

	printf("%-20s %s\n", "version", get_str(info, "version", "?"));
	printf("%-20s %lldd %02lld:%02lld:%02lld (%lld s)\n", "uptime", uptime / 86400,
	       uptime / 3600 % 24, uptime / 60 % 60, uptime % 60, uptime);
	printf("%-20s %s\n", "config_file", get_str(info, "config_file", "-"));
	printf("%-20s %lld\n", "control_lcore", get_int(info, "control_lcore"));
	print_workers(json_object_get(info, "workers"));
	print_ports(json_object_get(info, "ports"));
	printf("%-20s", "schedulers");
	json_array_foreach(json_object_get(info, "schedulers"), i, s)
		printf(" %s", json_string_value(s) != NULL ? json_string_value(s) : "?");
	putchar('\n');
	printf("%-20s %llu\n", "flow_capacity", get_u64(info, "flow_capacity"));
	printf("%-20s %llu\n", "snapshot_generation", get_u64(info, "snapshot_generation"));
}
