/* The whole configuration document: defaults, parsing, serialisation, atomic save. */
#include "config.h"
#include "config_validate.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_RPC_SOCKET "/run/dpdk-lb/dpdk-lb.sock"
#define LB_DEFAULT_BACKUPS_DIR "/var/lib/dpdk-lb/backups"

/* Config key <-> timeout state, in the order config.md documents them. */
static const struct {
	const char *key;
	uint8_t state;
} timeout_keys[] = {
	{"tcp", LB_TCP_ESTABLISHED},     {"tcp_fin", LB_TCP_FIN_WAIT},
	{"syn_recv", LB_TCP_SYN_RECV},   {"syn_sent", LB_TCP_SYN_SENT},
	{"time_wait", LB_TCP_TIME_WAIT}, {"close", LB_TCP_CLOSE},
	{"close_wait", LB_TCP_CLOSE_WAIT}, {"last_ack", LB_TCP_LAST_ACK},
	{"listen", LB_TCP_LISTEN},       {"udp", LB_UDP_STATE},
};
#define N_TIMEOUT_KEYS (sizeof(timeout_keys) / sizeof(timeout_keys[0]))

/* Unsigned dataplane keys with their field and accepted range. */
struct uint_key {
	const char *key;
	size_t offset;
	uint32_t min, max;
};
static const struct uint_key dataplane_keys[] = {
	{"flow_capacity", offsetof(struct lb_config, flow_capacity), 1024, 1u << 28},
	{"flow_capacity_v6", offsetof(struct lb_config, flow_capacity_v6), 1024, 1u << 26},
	{"mbufs", offsetof(struct lb_config, mbufs), 1023, 1u << 26},
	{"rx_descriptors", offsetof(struct lb_config, rx_descriptors), 64, 32768},
	{"tx_descriptors", offsetof(struct lb_config, tx_descriptors), 64, 32768},
	{"idle_sleep_us", offsetof(struct lb_config, idle_sleep_us), 0, 100000},
	{"max_services", offsetof(struct lb_config, max_services), 1, 1u << 20},
	{"max_reals", offsetof(struct lb_config, max_reals), 1, 1u << 22},
	{"persistence_capacity", offsetof(struct lb_config, persistence_capacity), 1024, 1u << 24},
	{"mbuf_data_room", offsetof(struct lb_config, mbuf_data_room), 128, 16384},
	{"frag_datagrams", offsetof(struct lb_config, frag_datagrams), 16, 1u << 20},
	{"frag_timeout_ms", offsetof(struct lb_config, frag_timeout_ms), 10, 60000},
	{"conn_event_ring", offsetof(struct lb_config, conn_event_ring), 0, 1u << 20},
	{"fnat_port_min", offsetof(struct lb_config, fnat_port_min), 1, 65535},
	{"fnat_port_max", offsetof(struct lb_config, fnat_port_max), 1, 65535},
	{"blocklist_capacity", offsetof(struct lb_config, blocklist_capacity), 1,
	 LB_BLOCKLIST_CAPACITY_MAX},
	{"source_slots", offsetof(struct lb_config, source_slots), 0, 1u << 20},
	{"half_open_pressure_percent", offsetof(struct lb_config, half_open_pressure_percent), 1,
	 100},
	{"half_open_pressure_timeout_s", offsetof(struct lb_config, half_open_pressure_timeout_s), 1,
	 31536000},
};
#define N_DATAPLANE_KEYS (sizeof(dataplane_keys) / sizeof(dataplane_keys[0]))

void lb_config_init_defaults(struct lb_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->rpc_socket, sizeof(c->rpc_socket), "%s", DEFAULT_RPC_SOCKET);
	c->rpc_max_request_bytes = 1u << 20;
	c->rpc_max_clients = 64;
	c->rpc_idle_timeout_s = 60;
	snprintf(c->backups_dir, sizeof(c->backups_dir), "%s", LB_DEFAULT_BACKUPS_DIR);
	c->backups_keep = 20;
	c->flow_capacity = 262144;
	c->flow_capacity_v6 = 65536;
	c->mbufs = 16383;
	c->rx_descriptors = 1024;
	c->tx_descriptors = 1024;
	c->idle_sleep_us = 0;
	c->max_services = 1024;
	c->max_reals = 8192;
	c->persistence_capacity = 65536;
	c->mbuf_data_room = 2048;
	c->frag_datagrams = 4096;
	c->frag_timeout_ms = 2000;
	c->conn_event_ring = 16384;
	c->fnat_port_min = 1024;
	c->fnat_port_max = 65535;
	c->half_open_pressure_percent = 50;
	c->half_open_pressure_timeout_s = 5;
	c->blocklist_capacity = LB_BLOCKLIST_CAPACITY_DEFAULT;
	c->source_slots = 4096;
	c->exception_rx_pps = 20000;
	c->exception_tx_pps = 20000;
	c->exception_burst = 256;
	c->health_max_processes = 32;
	c->system.hugepage_kb = 2048;
	snprintf(c->system.hugetlbfs, sizeof(c->system.hugetlbfs), "/dev/hugepages");
	c->neigh_refresh_s = 30;
	c->neigh_timeout_s = 90;
	lb_timeouts_default(&c->timeouts);
	c->metrics_enabled = true;
	c->metrics_addr = lb_addr_from_v4(htonl(0x7f000001)); /* 127.0.0.1 */
	c->metrics_port = 9108;
	lb_ha_cfg_default(&c->ha);
}

static int parse_eal(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	if (!json_is_array(v))
		return lb_err(err, errlen, "eal: must be an array of strings");
	size_t n = json_array_size(v);
	c->eal_argv = calloc(n + 1, sizeof(char *));
	if (c->eal_argv == NULL)
		return lb_err(err, errlen, "eal: out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(v, i);
		if (!json_is_string(a))
			return lb_err(err, errlen, "eal[%zu]: must be a string", i);
		c->eal_argv[i] = strdup(json_string_value(a));
		if (c->eal_argv[i] == NULL)
			return lb_err(err, errlen, "eal: out of memory");
		c->eal_argc = (uint32_t)(i + 1);
	}
	return 0;
}

static int parse_rpc(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"socket", "max_request_bytes", "max_clients",
					   "idle_timeout_s", "roles", NULL};
	json_t *s;

	if (!json_is_object(v))
		return lb_err(err, errlen, "rpc: must be an object");
	if (lb_json_check_keys(v, "rpc", keys, err, errlen) != 0)
		return -1;
	s = json_object_get(v, "socket");
	if (s != NULL) {
		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) >= sizeof(c->rpc_socket))
			return lb_err(err, errlen, "rpc.socket: must be a path shorter than %zu bytes",
				      sizeof(c->rpc_socket));
		snprintf(c->rpc_socket, sizeof(c->rpc_socket), "%s", json_string_value(s));
	}
	if (lb_json_get_uint(v, "max_request_bytes", "rpc", 1024, 1u << 30,
			     &c->rpc_max_request_bytes, err, errlen) != 0 ||
	    lb_json_get_uint(v, "max_clients", "rpc", 1, 4096, &c->rpc_max_clients, err, errlen) ||
	    lb_json_get_uint(v, "idle_timeout_s", "rpc", 1, 86400, &c->rpc_idle_timeout_s, err,
			     errlen))
		return -1;
	s = json_object_get(v, "roles");
	if (s != NULL && lb_roles_from_json(s, &c->rpc_roles, err, errlen) != 0)
		return -1;
	return 0;
}

static int parse_dataplane(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	const char *key;
	json_t *val;

	if (!json_is_object(v))
		return lb_err(err, errlen, "dataplane: must be an object");
	json_object_foreach((json_t *)v, key, val) {
		size_t i;
		(void)val;
		for (i = 0; i < N_DATAPLANE_KEYS; i++)
			if (strcmp(dataplane_keys[i].key, key) == 0)
				break;
		if (i == N_DATAPLANE_KEYS)
			return lb_err(err, errlen, "dataplane.%s: unknown key", key);
		if (lb_json_get_uint(v, key, "dataplane", dataplane_keys[i].min, dataplane_keys[i].max,
				     (uint32_t *)((char *)c + dataplane_keys[i].offset), err, errlen))
			return -1;
	}
	return 0;
}

static int parse_ports(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"address", "address6", "mtu", "kernel_interface",
					   "bond", "vlans", NULL};

	if (!json_is_array(v))
		return lb_err(err, errlen, "ports: must be an array");
	size_t n = json_array_size(v);
	c->ports = n ? calloc(n, sizeof(*c->ports)) : NULL;
	if (n && c->ports == NULL)
		return lb_err(err, errlen, "ports: out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[32], dflt[LB_IFNAME_LEN];
		json_t *p = json_array_get(v, i);
		snprintf(path, sizeof(path), "ports[%zu]", i);
		if (!json_is_object(p))
			return lb_err(err, errlen, "%s: must be an object", path);
		if (lb_json_check_keys(p, path, keys, err, errlen) != 0 ||
		    lb_link_from_json(p, path, 1500, &c->ports[i], err, errlen) != 0)
			return -1;
		snprintf(dflt, sizeof(dflt), "dlb%u", (unsigned int)i);
		if (lb_ifname_from_json(json_object_get(p, "kernel_interface"), dflt, path,
					c->ports[i].kernel_interface, err, errlen) != 0)
			return -1;
		const json_t *bond = json_object_get(p, "bond");
		if (bond != NULL) {
			char bpath[40];
			snprintf(bpath, sizeof(bpath), "%s.bond", path);
			if (lb_bond_cfg_parse(bond, bpath, &c->ports[i].bond, err, errlen) != 0)
				return -1;
		}
		c->n_ports = (uint32_t)(i + 1);
		if (lb_config_vlans_from_json(json_object_get(p, "vlans"), c, (uint32_t)i, err,
					      errlen) != 0)
			return -1;
	}
	return 0;
}

static int parse_exception(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"rx_pps", "tx_pps", "burst", NULL};

	if (!json_is_object(v))
		return lb_err(err, errlen, "exception: must be an object");
	if (lb_json_check_keys(v, "exception", keys, err, errlen) != 0 ||
	    lb_json_get_uint(v, "rx_pps", "exception", 1, 10000000, &c->exception_rx_pps, err,
			     errlen) != 0 ||
	    lb_json_get_uint(v, "tx_pps", "exception", 1, 10000000, &c->exception_tx_pps, err,
			     errlen) != 0 ||
	    lb_json_get_uint(v, "burst", "exception", 1, 65536, &c->exception_burst, err, errlen))
		return -1;
	return 0;
}

static int parse_health(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"max_processes", "state_file", NULL};
	json_t *f;

	if (!json_is_object(v))
		return lb_err(err, errlen, "health: must be an object");
	if (lb_json_check_keys(v, "health", keys, err, errlen) != 0 ||
	    lb_json_get_uint(v, "max_processes", "health", 1, 4096, &c->health_max_processes, err,
			     errlen) != 0)
		return -1;
	f = json_object_get(v, "state_file");
	if (f != NULL) {
		if (!json_is_string(f) || json_string_length(f) >= sizeof(c->health_state_file))
			return lb_err(err, errlen, "health.state_file: must be a path of at most %zu bytes",
				      sizeof(c->health_state_file) - 1);
		snprintf(c->health_state_file, sizeof(c->health_state_file), "%s", json_string_value(f));
	}
	return 0;
}

static int parse_neighbours(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"refresh", "timeout", "static", NULL};
	static const char *const static_keys[] = {"ip", "mac", NULL};
	json_t *st;

	if (!json_is_object(v))
		return lb_err(err, errlen, "neighbours: must be an object");
	if (lb_json_check_keys(v, "neighbours", keys, err, errlen) != 0 ||
	    lb_json_get_uint(v, "refresh", "neighbours", 1, 86400, &c->neigh_refresh_s, err,
			     errlen) != 0 ||
	    lb_json_get_uint(v, "timeout", "neighbours", 1, 86400, &c->neigh_timeout_s, err, errlen))
		return -1;
	st = json_object_get(v, "static");
	if (st == NULL)
		return 0;
	if (!json_is_array(st))
		return lb_err(err, errlen, "neighbours.static: must be an array");
	size_t n = json_array_size(st);
	c->static_neigh = n ? calloc(n, sizeof(*c->static_neigh)) : NULL;
	if (n && c->static_neigh == NULL)
		return lb_err(err, errlen, "neighbours.static: out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[48];
		json_t *e = json_array_get(st, i), *ip, *mac;
		snprintf(path, sizeof(path), "neighbours.static[%zu]", i);
		if (!json_is_object(e))
			return lb_err(err, errlen, "%s: must be an object", path);
		if (lb_json_check_keys(e, path, static_keys, err, errlen) != 0)
			return -1;
		ip = json_object_get(e, "ip");
		mac = json_object_get(e, "mac");
		if (!json_is_string(ip) || lb_addr_parse(json_string_value(ip), &c->static_neigh[i].ip))
			return lb_err(err, errlen, "%s.ip: must be an address", path);
		if (!json_is_string(mac) || lb_mac_parse(json_string_value(mac), c->static_neigh[i].mac))
			return lb_err(err, errlen, "%s.mac: must be like \"02:00:00:00:00:01\"", path);
		c->n_static_neigh = (uint32_t)(i + 1);
	}
	return 0;
}

static int parse_timeouts(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	const char *key;
	json_t *val;

	if (!json_is_object(v))
		return lb_err(err, errlen, "timeouts: must be an object");
	json_object_foreach((json_t *)v, key, val) {
		size_t i;
		uint32_t secs = 0;
		(void)val;
		for (i = 0; i < N_TIMEOUT_KEYS; i++)
			if (strcmp(timeout_keys[i].key, key) == 0)
				break;
		if (i == N_TIMEOUT_KEYS)
			return lb_err(err, errlen, "timeouts.%s: unknown key", key);
		if (lb_json_get_uint(v, key, "timeouts", 1, 31536000, &secs, err, errlen) != 0)
			return -1;
		c->timeouts.by_state[timeout_keys[i].state] = secs;
	}
	return 0;
}

static int parse_ipvs(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"expire_nodest_conn", "expire_quiescent_template", NULL};
	json_t *b;

	if (!json_is_object(v))
		return lb_err(err, errlen, "ipvs: must be an object");
	if (lb_json_check_keys(v, "ipvs", keys, err, errlen) != 0)
		return -1;
	for (int k = 0; k < 2; k++) {
		b = json_object_get(v, keys[k]);
		if (b == NULL)
			continue;
		if (!json_is_boolean(b))
			return lb_err(err, errlen, "ipvs.%s: must be true or false", keys[k]);
		*(k == 0 ? &c->expire_nodest_conn : &c->expire_quiescent_template) = json_is_true(b);
	}
	return 0;
}

/* metrics.listen: "ADDR:PORT", "[V6]:PORT", or "" / "off" for no listener. */
static int parse_metrics(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"listen", NULL};
	json_t *l;

	if (!json_is_object(v))
		return lb_err(err, errlen, "metrics: must be an object");
	if (lb_json_check_keys(v, "metrics", keys, err, errlen) != 0)
		return -1;
	l = json_object_get(v, "listen");
	if (l == NULL)
		return 0;
	const char *s = json_is_string(l) ? json_string_value(l) : NULL;
	if (s != NULL && (s[0] == '\0' || strcmp(s, "off") == 0)) {
		c->metrics_enabled = false;
		return 0;
	}
	if (s == NULL || lb_addr_port_parse(s, &c->metrics_addr, &c->metrics_port) != 0)
		return lb_err(err, errlen, "metrics.listen: must be \"ADDRESS:PORT\" (IPv6 in brackets, "
			      "port 1-65535), or \"off\"");
	c->metrics_enabled = true;
	return 0;
}

static int parse_services(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	if (!json_is_array(v))
		return lb_err(err, errlen, "services: must be an array");
	for (size_t i = 0; i < json_array_size(v); i++) {
		char path[32];
		struct lb_service_cfg svc;
		snprintf(path, sizeof(path), "services[%zu]", i);
		if (lb_service_from_json(json_array_get(v, i), path, true, &svc, err, errlen) != 0)
			return -1;
		if (lb_config_append_service(c, &svc) != 0) {
			lb_service_free(&svc);
			return lb_err(err, errlen, "%s: out of memory", path);
		}
	}
	return 0;
}

int lb_config_from_json(const json_t *root, struct lb_config *c, char *err, size_t errlen)
{
	/* "generation" is what config.get adds: informational, so its output loads as a file. */
	static const char *const keys[] = {"eal",	 "rpc",	    "dataplane", "ports", "neighbours",
					   "timeouts", "ipvs", "services",  "exception", "generation",
					   "health", "system", "metrics", "blocklist", "backups", "ha",
					   NULL};
	json_t *v;
	int rc = 0;

	lb_config_init_defaults(c);
	if (!json_is_object(root))
		return lb_err(err, errlen, "config: the document must be a JSON object");
	if (lb_json_check_keys(root, "config", keys, err, errlen) != 0)
		return -1;
	if (rc == 0 && (v = json_object_get(root, "eal")) != NULL)
		rc = parse_eal(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "rpc")) != NULL)
		rc = parse_rpc(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "dataplane")) != NULL)
		rc = parse_dataplane(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "ports")) != NULL)
		rc = parse_ports(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "exception")) != NULL)
		rc = parse_exception(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "neighbours")) != NULL)
		rc = parse_neighbours(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "health")) != NULL)
		rc = parse_health(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "system")) != NULL)
		rc = lb_config_system_from_json(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "timeouts")) != NULL)
		rc = parse_timeouts(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "ipvs")) != NULL)
		rc = parse_ipvs(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "services")) != NULL)
		rc = parse_services(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "metrics")) != NULL)
		rc = parse_metrics(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "blocklist")) != NULL)
		rc = lb_blocklist_from_json(v, &c->block, &c->n_block, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "backups")) != NULL)
		rc = lb_config_parse_backups(v, c, err, errlen);
	if (rc == 0 && (v = json_object_get(root, "ha")) != NULL)
		rc = lb_ha_cfg_from_json(v, &c->ha, err, errlen);
	if (rc == 0)
		rc = lb_ha_cfg_check(&c->ha, c->ports, c->n_ports, err, errlen);
	if (rc != 0)
		lb_config_free(c);
	return rc;
}

int lb_config_load_file(const char *path, struct lb_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char inner[LB_ERR_LEN];
	struct stat st;
	int rc;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return lb_err(err, errlen, "%s: %s", path, strerror(errno));
	/* fopen accepts a directory, and reading it then looks like an empty document. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return lb_err(err, errlen, "%s: is a directory, not a config file", path);
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL)
		return lb_err(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	rc = lb_config_from_json(root, c, inner, sizeof(inner));
	json_decref(root);
	if (rc == 0 && lb_config_validate(c, inner, sizeof(inner)) != LB_VALID) {
		lb_config_free(c);
		rc = -1;
	}
	if (rc != 0)
		return lb_err(err, errlen, "%s: %s", path, inner);
	return 0;
}

/* The blocklist and, only when set, the pair's section (a single appliance's file stays as it
 * was) into root. */
static void add_blocklist_and_ha(json_t *root, const struct lb_config *c)
{
	json_t *block = json_array();
	struct lb_ha_cfg def;

	for (uint32_t i = 0; i < c->n_block; i++)
		json_array_append_new(block, lb_block_entry_to_json(&c->block[i]));
	json_object_set_new(root, "blocklist", block);
	lb_ha_cfg_default(&def);
	json_t *ha = lb_ha_cfg_to_json(&c->ha), *ha_def = lb_ha_cfg_to_json(&def);
	if (json_equal(ha, ha_def))
		json_decref(ha);
	else
		json_object_set_new(root, "ha", ha);
	json_decref(ha_def);
}

json_t *lb_config_to_json(const struct lb_config *c)
{
	json_t *root = json_object(), *eal = json_array(), *ports = json_array();
	json_t *statics = json_array(), *timeouts = json_object(), *dp = json_object();
	json_t *services = json_array();
	char ab[LB_ADDR_STRLEN], buf[LB_ADDR_STRLEN + 8];

	for (uint32_t i = 0; i < c->eal_argc; i++)
		json_array_append_new(eal, json_string(c->eal_argv[i]));
	json_object_set_new(root, "eal", eal);
	json_object_set_new(root, "rpc",
			    json_pack("{s:s, s:I, s:I, s:I}", "socket", c->rpc_socket, "max_request_bytes",
				      (json_int_t)c->rpc_max_request_bytes, "max_clients",
				      (json_int_t)c->rpc_max_clients, "idle_timeout_s",
				      (json_int_t)c->rpc_idle_timeout_s));
	json_object_set_new(json_object_get(root, "rpc"), "roles", lb_roles_to_json(&c->rpc_roles));
	json_object_set_new(root, "backups", lb_config_backups_to_json(c));
	for (size_t i = 0; i < N_DATAPLANE_KEYS; i++)
		json_object_set_new(dp, dataplane_keys[i].key,
				    json_integer(*(const uint32_t *)((const char *)c +
								     dataplane_keys[i].offset)));
	json_object_set_new(root, "dataplane", dp);
	for (uint32_t i = 0; i < c->n_ports; i++) {
		snprintf(buf, sizeof(buf), "%s/%u",
			 lb_addr_format(&c->ports[i].address, ab, sizeof(ab)), c->ports[i].prefix_len);
		json_t *po = json_pack("{s:s, s:I}", "address", buf, "mtu", (json_int_t)c->ports[i].mtu);
		if (c->ports[i].has_address6) {
			snprintf(buf, sizeof(buf), "%s/%u",
				 lb_addr_format(&c->ports[i].address6, ab, sizeof(ab)),
				 c->ports[i].prefix_len6);
			json_object_set_new(po, "address6", json_string(buf));
		}
		const char *kif = c->ports[i].kernel_interface;
		json_object_set_new(po, "kernel_interface", kif[0] ? json_string(kif) : json_false());
		if (c->ports[i].bond.enabled)
			json_object_set_new(po, "bond", lb_bond_cfg_to_json(&c->ports[i].bond));
		lb_config_vlans_to_json(c, i, po);
		json_array_append_new(ports, po);
	}
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "exception",
			    json_pack("{s:I, s:I, s:I}", "rx_pps", (json_int_t)c->exception_rx_pps,
				      "tx_pps", (json_int_t)c->exception_tx_pps, "burst",
				      (json_int_t)c->exception_burst));
	json_object_set_new(root, "health",
			    json_pack("{s:I, s:s}", "max_processes", (json_int_t)c->health_max_processes,
				      "state_file", c->health_state_file));
	for (uint32_t i = 0; i < c->n_static_neigh; i++) {
		char mac[18];
		json_array_append_new(
			statics,
			json_pack("{s:s, s:s}", "ip", lb_addr_format(&c->static_neigh[i].ip, ab, sizeof(ab)),
				  "mac", lb_mac_format(c->static_neigh[i].mac, mac, sizeof(mac))));
	}
	json_object_set_new(root, "neighbours",
			    json_pack("{s:I, s:I, s:o}", "refresh", (json_int_t)c->neigh_refresh_s,
				      "timeout", (json_int_t)c->neigh_timeout_s, "static", statics));
	for (size_t i = 0; i < N_TIMEOUT_KEYS; i++)
		json_object_set_new(timeouts, timeout_keys[i].key,
				    json_integer(c->timeouts.by_state[timeout_keys[i].state]));
	json_object_set_new(root, "timeouts", timeouts);
	json_object_set_new(root, "system", lb_config_system_to_json(c));
	json_object_set_new(root, "ipvs",
			    json_pack("{s:b, s:b}", "expire_nodest_conn", c->expire_nodest_conn,
				      "expire_quiescent_template", c->expire_quiescent_template));
	char listen[LB_ADDR_PORT_STRLEN] = "off";
	if (c->metrics_enabled)
		lb_addr_port_format(&c->metrics_addr, c->metrics_port, listen, sizeof(listen));
	json_object_set_new(root, "metrics", json_pack("{s:s}", "listen", listen));
	for (uint32_t i = 0; i < c->n_services; i++)
		json_array_append_new(services, lb_service_to_json(&c->services[i], true));
	json_object_set_new(root, "services", services);
	add_blocklist_and_ha(root, c);
	return root;
}

/* The pid in name when it is "<base>.tmp.<pid>", else 0. */
static pid_t tmp_file_pid(const char *name, const char *base)
{
	size_t blen = strlen(base);
	char *end;

	if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
		return 0;
	const char *digits = name + blen + 5;
	if (*digits < '1' || *digits > '9')
		return 0;
	errno = 0;
	long pid = strtol(digits, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT32_MAX)
		return 0;
	return (pid_t)pid;
}

int lb_config_remove_stale_tmp(const char *path)
{
	char dirbuf[4096], basebuf[4096], file[8192];
	int removed = 0;

	if (snprintf(dirbuf, sizeof(dirbuf), "%s", path) >= (int)sizeof(dirbuf) ||
	    snprintf(basebuf, sizeof(basebuf), "%s", path) >= (int)sizeof(basebuf))
		return 0;
	const char *dir = dirname(dirbuf), *base = basename(basebuf);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		pid_t pid = tmp_file_pid(e->d_name, base);
		/*
		 * Our own pid is stale too: saves run one at a time on the control lcore, and
		 * each one removes its file before returning. EPERM means the pid is alive.
		 */
		if (pid == 0 || (pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH)))
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", dir, e->d_name) < (int)sizeof(file) &&
		    unlink(file) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

long lb_config_save_file(const struct lb_config *c, const char *path, char *err, size_t errlen)
{
	json_t *root = lb_config_to_json(c);
	long written;

	if (root == NULL)
		return lb_err(err, errlen, "out of memory serialising the configuration");
	written = lb_json_save_file(root, path, err, errlen);
	json_decref(root);
	return written;
}

long lb_json_save_file(const json_t *root, const char *path, char *err, size_t errlen)
{
	char tmp[4096], dirbuf[4096];
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	long written = -1;
	int fd = -1;

	if (text == NULL)
		return lb_err(err, errlen, "out of memory serialising %s", path);
	/* A save killed half-way leaves its temporary file: the next save clears it away. */
	lb_config_remove_stale_tmp(path);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		lb_err(err, errlen, "%s: path too long", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		lb_err(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	size_t len = strlen(text), off = 0;
	text[len] = '\0';
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			lb_err(err, errlen, "%s: write: %s", tmp, strerror(errno));
			goto fail_unlink;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		lb_err(err, errlen, "%s: write/fsync: %s", tmp, strerror(errno));
		goto fail_unlink;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		lb_err(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
		goto fail_unlink;
	}
	/* The rename is durable only once the directory entry is on disk too. */
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	written = (long)len + 1;
	goto out;
fail_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return written;
}

static void *dup_array(const void *src, size_t n, size_t size, int *failed)
{
	void *p;

	if (n == 0 || src == NULL)
		return NULL;
	p = malloc(n * size);
	if (p == NULL)
		*failed = 1;
	else
		memcpy(p, src, n * size);
	return p;
}

int lb_config_clone(const struct lb_config *src, struct lb_config *dst)
{
	int failed = 0;

	*dst = *src;
	dst->eal_argv = NULL;
	dst->eal_argc = 0;
	dst->ports = dup_array(src->ports, src->n_ports, sizeof(*src->ports), &failed);
	dst->vlans = dup_array(src->vlans, src->n_vlans, sizeof(*src->vlans), &failed);
	if (dst->vlans == NULL)
		dst->n_vlans = 0;
	dst->static_neigh = dup_array(src->static_neigh, src->n_static_neigh,
				      sizeof(*src->static_neigh), &failed);
	dst->services = dup_array(src->services, src->n_services, sizeof(*src->services), &failed);
	dst->block = dup_array(src->block, src->n_block, sizeof(*src->block), &failed);
	if (dst->block == NULL)
		dst->n_block = 0;
	if (dst->services == NULL)
		dst->n_services = 0;
	for (uint32_t i = 0; i < dst->n_services; i++) {
		dst->services[i].reals = dup_array(src->services[i].reals, src->services[i].n_reals,
						   sizeof(struct lb_real_cfg), &failed);
		if (dst->services[i].reals == NULL)
			dst->services[i].n_reals = 0;
		lb_service_retain(&dst->services[i]);
	}
	dst->eal_argv = calloc(src->eal_argc + 1, sizeof(char *));
	if (dst->eal_argv == NULL)
		failed = 1;
	for (uint32_t i = 0; dst->eal_argv != NULL && i < src->eal_argc; i++) {
		dst->eal_argv[i] = strdup(src->eal_argv[i]);
		if (dst->eal_argv[i] == NULL)
			failed = 1;
		dst->eal_argc = i + 1;
	}
	if (failed) {
		lb_config_free(dst);
		return -1;
	}
	return 0;
}

void lb_config_free(struct lb_config *c)
{
	for (uint32_t i = 0; c->eal_argv != NULL && i < c->eal_argc; i++)
		free(c->eal_argv[i]);
	free(c->eal_argv);
	free(c->ports);
	free(c->vlans);
	c->vlans = NULL;
	c->n_vlans = 0;
	free(c->static_neigh);
	for (uint32_t i = 0; i < c->n_services; i++)
		lb_service_free(&c->services[i]);
	free(c->services);
	free(c->block);
	c->block = NULL;
	c->n_block = 0;
	c->eal_argv = NULL;
	c->eal_argc = 0;
	c->ports = NULL;
	c->n_ports = 0;
	c->static_neigh = NULL;
	c->n_static_neigh = 0;
	c->services = NULL;
	c->n_services = 0;
}
